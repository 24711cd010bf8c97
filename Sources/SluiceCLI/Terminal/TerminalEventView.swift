public import Foundation
public import SluiceEngine
import Synchronization

/// The `--events pretty` sink: run events drawn for a person watching a terminal.
///
/// On a TTY it keeps a live line per running step (state, elapsed time, map progress such as
/// `3/7`, the tail of the text being written) under permanent lines for finished steps, gate
/// scores per round, and at the end tokens, cost and where the report went. When the output
/// is not a TTY it writes plain lines. Colours only on a TTY, and never when `NO_COLOR` is set.
///
/// ```swift
/// let view = TerminalEventView.standardOutput(environment: ProcessInfo.processInfo.environment,
///                                             reportDestination: "report.md")
/// let outcome = await withTaskGroup(of: Void.self) { group in
///     group.addTask { await view.runTicker() }   // elapsed times keep moving on a TTY
///     defer { group.cancelAll() }
///     return await engine.run(plan: plan, inputs: inputs, sinks: [view])
/// }
/// ```
public final class TerminalEventView: EventSink {
    private let renderer: Mutex<TerminalRenderer>
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - isTTY: draw the live view (else plain lines).
    ///   - useColor: ANSI colours; forced off when `isTTY` is false.
    ///   - width: the terminal's width in characters.
    ///   - reportDestination: where the report will be written, for the final summary.
    ///   - write: where the text goes.
    public init(
        isTTY: Bool, useColor: Bool, width: Int = 100, reportDestination: String? = nil,
        write: @escaping @Sendable (String) -> Void
    ) {
        let options = TerminalRenderer.Options(
            isTTY: isTTY, useColor: isTTY && useColor, width: max(20, width), reportDestination: reportDestination
        )
        self.renderer = Mutex(TerminalRenderer(options: options))
        self.write = write
    }

    /// A view on standard output: live and coloured when stdout is a TTY and `NO_COLOR` is unset.
    public static func standardOutput(environment: [String: String], reportDestination: String? = nil) -> TerminalEventView {
        let isTTY = isatty(STDOUT_FILENO) == 1
        return TerminalEventView(
            isTTY: isTTY,
            useColor: colorAllowed(environment: environment),
            width: terminalWidth(environment: environment),
            reportDestination: reportDestination
        ) { text in
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// Colours are allowed unless `NO_COLOR` is present (https://no-color.org) or `TERM` is `dumb`.
    public static func colorAllowed(environment: [String: String]) -> Bool {
        environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }

    /// `COLUMNS` when set, else the terminal's reported width, else 100.
    static func terminalWidth(environment: [String: String]) -> Int {
        if let columns = environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 100
    }

    public func receive(_ event: RunEvent) async {
        // Written under the lock: a tick's redraw must not land between this text and the
        // cursor position it assumes.
        renderer.withLock { renderer in
            let text = renderer.render(event)
            if !text.isEmpty { write(text) }
        }
    }

    /// Redraws the running steps' elapsed times as of `now` (a no-op when not on a TTY).
    public func tick(now: Date = Date()) {
        renderer.withLock { renderer in
            let text = renderer.tick(now: now)
            if !text.isEmpty { write(text) }
        }
    }

    /// Ticks every `interval` until the calling task is cancelled: run it beside the engine
    /// (e.g. in a task group cancelled when the run returns).
    public func runTicker(every interval: Duration = .milliseconds(250)) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return  // cancelled: the run is over
            }
            tick()
        }
    }
}
