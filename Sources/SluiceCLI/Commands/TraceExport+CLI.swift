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
}
