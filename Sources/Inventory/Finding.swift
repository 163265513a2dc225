/// How bad a finding is. Ordered from least to most severe.
public enum Severity: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case low, medium, high, critical

    var rank: Int { Severity.allCases.firstIndex(of: self)! }
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One risk a rule found on one entity: what, how bad, the evidence a person can check, and what to do.
///
/// What a rule says whatever the entity (its id, title and remediation) is one shared `Text`, so a finding costs
/// 32 bytes plus its evidence instead of 72: a million entities carry about two million findings.
public struct Finding: Sendable, Hashable, Codable {
    /// A rule's words: the same for every finding of its kind.
    public final class Text: Sendable, Hashable {
        public let rule: String
        public let title: String
        public let remediation: String

        public init(rule: String, title: String, remediation: String) {
            self.rule = rule
            self.title = title
            self.remediation = remediation
        }

        public static func == (a: Text, b: Text) -> Bool {
            a === b || (a.rule == b.rule && a.title == b.title && a.remediation == b.remediation)
        }
        public func hash(into hasher: inout Hasher) {
            hasher.combine(rule)
            hasher.combine(title)
            hasher.combine(remediation)
        }
    }

    public var text: Text
    public var severity: Severity
    public var evidence: String

    /// The rule that fired: `NHI1`…`NHI10`, `DEV-ENC`, `APP-SSO`…
    public var rule: String {
        get { text.rule }
        set { text = Text(rule: newValue, title: text.title, remediation: text.remediation) }
    }
    public var title: String {
        get { text.title }
        set { text = Text(rule: text.rule, title: newValue, remediation: text.remediation) }
    }
    public var remediation: String {
        get { text.remediation }
        set { text = Text(rule: text.rule, title: text.title, remediation: newValue) }
    }

    public init(_ text: Text, severity: Severity, evidence: String) {
        self.text = text
        self.severity = severity
        self.evidence = evidence
    }

    public init(rule: String, title: String, severity: Severity, evidence: String, remediation: String) {
        self.init(Text(rule: rule, title: title, remediation: remediation), severity: severity, evidence: evidence)
    }

    enum CodingKeys: String, CodingKey { case rule, title, severity, evidence, remediation }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            rule: try c.decode(String.self, forKey: .rule), title: try c.decode(String.self, forKey: .title),
            severity: try c.decode(Severity.self, forKey: .severity), evidence: try c.decode(String.self, forKey: .evidence),
            remediation: try c.decode(String.self, forKey: .remediation))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rule, forKey: .rule)
        try c.encode(title, forKey: .title)
        try c.encode(severity, forKey: .severity)
        try c.encode(evidence, forKey: .evidence)
        try c.encode(remediation, forKey: .remediation)
    }
}
