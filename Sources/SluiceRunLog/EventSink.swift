public import Foundation

/// Where a run's events go: the terminal view, an NDJSON file, an SSE or MCP stream, a test recorder.
///
/// Events arrive one at a time, in `seq` order, from the run's ``EventBus``. A sink may be slow:
/// the bus buffers for it (see ``EventBus`` for the policy), so the engine never waits on a sink.
public protocol EventSink: Sendable {
    func receive(_ event: RunEvent) async
}

/// Writes each event as one line of JSON (newline-delimited JSON), e.g. for `--events ndjson`.
public struct NDJSONEventSink: EventSink {
    private let write: @Sendable (String) -> Void

    /// Writes to a file handle such as `FileHandle.standardOutput`.
    public init(fileHandle: FileHandle) {
        self.write = { line in fileHandle.write(Data(line.utf8)) }
    }

    /// Hands each line (with its newline) to `write`.
    public init(write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    public func receive(_ event: RunEvent) async {
        write(event.jsonLine + "\n")
    }
}

/// A sink that must see each event at the moment the engine publishes it, on the publishing
/// task, before any sink receives it — for a tracer whose spans must exist before the model
/// call they parent begins (delivery to sinks runs later, on its own task).
///
/// ``observe(_:)`` runs inside the engine's work: it must be quick and must never wait. The
/// event has no `seq` yet (0); `time` is the publish time. Observers get no `step.delta` (the
/// text is of no use to them and is most of the events).
public protocol EventObserver: EventSink {
    func observe(_ event: RunEvent)
}

extension EventObserver {
    /// Observers are told at publish time; delivery brings them nothing more.
    public func receive(_ event: RunEvent) async {}
}
