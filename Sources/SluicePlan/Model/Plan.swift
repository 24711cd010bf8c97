public import SluiceJSON

/// A loaded, validated plan: the pipeline one JSON file describes.
///
/// Build one with ``PlanLoader``; every plan it returns has passed every static check.
public struct Plan: Sendable {
    /// The tool name (MCP) and route name (HTTP).
    public var name: String
    public var title: String?
    public var description: String?
    public var version: String?
    /// The JSON Schema of the run's inputs (an object schema).
    public var inputSchema: JSONValue
    public var models: [String: ModelSpec]
    public var budget: Budget
    public var billing: Billing
    /// The plan's `cache` setting: nil when absent or `false`.
    public var cache: CacheSetting?
    public var steps: [Step]
    public var output: Output?
    /// Where the plan came from, for error messages and `call` resolution.
    public var source: PlanSource
}

/// A named model: `provider:model` plus optional sampling settings.
public struct ModelSpec: Sendable, Hashable {
    /// `provider:model`, e.g. `openai:gpt-4o-mini`.
    public var model: String
    public var temperature: Double?
    public var maxTokens: Int?
    /// The default `on_truncation` of steps using this model.
    public var onTruncation: TruncationSetting?
    /// The default `max_repairs` of steps (and gates) using this model.
    public var maxRepairs: Int?

    public init(model: String, temperature: Double? = nil, maxTokens: Int? = nil, onTruncation: TruncationSetting? = nil, maxRepairs: Int? = nil) {
        self.model = model
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.onTruncation = onTruncation
        self.maxRepairs = maxRepairs
    }
}

/// Limits for a whole run. `nil` means no limit beyond the engine's defaults.
public struct Budget: Sendable, Hashable {
    public var maxTokens: Int?
    public var maxCostUSD: Double?
    public var maxSteps: Int?
    public var timeoutSeconds: Double?

    public init(maxTokens: Int? = nil, maxCostUSD: Double? = nil, maxSteps: Int? = nil, timeoutSeconds: Double? = nil) {
        self.maxTokens = maxTokens
        self.maxCostUSD = maxCostUSD
        self.maxSteps = maxSteps
        self.timeoutSeconds = timeoutSeconds
    }
}

/// How a completed run is billed; a failed run is never billed.
public enum Billing: Sendable {
    /// One charge per completed run.
    case perRun
    /// One charge per element of `items` (e.g. validated extraction items).
    case perItem(items: PlanExpression, unitPriceUSD: Double?)
}

/// A plan's `"cache": true` or `"cache": {"ttl": "12h"}`: its runs reuse model and search
/// responses for identical requests, as `sluice run --cache` does.
public struct CacheSetting: Sendable, Hashable {
    /// How long a cached response answers, in seconds; nil for until `sluice cache clear`.
    public var timeToLive: Double?

    public init(timeToLive: Double? = nil) {
        self.timeToLive = timeToLive
    }

    /// Seconds in a duration as people write them (`90s`, `15m`, `12h`, `30d`); nil when `text`
    /// is not one.
    public static func seconds(in text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last, let scale = units[unit], let value = Double(text.dropLast()), value >= 0 else { return nil }
        return value * scale
    }
}

/// The run's result: a value computed from the steps, and its schema.
public struct Output: Sendable {
    public var value: PlanValue
    /// The result's JSON Schema (MCP `outputSchema`), when the plan gives one.
    public var schema: JSONValue?
}

/// The file a plan was loaded from, with the positions of its nodes.
public struct PlanSource: Sendable {
    /// The path as the user gave it (used in diagnostics).
    public var path: String
    public var document: JSONDocument
    /// The file's bytes, to place positions inside strings exactly.
    public var bytes: [UInt8]

    public init(path: String, document: JSONDocument, bytes: [UInt8]) {
        self.path = path
        self.document = document
        self.bytes = bytes
    }

    /// The line and column of the node at `pointer`, or of its nearest ancestor.
    public func location(of pointer: JSONPointer) -> SourceLocation? {
        document.location(of: pointer)
    }
}

extension Plan {
    /// Every step in the plan, nested bodies included, in document order.
    public var allSteps: [Step] {
        steps.flatMap { [$0] + $0.descendants }
    }

    /// The step with this id, wherever it is nested.
    public func step(id: String) -> Step? {
        allSteps.first { $0.id == id }
    }
}

extension Plan {
    /// How large a plan may be. `sluice validate` reports a plan past a limit with code
    /// `limit`, saying which; docs/plan-reference.md lists these with the parser's own limits.
    public enum Limits {
        /// Steps in the whole plan, bodies included. Validation is linear in the plan's size,
        /// but a run keeps every step's state and events; real plans have tens of steps.
        public static let maxSteps = 10_000
        /// Levels of map and loop bodies, the top level being the first. The engine runs a body
        /// inside its step's frame, so this bounds how deep a run's async work nests.
        public static let maxStepNesting = 32
    }
}
