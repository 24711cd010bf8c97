import Synchronization

/// How many of a search step's queries the response cache answered (`hits`) and how many went
/// to the search service (`misses`).
///
/// A search returns only results, so a caching provider reports through the tally its query
/// carries (``SearchQuery/cacheTally``): the engine gives a step's queries one tally and shows
/// the counts as `cache` in the step's `step.completed` event.
public final class SearchCacheTally: Sendable {
    private let counts = Mutex((hits: 0, misses: 0))

    public init() {}

    public var hits: Int { counts.withLock { $0.hits } }
    public var misses: Int { counts.withLock { $0.misses } }

    public func record(hit: Bool) {
        counts.withLock { counts in
            if hit { counts.hits += 1 } else { counts.misses += 1 }
        }
    }
}
