/// A problem in the config file, naming the file, the line and the key at fault.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// The key's path, like `collectors[0].interval`.
    public var key: String?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    public var description: String {
        var where_ = file
        if let line { where_ += ":\(line)" }
        if let column { where_ += ":\(column)" }
        if let key, !key.isEmpty { return "\(where_): \(key): \(message)" }
        return "\(where_): \(message)"
    }
}
