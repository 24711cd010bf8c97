extension LinearRegex {
    /// A set of scalars: ranges, a Unicode property and nested sets (`[\s\S]`, `[^\P{L}]`),
    /// possibly negated.
    struct ScalarSet: Sendable {
        var ranges: [ClosedRange<UInt32>] = []
        var property: UnicodeProperty?
        /// Members that are sets of their own because they are negated or a property:
        /// `\S` and `\p{Lu}` inside brackets.
        var subsets: [ScalarSet] = []
        var negated = false
        var caseInsensitive = false
        /// Membership of the 128 ASCII scalars, filled in by ``withASCIITable()`` when the set
        /// is compiled: most text is ASCII, and a bit test beats walking ranges and subsets.
        private var ascii: (low: UInt64, high: UInt64)?

        init(ranges: [ClosedRange<UInt32>] = [], property: UnicodeProperty? = nil, negated: Bool = false, caseInsensitive: Bool = false) {
            self.ranges = ranges
            self.property = property
            self.negated = negated
            self.caseInsensitive = caseInsensitive
        }

        /// The same set with its ASCII table computed.
        func withASCIITable() -> ScalarSet {
            var low: UInt64 = 0, high: UInt64 = 0
            for value in UInt8(0)..<128 where contains(Unicode.Scalar(value)) {
                if value < 64 { low |= 1 << value } else { high |= 1 << (value - 64) }
            }
            var copy = self
            copy.ascii = (low, high)
            return copy
        }

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            if let ascii, scalar.value < 128 {
                let value = scalar.value
                return (value < 64 ? ascii.low >> value : ascii.high >> (value - 64)) & 1 == 1
            }
            var found = holds(scalar)
            if !found && caseInsensitive {
                found = holds(Self.lower(scalar)) || holds(Self.upper(scalar))
            }
            return found != negated
        }

        private func holds(_ scalar: Unicode.Scalar) -> Bool {
            ranges.contains { $0.contains(scalar.value) }
                || property?.contains(scalar) == true
                || subsets.contains { $0.contains(scalar) }
        }

        /// Adds the members of `other`, which a class escape inside brackets produced.
        mutating func add(_ other: ScalarSet) {
            if other.negated || other.property != nil || !other.subsets.isEmpty {
                subsets.append(other)
            } else {
                ranges += other.ranges
            }
        }

        static func isDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }

        static func isWord(_ s: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "_"
        }

        static func equal(_ a: Unicode.Scalar, _ b: Unicode.Scalar, _ caseInsensitive: Bool) -> Bool {
            a == b || (caseInsensitive && lower(a) == lower(b))
        }

        static func lower(_ s: Unicode.Scalar) -> Unicode.Scalar {
            let mapped = s.properties.lowercaseMapping.unicodeScalars
            return mapped.count == 1 ? (mapped.first ?? s) : s
        }

        static func upper(_ s: Unicode.Scalar) -> Unicode.Scalar {
            let mapped = s.properties.uppercaseMapping.unicodeScalars
            return mapped.count == 1 ? (mapped.first ?? s) : s
        }

        static let digit: [ClosedRange<UInt32>] = [48...57]
        static let word: [ClosedRange<UInt32>] = [48...57, 65...90, 95...95, 97...122]
        /// RE2's `\s`: `[\t\n\f\r ]`.
        static let re2Space: [ClosedRange<UInt32>] = [9...10, 12...13, 32...32]
        /// ECMA-262's `\s`: WhiteSpace and LineTerminator, which include U+00A0, U+FEFF and
        /// the Unicode space separators.
        static let ecmaSpace: [ClosedRange<UInt32>] = [
            9...13, 32...32, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
            0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
        ]
        /// What ECMA-262's `.` does not match without the `s` flag.
        static let ecmaLineTerminators: [ClosedRange<UInt32>] = [10...10, 13...13, 0x2028...0x2029]
        static let posixClasses: [String: [ClosedRange<UInt32>]] = [
            "alpha": [65...90, 97...122], "digit": digit, "alnum": [48...57, 65...90, 97...122], "space": [9...13, 32...32],
            "upper": [65...90], "lower": [97...122], "xdigit": [48...57, 65...70, 97...102], "word": word,
            "punct": [33...47, 58...64, 91...96, 123...126], "blank": [9...9, 32...32], "cntrl": [0...31, 127...127],
            "print": [32...126], "graph": [33...126], "ascii": [0...127],
        ]
    }

    /// A Unicode property for `\p{…}`: a set of general categories or a binary property.
    /// Scripts (`\p{Script=Greek}`) are not here: the standard library does not expose them.
    enum UnicodeProperty: Sendable {
        case categories(Set<Unicode.GeneralCategory>)
        case alphabetic, whiteSpace, uppercase, lowercase, emoji, ascii, any, assigned

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            switch self {
            case .categories(let set): set.contains(scalar.properties.generalCategory)
            case .alphabetic: scalar.properties.isAlphabetic
            case .whiteSpace: scalar.properties.isWhitespace
            case .uppercase: scalar.properties.isUppercase
            case .lowercase: scalar.properties.isLowercase
            case .emoji: scalar.properties.isEmoji
            case .ascii: scalar.isASCII
            case .any: true
            case .assigned: scalar.properties.generalCategory != .unassigned
            }
        }

        /// The property a `\p{…}` body names: a general category by short or long name
        /// (`L`, `Letter`, `Nd`, `digit`, `gc=Lu`, `General_Category=Letter`) or one of the
        /// binary properties above; nil for anything else.
        init?(name: String) {
            var name = name
            for prefix in ["General_Category=", "gc="] where name.hasPrefix(prefix) {
                name.removeFirst(prefix.count)
            }
            if let categories = Self.categories[name] {
                self = .categories(Set(categories))
                return
            }
            switch name {
            case "Alphabetic", "Alpha": self = .alphabetic
            case "White_Space", "space": self = .whiteSpace
            case "Uppercase", "Upper": self = .uppercase
            case "Lowercase", "Lower": self = .lowercase
            case "Emoji": self = .emoji
            case "ASCII": self = .ascii
            case "Any": self = .any
            case "Assigned": self = .assigned
            default: return nil
            }
        }

        /// General category names and aliases (Unicode PropertyValueAliases.txt, `gc`).
        private static let categories: [String: [Unicode.GeneralCategory]] = {
            let single: [(String, String, Unicode.GeneralCategory)] = [
                ("Lu", "Uppercase_Letter", .uppercaseLetter), ("Ll", "Lowercase_Letter", .lowercaseLetter),
                ("Lt", "Titlecase_Letter", .titlecaseLetter), ("Lm", "Modifier_Letter", .modifierLetter),
                ("Lo", "Other_Letter", .otherLetter), ("Mn", "Nonspacing_Mark", .nonspacingMark),
                ("Mc", "Spacing_Mark", .spacingMark), ("Me", "Enclosing_Mark", .enclosingMark),
                ("Nd", "Decimal_Number", .decimalNumber), ("Nl", "Letter_Number", .letterNumber),
                ("No", "Other_Number", .otherNumber), ("Pc", "Connector_Punctuation", .connectorPunctuation),
                ("Pd", "Dash_Punctuation", .dashPunctuation), ("Ps", "Open_Punctuation", .openPunctuation),
                ("Pe", "Close_Punctuation", .closePunctuation), ("Pi", "Initial_Punctuation", .initialPunctuation),
                ("Pf", "Final_Punctuation", .finalPunctuation), ("Po", "Other_Punctuation", .otherPunctuation),
                ("Sm", "Math_Symbol", .mathSymbol), ("Sc", "Currency_Symbol", .currencySymbol),
                ("Sk", "Modifier_Symbol", .modifierSymbol), ("So", "Other_Symbol", .otherSymbol),
                ("Zs", "Space_Separator", .spaceSeparator), ("Zl", "Line_Separator", .lineSeparator),
                ("Zp", "Paragraph_Separator", .paragraphSeparator), ("Cc", "Control", .control),
                ("Cf", "Format", .format), ("Cs", "Surrogate", .surrogate), ("Co", "Private_Use", .privateUse),
                ("Cn", "Unassigned", .unassigned),
            ]
            var table: [String: [Unicode.GeneralCategory]] = [:]
            for (short, long, category) in single {
                table[short] = [category]
                table[long] = [category]
            }
            table["digit"] = [.decimalNumber]
            table["cntrl"] = [.control]
            let groups: [(String, String, [String])] = [
                ("L", "Letter", ["Lu", "Ll", "Lt", "Lm", "Lo"]), ("LC", "Cased_Letter", ["Lu", "Ll", "Lt"]),
                ("M", "Mark", ["Mn", "Mc", "Me"]), ("N", "Number", ["Nd", "Nl", "No"]),
                ("P", "Punctuation", ["Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"]), ("S", "Symbol", ["Sm", "Sc", "Sk", "So"]),
                ("Z", "Separator", ["Zs", "Zl", "Zp"]), ("C", "Other", ["Cc", "Cf", "Cs", "Co", "Cn"]),
            ]
            for (short, long, members) in groups {
                let categories = members.flatMap { table[$0] ?? [] }
                table[short] = categories
                table[long] = categories
            }
            table["Combining_Mark"] = table["M"]
            table["punct"] = table["P"]
            return table
        }()
    }
}
