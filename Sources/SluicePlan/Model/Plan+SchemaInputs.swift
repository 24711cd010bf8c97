extension Plan {
    /// The inputs that a `validate` step takes as its schema unchanged
    /// (`"schema": "${inputs.schema}"`), in document order.
    ///
    /// Every transport compiles these with the other input checks, so a request whose schema
    /// does not compile (a `pattern` with lookaround, say) is refused up front (HTTP 400, an
    /// MCP argument error) instead of failing the run after the model calls were paid for.
    public var schemaInputs: [String] {
        var names: [String] = []
        for step in steps.flatMap({ [$0] + $0.descendants }) {
            guard case .validate(let validate) = step.kind, case .expression(let expression) = validate.schema else { continue }
            let source = String(expression.source.filter { !$0.isWhitespace })
            guard source.hasPrefix("inputs.") else { continue }
            let name = String(source.dropFirst("inputs.".count))
            if !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isIdentifierStart || $0.isDigit }), !names.contains(name) {
                names.append(name)
            }
        }
        return names
    }
}
