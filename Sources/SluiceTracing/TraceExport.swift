public import SluiceProviders
import Foundation
import Logging
import OTel
import ServiceLifecycle
import Synchronization
import Tracing

/// The OpenTelemetry trace pipeline of one process: swift-otel's tracer, batch processor and
/// OTLP/HTTP exporter, configured from the standard `OTEL_*` variables.
///
/// It exists only when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is
/// set (``start(environment:redactor:)`` returns nil otherwise), so a process that exports no
/// traces pays nothing: no tracer, no background task, no wrapped providers.
///
/// ```swift
/// let traces = try TraceExport.start(environment: env, redactor: redactor)
/// let tracer = traces?.runTracer(plan: plan.name, traceparent: env["TRACEPARENT"])
/// … engine.run(plan:inputs:sinks: sinks + [tracer]) …
/// await traces?.shutdown()   // flushes what is buffered
/// ```
public final class TraceExport: Sendable {
    let tracer: any Tracer
    /// Prompt and completion text go into spans only with `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`.
    public let capturesContent: Bool
    let redactor: SecretRedactor
    private let group: ServiceGroup
    private let running = Mutex<Task<Void, Never>?>(nil)

    /// The variables that turn exporting on.
    public static let endpointVariables = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"]
    public static let captureContentVariable = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

    /// Starts exporting when an OTLP endpoint variable is set; nil when none is.
    ///
    /// swift-otel reads the other standard variables itself from the process environment
    /// (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER[_ARG]`,
    /// `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`, `…_TIMEOUT`, `OTEL_BSP_*`, `OTEL_SDK_DISABLED`).
    /// Only `http/protobuf` is built in: another `OTEL_EXPORTER_OTLP_PROTOCOL` is an error.
    ///
    /// - Throws: ``TraceExportError`` when the variables do not make a working exporter.
    public static func start(environment: [String: String], redactor: SecretRedactor) throws(TraceExportError) -> TraceExport? {
        guard endpointVariables.contains(where: { !(environment[$0] ?? "").isEmpty }) else { return nil }
        if let disabled = environment["OTEL_SDK_DISABLED"], disabled.lowercased() == "true" { return nil }
        for name in ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"] {
            if let value = environment[name], !value.isEmpty {
                guard value == "http/protobuf" else {
                    throw TraceExportError("\(name)=\(value): sluice exports traces over http/protobuf only")
                }
                break
            }
        }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "sluice"
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        // From `environment` (not only the process's): the traces variable is the whole URL,
        // the general one a base that `/v1/traces` is appended to.
        if let traces = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], !traces.isEmpty {
            configuration.traces.otlpExporter.endpoint = traces
        } else if let base = environment["OTEL_EXPORTER_OTLP_ENDPOINT"] {
            configuration.traces.otlpExporter.endpoint = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/v1/traces"
        }
        configuration.diagnosticLogLevel = .warning
        let backend: (factory: any Tracer, service: any Service)
        do {
            let made = try OTel.makeTracingBackend(configuration: configuration)
            backend = (made.factory, made.service)
        } catch {
            throw TraceExportError("cannot export traces: \(error)")
        }
        let capture = (environment[captureContentVariable] ?? "").lowercased() == "true"
        var logger = Logger(label: "sluice.traces")
        logger.logLevel = .warning
        let group = ServiceGroup(services: [backend.service], gracefulShutdownSignals: [], logger: logger)
        let export = TraceExport(tracer: backend.factory, capturesContent: capture, redactor: redactor, group: group)
        export.running.withLock { task in
            task = Task.detached { try? await group.run() }
        }
        return export
    }

    private init(tracer: any Tracer, capturesContent: Bool, redactor: SecretRedactor, group: ServiceGroup) {
        self.tracer = tracer
        self.capturesContent = capturesContent
        self.redactor = redactor
        self.group = group
    }

    /// A tracer for one run; its workflow span continues `traceparent` (a W3C header value)
    /// when one is given and valid, and starts a new trace otherwise.
    public func runTracer(traceparent: String?) -> RunTracer {
        RunTracer(export: self, parent: parentContext(traceparent: traceparent))
    }

    /// Exports every span already ended and stops the exporter; waits for both.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
        let task = running.withLock { task in
            defer { task = nil }
            return task
        }
        await task?.value
    }

    /// Whether `text` is a W3C `traceparent` this exporter continues: version `00`, a 32-digit
    /// trace id and a 16-digit parent id (lowercase hex, not all zeros), 2-digit flags.
    public static func isTraceparent(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00" else { return false }
        let hex = Set("0123456789abcdef")
        for (part, length) in zip(parts, [2, 32, 16, 2]) where part.count != length || !part.allSatisfy(hex.contains) {
            return false
        }
        return parts[1].contains { $0 != "0" } && parts[2].contains { $0 != "0" }
    }

    /// The context a `traceparent` header carries (the top level when there is none).
    func parentContext(traceparent: String?) -> ServiceContext {
        var context = ServiceContext.topLevel
        guard let traceparent, !traceparent.isEmpty else { return context }
        tracer.extract(["traceparent": traceparent], into: &context, using: HeaderExtractor())
        return context
    }

    /// The `traceparent` header value of a span's context.
    func traceparent(of context: ServiceContext) -> String? {
        var headers: [String: String] = [:]
        tracer.inject(context, into: &headers, using: HeaderInjector())
        return headers["traceparent"]
    }
}

/// Why trace export could not start.
public struct TraceExportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

private struct HeaderExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

private struct HeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

/// A wall-clock time as tracing wants it.
struct EventInstant: TracerInstant {
    var nanosecondsSinceEpoch: UInt64

    init(_ date: Date) {
        nanosecondsSinceEpoch = UInt64(max(0, date.timeIntervalSince1970 * 1_000_000_000))
    }

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch }
}
