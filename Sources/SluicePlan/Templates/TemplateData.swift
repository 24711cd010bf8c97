import Mustache
import SluiceJSON

/// JSONValue as swift-mustache sees it.
///
/// swift-mustache looks values up by dynamic casts (`MustacheParent`, `MustacheSequence`,
/// `Bool`, `MustacheCustomRenderable`) and falls back to `Mirror` reflection. Every value
/// below is one of our own small types (or a `Bool`), so reflection never reaches Swift
/// internals: `{{#name}}{{count}}{{/name}}` over a string cannot find a stored property.
/// Children are wrapped lazily, on lookup, so rendering does not copy the whole context.
///
/// How values render, and which ones are falsey in a section:
///
/// | JSON | `{{x}}` | `{{#x}}` |
/// | --- | --- | --- |
/// | null | nothing | skipped |
/// | true / false | `true` / `false` | rendered once / skipped |
/// | integer | `42` | rendered once, with the number as `.` |
/// | double | shortest form that reads back: `8.2`; whole numbers below 10^15 without `.0`: `3` | as integer |
/// | string | as is | rendered once, skipped when empty |
/// | array | compact JSON (`JSONValue.serialized()`) | once per element, skipped when empty |
/// | object | compact JSON, keys in document order | rendered once, with the object as context |
///
/// Arrays and objects print as JSON so that a prompt can hand a model a step's whole
/// structured output with `{{steps.outline.output}}`; inside that JSON, numbers and strings
/// are written as the JSON writer writes them (`3.0`, `"quoted"`).
enum TemplateData {
    /// The value swift-mustache should see for `value`.
    static func wrap(_ value: JSONValue) -> Any {
        switch value {
        case .null: TemplateNull()
        case .bool(let flag): flag
        case .integer, .double, .string: TemplateScalar(value: value)
        case .array(let elements): TemplateList(elements: elements)
        case .object(let object): TemplateObject(object: object)
        }
    }
}

/// JSON null: renders as nothing, falsey in sections, and hides any outer value of the same name.
struct TemplateNull: MustacheCustomRenderable, MustacheParent {
    var renderText: String { "" }
    var isNull: Bool { true }
    func child(named: String) -> Any? { nil }
}

/// A string or number.
struct TemplateScalar: MustacheCustomRenderable, MustacheParent {
    let value: JSONValue

    var renderText: String {
        switch value {
        case .string(let text): text
        case .double(let number): Self.text(of: number)
        default: value.serialized()
        }
    }

    /// A double in the shortest form that reads back as the same number (`8.2`, `0.1`,
    /// `1e+20`), except that whole numbers below 10^15 print without a fraction (`3`, not
    /// `3.0`), as people expect in a sentence.
    static func text(of number: Double) -> String {
        if number.isFinite, number == number.rounded(.towardZero), abs(number) < 1e15 {
            return String(Int64(number))
        }
        return number.description
    }

    /// An empty string is falsey, as in mustache.js and chevron; numbers, zero included, are not.
    var isNull: Bool { value.stringValue?.isEmpty ?? false }

    func child(named: String) -> Any? { nil }
}

/// A JSON array: a section renders once per element; `{{list}}` renders compact JSON.
struct TemplateList: MustacheSequence, MustacheCustomRenderable, MustacheParent {
    let elements: [JSONValue]

    func makeIterator() -> some IteratorProtocol<Any> {
        elements.lazy.map(TemplateData.wrap).makeIterator()
    }

    var renderText: String { JSONValue.array(elements).serialized() }
    var isNull: Bool { false }
    func child(named: String) -> Any? { nil }
}

/// A JSON object: names resolve against its members; `{{object}}` renders compact JSON.
struct TemplateObject: MustacheParent, MustacheCustomRenderable {
    let object: JSONObject

    func child(named name: String) -> Any? {
        object[name].map(TemplateData.wrap)
    }

    var renderText: String { JSONValue.object(object).serialized() }
    var isNull: Bool { false }
}
