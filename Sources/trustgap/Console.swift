import Foundation
import Terminal

/// Everything the CLI prints goes through here, and so through the one sanitiser: other analysts' reasons,
/// collector text and error messages never reach the terminal as escape sequences or hidden characters.
enum Console {
    /// Text for standard output: each line sanitised, line breaks kept, a newline at the end.
    static func out(_ text: String) { FileHandle.standardOutput.write(Data((lines(text) + "\n").utf8)) }

    /// Text already ending in its own newlines (a table, CSV), each line sanitised.
    static func write(_ text: String) { FileHandle.standardOutput.write(Data(lines(text).utf8)) }

    /// A message for standard error, `trustgap: ` first.
    static func error(_ text: String) { FileHandle.standardError.write(Data(("trustgap: " + lines(text) + "\n").utf8)) }

    /// Standard error as it is given (ArgumentParser's help and usage), each line sanitised.
    static func errorVerbatim(_ text: String) { FileHandle.standardError.write(Data((lines(text) + "\n").utf8)) }

    /// JSON whose bytes are safe to print: unsafe characters inside strings as `\uXXXX` escapes.
    static func json(_ data: Data) { FileHandle.standardOutput.write(SafeText.terminalSafeJSON(data) + Data("\n".utf8)) }

    /// Each line sanitised; line ends (`\n`, and CSV's `\r\n`) kept as they are.
    static func lines(_ text: String) -> String {
        text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line -> String in
            if line.last == UInt8(ascii: "\r") { return SafeText.sanitize(String(decoding: line.dropLast(), as: UTF8.self)) + "\r" }
            return SafeText.sanitize(String(decoding: line, as: UTF8.self))
        }.joined(separator: "\n")
    }
}
