import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog

/// Turns run events into text for people: plain lines, or on a TTY a live block of the steps
/// running now (state, elapsed time, map progress, the tail of the text being written) under
/// permanent lines for what has finished.
///
/// Pure: it never touches the terminal itself, so tests feed events and read the output.
struct TerminalRenderer {
    struct Options: Sendable {
        /// Live redrawing with cursor movement; plain lines otherwise.
        var isTTY: Bool
        var useColor: Bool
        /// Lines are cut to this many characters on a TTY.
        var width: Int = 100
        /// Map step id → the id of the last step of its body: an item has finished when that
        /// step ends (or any of its steps fails). A map not listed (one inside a called plan)
        /// counts an item when any of its body steps ends.
        var lastBodySteps: [String: String] = [:]
        /// The least time between two redraws caused by streamed text alone.
        var redrawInterval: Double = 0.05
    }

    /// A step running now: one live line.
    struct Active {
        var key: StepKey
        var kind: String
        var label: String
        var started: Date
        var tail: String = ""
        /// For a map: how many items it has.
        var items: Int?
    }

    /// A step execution: its id, map item and loop round.
    struct StepKey: Hashable {
        var step: String
        var item: Int?
        var iteration: Int?
    }

    let options: Options
    let style: TerminalStyle
    private(set) var active: [Active] = []
    /// Map step id → (item → whether it has finished).
    private var mapItems: [String: [Int: Bool]] = [:]
    /// Body step key → the map it belongs to.
    private(set) var parents: [StepKey: String] = [:]
    private(set) var runStarted: Date?
    private var liveLines = 0
    private var lastDraw: Date?
    private var lastEventTime = Date(timeIntervalSince1970: 0)
    /// Set while someone answers a question at the terminal: nothing is written, and the lines
    /// that would have been wait here.
    private var held: [String]?
    /// Questions being asked now (two confirm steps of a map may ask at once).
    private var pauses = 0

    init(options: Options) {
        self.options = options
        self.style = TerminalStyle(useColor: options.useColor)
    }

    /// The text to write for `event` (possibly empty).
    mutating func render(_ event: RunEvent) -> String {
        lastEventTime = event.time
        var permanent = permanentLines(for: event)
        let key = event.step.map { StepKey(step: $0, item: event.item, iteration: event.iteration) }
        let parent = key.flatMap { parents[$0] }
        update(with: event)
        if held != nil {
            held? += permanent
            return ""
        }
        guard options.isTTY else {
            // Plain output has no live block: say how far a map has got whenever one of its items moves on.
            if event.type.endsStep, let parent, !permanent.isEmpty,
                let total = active.first(where: { $0.key.step == parent && $0.kind == "map" })?.items,
                let progress = progress(ofMap: parent, total: total)
            {
                permanent[permanent.count - 1] += style.dim("  (\(parent) \(progress))")
            }
            return permanent.map { $0 + "\n" }.joined()
        }
        if event.type == .stepDelta, permanent.isEmpty, let lastDraw,
            event.time.timeIntervalSince(lastDraw) < options.redrawInterval
        {
            return ""
        }
        return redraw(permanent: permanent, at: event.time)
    }

    /// A redraw of the live block with elapsed times as of `now` (TTY only; empty otherwise), so
    /// a long step without streamed text still shows its time moving.
    mutating func tick(now: Date) -> String {
        guard options.isTTY, held == nil, !active.isEmpty else { return "" }
        return redraw(permanent: [], at: now)
    }

    /// Stops drawing so a question can be asked below: erases the live block and holds every
    /// line until ``resume(now:)``.
    mutating func pause() -> String {
        pauses += 1
        guard held == nil else { return "" }
        held = []
        guard options.isTTY else { return "" }
        let erase = TerminalStyle.eraseUp(liveLines)
        liveLines = 0
        return erase
    }

    /// Draws again after ``pause()``: the lines held meanwhile, then the live block.
    mutating func resume(now: Date) -> String {
        pauses = max(0, pauses - 1)
        guard pauses == 0, let lines = held else { return "" }
        held = nil
        guard options.isTTY else { return lines.map { $0 + "\n" }.joined() }
        return redraw(permanent: lines, at: now)
    }

    // MARK: State

    private mutating func update(with event: RunEvent) {
        guard let step = event.step else {
            if event.type == .runStarted { runStarted = event.time }
            if event.type.endsRun { active.removeAll() }
            return
        }
        let key = StepKey(step: step, item: event.item, iteration: event.iteration)
        switch event.type {
        case .stepStarted:
            let kind = event.data["kind"]?.stringValue ?? "step"
            var label = step
            if let item = event.item { label += " [\(item + 1)]" }
            if let iteration = event.iteration, kind != "loop" { label += " · round \(iteration)" }
            let items = event.data["items"]?.integerValue.map { Int($0) }
            active.append(Active(key: key, kind: kind, label: label, started: event.time, items: items))
            if kind == "map" { mapItems[step] = [:] }
            if let parent = event.data["parent"]?.stringValue, mapItems[parent] != nil, let item = event.item {
                parents[key] = parent
                mapItems[parent]?[item] = false
            }
        case .stepDelta:
            if let index = active.lastIndex(where: { $0.key == key }) {
                let joined = active[index].tail + event.deltaText
                active[index].tail = String(joined.suffix(200))
            }
        case .stepCompleted, .stepSkipped, .stepFailed:
            active.removeAll { $0.key == key }
            let parent = parents.removeValue(forKey: key)
            guard let item = key.item else { break }
            // A skipped last step has no step.started, so no parent: it is found by its id.
            if let map = options.lastBodySteps.first(where: { $0.value == step })?.key {
                mapItems[map]?[item] = true
            } else if let parent, options.lastBodySteps[parent] == nil || event.type == .stepFailed {
                mapItems[parent]?[item] = true
            }
        default:
            break
        }
    }

    /// "3/7" for a map: items whose body has finished, out of all.
    func progress(ofMap step: String, total: Int?) -> String? {
        guard let total else { return nil }
        let done = mapItems[step]?.values.filter { $0 }.count ?? 0
        return "\(done)/\(total)"
    }

    // MARK: Drawing

    private mutating func redraw(permanent: [String], at time: Date) -> String {
        var out = TerminalStyle.eraseUp(liveLines)
        for line in permanent { out += line + "\n" }
        let live = liveBlock(at: time)
        for line in live { out += line + "\n" }
        liveLines = live.count
        lastDraw = time
        return out
    }

    private func liveBlock(at time: Date) -> [String] {
        active.map { step in
            var line = "  " + style.cyan("…") + " " + step.label
            if step.kind == "map", let progress = progress(ofMap: step.key.step, total: step.items) {
                line += "  " + progress
            }
            line += "  " + style.dim(TerminalFormat.duration(seconds: time.timeIntervalSince(step.started)))
            let tail = step.tail.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
            let visible = 2 + 2 + step.label.count + 8
            if !tail.isEmpty, options.width - visible > 12 {
                line += "  " + style.dim("…" + String(tail.suffix(options.width - visible - 4)))
            }
            return line
        }
    }
}
