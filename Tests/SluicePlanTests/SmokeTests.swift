import Testing
@testable import SluicePlan

@Test func moduleLoads() {
    #expect(Bool(true))
}
