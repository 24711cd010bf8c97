public import Foundation
import SluiceEngine
public import SluicePlan
public import SluiceRunLog
import Synchronization

/// The `--events pretty` sink: run events drawn for a person watching a terminal.
///
/// On a TTY it keeps a live line per running step (state, elapsed time, map progress such as
/// `3/7`, the tail of the text being written) under permanent lines for finished steps, gate
/// scores per round, and at the end tokens and cost. When the output is not a TTY it writes
/// plain lines. Colours only on a TTY, and never when `NO_COLOR` is set.
///
/// Map items are numbered from 1 for people (`section [1]` is the event's `"item": 0`); a
/// map's progress (`sections 2/4`) counts items whose whole body has finished.
///
/// ```swift
/// let view = TerminalEventView.standardOutput(environment: ProcessInfo.processInfo.environment, plan: plan)
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
    ///   - plan: the plan being run, whose map bodies tell when an item has finished.
    ///   - write: where the text goes.
    public init(
        isTTY: Bool, useColor: Bool, width: Int = 100, plan: Plan? = nil,
        write: @escaping @Sendable (String) -> Void
    ) {
        let options = TerminalRenderer.Options(
            isTTY: isTTY, useColor: isTTY && useColor, width: max(20, width),
            lastBodySteps: plan.map(Self.lastBodySteps(of:)) ?? [:]
        )
        self.renderer = Mutex(TerminalRenderer(options: options))
        self.write = write
    }

    /// A view on standard output: live and coloured when stdout is a TTY and `NO_COLOR` is unset.
    public static func standardOutput(environment: [String: String], plan: Plan? = nil) -> TerminalEventView {
        let isTTY = isatty(STDOUT_FILENO) == 1
        return TerminalEventView(
            isTTY: isTTY,
            useColor: colorAllowed(environment: environment),
            width: terminalWidth(environment: environment),
            plan: plan
        ) { text in
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// Map step id → the id of its body's last step, for every map of `plan`.
    static func lastBodySteps(of plan: Plan) -> [String: String] {
        var last: [String: String] = [:]
        for step in plan.allSteps {
            if case .map(let map) = step.kind, let final = map.steps.last { last[step.id] = final.id }
        }
        return last
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

    /// Stops drawing while a question is asked at the terminal: the live block is erased and
    /// events are held (not lost) until ``resume()``, so the question and the answer typed are
    /// not broken up by redraws.
    public func pause() {
        renderer.withLock { renderer in
            let text = renderer.pause()
            if !text.isEmpty { write(text) }
        }
    }

    /// Draws again after ``pause()``: what happened meanwhile, then the live block.
    public func resume(now: Date = Date()) {
        renderer.withLock { renderer in
            let text = renderer.resume(now: now)
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
