/// Turns the lexer's Unicode scalar offsets into character offsets, the unit Sluice reports
/// positions in (a flag emoji or `\r\n` is one character but two scalars).
struct CELSourcePositions {
    /// For each character, the scalar offset it starts at; ascending.
    private let characterStarts: [Int]
    private let scalarCount: Int

    init(_ source: String) {
        var starts: [Int] = []
        var offset = 0
        for character in source {
            starts.append(offset)
            offset += character.unicodeScalars.count
        }
        characterStarts = starts
        scalarCount = offset
    }

    /// The index of the character holding scalar `offset` (the end maps to the character count).
    func characterOffset(_ offset: Int) -> Int {
        if offset >= scalarCount { return characterStarts.count }
        // The last character starting at or before `offset`.
        var low = 0, high = characterStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if characterStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return low
    }

    func characterRange(_ range: Range<Int>) -> Range<Int> {
        let lower = characterOffset(range.lowerBound)
        return lower..<max(lower, characterOffset(range.upperBound))
    }

    func characterPositions(_ error: CELError) -> CELError {
        var error = error
        if let offset = error.offset { error.offset = characterOffset(offset) }
        return error
    }
}
