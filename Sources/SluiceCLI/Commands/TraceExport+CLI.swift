import SluiceProviders
import SluiceTracing

extension TraceExport {
    /// Starts trace export when an OTLP endpoint variable is set (nil otherwise), as a
    /// ``CLIError`` when the `OTEL_*` variables cannot make an exporter.
    static func startForCLI(environment: [String: String], redactor: SecretRedactor) throws -> TraceExport? {
        do {
            return try TraceExport.start(environment: environment, redactor: redactor)
        } catch {
            throw CLIError.invalid("\(error.message) (see the README's Traces section)")
        }
    }

    /// The run's tracer, continuing `TRACEPARENT` (OpenTelemetry's environment carrier) when
    /// it is set; a value that is not a W3C traceparent is said, and the run starts a new trace.
    func runTracerForCLI(environment: [String: String]) -> RunTracer {
        let traceparent = environment["TRACEPARENT"].flatMap { $0.isEmpty ? nil : $0 }
        if let traceparent, !TraceExport.isTraceparent(traceparent) {
            Terminal.error("warning: TRACEPARENT '\(traceparent.prefix(80))' is not a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>); the run starts a new trace")
        }
        return runTracer(traceparent: traceparent)
    }
}
