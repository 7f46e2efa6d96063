// swift-tools-version: 6.2
import PackageDescription

let package = Package(
  name: "Backprop",
  products: [
    .library(name: "Backprop", targets: ["Backprop"])
  ],
  targets: [
    .target(name: "Backprop"),
    .executableTarget(name: "Playground", dependencies: ["Backprop"], path: "Playground"),
    .testTarget(name: "BackpropTests", dependencies: ["Backprop"]),
  ],
  swiftLanguageModes: [.v6]
)
