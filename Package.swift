// swift-tools-version:6.0
// EdgeBERT: BERT text embeddings with int8 kernels for small Linux boards.
// No package dependencies: the Swift toolchain only.
import PackageDescription

let package = Package(
    name: "EdgeBERT",
    products: [
        .library(name: "EdgeBERT", targets: ["EdgeBERT"]),
        .executable(name: "edgebert", targets: ["EdgeBERTCLI"]),
    ],
    targets: [
        // ISA-specific int8 microkernels, CPU detection, fp32 helpers. Prefix ek_.
        .target(name: "CKernels", path: "Sources/CKernels", linkerSettings: [.linkedLibrary("m")]),
        // The library: import, quantize, file format, tokenizer, encoder, runtime.
        .target(name: "EdgeBERT", dependencies: ["CKernels"], path: "Sources/EdgeBERT"),
        // The command-line tool.
        .executableTarget(name: "EdgeBERTCLI", dependencies: ["EdgeBERT"], path: "Sources/edgebert"),
        // Kernel microbenchmark: GOPS per path on the encoder's shapes.
        .executableTarget(name: "KernelBench", dependencies: ["CKernels"], path: "Benchmarks/KernelBench"),
        // Test support: counts heap allocations (interposes malloc in the test binary only).
        .target(name: "AllocCounter", path: "Tests/AllocCounter"),
        .testTarget(name: "EdgeBERTTests", dependencies: ["EdgeBERT", "CKernels", "AllocCounter"],
                    path: "Tests/EdgeBERTTests"),
    ]
)
