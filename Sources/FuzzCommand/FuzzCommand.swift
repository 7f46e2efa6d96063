import BackpropCommand
import Foundation

// A fuzzing harness for the backprop command: libFuzzer calls LLVMFuzzerTestOneInput with
// arbitrary bytes, which become the command's arguments (one per line) and its standard input.
// Every input must either answer or fail with status 2 and an `error: …` message; a crash, a
// trap or any other outcome is a bug.

/// Runs one input. Traps (so that the fuzzer reports it) if the command breaks its contract.
func check(_ bytes: UnsafeRawBufferPointer) {
  let text = String(decoding: bytes, as: UTF8.self)
  let arguments = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  let result = runCommand(arguments) { text }
  switch result.status {
  case 0, 1: break
  case 2:
    precondition(
      result.errors.hasPrefix("error: ") || result.errors.hasPrefix("{\"error\": "),
      "status 2 without an error message")
  default: preconditionFailure("unexpected status \(result.status)")
  }
}

/// libFuzzer's entry point: one input of `count` bytes at `data`. Returns 0, as libFuzzer
/// expects; a broken contract traps instead.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  check(UnsafeRawBufferPointer(start: data, count: count))
  return 0
}

/// Without libFuzzer (an ordinary build), the program replays the files it is given, such as the
/// seed corpus in Tests/Fuzz/corpus, through the same check.
@main
enum Replay {
  static func main() throws {
    var count = 0
    for path in CommandLine.arguments.dropFirst() {
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
      }
      let files =
        isDirectory.boolValue
        ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { "\(path)/\($0)" }
        : [path]
      for file in files {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        data.withUnsafeBytes { check($0) }
        count += 1
      }
    }
    print("replayed \(count) inputs: every one answered or failed cleanly")
  }
}
