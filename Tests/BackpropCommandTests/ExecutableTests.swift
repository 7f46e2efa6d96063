import Backprop
import Foundation
import Testing

/// The built `backprop` executable, next to the test bundle.
func backpropExecutable() throws -> URL {
  // The tests' own bundle, not Bundle.main, which on macOS is the runner's (xctest or
  // swiftpm-testing-helper) in another directory; on Linux the two are the same.
  let bundle = Bundle(for: ProductsMarker.self).bundleURL
  let directory = bundle.pathExtension == "xctest" ? bundle.deletingLastPathComponent() : bundle
  let url = directory.appendingPathComponent("backprop")
  try #require(
    FileManager.default.isExecutableFile(atPath: url.path), "no executable at \(url.path)")
  return url
}

/// A class of the test bundle, for Bundle(for:).
private final class ProductsMarker {}

/// Runs the executable with `arguments` and `input` on standard input.
func runExecutable(_ arguments: [String], input: String = "") throws -> (
  status: Int32, output: String, errors: String
) {
  let process = Process()
  process.executableURL = try backpropExecutable()
  process.arguments = arguments
  let (stdin, stdout, stderr) = (Pipe(), Pipe(), Pipe())
  process.standardInput = stdin
  process.standardOutput = stdout
  process.standardError = stderr
  try process.run()
  stdin.fileHandleForWriting.write(Data(input.utf8))
  try stdin.fileHandleForWriting.close()
  let output = stdout.fileHandleForReading.readDataToEndOfFile()
  let errors = stderr.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (
    process.terminationStatus, String(decoding: output, as: UTF8.self),
    String(decoding: errors, as: UTF8.self)
  )
}

@Suite("The backprop executable")
struct ExecutableTests {
  @Test func answersWithJSONThatMatchesTheLibrary() throws {
    let run = try runExecutable(["grad", "log(sum(exp(x)))", "--at", "x=1,2,3", "--json"])
    #expect(run.status == 0 && run.errors.isEmpty)
    let object = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any]
    #expect((object?["gradient"] as? [String: Any])?["x"] is [Any])
    // Foundation's JSONSerialization on Linux can round a decimal to a neighbouring double;
    // JSONDecoder rounds correctly, so it compares the numbers bit for bit.
    struct Answer: Decodable {
      let value: Double
      let gradient: [String: [Double]]
    }
    let answer = try JSONDecoder().decode(Answer.self, from: Data(run.output.utf8))
    let (value, gradient) = Backprop.valueWithGradient(at: [1, 2, 3]) { log(exp($0).sum()) }
    #expect(answer.value == value.scalar)
    #expect(answer.gradient["x"] == gradient.scalars)
  }

  @Test func errorsGoToStandardErrorWithStatusTwo() throws {
    let run = try runExecutable(["grad", "sum(x + y)", "--at", "x=1,2,3", "--at", "y=1,2,3,4"])
    #expect(run.status == 2)
    #expect(run.output.isEmpty)
    #expect(
      run.errors == "error: shapes [3] and [4] do not broadcast for '+'\n  sum(x + y)\n        ^\n")
    let unknown = try runExecutable(["--nope"])
    #expect(unknown.status == 2 && unknown.errors.hasPrefix("error: unknown option '--nope'"))
  }

  @Test func readsTheExpressionFromStandardInput() throws {
    let nested =
      String(repeating: "(", count: 100_000) + "x" + String(repeating: ")", count: 100_000)
    let run = try runExecutable(["grad", "-", "--at", "x=1"], input: nested)
    #expect(run.status == 2)
    #expect(run.errors.hasPrefix("error: the expression is nested more than 500 levels deep"))
    let fine = try runExecutable(["grad", "-", "--at", "x=2"], input: "x ^ 3")
    #expect(fine.status == 0 && fine.output.contains("12"))
  }

  @Test func helpAndVersionSucceed() throws {
    #expect(try runExecutable(["--help"]).status == 0)
    #expect(try runExecutable(["--version"]).output.hasPrefix("backprop "))
  }
}
