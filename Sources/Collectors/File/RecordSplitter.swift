/// Splits an inventory file into its records, each with the line it starts on, without decoding them:
/// a JSON array's top-level elements, or JSON Lines' non-blank lines. One malformed record then costs only itself.
enum RecordSplitter {
    struct Record {
        var line: Int
        var bytes: ArraySlice<UInt8>
    }

    enum Failure: Error, CustomStringConvertible {
        case unterminatedArray(line: Int)
        var description: String {
            switch self {
            case .unterminatedArray(let line): "line \(line): the JSON array is not closed"
            }
        }
    }

    static func split(_ data: [UInt8]) throws(Failure) -> [Record] {
        var i = 0
        var line = 1
        // Skip a UTF-8 byte order mark and leading space.
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        while i < data.count, isSpace(data[i]) {
            if data[i] == UInt8(ascii: "\n") { line += 1 }
            i += 1
        }
        if i < data.count, data[i] == UInt8(ascii: "[") {
            return try splitArray(data, from: i + 1, line: line)
        }
        return splitLines(data)
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    static func splitLines(_ data: [UInt8]) -> [Record] {
        var out: [Record] = []
        var start = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var line = 1
        var i = start
        while i <= data.count {
            if i == data.count || data[i] == UInt8(ascii: "\n") {
                let slice = data[start..<i]
                if slice.contains(where: { !isSpace($0) }) { out.append(Record(line: line, bytes: slice)) }
                line += 1
                start = i + 1
            }
            i += 1
        }
        return out
    }

    static func splitArray(_ data: [UInt8], from: Int, line startLine: Int) throws(Failure) -> [Record] {
        var out: [Record] = []
        var depth = 0
        var inString = false
        var escaped = false
        var line = startLine
        var recordStart: Int? = nil
        var recordLine = line
        var i = from
        while i < data.count {
            let b = data[i]
            if b == UInt8(ascii: "\n") { line += 1 }
            if inString {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                inString = true
                if recordStart == nil {
                    recordStart = i
                    recordLine = line
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if recordStart == nil {
                    recordStart = i
                    recordLine = line
                }
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 {
                    // The closing bracket of the top-level array.
                    if let s = recordStart { out.append(Record(line: recordLine, bytes: data[s..<i])) }
                    return out
                }
                depth -= 1
            case UInt8(ascii: ","):
                if depth == 0 {
                    if let s = recordStart { out.append(Record(line: recordLine, bytes: data[s..<i])) }
                    recordStart = nil
                }
            default:
                if recordStart == nil, !isSpace(b) {
                    recordStart = i
                    recordLine = line
                }
            }
            i += 1
        }
        throw .unterminatedArray(line: line)
    }
}
