/// How bad a finding is. Ordered from least to most severe.
public enum Severity: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case low, medium, high, critical

    var rank: Int { Severity.allCases.firstIndex(of: self)! }
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One risk a rule found on one entity: what, how bad, the evidence a person can check, and what to do.
public struct Finding: Sendable, Hashable, Codable {
    /// The rule that fired: `NHI1`…`NHI10`, `DEV-ENC`, `APP-SSO`…
    public var rule: String
    public var title: String
    public var severity: Severity
    public var evidence: String
    public var remediation: String

    public init(rule: String, title: String, severity: Severity, evidence: String, remediation: String) {
        self.rule = rule
        self.title = title
        self.severity = severity
        self.evidence = evidence
        self.remediation = remediation
    }
}
