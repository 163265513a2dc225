import Foundation

/// The snapshot's published JSON shape (`trustgap snapshot --format json`), snake_case throughout.
/// Documented in docs/snapshot.md.
public struct SnapshotDocument: Codable, Sendable {
    public struct Item: Codable, Sendable {
        public var entity: Entity
        public var risk: Int
        public var findings: [Finding]

        public init(entity: Entity, risk: Int, findings: [Finding]) {
            self.entity = entity
            self.risk = risk
            self.findings = findings
        }

        enum CodingKeys: String, CodingKey { case risk, findings }

        public init(from decoder: any Decoder) throws {
            entity = try Entity(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            risk = try c.decode(Int.self, forKey: .risk)
            findings = try c.decode([Finding].self, forKey: .findings)
        }

        public func encode(to encoder: any Encoder) throws {
            try entity.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(risk, forKey: .risk)
            try c.encode(findings, forKey: .findings)
        }
    }

    public var generatedAt: Date
    public var version: Int
    public var entities: [Item]
    public var gap: [String: GapFigures]
    public var collectors: [CollectorHealth]
    public var requests: [RequestProposal]

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at", version, entities, gap, collectors, requests
    }

    public init(_ s: Snapshot) {
        generatedAt = s.generatedAt
        version = s.version
        entities = s.entities.map { Item(entity: $0.entity, risk: $0.risk, findings: $0.findings) }
        gap = Dictionary(uniqueKeysWithValues: s.gap.map { ($0.key.rawValue, $0.value) })
        gap["all"] = s.totalGap
        collectors = s.collectors
        requests = s.requests
    }

    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            if let date = ISO8601.parse(text) { return date }
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "expected an ISO 8601 date like 2026-01-31T12:00:00Z, got '\(text)'")
        }
        return d
    }
}

/// ISO 8601 dates with or without fractional seconds, or plain `YYYY-MM-DD`.
public enum ISO8601 {
    /// Accepts exactly a date (`2026-01-31`) or a date-time with seconds and a zone (`2026-01-31T12:00:00Z`,
    /// `…+02:00`, `…+0200`, optional fractions), and only calendar dates and times that exist.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func digits(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= b.count else { return nil }
            var v = 0
            for i in r {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 10, let y = digits(0..<4), b[4] == 45, let mo = digits(5..<7), b[7] == 45, let d = digits(8..<10) else {
            return nil
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        guard (1...12).contains(mo), let first = calendar.date(from: DateComponents(year: y, month: mo, day: 1)),
            let days = calendar.range(of: .day, in: .month, for: first), days.contains(d)
        else { return nil }
        if b.count == 10 { return calendar.date(from: DateComponents(year: y, month: mo, day: d)) }
        guard b.count >= 20, b[10] == 84, let hh = digits(11..<13), b[13] == 58, let mm = digits(14..<16), b[16] == 58,
            let ss = digits(17..<19), hh < 24, mm < 60, ss < 61
        else { return nil }
        var i = 19
        if b[i] == 46 { // fractional seconds
            i += 1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            guard i > start, i - start <= 9 else { return nil }
        }
        guard i < b.count else { return nil }
        if b[i] == 90 {
            guard i + 1 == b.count else { return nil }
        } else {
            guard b[i] == 43 || b[i] == 45, let oh = digits(i + 1..<i + 3), oh < 24 else { return nil }
            let rest = b.count - (i + 3)
            if rest == 3 {
                guard b[i + 3] == 58, digits(i + 4..<i + 6) != nil else { return nil }
            } else if rest == 2 {
                guard digits(i + 3..<i + 5) != nil else { return nil }
            } else {
                return nil
            }
        }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        return nil
    }
}
