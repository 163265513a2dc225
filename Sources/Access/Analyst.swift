import Foundation

/// The person at the keyboard, as the operating system knows them: never taken from a flag.
public struct Analyst: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The OS user name.
    public var user: String
    /// The SSH client address, when the session came in over SSH.
    public var sshClient: String?

    public init(user: String, sshClient: String? = nil) {
        self.user = user
        self.sshClient = sshClient
    }

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
