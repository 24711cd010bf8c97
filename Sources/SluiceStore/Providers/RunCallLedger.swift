import SluiceJSON
public import SluiceProviders
import Synchronization

/// The provider calls of one run: saves each finished call, and on a resume answers the n-th
/// identical request with the n-th saved response, so nothing already paid for is asked again.
///
/// Wrap a run's providers with ``model(_:)`` and ``search(_:)``.
public final class RunCallLedger: Sendable {
    public let runID: String
    private let store: any RunStore

    private struct State {
        var counts: [CallKey: Int] = [:]
        var saved: [CallKey: JSONValue] = [:]
        var replayed = 0
        var recorded = 0
        var failures: [StoreError] = []
    }

    private let state: Mutex<State>

    /// - Parameter prior: the calls saved before (empty for a new run).
    public init(store: any RunStore, runID: String, prior: [ProviderCall] = []) {
        self.store = store
        self.runID = runID
        var initial = State()
        for call in prior { initial.saved[CallKey(call.kind, call.request, occurrence: call.occurrence)] = call.response }
        state = Mutex(initial)
    }

    /// How many calls were answered from saved ones.
    public var replayedCount: Int { state.withLock { $0.replayed } }
    /// How many calls were saved.
    public var recordedCount: Int { state.withLock { $0.recorded } }
    /// Calls that could not be saved (a resume would make them again); never silently.
    public var failures: [StoreError] { state.withLock { $0.failures } }

    public func model(_ base: any ModelProvider) -> any ModelProvider { LedgerModel(base: base, ledger: self) }
    public func search(_ base: any SearchProvider) -> any SearchProvider { LedgerSearch(base: base, ledger: self) }

    /// Counts this request and returns its occurrence and the saved response, if any.
    func next(_ kind: ProviderCall.Kind, _ request: String) -> (occurrence: Int, saved: JSONValue?) {
        state.withLock { state in
            let counter = CallKey(kind, request, occurrence: 0)
            let occurrence = (state.counts[counter] ?? 0) + 1
            state.counts[counter] = occurrence
            return (occurrence, state.saved[CallKey(kind, request, occurrence: occurrence)])
        }
    }

    func replayed() { state.withLock { $0.replayed += 1 } }

    func save(_ kind: ProviderCall.Kind, _ request: String, occurrence: Int, response: JSONValue) async {
        do {
            try await store.saveProviderCall(ProviderCall(runID: runID, kind: kind, request: request, occurrence: occurrence, response: response))
            state.withLock { $0.recorded += 1 }
        } catch {
            state.withLock { $0.failures.append(error) }
        }
    }

    /// A request (its kind, its exact bytes, an occurrence or 0 for the counter), hashed and
    /// compared by its UTF-8 bytes: requests are made by the same code from the same inputs,
    /// and a `String` key of a prompt with any non-ASCII character was normalized (Unicode
    /// NFC) on every hash, three times per call, besides the copy that built the key.
    private struct CallKey: Hashable {
        let kind: ProviderCall.Kind
        let request: String
        let occurrence: Int

        init(_ kind: ProviderCall.Kind, _ request: String, occurrence: Int) {
            self.kind = kind
            self.request = request
            self.occurrence = occurrence
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(kind)
            hasher.combine(occurrence)
            var request = request
            request.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }

        static func == (lhs: CallKey, rhs: CallKey) -> Bool {
            lhs.kind == rhs.kind && lhs.occurrence == rhs.occurrence && lhs.request.utf8.elementsEqual(rhs.request.utf8)
        }
    }
}

private struct LedgerModel: ModelProvider {
    let base: any ModelProvider
    let ledger: RunCallLedger

    func generate(_ request: ModelRequest, onDelta: @Sendable (String) async throws -> Void) async throws -> ModelResponse {
        let key = ProviderCodec.key(request, includingPlace: true)
        let (occurrence, saved) = ledger.next(.model, key)
        if let saved, let response = ProviderCodec.decodeModel(saved) {
            ledger.replayed()
            if request.stream, !response.text.isEmpty { try await onDelta(response.text) }
            return ProviderCodec.free(response, cache: "checkpoint")
        }
        let response = try await base.generate(request, onDelta: onDelta)
        await ledger.save(.model, key, occurrence: occurrence, response: ProviderCodec.encode(response))
        return response
    }
}

private struct LedgerSearch: SearchProvider {
    let base: any SearchProvider
    let ledger: RunCallLedger

    func search(_ query: SearchQuery) async throws -> [SearchResult] {
        let key = ProviderCodec.key(query)
        let (occurrence, saved) = ledger.next(.search, key)
        if let saved, let results = ProviderCodec.decodeSearch(saved) {
            ledger.replayed()
            return results
        }
        let results = try await base.search(query)
        await ledger.save(.search, key, occurrence: occurrence, response: ProviderCodec.encode(results))
        return results
    }
}
