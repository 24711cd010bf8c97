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
