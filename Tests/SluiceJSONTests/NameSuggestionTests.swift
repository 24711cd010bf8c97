import SluiceJSON
import Testing

@Suite struct NameSuggestionTests {
    @Test(arguments: [
        ("dept", "depth"), ("tsak", "task"), ("max_iteration", "max_iterations"), ("Depth", "depth"),
        ("temprature", "temperature"),
    ])
    func aNearMissSuggestsTheNameMeant(typed: String, meant: String) {
        #expect(NameSuggestion.closest(to: typed, among: ["task", "depth", "max_iterations", "temperature"]) == meant)
    }

    @Test(arguments: ["zzz", "colour", "a", "depth"])
    func farNamesAndExactOnesSuggestNothing(typed: String) {
        #expect(NameSuggestion.closest(to: typed, among: ["depth", "task"]) == nil)
    }

    @Test func theNearestWinsAndTheMessageQuotesIt() {
        #expect(NameSuggestion.closest(to: "days", among: ["dates", "day"]) == "day")
        #expect(NameSuggestion.didYouMean("dept", among: ["depth"]) == " — did you mean 'depth'?")
        #expect(NameSuggestion.didYouMean("zzz", among: ["depth"]) == "")
    }
}
