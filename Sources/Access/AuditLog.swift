import Crypto
import Foundation

/// One entry of the append-only audit log, hash-chained to the one before it.
public struct AuditEntry: Codable, Sendable, Hashable {
    public var seq: Int64
    public var at: Date
    /// The analyst from the operating system (user), never from a flag.
    public var analyst: String
    public var sshClient: String?
    /// `request`, `approve`, `deny`, `cancel`, `extend`, `revoke`, `grant`, `expire`, `lapse`, `actuate`…
    public var action: String
    public var subject: String
    public var scope: String
    public var ttlSeconds: Double?
    public var reason: String
    /// `ok`, `refused`, `failed`… and what it concerned (`request req-…`, `grant gr-…`).
    public var result: String
    public var target: String
    public var detail: String
    public var prevHash: String
    public var hash: String

    enum CodingKeys: String, CodingKey {
        case seq, at, analyst, sshClient = "ssh_client", action, subject, scope, ttlSeconds = "ttl_seconds"
        case reason, result, target, detail, prevHash = "prev_hash", hash
    }

    public static let genesis = String(repeating: "0", count: 64)

    /// The canonical encoding hashed into the chain: every field but the hash, as JSON with sorted keys, with the
    /// time in integer milliseconds so it survives storage exactly.
    public var canonical: String {
        struct Canonical: Encodable {
            let seq: Int64, at_ms: Int64, analyst: String, ssh_client: String, action: String, subject: String
            let scope: String, ttl_seconds: String, reason: String, result: String, target: String, detail: String
        }
        let c = Canonical(
            seq: seq, at_ms: Int64((at.timeIntervalSince1970 * 1000).rounded()), analyst: analyst, ssh_client: sshClient ?? "",
            action: action, subject: subject, scope: scope, ttl_seconds: ttlSeconds.map { String(Int64($0.rounded())) } ?? "",
            reason: reason, result: result, target: target, detail: detail)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(c)) ?? Data(), as: UTF8.self)
    }

    /// SHA-256 over the previous hash and the canonical encoding, hex.
    public static func chainHash(prev: String, canonical: String) -> String {
        SHA256.hash(data: Data((prev + "\n" + canonical).utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// What `trustgap audit verify` found.
public struct AuditVerification: Sendable, Equatable {
    public var entries: Int
    /// The first bad entry and why, or nil when the chain holds.
    public var problem: String?
    public var ok: Bool { problem == nil }

    public init(entries: Int, problem: String?) {
        self.entries = entries
        self.problem = problem
    }
}
