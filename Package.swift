// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Tempo",
    // Synchronization's Mutex and Atomic need macOS 15 on Apple platforms; Linux is the first target.
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tempo", targets: ["Tempo"]),
        .library(name: "TempoCompute", targets: ["TempoCompute"]),
        .executable(name: "tempo-bench", targets: ["TempoBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries: the OpenCL ICD loader and OpenBLAS, found through pkg-config.
        .systemLibrary(
            name: "COpenCL",
            path: "Sources/COpenCL",
            pkgConfig: "OpenCL",
            providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]
        ),
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        // Kernels/*.cl embedded as Swift string constants at build time (and syntax-checked with clang).
        .executableTarget(
            name: "TempoKernelEmbedder",
            path: "Sources/TempoKernelEmbedder"
        ),
        .plugin(
            name: "EmbedKernels",
            capability: .buildTool(),
            dependencies: ["TempoKernelEmbedder"],
            path: "Sources/EmbedKernelsPlugin"
        ),
        .target(
            name: "TempoKernels",
            path: "Sources/TempoKernels",
            plugins: ["EmbedKernels"]
        ),

        // CPU kernels in C: vector code cloned per instruction set, and the thread team that runs
        // a recurrent sequence with a barrier per step.
        .target(
            name: "CTempoCPU",
            path: "Sources/CTempoCPU"
        ),

        // The device layer: devices, tensors, the Backend protocol, the CPU and OpenCL backends.
        .target(
            name: "TempoCompute",
            dependencies: ["COpenCL", "CBLAS", "CTempoCPU", "TempoKernels"],
            path: "Sources/TempoCompute"
        ),
        // The model API.
        .target(
            name: "Tempo",
            dependencies: ["TempoCompute"],
            path: "Sources/Tempo"
        ),

        // tempo-bench: the runner is a library so that its parsing, verification and writers are tested.
        .target(
            name: "TempoBenchCore",
            dependencies: [
                "Tempo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/TempoBenchCore"
        ),
        .executableTarget(
            name: "TempoBench",
            dependencies: ["TempoBenchCore"],
            path: "Benchmarks/TempoBench"
        ),

        // Expectations and device helpers shared by the test targets.
        .target(
            name: "TempoTestSupport",
            dependencies: ["TempoCompute"],
            path: "Tests/TempoTestSupport"
        ),
        .testTarget(
            name: "TempoComputeTests",
            dependencies: ["TempoCompute", "TempoKernels", "TempoTestSupport"],
            path: "Tests/TempoComputeTests",
            // Reference arrays, found by the tests through #filePath, not bundled.
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "TempoBenchTests",
            dependencies: ["TempoBenchCore", "TempoTestSupport"],
            path: "Tests/TempoBenchTests"
        ),
        .testTarget(
            name: "TempoTests",
            dependencies: ["Tempo", "TempoTestSupport"],
            path: "Tests/TempoTests",
            // Model files and their generator, found by the tests through #filePath, not bundled.
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
