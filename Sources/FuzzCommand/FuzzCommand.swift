import BackpropCommand
import Foundation

// A fuzzing harness for the backprop command: libFuzzer calls LLVMFuzzerTestOneInput with
// arbitrary bytes. An input is read one of two ways:
//
// - as text (the usual case): its lines are the command's arguments, and the whole text is
//   its standard input;
// - as choices (an input whose first byte is 0x01): the bytes drive a generator that writes a
//   well-formed command line from the grammar (every command, large and broadcasting shapes,
//   deep and wide trees, edge values), so that the search reaches the budgets and the
//   numerics that byte-level mutations of text rarely do.
//
// Every run must keep the command's contract: exit status 0, 1, 2 or 3; on 2, one `error:` line
// (then at most the expression and a caret) or one JSON object; output of bounded size. The
// harness runs each input under small budgets, so that a slow or memory-hungry input is
// either refused by the command's own estimate or caught by libFuzzer's -timeout and
// -rss_limit_mb as a finding.

/// The budgets every fuzzed run gets, in place of any the input asks for.
let budgetOptions = ["--max-work", "1e7", "--max-memory", "512M", "--max-output", "32M"]

/// The most output a run may print under those budgets: 10⁷ operations print at most 5·10⁵
/// numbers (each costs 20 units), a few dozen bytes apiece.
let maximumOutputBytes = 32 << 20

/// The input's arguments with budget options removed (until "--") and the harness's added.
func budgeted(_ arguments: [String]) -> [String] {
  var kept: [String] = []
  var index = 0
  var optionsEnded = false
  while index < arguments.count {
    let argument = arguments[index]
    if !optionsEnded && ["--max-work", "--max-memory", "--max-output"].contains(argument) {
      index += 2
      continue
    }
    if argument == "--" { optionsEnded = true }
    kept.append(argument)
    index += 1
  }
  guard let command = kept.first else { return kept }
  return [command] + budgetOptions + kept.dropFirst()
}

/// Whether to print each run, for looking at what the generator writes.
let showsRuns = ProcessInfo.processInfo.environment["FUZZ_SHOW"] != nil

/// Runs one input. Traps (so that the fuzzer reports it) if the command breaks its contract.
func check(_ bytes: UnsafeRawBufferPointer) {
  let (arguments, input): ([String], String)
  if bytes.first == 1 {
    var generator = ChoiceGenerator(bytes.dropFirst())
    arguments = generator.commandLine()
    input = ""
  } else {
    let text = String(decoding: bytes, as: UTF8.self)
    arguments = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    input = text
  }
  let result = runCommand(budgeted(arguments)) { input }
  if showsRuns {
    // FUZZ_SHOW=1: what each input ran and how it ended (arguments cut to 60 characters).
    print(budgeted(arguments).map { String($0.prefix(60)) }, "→", result.status)
    print(result.errors.prefix(200))
  }
  precondition(
    result.output.utf8.count <= maximumOutputBytes,
    "\(result.output.utf8.count) bytes of output under the fuzzing budgets")
  switch result.status {
  case 0, 1, 3: break
  case 2:
    let lines = result.errors.split(separator: "\n", omittingEmptySubsequences: false)
    if result.errors.hasPrefix("{\"error\": ") {
      precondition(lines.count == 2 && lines[1].isEmpty, "a JSON error of \(lines.count) lines")
    } else {
      precondition(result.errors.hasPrefix("error: "), "status 2 without an error message")
      // "error: …", then at most the expression's line and its caret, then the final newline.
      precondition(lines.count <= 4 && lines.last == "", "an error of \(lines.count) lines")
      precondition(
        lines.dropFirst().allSatisfy { !$0.hasPrefix("error:") }, "more than one error line")
    }
    precondition(result.output.isEmpty, "output beside an error")
  default: preconditionFailure("unexpected status \(result.status)")
  }
}

/// Writes a command line from the grammar, each choice read from the fuzzer's bytes (0 once
/// they run out), so that mutating a byte changes one decision.
struct ChoiceGenerator {
  var bytes: ArraySlice<UInt8>

  init(_ bytes: UnsafeRawBufferPointer.SubSequence) { self.bytes = ArraySlice(bytes) }

  /// A choice in 0..<count.
  mutating func choose(_ count: Int) -> Int {
    guard let byte = bytes.popFirst(), count > 0 else { return 0 }
    return Int(byte) % count
  }

  mutating func pick<T>(_ options: [T]) -> T { options[choose(options.count)] }

  /// Shapes that broadcast against each other, some of them large: [1, n] with [n, 1] is n².
  static let shapes: [[Int]] = [
    [], [1], [3], [4], [3, 4], [4, 3], [1, 4], [3, 1], [2, 3, 4], [1000], [1, 3000], [3000, 1],
    [7000], [1, 7000], [7000, 1], [200, 200], [0], [2, 0],
  ]

  static let numbers = [
    "0", "1", "-1", "0.5", "2", "1e-300", "5e-324", "700", "-745", "1e17", "1e300", "-1e300",
    "inf", "-inf", "nan", "1e400",
  ]

  mutating func value(shape: [Int]) -> String {
    let count = shape.reduce(1, *)
    if shape.isEmpty { return pick(Self.numbers) }
    let fill = pick(Self.numbers)
    // Mostly one repeated number (cheap to write at any size), sometimes a few distinct ones.
    let scalars = (0..<count).map { index in index < 4 ? pick(Self.numbers) : fill }
    func nest(_ axis: Int, _ offset: Int) -> String {
      if axis == shape.count - 1 {
        return "[" + scalars[offset..<(offset + shape[axis])].joined(separator: ",") + "]"
      }
      let stride = shape[(axis + 1)...].reduce(1, *)
      return "["
        + (0..<shape[axis]).map { nest(axis + 1, offset + $0 * stride) }
        .joined(separator: ",") + "]"
    }
    return nest(0, 0)
  }

  /// Every one-operand function the command declares, and the older spellings it accepts.
  static let unary = oneOperandFunctionNames + ["softmax_composed", "logsoftmax", "std"]

  mutating func expression(names: [String], depth: Int) -> String {
    let leaf = depth <= 0 || choose(4) == 0
    if leaf {
      switch choose(3) {
      case 0: return pick(Self.numbers).replacingOccurrences(of: "inf", with: "1e309")
      case 1: return value(shape: pick([[2], [3], [1, 3], [3, 1]]))
      default: return pick(names)
      }
    }
    switch choose(7) {
    case 0, 1:
      let op = pick(["+", "-", "*", "/", "@"])
      return
        "(\(expression(names: names, depth: depth - 1)) \(op) \(expression(names: names, depth: depth - 1)))"
    case 2: return "-\(expression(names: names, depth: depth - 1))"
    case 3:
      return "\(expression(names: names, depth: depth - 1))^\(pick(["2", "3", "0.5", "-1", "0"]))"
    case 4:
      let function = pick(["max", "min", "atan2", "hypot", "pow", "concatenate", "stack"])
      let (first, second) = (
        expression(names: names, depth: depth - 1), expression(names: names, depth: depth - 1)
      )
      return "\(function)(\(first), \(second))"
    case 5:
      let selection = pick(["0", "-1", "1:", ":-1", "1:2", "5", "::"])
      return "(\(expression(names: names, depth: depth - 1)))[\(selection)]"
    default: return "\(pick(Self.unary))(\(expression(names: names, depth: depth - 1)))"
    }
  }

  mutating func commandLine() -> [String] {
    let command = pick(["grad", "jacobian", "hessian", "check", "softmax"])
    if command == "softmax" {
      let count = pick([1, 2, 3, 10, 500, 2000, 5000])
      return ["softmax"] + (0..<count).map { _ in pick(Self.numbers) }
    }
    let names = Array(["x", "y", "W"].prefix(1 + choose(3)))
    var arguments = [command, expression(names: names, depth: 1 + choose(8))]
    // Reduce to a scalar often, so that grad, hessian and check get past the shape check.
    if choose(2) == 0 { arguments[1] = "sum(\(arguments[1]))" }
    for name in names {
      arguments += ["--at", "\(name)=\(value(shape: pick(Self.shapes)))"]
    }
    if choose(4) == 0 { arguments.append(pick(["--json", "--trace", "--dot"])) }
    return arguments
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
