import Foundation
import Testing

// Swift drops `precondition` messages under -O, so a library checked with them tells a user in
// a release build only "precondition failure". Backprop's checks go through `require` and
// `fail` (built on fatalError), whose messages survive. This builds the MisuseProbe executable
// with -c release and reads what each misuse prints.

@Suite("Release builds keep every programmer-error message")
struct ReleaseMessageTests {
  static let expectations: [(misuse: String, message: String)] = [
    ("broadcast", "add: shapes [3] and [4] do not broadcast"),
    ("twoTapes", "add: the operands are variables from two different tapes"),
    ("nonScalarGradient", "gradient(at:of:): the result has shape [3], not a scalar"),
    ("reshape", "reshape: shape [3] (3 scalars) cannot become [2, 2] (4)"),
    ("matmul", "matmul: shapes [2, 3] and [2, 3] are not matrices, vectors or batches"),
    ("subscript", "subscript: index 5 is out of range for shape [2]"),
    ("staleVariable", "multiply: the variable was recorded before its tape was reset"),
    ("label", "crossEntropy: label 7 at row 0 is not a class index in 0..<3"),
    ("softmaxOfScalar", "composedSoftmax: needs at least one axis, got shape []"),
    ("scalarCount", "Tensor(shape:scalars:): shape [2, 2] needs 4 scalars, got 3"),
    ("overflow", "shape [4294967296, 4294967296] has more scalars than memory can address"),
    ("backwardOfConstant", "backward(seed:): a constant is on no tape"),
    ("checkGradientOfNonScalar", "checkGradient(at:of:): the result has shape [2], not a scalar"),
  ]

  /// Runs `executable` with `arguments` in `directory`, returning its status and standard error.
  static func run(
    _ executable: String, _ arguments: [String], in directory: URL
  ) throws -> (status: Int32, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    let data = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  @Test(.timeLimit(.minutes(10)))
  func messagesSurviveOptimization() throws {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    // A scratch path of its own, so that this build never waits on the one running the tests.
    let scratch = root.appendingPathComponent(".build/release-probe")
    let build = try Self.run(
      "/usr/bin/env",
      [
        "swift", "build", "-c", "release", "--product", "MisuseProbe", "--scratch-path",
        scratch.path,
      ],
      in: root)
    try #require(build.status == 0, "the release build failed: \(build.errors)")
    let probe = scratch.appendingPathComponent("release/MisuseProbe").path
    for (misuse, message) in Self.expectations {
      let result = try Self.run(probe, [misuse], in: root)
      #expect(result.status != 0, "\(misuse) did not stop the process")
      #expect(result.errors.contains(message), "\(misuse): \(result.errors)")
    }
  }
}
