import Access
import Foundation

/// A form for an access action: what it will do, the fields it needs, then Cancel and the action. Enter in a field
/// moves to the next; after the last field the focus lands on Cancel, so Enter alone never carries out an action.
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

    public var action: Action
    public var title: String
    /// What the action concerns: subject, scope, TTL, and the exact hook command.
    public var lines: [String]
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

    init(action: Action, title: String, lines: [String], targets: [String], fields: [Field], confirmLabel: String, confirmCount: Int? = nil)
    {
        self.action = action
        self.title = title
        self.lines = lines
        self.targets = targets
        self.fields = fields
        self.focus = fields.isEmpty ? 0 : 0
        self.confirmLabel = confirmLabel
        self.confirmCount = confirmCount
    }

    var cancelIndex: Int { fields.count }
    var confirmIndex: Int { fields.count + 1 }

    func value(_ label: String) -> String {
        fields.first { $0.label == label }?.value.trimmingCharacters(in: .whitespaces) ?? ""
    }
}
