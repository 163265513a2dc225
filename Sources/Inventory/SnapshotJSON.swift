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
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an ISO 8601 date like 2026-01-31T12:00:00Z, got '\(text)'")
        }
        return d
    }
}

/// ISO 8601 dates with or without fractional seconds, or plain `YYYY-MM-DD`.
public enum ISO8601 {
    public static func parse(_ text: String) -> Date? {
        // Strict: the style accepts a valid prefix followed by anything, so require the zone designator at the end.
        guard text.utf8.count == 10 || text.hasSuffix("Z") || text.range(of: #"[+-]\d\d:?\d\d$"#, options: .regularExpression) != nil else { return nil }
        if let d = try? Date(text, strategy: .iso8601) { return d }
        if let d = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return d }
        // A plain date only when the whole text is one: `2026-01-31`.
        if text.utf8.count == 10, let d = try? Date(text, strategy: Date.ISO8601FormatStyle().year().month().day()) { return d }
        return nil
    }
}
