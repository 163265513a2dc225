import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The secret that authenticates the audit chain: 32 random bytes in a file only the store's writer can read
/// (0600; the access service's own user on a shared host). Without it, nobody can append an entry that verifies or
/// recompute the chain after an edit.
public struct AuditKey: Sendable {
    let key: SymmetricKey
    /// A short, non-secret fingerprint of the key, for logs and `audit verify`.
    public let fingerprint: String

    init(_ bytes: Data) {
        key = SymmetricKey(data: bytes)
        fingerprint = SHA256.hash(data: bytes).prefix(6).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads the key at `path`.
    public static func load(_ path: String) throws(AccessError) -> AuditKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw .store(
                    "\(path): can't read the audit key (permission denied); only the store's writer can. A store several analysts "
                        + "share is written only by the access service: connect through it (docs/access.md, \"The access service\")")
            }
            throw .store(
                "\(path): the audit key is missing, so the audit chain can neither be extended nor verified; restore it from backup")
        }
        guard data.count == 32 else { throw .store("\(path): this is not a trustgap audit key (\(data.count) bytes, expected 32)") }
        return AuditKey(data)
    }

    /// Creates a new random key at `path` (0600), failing if one is already there.
    public static func create(_ path: String) throws(AccessError) -> AuditKey {
        var bytes = [UInt8](repeating: 0, count: 32)
        var g = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = g.next() }
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .store("\(path): can't create the audit key: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        guard write(fd, bytes, 32) == 32, fsync(fd) == 0 else {
            throw .store("\(path): can't write the audit key: \(String(cString: strerror(errno)))")
        }
        return AuditKey(Data(bytes))
    }

    /// The key's bytes, for copying it to a new store (`trustgap store migrate`); never printed or logged.
    var bytes: Data { key.withUnsafeBytes { Data($0) } }

    /// What the store records of the key it was keyed with: an HMAC of a fixed text under the key (the key can't be
    /// recovered from it), so a host holding another key is refused before it writes an entry nobody can verify.
    public var identity: String {
        HMAC<SHA256>.authenticationCode(for: Data("trustgap audit key identity".utf8), using: key).prefix(16)
            .map { String(format: "%02x", $0) }.joined()
    }

    /// HMAC-SHA256 of the previous entry's MAC and this entry's canonical bytes, hex.
    func mac(prev: String, entry: AuditEntry) -> String {
        var data = Data()
        AuditEntry.netstring(prev, into: &data)
        data.append(entry.canonicalBytes)
        return HMAC<SHA256>.authenticationCode(for: data, using: key).map { String(format: "%02x", $0) }.joined()
    }
}

extension AuditEntry {
    /// The canonical byte encoding an entry's MAC covers (docs/access.md, "The audit chain"): the tag `tgaudit1`,
    /// then every field but the MACs, in this fixed order, each as a netstring (`<decimal byte length>:<UTF-8
    /// bytes>,`): seq, at_ms, analyst, ssh_client, action, subject, scope, ttl_seconds, reason, result, target,
    /// detail. Numbers are written in decimal without leading zeros; absent values are empty strings. A length
    /// prefix per field means no two different entries encode alike, whatever characters they hold.
    public var canonicalBytes: Data {
        var d = Data("tgaudit1".utf8)
        for field in [
            String(seq), String(Int64((at.timeIntervalSince1970 * 1000).rounded())), analyst, sshClient ?? "", action,
            subject, scope, ttlSeconds.map { String(Int64($0.rounded())) } ?? "", reason, result, target, detail,
        ] {
            Self.netstring(field, into: &d)
        }
        return d
    }

    static func netstring(_ s: String, into d: inout Data) {
        let bytes = Array(s.utf8)
        d.append(contentsOf: Array(String(bytes.count).utf8))
        d.append(UInt8(ascii: ":"))
        d.append(contentsOf: bytes)
        d.append(UInt8(ascii: ","))
    }
}

/// The chain head, written after every decision to a place outside the store: an append-only file owned by the
/// store's writer (and syslog's authpriv facility, when a syslog daemon or journald listens). A store that was
/// truncated, rolled back to an older copy, replaced, or moved away no longer matches its anchor.
public struct AuditAnchor: Sendable {
    public let path: String
    /// Also send each head to syslog (the service does; tests and the personal store don't).
    public var syslog: Bool

    public init(path: String, syslog: Bool = false) {
        self.path = path
        self.syslog = syslog
    }

    /// One anchored head: the store it belongs to, the entry's sequence number and MAC.
    public struct Head: Sendable, Equatable {
        public var store: String
        public var seq: Int64
        public var mac: String
    }

    /// Appends a head (one line, `store seq mac`, with O_APPEND so concurrent writers never tear a line) and syncs it.
    public func append(_ head: Head) throws(AccessError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .store("\(path): can't write the audit anchor: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let line = Array("\(head.store) \(head.seq) \(head.mac)\n".utf8)
        guard write(fd, line, line.count) == line.count else {
            throw .store("\(path): can't write the audit anchor: \(String(cString: strerror(errno)))")
        }
        fsync(fd)
        if syslog {
            let message = "trustgap audit head store=\(head.store) seq=\(head.seq) mac=\(head.mac)"
            openlog("trustgap", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV)
            message.withCString { withVaList([$0]) { vsyslog(LOG_INFO, "%s", $0) } }
        }
    }

    /// The furthest head anchored for the store named on the file's last line (the highest sequence number among
    /// that store's lines), nil when nothing was anchored yet.
    public func latest() throws(AccessError) -> Head? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .store("\(path): can't read the audit anchor (permission denied)")
        }
        var best: [Substring: Head] = [:]
        var last: Substring?
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 3, let seq = Int64(f[1]) else { continue }
            last = f[0]
            if let b = best[f[0]], b.seq >= seq { continue }
            best[f[0]] = Head(store: String(f[0]), seq: seq, mac: String(f[2]))
        }
        return last.flatMap { best[$0] }
    }
}
