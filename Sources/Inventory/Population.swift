/// The separate governance populations of the access-trust gap.
/// Humans appear only as owners, requesters and approvers.
public enum Population: String, Codable, CaseIterable, Sendable, Hashable, Comparable {
    case app
    case device
    case serviceAccount = "service_account"
    case agent

    /// A plural label for headings.
    public var title: String {
        switch self {
        case .app: "Apps"
        case .device: "Devices"
        case .serviceAccount: "Service accounts"
        case .agent: "Agents"
        }
    }

    /// The controls that, when any is present, make an entity of this population *managed*.
    public var governingControls: Set<Control> {
        switch self {
        case .app: Self.appControls
        case .device: Self.deviceControls
        case .serviceAccount: Self.serviceAccountControls
        case .agent: Self.agentControls
        }
    }

    // Made once: this is asked for every entity on every build.
    private static let appControls: Set<Control> = [.sso, .scim]
    private static let deviceControls: Set<Control> = [.mdm]
    private static let serviceAccountControls: Set<Control> = [.pam, .vault, .secretsManager, .workloadIdentity]
    private static let agentControls: Set<Control> = [.sso, .pam, .vault, .secretsManager, .workloadIdentity, .agentGateway]

    public static func < (lhs: Population, rhs: Population) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A control that can govern an entity.
public enum Control: String, Codable, CaseIterable, Sendable, Hashable, Comparable {
    case sso
    case scim
    case pam
    case vault
    case secretsManager = "secrets_manager"
    case workloadIdentity = "workload_identity"
    case mdm
    case agentGateway = "agent_gateway"

    public static func < (lhs: Control, rhs: Control) -> Bool { lhs.rawValue < rhs.rawValue }
}
