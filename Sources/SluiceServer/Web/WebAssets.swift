/// The pages' scripts and styles, served at `/assets/{name}`. Their sources are the files of
/// `Sources/SluiceServer/Web/Assets` (plain JavaScript and CSS, no build step); `make web`
/// embeds them in `WebAssets+Source.swift`, and WebAssetsSyncTests fails while the two differ.
enum WebAssets {
    struct Asset: Sendable {
        var contentType: String
        var text: String
    }
}
