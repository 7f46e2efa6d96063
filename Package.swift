// swift-tools-version: 6.2
import PackageDescription

let package = Package(
  name: "Backprop",
  // The newest API any target uses is the benchmark's ContinuousClock: macOS 13 and its
  // contemporaries.
  platforms: [.macOS(.v13), .iOS(.v16), .tvOS(.v16), .watchOS(.v9), .visionOS(.v1)],
  products: [
    .library(name: "Backprop", targets: ["Backprop"]),
    .executable(name: "backprop", targets: ["backprop"]),
  ],
  targets: [
    .target(name: "Backprop", dependencies: ["BackpropKernels"]),
    // The vectorized kernels in C (exp, log, tanh, sin, cos, the matrix product), so that one
    // function can be built for AVX2 or AVX-512 with FMA and chosen at run time; Swift builds
    // for the baseline target only (see its header).
    .target(name: "BackpropKernels"),
    // The command's parser, checker and printers, as a library so tests drive it in-process.
    .target(name: "BackpropCommand", dependencies: ["Backprop"]),
    .executableTarget(name: "backprop", dependencies: ["BackpropCommand"]),
    // The command's fuzzing harness: `swift build --sanitize fuzzer --product FuzzCommand`
    // builds it for libFuzzer; an ordinary build replays a corpus (see docs/reliability.md).
    .executableTarget(name: "FuzzCommand", dependencies: ["BackpropCommand"]),
    .executableTarget(name: "Playground", dependencies: ["Backprop"], path: "Playground"),
    // Misuses the library on request; a test builds it with -c release and reads the messages.
    .executableTarget(name: "MisuseProbe", dependencies: ["Backprop"]),
    // `swift run -c release Benchmarks`: ratios against baselines timed in the same run.
    // Its hand-written baselines call the same kernels as the library.
    .executableTarget(
      name: "Benchmarks", dependencies: ["Backprop", "BackpropKernels"], exclude: ["peers.py", "allocation.c"]),
    .testTarget(name: "BackpropTests", dependencies: ["Backprop", "BackpropKernels"]),
    .testTarget(
      name: "BackpropCommandTests", dependencies: ["BackpropCommand", "Backprop", "backprop"]),
  ],
  swiftLanguageModes: [.v6]
)
