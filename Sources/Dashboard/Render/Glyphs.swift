/// Line drawing and symbols, in Unicode or plain ASCII for terminals without UTF-8.
struct Glyphs: Sendable {
    let horizontal: String
    let vertical: String
    let gaugeFull: String
    let gaugeEmpty: String
    let spark: [String]
    let up: String
    let down: String
    let bullet: String
    let ellipsis: String
    let selected: String
    let new: String
    let changed: String
    let dot: String

    static let unicode = Glyphs(
        horizontal: "─", vertical: "│", gaugeFull: "█", gaugeEmpty: "░", spark: ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
        up: "▲", down: "▼", bullet: "●", ellipsis: "…", selected: "▶", new: "+", changed: "*", dot: "·")
    static let ascii = Glyphs(
        horizontal: "-", vertical: "|", gaugeFull: "#", gaugeEmpty: ".", spark: ["_", ".", "-", "~", "=", "+", "*", "#"],
        up: "^", down: "v", bullet: "o", ellipsis: "~", selected: ">", new: "+", changed: "*", dot: "-")
}
