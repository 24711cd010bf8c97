import Foundation
import SluiceJSON

extension SchemaInstanceGenerator {
    /// A placeholder string for a property called `name`, honouring `format`, `minLength` and `maxLength`.
    func placeholder(name: String?, ordinal: Int, schema s: JSONObject) -> String {
        let ordinal = s["x-ordinal"]?.integerValue.map { Int($0) } ?? ordinal
        let text = rawPlaceholder(name: name, ordinal: ordinal, format: s["format"]?.stringValue)
        return fitted(text, minLength: s["minLength"]?.integerValue.map { Int($0) }, maxLength: s["maxLength"]?.integerValue.map { Int($0) })
    }

    private func rawPlaceholder(name: String?, ordinal: Int, format: String?) -> String {
        let lowered = name?.lowercased() ?? ""
        let slug = Self.slug(topic)
        switch format {
        case "date": return Self.date(ordinal)
        case "date-time": return Self.date(ordinal) + "T09:00:00Z"
        case "uri", "url", "iri": return "https://example.com/simulated/\(slug)-\(ordinal)"
        case "email": return "simulated\(ordinal)@example.com"
        case "uuid": return "00000000-0000-4000-8000-" + String(repeating: "0", count: 12 - String(ordinal).count) + String(ordinal)
        default: break
        }
        if !quotes.isEmpty {
            let quote = quotes[(ordinal - 1) % quotes.count]
            if lowered.contains("evidence") || lowered.contains("quote") || lowered.contains("excerpt") { return quote }
            if lowered == "name" { return quote.split(separator: " ").prefix(6).joined(separator: " ") }
            if lowered == "type" || lowered == "kind" || lowered == "category" {
                return ["organization", "date", "amount", "obligation", "person"][(ordinal - 1) % 5]
            }
        }
        if lowered.contains("url") || lowered.contains("link") || lowered.contains("href") {
            return "https://example.com/simulated/\(slug)-\(ordinal)"
        }
        if lowered.contains("email") { return "simulated\(ordinal)@example.com" }
        if lowered.contains("date") || lowered.contains("published") || lowered.hasSuffix("_at") {
            return Self.date(ordinal)
        }
        if lowered == "id" || lowered.hasSuffix("_id") { return "sim-\(ordinal)" }
        if lowered.contains("quer") || lowered.contains("keyword") || lowered.contains("search") {
            let angles = ["latest news", "funding and deals", "product launches", "research results", "regulation", "open source"]
            return "\(topic) \(angles[(ordinal - 1) % angles.count])"
        }
        if lowered.contains("title") || lowered.contains("heading") || lowered == "name" || lowered.hasSuffix("_name") {
            let angles = ["Overview", "Key developments", "Market moves", "Technology", "Outlook", "Risks"]
            return "\(angles[(ordinal - 1) % angles.count]): \(topic)"
        }
        if ["topic", "subject", "theme"].contains(where: { lowered.contains($0) }) { return topic }
        if lowered == "field" || lowered == "industry" || lowered == "domain" { return "technology" }
        if lowered.contains("audience") { return "industry readers" }
        if lowered.contains("status") { return "ok" }
        if lowered.contains("lang") { return "en" }
        let long = ["summary", "description", "content", "text", "body", "feedback", "snippet", "answer", "analysis", "reason", "intent", "point", "gap", "fact", "claim", "finding"]
        if long.contains(where: { lowered.contains($0) }) {
            return "[simulated] \(Self.label(name)) \(ordinal) on \(topic): a placeholder written by the offline model."
        }
        return "[simulated] \(Self.label(name)) \(ordinal) about \(topic)"
    }

    private func fitted(_ text: String, minLength: Int?, maxLength: Int?) -> String {
        var result = text
        if let minLength, result.count < minLength {
            result += String(repeating: ".", count: minLength - result.count)
        }
        if let maxLength, result.count > maxLength {
            result = String(result.prefix(maxLength))
        }
        return result
    }

    /// A date in the days before the simulated "today" (2026-11-20), one per ordinal.
    static func date(_ ordinal: Int) -> String {
        let day = max(1, 20 - (ordinal - 1) % 19)
        return "2026-11-" + (day < 10 ? "0\(day)" : "\(day)")
    }

    static func slug(_ text: String) -> String {
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) || !$0.isASCII }
        let joined = words.prefix(6).joined(separator: "-")
        return joined.isEmpty ? "item" : joined
    }

    static func label(_ name: String?) -> String {
        guard let name, !name.isEmpty else { return "Item" }
        let spaced = name.replacingOccurrences(of: "_", with: " ")
        return spaced.prefix(1).uppercased() + spaced.dropFirst()
    }
}
