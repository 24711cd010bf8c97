import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import SluiceStore

/// How `sluice runs` shows a stored run.
enum RunSummary {
    static let tableHeader = pad("ID", 37) + pad("STATUS", 12) + pad("PLAN", 20) + pad("STARTED (UTC)", 21) + pad("EVENTS", 8) + "COST"

    static func tableRow(_ run: StoredRun) -> String {
        let cost = run.usage?["cost_usd"]?.doubleValue.map { String(format: "$%.4f", $0) } ?? "-"
        let started = String(EventTime.iso8601(run.createdAt).prefix(19)).replacingOccurrences(of: "T", with: " ")
        return pad(run.id, 37) + pad(run.status.rawValue, 12) + pad(run.plan.name, 20) + pad(started, 21) + pad(String(run.lastSeq), 8) + cost
    }

    static func json(_ run: StoredRun, full: Bool = false) -> JSONValue {
        var object: JSONObject = [
            "run_id": .string(run.id), "plan": .string(run.plan.name), "status": .string(run.status.rawValue),
            "user": .string(run.user), "created_at": .string(EventTime.iso8601(run.createdAt)),
            "updated_at": .string(EventTime.iso8601(run.updatedAt)), "events": .integer(Int64(run.lastSeq)),
        ]
        if let finished = run.finishedAt { object["finished_at"] = .string(EventTime.iso8601(finished)) }
        if run.resumes > 0 { object["resumes"] = .integer(Int64(run.resumes)) }
        if let usage = run.usage { object["usage"] = usage }
        if let error = run.error { object["error"] = error }
        if full {
            object["plan_path"] = .string(run.plan.path)
            object["plan_hash"] = .string(run.plan.contentHash)
            object["inputs"] = run.inputs
            object["options"] = run.options
            if let owner = run.owner { object["owner"] = .string(owner) }
            if run.cancelRequested { object["cancel_requested"] = true }
            if let billing = run.billing { object["billing"] = billing }
            if let result = run.result { object["result"] = result }
        }
        return .object(object)
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
