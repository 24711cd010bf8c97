/// How every store finds a run from what a person typed: the exact id, or a unique prefix.
public enum RunIDPrefix {
    /// A LIKE pattern (escape character `\`) matching ids that start with `prefix`, its own
    /// wildcards taken literally.
    public static func likePattern(_ prefix: String) -> String {
        var escaped = ""
        for character in prefix {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped + "%"
    }

    /// The run among `candidates` (up to 3 ids matching `prefix`) that `prefix` names.
    ///
    /// - Throws: `notFound` when there is none, `conflict` when the prefix is ambiguous.
    public static func pick(_ prefix: String, from candidates: [StoredRun], location: String) throws(StoreError) -> StoredRun {
        if let exact = candidates.first(where: { $0.id == prefix }) { return exact }
        guard let first = candidates.first else { throw StoreError(.notFound, "no run '\(prefix)' in \(location) (see sluice runs list)") }
        guard candidates.count == 1 else {
            throw StoreError(.conflict, "'\(prefix)' matches several runs (\(candidates.map(\.id).joined(separator: ", "))…); give more of the id")
        }
        return first
    }
}
