import SluiceJSON
import Synchronization

extension MCPSession {
    /// What a session negotiated and chose, all it needs to act as before after a server
    /// restart (kept in an ``SluiceStore/MCPSessionStore`` by the HTTP transport).
    struct Snapshot: Sendable, Equatable {
        var protocolVersion: String
        var clientCapabilities: JSONObject
        var clientInfo: JSONValue
        var initialized: Bool
        var logLevel: MCPLogLevel
    }

    var snapshot: Snapshot {
        state.withLock { state in
            Snapshot(
                protocolVersion: state.protocolVersion, clientCapabilities: state.clientCapabilities, clientInfo: state.clientInfo,
                initialized: state.initialized, logLevel: state.logLevel)
        }
    }

    /// Takes up where a session of a stopped server left off.
    func restore(_ snapshot: Snapshot) {
        state.withLock { state in
            state.protocolVersion = snapshot.protocolVersion
            state.clientCapabilities = snapshot.clientCapabilities
            state.clientInfo = snapshot.clientInfo
            state.initialized = snapshot.initialized
            state.logLevel = snapshot.logLevel
        }
    }
}
