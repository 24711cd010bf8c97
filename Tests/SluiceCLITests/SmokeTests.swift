import Testing
@testable import SluiceCLI

@Test func moduleLoads() {
    #expect(Bool(true))
}
