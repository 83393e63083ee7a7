// swift-tools-version:5.7
// The ASP SDK for Swift: the uniffi-generated sources (Sources/Asp/asp.swift and the C module
// aspFFI) over libasp_ffi. Build the library first (`cargo build --release -p asp-ffi`), then
// `swift test` here. The sources are regenerated and checked by asp-ffi's test suite.
import PackageDescription

let package = Package(
    name: "Asp",
    products: [.library(name: "Asp", targets: ["Asp"])],
    targets: [
        .systemLibrary(name: "aspFFI", path: "Sources/aspFFI"),
        .target(
            name: "Asp",
            dependencies: ["aspFFI"],
            path: "Sources/Asp",
            linkerSettings: [
                .linkedLibrary("asp_ffi"),
                .unsafeFlags(["-L../../target/release", "-Xlinker", "-rpath", "-Xlinker", "../../target/release"]),
            ]
        ),
        .testTarget(name: "AspTests", dependencies: ["Asp"], path: "Tests/AspTests"),
    ]
)
