public import SluiceJSON
public import SluiceRunLog

/// How a run ended, for the caller (CLI exit code, HTTP response, MCP result).
public struct RunOutcome: Sendable {
    public enum Status: String, Sendable, Hashable {
        case completed, failed, cancelled
    }

    public var runID: String
    public var status: Status
    /// The plan's output (completed runs).
    public var result: JSONValue?
    /// Why it failed (failed runs; cancelled runs carry kind `cancelled`).
    public var failure: RunFailure?
    /// The outputs of the top-level steps that finished, kept when a run fails.
    public var partial: JSONObject
    public var usage: UsageTotals
    /// The billing decision of `run.completed`/`run.failed` (seed 000's `decide_billing`).
    public var billing: JSONValue

    /// The process exit code of PRODUCT.md: 0 completed, 1 failed, 130 cancelled.
    public var exitCode: Int32 {
        switch status {
        case .completed: 0
        case .failed: 1
        case .cancelled: 130
        }
    }

    /// The Markdown report when the result has one (`report_content`, or the result itself
    /// when it is a string), for `--output report.md`.
    public var report: String? {
        if let text = result?.stringValue { return text }
        return result?["report_content"]?.stringValue
    }
}
