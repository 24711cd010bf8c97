import Foundation
import SluiceJSON
import SluicePlan
import Testing

@Suite struct ShippedPlanTests {
    static let shipped = Fixtures.jsonFiles(in: Fixtures.plans)
    static let valid = Fixtures.jsonFiles(in: Fixtures.valid)

    @Test func allFiveShippedPlansArePresent() {
        let names = Set(Self.shipped.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension })
        #expect(names.isSuperset(of: ["news_report", "research_report", "industry_analysis", "extraction", "auto"]))
    }

    @Test(arguments: shipped + valid)
    func planIsValid(path: String) throws {
        let loader = PlanLoader(catalog: PlanCatalog(directories: [Fixtures.plans.path]))
        do {
            let plan = try loader.load(path: path)
            #expect(!plan.steps.isEmpty)
            #expect(plan.name == ((path as NSString).lastPathComponent as NSString).deletingPathExtension)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test(arguments: shipped)
    func planStartsWithSchemaReference(path: String) throws {
        let value = try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(value["$schema"] == "../schemas/plan.schema.json")
    }
}
