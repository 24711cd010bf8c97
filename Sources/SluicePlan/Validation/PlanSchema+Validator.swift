import SluiceJSON

extension PlanSchema {
    /// `plan.schema.json`, compiled once.
    ///
    /// The embedded text is tested to parse and compile, so a failure here is a defect in the
    /// build itself, not in anything a user wrote.
    static let validator: JSONSchema = {
        do {
            return try JSONSchema(try JSONParser.parse(text))
        } catch {
            fatalError("the embedded plan.schema.json does not compile: \(error)")
        }
    }()
}
