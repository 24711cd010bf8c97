import GRDB
import GRDBSQLite

extension SQLiteRunStore {
    /// Closes the store as a short-lived process (`sluice run`) ends, so that the next one
    /// starts without waiting for the disk.
    ///
    /// Left to itself, the last connection to close checkpoints the write-ahead log into
    /// `runs.sqlite` and deletes it. The next process then creates the log anew before its
    /// first commit (GRDB writes a throwaway transaction at open to have one), and SQLite
    /// syncs a new log's header and its folder: two `fdatasync`s, 0.4 to 40 ms each on a busy
    /// disk, before the run is recorded and its first event shown.
    ///
    /// Here instead: everything is checkpointed into `runs.sqlite` and synced (as the close
    /// did), the log is cut to nothing and one throwaway transaction written into it (its
    /// header synced now, at exit), and the log is kept when the connection closes. The next
    /// process finds a log of two frames: it reads them back (microseconds), skips GRDB's
    /// throwaway transaction and appends its first commits without a sync.
    ///
    /// Durability does not change: every run's data is in `runs.sqlite`, synced, before this
    /// returns, as after a plain close. Best effort: when another process holds the store
    /// (a server reading it) the checkpoint cannot cut the log and the store closes as usual.
    public func closeForNextStart() {
        let kept: Bool
        do {
            kept = try pool.writeWithoutTransaction { db -> Bool in
                // Another process at work: do not wait for it, close as usual.
                try db.execute(sql: "PRAGMA busy_timeout = 0")
                guard let result = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)"), result[0] as Int? == 0 else { return false }
                try db.inTransaction {
                    try db.execute(sql: "CREATE TABLE sluice_wal_primer (id INTEGER); DROP TABLE sluice_wal_primer;")
                    return .commit
                }
                var persist: Int32 = 1
                return sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_PERSIST_WAL, &persist) == SQLITE_OK
            }
        } catch {
            kept = false
        }
        guard kept else { return }
        // The readers close first, while the writer still holds the file: none of them is the
        // last connection, so none checkpoints and deletes the log; the writer, last, keeps it.
        pool.releaseMemory()
        try? pool.close()
    }
}
