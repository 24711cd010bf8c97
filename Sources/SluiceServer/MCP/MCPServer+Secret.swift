import Foundation

extension MCPServer {
    /// The file under the Sluice home holding the `requestState` key.
    public static let secretFileName = "mcp-request-state.key"

    /// The key that signs `requestState`: `SLUICE_MCP_STATE_SECRET` when set (servers sharing a
    /// store share it), else the one kept in `home` (made on first use, readable by its owner
    /// only), so a state handed out before a restart still verifies after it.
    ///
    /// - Throws: when the file can be neither read nor written.
    public static func requestStateSecret(home: String, environment: [String: String]) throws -> [UInt8] {
        if let shared = environment["SLUICE_MCP_STATE_SECRET"], !shared.isEmpty { return Array(shared.utf8) }
        let path = (home as NSString).appendingPathComponent(secretFileName)
        if let data = FileManager.default.contents(atPath: path), data.count >= 32 { return Array(data) }
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let secret = randomSecret()
        guard FileManager.default.createFile(atPath: path, contents: Data(secret), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return secret
    }
}
