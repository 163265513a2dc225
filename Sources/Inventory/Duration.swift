import Foundation

/// Durations as people write them in config and on the command line: `30s`, `15m`, `1h`, `8h`, `2d`, `1w`,
/// or combined like `1h30m`.
public enum DurationText {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let text: String
        public var description: String {
            "invalid duration '\(text)': use a number and a unit, like 30s, 15m, 1h, 2d or 1w"
        }
    }

    /// Parses a duration into seconds.
    public static func seconds(_ text: String) throws(ParseError) -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw ParseError(text: text) }
        var total = 0.0
        var number = ""
        var sawUnit = false
        for ch in trimmed {
            if ch.isASCII, ch.isNumber || ch == "." {
                number.append(ch)
                continue
            }
            guard let value = Double(number) else { throw ParseError(text: text) }
            let unit: Double
            switch ch {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: throw ParseError(text: text)
            }
            total += value * unit
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit, total.isFinite else { throw ParseError(text: text) }
        return total
    }

    /// Formats seconds compactly: `45s`, `12m`, `3h`, `2h05m`, `4d`, `1y`.
    public static func format(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        if s < 0 { return "-" + format(-seconds) }
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" }
        if s < 86_400 {
            let h = s / 3600
            let m = (s % 3600) / 60
            return m == 0 ? "\(h)h" : "\(h)h\(m < 10 ? "0" : "")\(m)m"
        }
        if s < 86_400 * 365 * 2 { return "\(s / 86_400)d" }
        return "\(s / (86_400 * 365))y"
    }
}
