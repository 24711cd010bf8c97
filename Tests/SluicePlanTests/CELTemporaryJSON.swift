// TEMPORARY: stands in for SluiceJSON's parser until it lands on main. Delete on rebase.
import Foundation
import SluiceJSON

enum JSONParser {
    private struct Node: Decodable {
        var value: JSONValue
        init(from decoder: any Decoder) throws {
            if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
                var object = JSONObject()
                for key in keyed.allKeys { object[key.stringValue] = try keyed.decode(Node.self, forKey: key).value }
                value = .object(object)
                return
            }
            if var unkeyed = try? decoder.unkeyedContainer() {
                var array: [JSONValue] = []
                while !unkeyed.isAtEnd { array.append(try unkeyed.decode(Node.self).value) }
                value = .array(array)
                return
            }
            let single = try decoder.singleValueContainer()
            if single.decodeNil() { value = .null }
            else if let b = try? single.decode(Bool.self) { value = .bool(b) }
            else if let i = try? single.decode(Int64.self) { value = .integer(i) }
            else if let d = try? single.decode(Double.self) { value = .double(d) }
            else { value = .string(try single.decode(String.self)) }
        }
    }
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(Node.self, from: Data(bytes)).value
    }
}
