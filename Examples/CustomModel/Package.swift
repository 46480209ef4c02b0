// swift-tools-version:6.0
import PackageDescription

// A package of one's own that trains its own model on its own data with Tandem: it depends on
// Tandem by path (from a clone, `.package(url: ..., from: ...)` works the same) and imports
// the one library product.
let package = Package(
    name: "CustomModel",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Tandem", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "CustomModel",
            dependencies: [.product(name: "Tandem", package: "Tandem")]
        )
    ]
)
