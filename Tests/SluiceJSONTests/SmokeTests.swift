import Testing
@testable import SluiceJSON

@Test func moduleLoads() {
    #expect(Bool(true))
}
