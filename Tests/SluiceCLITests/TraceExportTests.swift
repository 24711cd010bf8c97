import Foundation
import SluiceFakeServices
import SluiceJSON
import Testing

/// `sluice run` with `OTEL_EXPORTER_OTLP_ENDPOINT` exports its spans to a collector (here a
/// loopback receiver decoding the OTLP protobuf) before it exits.
@Suite struct TraceExportTests {
    typealias Span = OTLPTraceReceiver.Span

    static func events(_ stdout: String) throws -> [JSONValue] {
        try stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }

    /// Runs `plan` offline with traces sent to a fresh receiver; returns the events and spans.
    static func tracedRun(
        _ plan: String = "news_report", task: String = "AI agents this week", environment: [String: String] = [:]
    ) async throws -> (events: [JSONValue], spans: [Span], receiver: OTLPTraceReceiver) {
        let receiver = try OTLPTraceReceiver()
        var env = environment
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
        let rounds = plan == "news_report" ? ["--input", "max_iterations=2"] : []
        let result = try await CLIProcess.run(
            ["run", plan, "--offline", "--events", "ndjson", "--input", "task=\(task)"] + rounds, environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        // The CLI flushes before it exits: everything is there once the process has ended.
        return (try events(result.stdout), receiver.spans, receiver)
    }

    static func key(_ event: JSONValue) -> String {
        "\(event["step"]?.stringValue ?? "")/\(event["item"]?.integerValue.map(String.init) ?? "-")/\(event["iteration"]?.integerValue.map(String.init) ?? "-")"
    }

    static func key(_ span: Span) -> String {
        "\(span.string("sluice.step.id") ?? "")/\(span.int("sluice.step.item").map(String.init) ?? "-")/\(span.int("sluice.step.iteration").map(String.init) ?? "-")"
    }

    @Test(arguments: ["news_report", "research_report", "auto"])
    func offlineRunExportsWorkflowStepAndModelCallTree(plan: String) async throws {
        let (events, spans, _) = try await Self.tracedRun(plan)
        #expect(events.last?["type"] == "run.completed")
        #expect(!spans.isEmpty)
        let byID = Dictionary(spans.map { ($0.spanID, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byID.count == spans.count, "span ids are unique")
        #expect(Set(spans.map(\.traceID)).count == 1, "one trace per run")

        // The workflow span is the root.
        let roots = spans.filter { $0.parentSpanID.isEmpty }
        #expect(roots.count == 1)
        let workflow = try #require(roots.first)
        #expect(workflow.name == "invoke_workflow \(plan)")
        #expect(workflow.string("gen_ai.operation.name") == "invoke_workflow")
        #expect(workflow.string("gen_ai.workflow.name") == plan)
        #expect(workflow.string("sluice.run.id") == events.first?["run_id"]?.stringValue)
        #expect(workflow.string("sluice.run.status") == "completed")

        // One step span per step.started, under its map/loop step or the workflow.
        let started = events.filter { $0["type"] == "step.started" }
        let stepSpans = spans.filter { $0.string("sluice.step.id") != nil }
        #expect(stepSpans.count == started.count)
        #expect(started.map(Self.key).sorted() == stepSpans.map(Self.key).sorted())
        for span in stepSpans {
            let event = try #require(started.first { Self.key($0) == Self.key(span) })
            #expect(span.string("sluice.step.kind") == event["data"]?["kind"]?.stringValue)
            let parent = try #require(byID[span.parentSpanID], "\(span) has its parent in the trace")
            if let enclosing = event["data"]?["parent"]?.stringValue {
                #expect(parent.string("sluice.step.id") == enclosing, "\(span) is under its \(enclosing)")
            } else if let dot = span.string("sluice.step.id")!.lastIndex(of: ".") {
                // A step of a plan run by a `call` step is under that step.
                #expect(parent.string("sluice.step.id") == String(span.string("sluice.step.id")![..<dot]), "\(span)")
            } else {
                #expect(parent.spanID == workflow.spanID)
            }
            #expect(span.startNanos <= span.endNanos)
        }
        #expect(started.contains { $0["data"]?["parent"] != nil || Self.key($0).contains(".") }, "the plan has nested steps")

        // A span per search query and fetched page, under its search or fetch step.
        let io = spans.filter { $0.kind == 3 && ($0.string("gen_ai.operation.name") == "retrieval" || $0.name.hasPrefix("fetch")) }
        let ioSteps = started.filter { ["search", "fetch"].contains($0["data"]?["kind"]?.stringValue ?? "") }
        #expect(io.isEmpty == ioSteps.isEmpty)
        for span in io {
            let parent = try #require(byID[span.parentSpanID])
            #expect(["search", "fetch"].contains(parent.string("sluice.step.kind") ?? "") || parent.spanID == workflow.spanID, "\(span) under \(parent)")
            #expect(span.kind == 3)
        }
        if plan == "news_report" {
            #expect(io.contains { $0.string("gen_ai.operation.name") == "retrieval" && $0.int("sluice.search.results") ?? 0 > 0 })
        }
        if plan == "research_report" {
            // The simulated search's urls are not in the corpus: the fetches fail, on their spans.
            let fetches = io.filter { $0.name.hasPrefix("fetch ") }
            #expect(!fetches.isEmpty)
            #expect(fetches.allSatisfy { $0.string("server.address") == "example.com" && $0.string("url.full") == nil })
            #expect(fetches.allSatisfy { $0.int("sluice.fetch.characters") != nil || ($0.statusCode == 2 && $0.string("error.type") != nil) })
        }

        // One chat span per model.usage, with the same tokens, under the step that made the call.
        let usage = events.filter { $0["type"] == "model.usage" }
        let calls = spans.filter { $0.string("gen_ai.operation.name") == "chat" }
        #expect(!usage.isEmpty)
        #expect(calls.count == usage.count)
        func tokens(_ key: String, _ input: Int64?, _ output: Int64?) -> String { "\(key) \(input ?? -1) \(output ?? -1)" }
        let expected = usage.map { tokens(Self.key($0), $0["data"]?["input_tokens"]?.integerValue, $0["data"]?["output_tokens"]?.integerValue) }
        let exported = try calls.map { call in
            let step = try #require(byID[call.parentSpanID])
            return tokens(Self.key(step), call.int("gen_ai.usage.input_tokens"), call.int("gen_ai.usage.output_tokens"))
        }
        #expect(expected.sorted() == exported.sorted())
        for call in calls {
            #expect(call.kind == 3, "a model call is a client span")
            #expect(call.string("gen_ai.provider.name") != nil)
            #expect(call.string("gen_ai.request.model") != nil)
            #expect(call.string("gen_ai.response.model") != nil)
            #expect(call.string("sluice.model_call.outcome") != nil)
            #expect(call.name.hasPrefix("chat "))
        }
        let totalInput = usage.compactMap { $0["data"]?["input_tokens"]?.integerValue }.reduce(0, +)
        #expect(workflow.int("gen_ai.usage.input_tokens") == totalInput)
    }

    @Test func spansCarryNoPromptTextByDefaultAndNeverASecret() async throws {
        let secret = "sk-trace-test-secret-0123456789"
        let task = "zebra crossings \(secret)"
        let (_, plain, _) = try await Self.tracedRun(task: task, environment: ["OPENAI_API_KEY": secret])
        #expect(!plain.isEmpty)
        for span in plain {
            for (name, value) in span.attributes {
                #expect(!value.description.contains("zebra"), "\(span.name) \(name) holds prompt text")
                #expect(!value.description.contains(secret), "\(span.name) \(name) holds the secret")
            }
        }

        // Asked for, the text is recorded — with the secret redacted.
        let (_, captured, _) = try await Self.tracedRun(
            task: task, environment: ["OPENAI_API_KEY": secret, "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"])
        let inputs = captured.compactMap { $0.string("gen_ai.input.messages") }
        #expect(inputs.contains { $0.contains("zebra") }, "the prompt is captured on request")
        #expect(captured.contains { $0.string("gen_ai.output.messages") != nil })
        for span in captured {
            for (name, value) in span.attributes {
                #expect(!value.description.contains(secret), "\(span.name) \(name) holds the secret")
            }
        }
    }

    @Test func traceparentFromTheEnvironmentIsTheWorkflowParent() async throws {
        let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
        let parentID = "00f067aa0ba902b7"
        let (_, spans, _) = try await Self.tracedRun(environment: ["TRACEPARENT": "00-\(traceID)-\(parentID)-01"])
        let workflow = try #require(spans.first { $0.string("gen_ai.operation.name") == "invoke_workflow" })
        #expect(workflow.parentSpanID == parentID)
        #expect(spans.allSatisfy { $0.traceID == traceID })
    }

    @Test func aMalformedTraceparentIsSaidAndTheRunStartsANewTrace() async throws {
        let receiver = try OTLPTraceReceiver()
        let result = try await CLIProcess.run(
            ["run", "news_report", "--offline", "--events", "ndjson", "--input", "task=x", "--input", "max_iterations=1"],
            environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "TRACEPARENT": "00-xyz-01"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("TRACEPARENT '00-xyz-01' is not a W3C traceparent"), "\(result.stderr)")
        let workflow = try #require(receiver.spans.first { $0.string("gen_ai.operation.name") == "invoke_workflow" })
        #expect(workflow.parentSpanID.isEmpty)
    }

    @Test func serviceNameAndResourceAttributesComeFromTheStandardVariables() async throws {
        let (_, spans, receiver) = try await Self.tracedRun(
            environment: ["OTEL_SERVICE_NAME": "reports-batch", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test"])
        #expect(!spans.isEmpty)
        let resource = try #require(receiver.resourceAttributes.first)
        #expect(resource["service.name"] == .string("reports-batch"))
        #expect(resource["deployment.environment"] == .string("test"))
    }

    @Test func aProtocolOtherThanHTTPProtobufIsAClearError() async throws {
        let result = try await CLIProcess.run(
            ["run", "news_report", "--offline", "--input", "task=x"],
            environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc"), "\(result.stderr)")
        #expect(result.stderr.contains("http/protobuf"))
    }

    @Test func withoutAnEndpointNothingIsExported() async throws {
        // The receiver's address is given in every variable but the two that switch export on.
        let receiver = try OTLPTraceReceiver()
        let result = try await CLIProcess.run(
            ["run", "news_report", "--offline", "--events", "ndjson", "--input", "task=x", "--input", "max_iterations=1"],
            environment: ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": receiver.endpoint, "OTEL_SERVICE_NAME": "quiet", "TRACEPARENT": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.requests.isEmpty)
    }
}
