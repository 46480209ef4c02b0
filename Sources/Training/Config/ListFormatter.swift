/// Lists in messages.
enum ListFormatter {
    /// "a", "a or b", "a, b or c".
    static func either(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items.last!
    }
}
