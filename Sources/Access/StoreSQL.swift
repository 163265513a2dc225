import Foundation

/// A value in a store row or a statement's arguments: the four kinds both stores hold.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// A Swift value bound into a statement.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Double: SQLBindable { public var sqlValue: SQLValue { .real(self) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension Optional: SQLBindable where Wrapped: SQLBindable { public var sqlValue: SQLValue { self?.sqlValue ?? .null } }

/// A statement's arguments, in the order of its `?` marks.
public typealias SQLArguments = [(any SQLBindable)?]

/// A column's value read as a Swift type.
public protocol SQLColumn {
    /// nil when the value can't be this type (a NULL for a non-optional, text for a number).
    static func decode(_ v: SQLValue) -> Self?
}

extension String: SQLColumn {
    public static func decode(_ v: SQLValue) -> String? {
        switch v {
        case .text(let s): s
        case .integer(let i): String(i)
        case .real(let d): String(d)
        case .null: nil
        }
    }
}

extension Double: SQLColumn {
    public static func decode(_ v: SQLValue) -> Double? {
        switch v {
        case .real(let d): d
        case .integer(let i): Double(i)
        case .text(let s): Double(s)
        case .null: nil
        }
    }
}

extension Int64: SQLColumn {
    public static func decode(_ v: SQLValue) -> Int64? {
        switch v {
        case .integer(let i): i
        case .real(let d): d.rounded() == d ? Int64(exactly: d) : nil
        case .text(let s): Int64(s)
        case .null: nil
        }
    }
}

extension Int: SQLColumn {
    public static func decode(_ v: SQLValue) -> Int? { Int64.decode(v).flatMap { Int(exactly: $0) } }
}

extension Optional: SQLColumn where Wrapped: SQLColumn {
    public static func decode(_ v: SQLValue) -> Wrapped?? {
        if case .null = v { return .some(nil) }
        return Wrapped.decode(v).map { .some($0) }
    }
}

/// One row a query returned, its columns by name or position.
public struct StoreRow: Sendable {
    public let names: [String]
    public let values: [SQLValue]

    public init(names: [String], values: [SQLValue]) {
        self.names = names
        self.values = values
    }

    public func value(_ name: String) -> SQLValue {
        guard let i = names.firstIndex(of: name) else { return .null }
        return values[i]
    }

    /// A column's value. A value of the wrong kind is a store written outside trustgap, or a bug: stop loudly.
    public subscript<T: SQLColumn>(_ name: String) -> T {
        guard let v = T.decode(value(name)) else {
            preconditionFailure("store column \(name) holds \(value(name)), which is not a \(T.self)")
        }
        return v
    }

    public subscript<T: SQLColumn>(_ index: Int) -> T {
        guard index < values.count, let v = T.decode(values[index]) else {
            preconditionFailure("store column \(index) holds \(index < values.count ? "\(values[index])" : "nothing"), not a \(T.self)")
        }
        return v
    }
}

/// What the store's logic runs its statements on: one transaction of SQLite (GRDB) or PostgreSQL (postgres-nio).
/// Statements are written once, in the SQL both understand, with `?` marks for arguments.
public protocol StoreConnection {
    /// Runs a statement; returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int
    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [StoreRow]
}

extension StoreConnection {
    @discardableResult
    func execute(_ sql: String) throws -> Int { try execute(sql, []) }
    func rows(_ sql: String) throws -> [StoreRow] { try rows(sql, []) }
    func row(_ sql: String, _ arguments: SQLArguments = []) throws -> StoreRow? { try rows(sql, arguments).first }
    /// The first column of every row.
    func column<T: SQLColumn>(_ sql: String, _ arguments: SQLArguments = []) throws -> [T] { try rows(sql, arguments).map { $0[0] } }
    /// The first column of the first row, if there is one.
    func scalar<T: SQLColumn>(_ sql: String, _ arguments: SQLArguments = []) throws -> T? { try rows(sql, arguments).first.map { $0[0] } }
}

/// Where the store's rows live: one protocol, two stores (SQLite for one host, PostgreSQL for a team's many).
public protocol StoreBackend: Sendable {
    /// How the store is named in messages: its path, or its URL without the password.
    var location: String { get }
    var readonly: Bool { get }
    /// The column that orders audit rows as they were written, whatever their sequence numbers say.
    var insertionOrder: String { get }
    /// One transaction that holds the store's one writer lock (the audit head) from its first statement, so a
    /// compare-and-set reads the latest state and audit appends from every writer form one chain. `changed` is
    /// the new head, when the transaction moved it: the other services are woken with it as the transaction commits.
    func write<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> T
    /// `write`, also saying where the audit head moved to, when the transaction moved it: the head the store
    /// anchors once committed. (The PostgreSQL store learns both in the statements its lock and wake-up need anyway.)
    func writeMovingHead<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> (T, (seq: Int64, mac: String)?)
    /// One consistent read.
    func read<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> T
    /// Closes its connections.
    func close()
}

extension StoreConnection {
    func stringColumn(_ sql: String, _ arguments: SQLArguments = []) throws -> [String] { try column(sql, arguments) }
    func int64Scalar(_ sql: String, _ arguments: SQLArguments = []) throws -> Int64? { try scalar(sql, arguments) }
    func stringScalar(_ sql: String, _ arguments: SQLArguments = []) throws -> String? { try scalar(sql, arguments) }
}

extension StoreBackend {
    func writeMovingHead<T>(_ body: (any StoreConnection) throws -> T) throws(AccessError) -> (T, (seq: Int64, mac: String)?) {
        try write { db in
            let before: Int64 = try db.scalar("SELECT seq FROM audit_head WHERE id = 1") ?? 0
            let result = try body(db)
            guard let row = try db.row("SELECT seq, hash FROM audit_head WHERE id = 1"), (row["seq"] as Int64) > before else {
                return (result, nil)
            }
            return (result, (row["seq"], row["hash"]))
        }
    }
}

extension SQLValue: SQLBindable {
    public var sqlValue: SQLValue { self }
}
