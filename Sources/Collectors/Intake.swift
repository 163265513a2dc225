import Foundation
import Inventory

/// Where every collector's report enters the inventory, the one place its entities are made safe to hold:
/// - text fields are cut to `maxStringBytes` (with a marker saying how much was cut), so one huge value can't make
///   every key slow;
/// - privileges must fit the scope grammar: one that doesn't is dropped with a warning naming the character and
///   its position (a look-alike `iam:ad\u{200B}min` never shows as `iam:admin`);
/// - secrets in attribute values (a token in a command line, a password in a URL) are replaced by `***` and kept
///   only as a fingerprinted credential, exposed where it was found, so the NHI2 rule reports it.
public enum Intake {
    public struct Limits: Sendable, Equatable {
        /// The longest a text field may be, in UTF-8 bytes.
        public var maxStringBytes: Int
        public init(maxStringBytes: Int = 4096) { self.maxStringBytes = maxStringBytes }
    }

    /// The longest a single record (one entity, as the source wrote it) may be: `max_record_size` changes it.
    public static let defaultMaxRecordBytes = 1 << 20
    /// At most this many warnings are kept per run: a hostile source can't flood the health panel.
    static let maxWarnings = 200

    /// Admits a report's entities. One the schema can't hold (no id, an id over 1024 bytes, no name) is dropped with
    /// a warning: a bad record costs only itself. Throws only when every entity was bad.
    public static func admit(_ report: inout CollectorReport, source: String, limits: Limits = Limits()) throws(CollectorError) {
        var warnings: [String] = []
        if report.entities.contains(where: { $0.validationProblem != nil }) {
            let all = report.entities.count
            var kept: [Entity] = []
            for (i, e) in report.entities.enumerated() {
                if let problem = e.validationProblem {
                    warnings.append("\(source): entity #\(i + 1)\(e.id.isEmpty ? "" : " (\(cut(e.id, 80)))"): \(problem); skipped")
                } else {
                    kept.append(e)
                }
            }
            if kept.isEmpty { throw .invalidReport("all \(all) entities were invalid; first: \(warnings[0])") }
            report.entities = kept
        }
        for i in report.entities.indices {
            admit(&report.entities[i], source: source, limits: limits, warnings: &warnings)
        }
        report.warnings += warnings.prefix(maxWarnings)
        if warnings.count > maxWarnings { report.warnings.append("\(warnings.count - maxWarnings) more problems not listed") }
    }

    static func admit(_ e: inout Entity, source: String, limits: Limits, warnings: inout [String]) {
        let max = limits.maxStringBytes
        let id = String(e.id.prefix(120))
        // Cut only what is long: the common case touches nothing and copies nothing.
        if e.name.utf8.count > max { e.name = cut(e.name, max) }
        if e.kind.utf8.count > 256 { e.kind = cut(e.kind, 256) }
        if let env = e.environment, env.utf8.count > 256 { e.environment = cut(env, 256) }
        if var o = e.owner, o.name.utf8.count > 256 || (o.email?.utf8.count ?? 0) > 256 {
            o.name = cut(o.name, 256)
            o.email = o.email.map { cut($0, 256) }
            e.owner = o
        }
        if e.privileges.contains(where: { !ScopeGrammar.fits($0.scope) }) {
            var kept: [Privilege] = []
            for p in e.privileges {
                do {
                    try ScopeGrammar.check(p.scope)
                    kept.append(p)
                } catch {
                    warnings.append("\(source): entity \(id): privilege dropped: \(error.message)")
                }
            }
            e.privileges = kept
        }
        if e.credentials.contains(where: { $0.id.utf8.count > 256 || $0.exposures.contains { $0.utf8.count > 512 } }) {
            e.credentials = e.credentials.map { c in
                var c = c
                c.id = cut(c.id, 256)
                c.exposures = c.exposures.map { cut($0, 512) }
                return c
            }
        }
        let attributes = e.attributes
        guard !attributes.isEmpty else { return }
        var changed = false
        var clean: [String: String] = [:]
        var found: [Credential] = []
        for (key, value) in attributes {
            var k = key
            var v = value
            if k.utf8.count > 256 { k = cut(k, 256) }
            if v.utf8.count > max { v = cut(v, max) }
            let (redacted, secrets) = SecretRedaction.redactText(v)
            if !secrets.isEmpty {
                v = redacted
                for s in secrets {
                    let fingerprint = HostCollector.fingerprint(Data(s.secret.utf8))
                    guard !found.contains(where: { $0.fingerprint == fingerprint }),
                        !e.credentials.contains(where: { $0.fingerprint == fingerprint })
                    else { continue }
                    found.append(
                        Credential(
                            id: "\(k)-secret-\(found.count + 1)", kind: s.isPassword ? .password : .token, fingerprint: fingerprint,
                            exposures: ["plaintext in attribute \(k) (\(s.why))"]))
                }
            }
            if k != key || v != value { changed = true }
            clean[k] = v
        }
        if changed { e.attributes = clean }
        if !found.isEmpty { e.credentials += found }
    }

    /// Text cut to at most `max` UTF-8 bytes on a character boundary, ending with a marker saying how much went.
    public static func cut(_ text: String, _ max: Int) -> String {
        let bytes = text.utf8.count
        guard bytes > max else { return text }
        let marker = "…[cut \(bytes) bytes to \(max)]"
        var out = ""
        var used = 0
        let room = Swift.max(0, max - marker.utf8.count)
        for ch in text {
            let n = ch.utf8.count
            if used + n > room { break }
            out.append(ch)
            used += n
        }
        return out + marker
    }
}
