import Testing
@testable import SluiceEngine

@Test func moduleLoads() {
    #expect(Bool(true))
}
