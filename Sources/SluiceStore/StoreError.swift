/// A run store failure: what went wrong, with what, and what to do about it.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// A struct wrapping a private enum, so codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case locked, corrupt, notFound, conflict, io, invalidData, unavailable, limit
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// Another process held the database longer than the busy timeout.
        public static let locked = Code(.locked)
        /// The file is not a database, or is damaged.
        public static let corrupt = Code(.corrupt)
        /// No such run.
        public static let notFound = Code(.notFound)
        /// The request contradicts the stored state (a `seq` already written, a run not resumable).
        public static let conflict = Code(.conflict)
        /// The file system refused (permissions, disk full, a missing folder).
        public static let io = Code(.io)
        /// A stored value could not be read back (not JSON, an unknown status).
        public static let invalidData = Code(.invalidData)
        /// The database server cannot be reached or refused the connection (PostgreSQL: down,
        /// wrong address, unknown database or user, bad password).
        public static let unavailable = Code(.unavailable)
        /// A limit counted in the store refused it (the user's active runs, see
        /// ``RunStore/claimForResume(id:expecting:runsPerUser:)``); nothing was changed.
        public static let limit = Code(.limit)

        public var description: String { value.rawValue }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
