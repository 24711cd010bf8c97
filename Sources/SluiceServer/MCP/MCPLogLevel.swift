/// The syslog severities of MCP logging, from least to most severe.
public enum MCPLogLevel: String, Sendable, CaseIterable, Comparable {
    case debug, info, notice, warning, error, critical, alert, emergency

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: MCPLogLevel, rhs: MCPLogLevel) -> Bool { lhs.rank < rhs.rank }
}
