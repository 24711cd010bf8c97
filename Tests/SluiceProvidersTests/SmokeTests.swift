import Testing
@testable import SluiceProviders

@Test func moduleLoads() {
    #expect(Bool(true))
}
