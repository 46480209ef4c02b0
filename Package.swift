// swift-tools-version:6.0
import PackageDescription

// The tensor core is only fast when the compiler may emit AVX2/FMA/F16C instructions:
// without them `addingProduct` lowers to a call to `fmaf` and the GEMM runs ~100x slower.
// Other architectures (arm64) take the portable path: NEON is baseline there.
#if arch(x86_64)
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"])]
#else
let simdFlags: [SwiftSetting] = []
#endif

// Kernels must be optimised even in debug builds, or the test suite crawls.
let kernelFlags = simdFlags + [.unsafeFlags(["-O"])]

let package = Package(
    name: "Tandem",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tandem", targets: ["tandem"]),
        .executable(name: "tandem-bench", targets: ["tandem-bench"]),
        // One import for a program of your own: `import TandemKit` (Examples/CustomModel). Not
        // `Tandem`: Sources/Tandem and Sources/tandem are one folder on a case-insensitive disk.
        .library(name: "Tandem", targets: ["TandemKit"]),
        .library(name: "NN", targets: ["NN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .target(name: "CSupport"),
        // The calls into libpng and libjpeg, whose errors longjmp: C code, so no jump crosses Swift frames.
        .target(name: "CImage", dependencies: ["CPNG", "CJPEG"]),
        .target(name: "TensorCore", dependencies: ["CSupport"], swiftSettings: kernelFlags),
        .target(name: "Autograd", dependencies: ["TensorCore"], swiftSettings: simdFlags),
        .target(name: "Collective", dependencies: ["TensorCore", "CMPI", "CSupport"], swiftSettings: simdFlags),
        .target(name: "Optim", dependencies: ["Autograd"], swiftSettings: simdFlags),
        .target(
            name: "Datasets", dependencies: ["TensorCore", "CZlib", "CPNG", "CJPEG", "CImage"], swiftSettings: simdFlags),
        .target(name: "Checkpoint", dependencies: ["TensorCore", "Collective", "CZlib"], swiftSettings: simdFlags),
        .target(name: "Models", dependencies: ["NN"], swiftSettings: simdFlags),
        .target(name: "Training", dependencies: [
            "NN", "Optim", "Collective", "Datasets", "Checkpoint", "Models", "CZlib", "CMPI", "CSupport",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ], exclude: ["Run/TensorBoard/tensorboard.proto"], swiftSettings: simdFlags),
        .target(name: "NN", dependencies: ["Autograd"], swiftSettings: simdFlags),
        // A model as an ONNX graph, written with the ONNX protobuf messages (onnx.pb.swift, generated).
        .target(
            name: "ONNX",
            dependencies: ["NN", "Models", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["onnx.proto"], swiftSettings: simdFlags),
        // Re-exports the modules a program that trains its own model needs, each named: DocC links
        // its catalog (the API documentation's landing page) only into direct dependencies.
        .target(
            name: "TandemKit",
            dependencies: [
                "Training", "Models", "NN", "Autograd", "TensorCore", "Optim", "Datasets", "Collective", "Checkpoint",
                "ONNX",
            ],
            swiftSettings: simdFlags),
        .executableTarget(name: "tandem", dependencies: [
            "Training", "CMPI", "ONNX",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: simdFlags),
        .executableTarget(name: "tandem-bench", dependencies: [
            "Training",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: kernelFlags),
        .executableTarget(name: "tandem-mpi-check", dependencies: [
            "Training",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Tests/MPIIntegration", swiftSettings: simdFlags),
        // Loads an image folder's shards under mpirun for CollectiveTests.
        .executableTarget(
            name: "tandem-data-check", dependencies: ["Datasets", "Collective"], path: "Tests/DataIntegration",
            swiftSettings: simdFlags),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore"], swiftSettings: simdFlags),
        .testTarget(name: "AutogradTests", dependencies: ["Autograd", "NN"], swiftSettings: simdFlags),
        .testTarget(name: "NNTests", dependencies: ["NN"], swiftSettings: simdFlags),
        .testTarget(name: "OptimTests", dependencies: ["Optim"], swiftSettings: simdFlags),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "CZlib"], swiftSettings: simdFlags),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Optim", "Datasets"], swiftSettings: simdFlags),
        // Runs launch/check_onnx.py (onnx, onnxruntime) on exports, and `tandem export --format onnx`.
        .testTarget(
            name: "ONNXTests", dependencies: ["ONNX", "Models", "Optim", "Training", "tandem"], swiftSettings: simdFlags),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint"], swiftSettings: simdFlags),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "CZlib", .product(name: "Yams", package: "Yams")], swiftSettings: simdFlags),
        // Drives tandem-mpi-check and tandem under mpirun; the dependencies make `swift test` build them.
        .testTarget(
            name: "CollectiveTests",
            dependencies: ["tandem-mpi-check", "tandem-data-check", "tandem", "Checkpoint", "Collective"],
            swiftSettings: simdFlags),
    ],
    swiftLanguageModes: [.v5]
)
