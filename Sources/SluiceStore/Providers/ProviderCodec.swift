public import SluiceJSON
public import SluiceProviders

/// Requests as canonical text (the key of a saved call or a cached response) and responses as
/// JSON (what the store keeps).
public enum ProviderCodec {
    /// The request as compact JSON with a fixed member order.
    ///
    /// - Parameter includingPlace: with the step, item and iteration the call was made for: a
    ///   run's saved calls are told apart by where they happened, while the response cache
    ///   answers the same question wherever it is asked.
    public static func key(_ request: ModelRequest, includingPlace: Bool) -> String {
        var object: JSONObject = [
            "model": .string(request.model.description),
            "system": request.system.map(JSONValue.string) ?? .null,
            "prompt": .string(request.prompt),
            "schema": request.schema ?? .null,
            "temperature": request.temperature.map(JSONValue.double) ?? .null,
            "max_tokens": request.maxTokens.map { .integer(Int64($0)) } ?? .null,
            "purpose": .string(request.metadata.purpose.rawValue),
        ]
        if includingPlace {
            object["step"] = request.metadata.stepID.map(JSONValue.string) ?? .null
            object["item"] = request.metadata.item.map { .integer(Int64($0)) } ?? .null
            object["iteration"] = request.metadata.iteration.map { .integer(Int64($0)) } ?? .null
        }
        return JSONValue.object(object).serialized()
    }

    public static func key(_ query: SearchQuery) -> String {
        let object: JSONObject = [
            "query": .string(query.text), "max_results": .integer(Int64(query.maxResults)),
            "days": query.days.map { .integer(Int64($0)) } ?? .null,
        ]
        return JSONValue.object(object).serialized()
    }

    public static func encode(_ response: ModelResponse) -> JSONValue {
        var object: JSONObject = [
            "text": .string(response.text),
            "usage": [
                "provider": .string(response.usage.provider), "model": .string(response.usage.model),
                "input_tokens": .integer(Int64(response.usage.inputTokens)),
                "output_tokens": .integer(Int64(response.usage.outputTokens)),
            ],
        ]
        // A text used although cut off stays marked when it is answered from the store.
        if response.truncated { object["truncated"] = true }
        return .object(object)
    }

    /// The saved response, or nil when the stored JSON is not one (then the call is made again).
    public static func decodeModel(_ value: JSONValue) -> ModelResponse? {
        guard let text = value["text"]?.stringValue, let usage = value["usage"],
            let provider = usage["provider"]?.stringValue, let model = usage["model"]?.stringValue,
            let input = usage["input_tokens"]?.integerValue, let output = usage["output_tokens"]?.integerValue
        else { return nil }
        return ModelResponse(
            text: text, usage: ModelUsage(provider: provider, model: model, inputTokens: Int(input), outputTokens: Int(output)),
            truncated: value["truncated"]?.boolValue ?? false)
    }

    public static func encode(_ results: [SearchResult]) -> JSONValue {
        .array(results.map {
            [
                "title": .string($0.title), "url": .string($0.url), "snippet": .string($0.snippet),
                "published": $0.published.map(JSONValue.string) ?? .null, "provider": .string($0.provider),
            ]
        })
    }

    public static func decodeSearch(_ value: JSONValue) -> [SearchResult]? {
        guard let list = value.arrayValue else { return nil }
        var results: [SearchResult] = []
        for entry in list {
            guard let title = entry["title"]?.stringValue, let url = entry["url"]?.stringValue,
                let snippet = entry["snippet"]?.stringValue, let provider = entry["provider"]?.stringValue
            else { return nil }
            results.append(SearchResult(title: title, url: url, snippet: snippet, published: entry["published"]?.stringValue, provider: provider))
        }
        return results
    }

    /// A response answered by the store: the same text, no tokens spent now.
    static func free(_ response: ModelResponse, cache: String) -> ModelResponse {
        var usage = response.usage
        usage.inputTokens = 0
        usage.outputTokens = 0
        return ModelResponse(text: response.text, usage: usage, cache: cache, truncated: response.truncated)
    }
}
