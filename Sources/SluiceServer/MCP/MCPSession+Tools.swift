import Foundation
import SluiceEngine
import SluiceJSON
import SluiceRunLog
import Synchronization

extension MCPSession {
    /// One tool per plan, plus the seed's orchestrator.
    func toolsList() -> JSONValue {
        var tools: [JSONValue] = server.library.plans.map { plan in
            var tool: JSONObject = ["name": .string(plan.name)]
            if let title = plan.title { tool["title"] = .string(title) }
            tool["description"] = .string(plan.description ?? plan.title ?? "Runs the \(plan.name) plan.")
            tool["inputSchema"] = plan.inputSchema
            // MCP requires an object schema here; results of other shapes go out as text only.
            if let schema = plan.outputSchema, schema["type"]?.stringValue == "object" { tool["outputSchema"] = schema }
            tool["annotations"] = Self.annotations(title: plan.title)
            tool["execution"] = ["taskSupport": "optional"]
            return .object(tool)
        }
        tools.append(orchestratorTool())
        return ["tools": .array(tools)]
    }

    private static func annotations(title: String?) -> JSONValue {
        var object: JSONObject = [
            "readOnlyHint": true, "destructiveHint": false, "idempotentHint": false, "openWorldHint": true,
        ]
        if let title { object["title"] = .string(title) }
        return .object(object)
    }

    private func orchestratorTool() -> JSONValue {
        let types: [JSONValue] = server.library.plans.map { .string($0.name) } + (server.library.plan(named: "auto") == nil ? ["auto"] : [])
        return [
            "name": .string(MCPServer.orchestratorToolName),
            "title": "Orchestrator (streaming)",
            "description": "Runs a task with the plan named by task_type (or routes it with 'auto'), streaming progress as notifications/message.",
            "inputSchema": [
                "type": "object",
                "properties": [
                    "task": ["type": "string", "description": "What to do, e.g. a report topic."],
                    "task_type": ["type": "string", "enum": .array(types), "default": "auto", "description": "A plan name, or 'auto'."],
                    "kwargs": ["type": "object", "default": .object(JSONObject()), "description": "More inputs of the plan (days, quality_threshold, max_iterations, auto_confirm…)."],
                ],
                "required": ["task"],
            ],
            "annotations": Self.annotations(title: "Orchestrator (streaming)"),
            "execution": ["taskSupport": "optional"],
        ]
    }

    /// The plan and raw inputs of a call, or the problems with its arguments.
    func resolveCall(name: String, arguments: JSONObject) throws(JSONRPCError) -> (ServedPlan, Result<JSONValue, InputProblems>) {
        if name == MCPServer.orchestratorToolName {
            guard let task = arguments["task"]?.stringValue else {
                let plan = ServedPlan(name: name, inputSchema: .object(JSONObject()))
                return (plan, .failure(InputProblems(fields: [InputError(name: "task", message: arguments["task"] == nil ? "is required" : "must be a string")])))
            }
            let taskType = arguments["task_type"]?.stringValue ?? "auto"
            guard let plan = server.library.plan(named: taskType) else {
                let placeholder = ServedPlan(name: name, inputSchema: .object(JSONObject()))
                return (placeholder, .failure(InputProblems(fields: [InputError(name: "task_type", message: "'\(taskType)' is not a plan of this server")])))
            }
            if let kwargs = arguments["kwargs"], kwargs.objectValue == nil, !kwargs.isNull {
                return (plan, .failure(InputProblems(fields: [InputError(name: "kwargs", message: "must be an object")])))
            }
            var inputs = arguments["kwargs"]?.objectValue ?? JSONObject()
            inputs["task"] = .string(task)
            return (plan, InputCheck.prepare(.object(inputs), schema: plan.inputSchema, schemaInputs: plan.schemaInputs))
        }
        guard let plan = server.library.plan(named: name) else {
            throw JSONRPCError.invalidParams("Unknown tool: \(name)")
        }
        return (plan, InputCheck.prepare(.object(arguments), schema: plan.inputSchema, schemaInputs: plan.schemaInputs))
    }

    /// `tools/call`: runs the plan, streaming notifications on `outbound`; with `task`, returns a task at once.
    func callTool(id: JSONValue, params: JSONObject, outbound: any MCPOutbound) async throws -> JSONValue? {
        guard let name = params["name"]?.stringValue else {
            throw JSONRPCError.invalidParams("Invalid params: 'name' (the tool) is required")
        }
        if let arguments = params["arguments"], arguments.objectValue == nil {
            throw JSONRPCError.invalidParams("Invalid params: 'arguments' must be an object")
        }
        let (plan, prepared) = try resolveCall(name: name, arguments: params["arguments"]?.objectValue ?? JSONObject())
        let inputs: JSONValue
        switch prepared {
        case .failure(let problems):
            return Self.invalidArgumentsResult(problems)
        case .success(let value):
            inputs = value
        }
        let taskParams = params["task"]?.objectValue
        if let taskParams, protocolVersion >= "2025-11-25" {
            return try await startTask(plan: plan, inputs: inputs, params: taskParams, traceparent: Self.traceparent(params))
        }

        var services = runServices(outbound: outbound, relatedTask: nil)
        services.traceparent = Self.traceparent(params)
        // With a store, a confirm question parks the run there (see ``followParked``) unless
        // the model is sampled through this connection (then the run stays here).
        let parks = durableExecutor != nil && services.model == nil && services.confirmation != nil
        if parks {
            services.confirmation = nil
            services.answersByRetry = true
            services.recordedOptions[Self.callSessionOption] = .string(sessionID)
        }
        let record: RunRecord
        do {
            record = try await server.runs.start(plan: plan, inputs: inputs, user: user, services: services)
        } catch {
            throw JSONRPCError.runFailed(type: "unavailable", message: error.description)
        }
        let key = trackCall(id: id, record: record)
        defer { untrackCall(key) }

        let progressToken = params["_meta"]?["progressToken"]
        var call = CallRendering(
            renderer: MCPEventRenderer(progressToken: progressToken), progressToken: progressToken,
            // The call keeps the level in effect when it started, so its notifications can be
            // rendered again from the run's stored events alone, the same ones.
            level: logLevel, stream: outbound as? StreamOutbound, outbound: outbound)
        // An HTTP call stream notes what each notification was rendered from, so it can make
        // it again from the durable store once its replay buffer has let it go, and records
        // which run it renders (before anything of the run is sent) for a server restart.
        await call.stream?.bind(CallStreamBinding(runID: record.id, requestID: id, progressToken: progressToken, logLevel: call.level))
        var seq = 0
        for await event in record.events() {
            await call.render(event)
            seq = event.seq
        }
        var result = await record.waitForResult()
        if parks, result.status == .waiting, let parked = try await followParked(record.id, after: seq, key: key, call: &call) {
            result = parked
        }
        // The client cancelled this request: it expects no response.
        if state.withLock({ $0.cancelledCalls.contains(key) }) { return nil }
        return try Self.toolResult(result).get()
    }

    /// The services a run started by this session gets: elicitation for `confirm` steps and
    /// client sampling for models, each only when the client declared it.
    /// The caller's trace context from the request's `_meta.traceparent` (W3C form), if any.
    static func traceparent(_ params: JSONObject) -> String? {
        params["_meta"]?["traceparent"]?.stringValue
    }

    func runServices(outbound: any MCPOutbound, relatedTask: TaskIDBox?) -> RunServices {
        let capabilities = clientCapabilities
        var services = RunServices()
        if let elicitation = capabilities["elicitation"]?.objectValue {
            // `{}` (2025-06-18) means form mode; 2025-11-25 may list `form` and `url` separately.
            if elicitation.isEmpty || elicitation["form"] != nil {
                services.confirmation = ElicitationChannel(session: self, outbound: outbound, relatedTask: relatedTask)
            }
        }
        if server.configuration.useClientSampling, capabilities["sampling"] != nil {
            services.model = SamplingModelProvider(session: self, outbound: outbound, relatedTask: relatedTask)
        }
        return services
    }

    /// An `isError` result naming every invalid field.
    static func invalidArgumentsResult(_ problems: InputProblems) -> JSONValue {
        let lines = problems.lines.map { "- \($0)" }.joined(separator: "\n")
        return [
            "content": [["type": "text", "text": .string("Invalid arguments:\n" + lines)]],
            "structuredContent": ["errors": problems.jsonValue],
            "isError": true,
        ]
    }

    /// A finished run as a `tools/call` answer: the result as text plus `structuredContent`,
    /// or seed 001's `-32603` error with `data: {type, message}`.
    static func toolResult(_ result: RunResult) -> Result<JSONValue, JSONRPCError> {
        switch result.status {
        case .completed:
            let value = result.result ?? .null
            var object: JSONObject = ["content": [["type": "text", "text": .string(value.serialized(pretty: false))]]]
            if value.objectValue != nil { object["structuredContent"] = value }
            object["isError"] = false
            return .success(.object(object))
        case .failed, .cancelled, .running, .waiting:
            return .failure(.runFailed(type: result.errorType ?? result.status.rawValue, message: result.errorMessage ?? "the run \(result.status.rawValue)"))
        }
    }
}
