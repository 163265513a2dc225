import Access
import Foundation

/// A form for an access action: what it will do, the fields it needs, then Cancel and the action. Enter in a field
/// moves to the next; after the last field the focus lands on Cancel, so Enter alone never carries out an action.
///
/// A dialog that can't go on (the policy refuses it before confirming, or the answer was a refusal no input can fix,
/// or someone else decided first) is *closed*: it shows why, its only button is Close, focused, and a key it doesn't
/// use closes it and does what it does in the panel, so no key is swallowed.
public struct Dialog: Sendable, Equatable {
    public enum Action: String, Sendable {
        case approve, deny, extend, revoke, grant
    }

    public struct Field: Sendable, Equatable {
        public var label: String
        public var value: String
        public var hint: String
        /// False while the value is the suggested default: the first key typed replaces it.
        public var edited = false

        init(label: String, value: String, hint: String) {
            self.label = label
            self.value = value
            self.hint = hint
        }
    }

    /// One line of what the action concerns. A countdown is worked out when the dialog is drawn, so it keeps moving.
    public struct Line: Sendable, Equatable {
        public enum Tone: Sendable, Equatable {
            case plain, good, warning, refusal
        }
        public var text: String
        public var tone: Tone
        /// Shown after `text` as the time left until then (`12m04s`), then `suffix`.
        public var until: Date?
        public var suffix: String

        init(_ text: String, _ tone: Tone = .plain, until: Date? = nil, suffix: String = "") {
            self.text = text
            self.tone = tone
            self.until = until
            self.suffix = suffix
        }

        /// The line as it reads at `now`.
        public func text(at now: Date) -> String {
            guard let until else { return text }
            return text + AccessTable.countdown(max(0, until.timeIntervalSince(now))) + suffix
        }
    }

    public var action: Action
    public var title: String
    /// What the action concerns: subject, scope, TTL, the policy's verdict, and the exact hook command.
    public var lines: [Line]
    /// Request or grant ids, or the entity id for a new grant.
    public var targets: [String]
    public var fields: [Field]
    /// 0..<fields.count: a field; fields.count: Cancel; fields.count + 1: the action button.
    public var focus: Int
    public var confirmLabel: String
    /// For bulk actions: the count the analyst must type.
    public var confirmCount: Int?
    public var error: String?
    /// Which dialog this is, so an answer that comes back late lands only on the dialog that asked.
    public var serial = 0
    /// Sent and waiting for the answer: keys other than Esc do nothing meanwhile.
    public var sending = false
    /// It can't go on: `error` says why, and Close is the only button.
    public var closed = false

    init(action: Action, title: String, lines: [Line], targets: [String], fields: [Field], confirmLabel: String, confirmCount: Int? = nil) {
        self.action = action
        self.title = title
        self.lines = lines
        self.targets = targets
        self.fields = fields
        self.focus = 0
        self.confirmLabel = confirmLabel
        self.confirmCount = confirmCount
    }

    var cancelIndex: Int { fields.count }
    var confirmIndex: Int { fields.count + 1 }

    func value(_ label: String) -> String {
        fields.first { $0.label == label }?.value.trimmingCharacters(in: .whitespaces) ?? ""
    }

    /// Closes it for good, with the reason if there is one besides its lines: Close is focused.
    mutating func close(because reason: String?) {
        error = reason
        closed = true
        sending = false
    }
}
