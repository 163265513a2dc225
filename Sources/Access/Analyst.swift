import Foundation

/// The person at the keyboard, as the operating system knows them: never taken from a flag.
public struct Analyst: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The OS user name.
    public var user: String
    /// The SSH client address, when the session came in over SSH.
    public var sshClient: String?
    /// Set when `user` is only a name something reported (a collector's requester, the owner a demo agent says runs
    /// it), not a login the kernel vouched for: who reported it and who recorded it, for the audit entry's detail.
    public var reportedBy: String? = nil

    enum CodingKeys: String, CodingKey { case user, sshClient }

    public init(user: String, sshClient: String? = nil) {
        self.user = user
        self.sshClient = sshClient
    }

    /// A name as `source` reported it (`collector demo; ingested by alice`): recorded as `NAME (reported)`.
    public static func reported(_ name: String, by source: String) -> Analyst {
        var a = Analyst(user: name)
        a.reportedBy = source
        return a
    }

    /// Who acts when nobody does: expiry, lapses, the access service's own hook retries and intake. The space and
    /// the parentheses make it a name no OS user can have, so it never reads as someone's login.
    public static let system = Analyst(user: "trustgap (system)")

    /// The name the audit log and the store record: a reported name is marked, so it never reads as a login.
    public var recordedName: String { reportedBy == nil ? user : user + Self.reportedMark }

    /// What marks a reported name.
    public static let reportedMark = " (reported)"

    /// Whether a name the password database gives could be confused with a reported or the system's name: the
    /// access service refuses such a peer, so a mark always means what it says.
    public static func isReservedShape(_ name: String) -> Bool { name.contains("(") || name.contains(")") || name.contains(" ") }

    public var description: String { sshClient.map { "\(user)@\($0)" } ?? user }

    /// Reads the effective user from the password database and the SSH client from the environment sshd sets.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> Analyst {
        var user = "uid\(geteuid())"
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name {
            user = String(cString: name)
        }
        let ssh = (environment["SSH_CLIENT"] ?? environment["SSH_CONNECTION"])?
            .split(separator: " ").first.map(String.init)
        return Analyst(user: user, sshClient: ssh)
    }
}
