import Backprop
import Foundation

/// What a run of the `backprop` command produced.
public struct CommandResult: Sendable, Equatable {
  /// The exit status: 0 on success, 1 when `check` finds a mismatch, 2 on a usage or input
  /// error, 3 when `check` is inconclusive (central differences cannot decide some entry).
  public var status: Int32
  /// Everything written to standard output.
  public var output: String
  /// Everything written to standard error: `error: …` lines and warnings.
  public var errors: String
}

/// Runs the `backprop` command on its arguments (without the program name). It never traps:
/// every user error becomes an `error: …` message and status 2.
///
/// - Parameter standardInput: read when the expression is `-`.
public func runCommand(
  _ arguments: [String], standardInput: () -> String = { "" }
) -> CommandResult {
  do throws(CommandError) {
    let invocation = try Invocation(arguments, standardInput: standardInput)
    let result = try invocation.run()
    // The estimate counts the numbers; a tape printed by --trace or --dot is counted here.
    let printed = Double(result.output.utf8.count)
    if printed > invocation.budget.output {
      throw invocation.budget.outputError(
        "the output would be \(Budget.bytes(printed))")
    }
    return result
  } catch {
    // With --json anywhere among the options, a program reads the result: the error too is
    // one JSON object, on standard error.
    let options = arguments.prefix { $0 != "--" }
    return CommandResult(
      status: 2, output: "", errors: options.contains("--json") ? error.json : error.rendered)
  }
}

/// The longest expression accepted, from an argument or standard input: 4 MiB, room for a
/// literal of a million numbers. (Linux caps one argument at 128 KiB; standard input has no
/// cap of its own, and parsing holds several copies of the text.) The executable reads at most
/// one byte more.
public let maximumExpressionBytes = 4 << 20

/// The spellings of every function of the expression language that takes one operand, in the
/// order the command declares them: what a generator of expressions picks from.
public var oneOperandFunctionNames: [String] { Function.oneOperandNames }

/// The help's list of elementwise functions, made from the command's own table: lines broken
/// between words before column 92, each after the first indented 4 spaces.
private var elementwiseHelp: String {
  let words =
    ["elementwise:"] + Elementwise.names + [
      "leakyRelu(x[,", "a])", "elu(x[,", "a])", "atan2(y,", "x)", "hypot(a,", "b)",
      "squaredDifference(a,", "b)", "max(a,", "b)", "min(a,", "b)", "clamp(x,", "lo,", "hi)",
      "select(condition,", "a,", "b)",
    ]
  var lines: [String] = []
  var line = ""
  for word in words {
    if !line.isEmpty && 2 + line.count + 1 + word.count > 92 {
      lines.append(line)
      line = "  "
    }
    line += (line.isEmpty || line == "  " ? "" : " ") + word
  }
  lines.append(line)
  return lines.joined(separator: "\n  ")
}

/// The version `backprop --version` prints.
public let commandVersion = "0.1.0"

let usage: String = """
  backprop — differentiate an expression from the shell

  USAGE
    backprop grad EXPR --at NAME=VALUE …       the value and the gradient of a scalar expression
    backprop jacobian EXPR --at NAME=VALUE …   the Jacobian with respect to each variable
    backprop hessian EXPR --at NAME=VALUE …    the exact Hessian with respect to each variable
    backprop check EXPR --at NAME=VALUE …      autodiff against central differences (exit 1 on a mismatch)
    backprop softmax NUMBER …                  fused, composed, analytic and numerical softmax Jacobians

  OPTIONS
    --at NAME=VALUE   bind a variable: 2, 1,2,3, [1,2,3] or [[1,2],[3,4]]
    --at NAME=@FILE   bind it to the value in FILE (the same syntax, or JSON); @- reads stdin
    --json            one JSON object on standard output
    --trace           also print the tape (the Wengert list) with each entry's adjoint
    --dot             print the tape as a Graphviz DOT graph instead (pipe it to dot -Tsvg)
    --max-memory SIZE the memory budget, 4G by default (K, M, G, T: binary units)
    --max-work N      the work budget in scalar operations, 1e9 by default
    --max-output SIZE the output budget, 16M by default
    -h, --help        show this help
    --version         show the version

  EXPRESSIONS  (EXPR '-' reads the expression from standard input)
    numbers 2 -1.5 1e-3, names bound by --at, literals [1, 2] and [[1, 2], [3, 4]]
    + - * /  with NumPy broadcasting, ^ and pow(a, b) power, @ matrix product,
    unary minus (^ binds tighter: -x^2 is -(x^2)), parentheses
    x[i] and x[a:b] along the first axis (negative counts from the end; a or b may be left out)
    \(elementwiseHelp)
    reductions to a scalar: sum mean max min prod variance std logsumexp
    shapes: concatenate(a, b, …) stack(a, b, …) flattened(x)
    along the last axis: softmax composedSoftmax logSoftmax
    losses: meanSquaredError(p, e) huberLoss(p, e[, delta]) binaryCrossEntropy(logits, labels)
      crossEntropy(logits, probabilities)
    names match in any case (logsumexp, logSumExp)
    numbers in --at values may be inf, -inf or nan; with --json, errors are JSON too

  EXAMPLES
    backprop grad 'log(sum(exp(x)))' --at x=1,2,3
    backprop grad 'sum((X @ W) * (X @ W)) / 2' --at X=[[1,2],[3,4]] --at W=[[1],[0.5]]
    backprop hessian 'logsumexp(x)' --at x=1,2
    backprop softmax 1 2

  """

enum CommandName: String, CaseIterable {
  case grad, jacobian, hessian, check, softmax
}

/// The parsed command line.
struct Invocation {
  var command: CommandName
  var expressionSource = ""
  var softmaxInput: [Double] = []
  var bindings: [(name: String, value: Tensor)] = []
  var json = false
  var trace = false
  var dot = false
  var budget = Budget()
  /// Whether an `--at NAME=@-` has read standard input, which the expression `-` then cannot.
  var readsStandardInput = false
  /// `--help` or `--version`: the text to print instead of running anything.
  var immediateOutput: String?

  init(_ arguments: [String], standardInput: () -> String) throws(CommandError) {
    guard let first = arguments.first else {
      throw CommandError("no command given; try 'backprop --help'")
    }
    // -h asks for help only as the first word: elsewhere it is an expression (`grad -h`,
    // the negation of h), like any word not starting with "--"; and nothing after "--" is an
    // option.
    if ["-h", "--help", "help"].contains(first)
      || arguments.prefix(while: { $0 != "--" }).contains("--help")
    {
      command = .grad
      immediateOutput = usage
      return
    }
    if first == "--version" {
      command = .grad
      immediateOutput = "backprop \(commandVersion)\n"
      return
    }
    guard let command = CommandName(rawValue: first) else {
      let suggestion = nearest(to: first, among: CommandName.allCases.map(\.rawValue))
      let hint = suggestion.map { " — did you mean '\($0)'?" } ?? "; try 'backprop --help'"
      let quoted = abbreviated(first)
      throw CommandError(
        first.hasPrefix("-")
          ? "unknown option '\(quoted)'\(hint)" : "unknown command '\(quoted)'\(hint)")
    }
    self.command = command

    if arguments.dropFirst().contains("-") && arguments.contains(where: { $0.hasSuffix("=@-") }) {
      throw CommandError(
        "the expression '-' and an --at NAME=@- both read standard input; put one in a file")
    }
    var positional: [String] = []
    var index = 1
    var optionsEnded = false
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      // Anything not starting with "--" is an operand, so '-x^2' and '-1' need no quoting tricks.
      guard !optionsEnded, argument.hasPrefix("--") else {
        positional.append(argument)
        continue
      }
      switch argument {
      case "--": optionsEnded = true
      case "--json": json = true
      case "--trace": trace = true
      case "--dot": dot = true
      case "--max-memory", "--max-work", "--max-output":
        guard index < arguments.count else {
          throw CommandError("\(argument) needs a value, as in \(argument) 8G or 1e10")
        }
        try setBudget(argument, arguments[index])
        index += 1
      case "--at":
        guard index < arguments.count, !arguments[index].hasPrefix("--") else {
          throw CommandError("--at needs a binding such as x=1,2,3")
        }
        try bind(arguments[index], standardInput: standardInput)
        index += 1
      case let option where option.hasPrefix("--at="):
        try bind(String(option.dropFirst("--at=".count)), standardInput: standardInput)
      default:
        let known = [
          "--at", "--json", "--trace", "--dot", "--max-memory", "--max-work", "--max-output",
          "--help", "--version",
        ]
        let name = String(argument.split(separator: "=", maxSplits: 1)[0])
        let hint = nearest(to: name, among: known).map { " — did you mean '\($0)'?" } ?? ""
        throw CommandError("unknown option '\(abbreviated(argument))'\(hint)")
      }
    }
    if dot && (json || trace) {
      throw CommandError(
        "--dot prints only the graph; it cannot be combined with --json or --trace")
    }

    if command == .softmax {
      guard bindings.isEmpty else { throw CommandError("softmax takes numbers, not --at") }
      guard !dot && !trace else {
        throw CommandError("softmax records no tape to show; drop --dot and --trace")
      }
      softmaxInput = try Self.softmaxNumbers(positional)
      try budget.check(Budget.softmax(count: Double(softmaxInput.count)), command: .softmax)
      return
    }
    guard let source = positional.first else {
      throw CommandError(
        "\(command.rawValue) needs an expression, as in: backprop \(command.rawValue) 'sum(x * x)' --at x=1,2"
      )
    }
    if positional.count > 1 {
      throw CommandError(
        "unexpected argument '\(abbreviated(positional[1]))' after the expression (quote the expression?)"
      )
    }
    expressionSource = source == "-" ? standardInput() : source
    if expressionSource.utf8.count > Self.maximumExpressionBytes {
      throw CommandError(
        "the expression is longer than \(Self.maximumExpressionBytes) bytes"
          + (source == "-" ? " (read from standard input)" : ""))
    }
  }

  static var maximumExpressionBytes: Int { BackpropCommand.maximumExpressionBytes }

  /// Sets `--max-memory` or `--max-output` (bytes, or with K, M, G, T) or `--max-work` (scalar
  /// operations).
  private mutating func setBudget(_ option: String, _ text: String) throws(CommandError) {
    if option == "--max-memory" || option == "--max-output" {
      guard let bytes = Budget.parseBytes(text) else {
        throw CommandError("\(option) '\(abbreviated(text))' is not a size such as 8G or 512M")
      }
      if option == "--max-memory" { budget.memory = bytes } else { budget.output = bytes }
    } else {
      guard let work = Double(text), work.isFinite, work > 0 else {
        throw CommandError(
          "--max-work '\(abbreviated(text))' is not a positive number such as 1e10")
      }
      budget.work = work
    }
  }

  /// Records `name=value` from an `--at`.
  private mutating func bind(
    _ binding: String, standardInput: () -> String
  ) throws(CommandError) {
    guard let equals = binding.firstIndex(of: "=") else {
      throw CommandError("--at '\(abbreviated(binding))' needs the form name=value, as in x=1,2,3")
    }
    // Spaces around the name and the value are allowed, as in --at 'x = 1, 2'.
    let name = binding[..<equals].trimmingCharacters(in: .whitespaces)
    let valueText = String(binding[binding.index(after: equals)...])
      .trimmingCharacters(in: .whitespaces)
    guard let head = name.first, head.isLetter || head == "_",
      name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
    else {
      throw CommandError(
        "--at '\(abbreviated(binding))': '\(abbreviated(name))' is not a variable name")
    }
    if Function.isFunction(name) {
      throw CommandError(
        "--at '\(abbreviated(binding))': '\(name)' is a function name; choose another")
    }
    if bindings.contains(where: { $0.name == name }) {
      throw CommandError("'\(abbreviated(name))' is bound twice by --at")
    }
    if valueText.isEmpty {
      throw CommandError("--at \(name)= is missing a value, as in \(name)=1,2,3")
    }
    var text = valueText
    if valueText.hasPrefix("@") {
      let path = String(valueText.dropFirst())
      text = try contents(of: path, for: name, standardInput: standardInput)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      if path == "-" { readsStandardInput = true }
      if text.isEmpty {
        throw CommandError("--at \(name)=@\(abbreviated(path)): the file holds no value")
      }
    }
    do {
      bindings.append((name, try Parser.parseValue(text)))
    } catch {
      throw CommandError(
        "in --at \(name): \(error.message)", in: error.location?.source, at: error.location?.column)
    }
  }

  /// The text of the file at `path`, or of standard input for `-`, for `--at NAME=@PATH`: at
  /// most ``maximumExpressionBytes``, as for an expression, read without reading more.
  private func contents(
    of path: String, for name: String, standardInput: () -> String
  ) throws(CommandError) -> String {
    let limit = Self.maximumExpressionBytes
    let shown = "--at \(name)=@\(abbreviated(path))"
    if path == "-" {
      guard !readsStandardInput else {
        throw CommandError("\(shown): standard input is already read by another --at")
      }
      let text = standardInput()
      guard text.utf8.count <= limit else {
        throw CommandError("\(shown): standard input is longer than \(limit) bytes")
      }
      return text
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw CommandError("\(shown): no such file")
    }
    guard !isDirectory.boolValue, let handle = FileHandle(forReadingAtPath: path) else {
      throw CommandError("\(shown): not a readable file")
    }
    defer { try? handle.close() }
    var data = Data()
    do {
      while data.count <= limit, let chunk = try handle.read(upToCount: limit + 1 - data.count),
        !chunk.isEmpty
      {
        data.append(chunk)
      }
    } catch {
      throw CommandError("\(shown): the file cannot be read")
    }
    guard data.count <= limit else {
      throw CommandError("\(shown): the file is longer than \(limit) bytes")
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// The operands of `backprop softmax`: numbers, as separate words or joined by commas or in
  /// one bracketed vector.
  private static func softmaxNumbers(_ words: [String]) throws(CommandError) -> [Double] {
    guard !words.isEmpty else {
      throw CommandError("softmax needs numbers, as in: backprop softmax 1 2")
    }
    var numbers: [Double] = []
    for word in words {
      let value = try Parser.parseValue(word)
      guard value.rank <= 1 else {
        throw CommandError("softmax takes a vector of numbers, not shape \(value.shape)")
      }
      numbers += value.scalars
    }
    return numbers
  }

  // MARK: - Running

  func run() throws(CommandError) -> CommandResult {
    if let immediateOutput { return CommandResult(status: 0, output: immediateOutput, errors: "") }
    if command == .softmax { return SoftmaxReport(input: Tensor(softmaxInput)).result(json: json) }

    let expression = try Parser.parse(expressionSource)
    let shapes = Dictionary(
      bindings.map { ($0.name, $0.value.shape) }, uniquingKeysWith: { a, _ in a })
    let checker = Checker(source: expressionSource, shapes: shapes)
    let outputShape = try checker.shape(of: expression)
    let outputCount = outputShape.reduce(1, *)
    if command != .jacobian && outputCount != 1 {
      throw CommandError(
        "\(command.rawValue) needs a scalar expression, but this one has shape \(outputShape)"
          + " — use jacobian", in: expressionSource, at: 0)
    }
    for (name, value) in bindings {
      let count = (command == .hessian ? value.scalarCount : outputCount) * value.scalarCount
      if command != .grad && command != .check && count > Checker.maximumScalars {
        throw CommandError(
          "the \(command.rawValue) with respect to '\(name)' would have \(count) entries, more than \(Checker.maximumScalars)"
        )
      }
    }
    try budget.check(
      Budget.estimate(
        command, tally: checker.tally, outputCount: Double(outputCount),
        variableCounts: bindings.map { Double($0.value.scalarCount) }),
      command: command)
    try checkLabels(
      in: expression, Dictionary(bindings.map { ($0.name, Variable($0.value)) }) { a, _ in a },
      source: expressionSource)
    return Differentiation(
      command: command, expression: expression, bindings: bindings, json: json, trace: trace,
      dot: dot
    ).run()
  }
}

/// A user's text quoted in a message: its first 40 Unicode scalars (not characters, which are
/// unbounded), with control characters escaped.
func abbreviated(_ text: String) -> String { CommandError.displayable(text, limit: 40) }
