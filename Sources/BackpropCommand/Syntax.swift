import Backprop

/// A user error: what went wrong and, for errors in an expression, where.
struct CommandError: Error, Equatable {
  var message: String
  /// The source text and the column (0-based, in characters) to mark with a caret.
  var location: (source: String, column: Int)?

  init(_ message: String, in source: String? = nil, at column: Int? = nil) {
    self.message = message
    if let source, let column { location = (source, column) }
  }

  static func == (lhs: CommandError, rhs: CommandError) -> Bool {
    lhs.message == rhs.message && lhs.location?.source == rhs.location?.source
      && lhs.location?.column == rhs.location?.column
  }

  /// `error: …`, then for an expression error the line of the source that holds the column,
  /// with a caret under it. User text is cut and escaped (see ``displayable(_:limit:)``), so
  /// the error is one line, then at most two more, whatever the input.
  var rendered: String {
    var text = "error: \(Self.displayable(message, limit: 400))\n"
    if let (source, column) = location {
      let shown = Self.visibleWindow(of: source, around: column)
      text += "  \(shown.text)\n  \(String(repeating: " ", count: shown.column))^\n"
    }
    return text
  }

  /// `{"error": "…", "column": n}` on one line, for `--json`: the message, and the 0-based
  /// column in the expression when the error has one.
  var json: String {
    var members = [("error", Output.json(Self.displayable(message, limit: 400)))]
    if let (_, column) = location { members.append(("column", "\(column)")) }
    return Output.object(members) + "\n"
  }

  /// `text` as it may be shown: cut after `limit` Unicode scalars (not characters: one
  /// character can hold a million combining marks), with control characters escaped (`\n`,
  /// `\u{1B}`), so that user text can neither split a message into lines nor reach the
  /// terminal as an escape sequence.
  static func displayable(_ text: String, limit: Int) -> String {
    var shown = ""
    var count = 0
    for scalar in text.unicodeScalars {
      if count == limit { return shown + "…" }
      shown += escaped(scalar)
      count += 1
    }
    return shown
  }

  /// A scalar as shown in a message: itself, or an escape for a control character.
  static func escaped(_ scalar: Unicode.Scalar) -> String {
    switch scalar.value {
    case 0x0A: return "\\n"
    case 0x09: return "\\t"
    case 0x0D: return "\\r"
    case 0..<0x20, 0x7F..<0xA0: return "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
    default: return String(scalar)
    }
  }

  /// How many terminal columns a scalar takes: 0 for combining marks, 2 for East Asian wide
  /// and fullwidth characters (CJK, Hangul, fullwidth forms, most emoji), 1 otherwise.
  static func width(of scalar: Unicode.Scalar) -> Int {
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return 0
    default: break
    }
    switch scalar.value {
    case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
      0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
      0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
      return 2
    default: return 1
    }
  }

  /// The line of `source` that holds `column` (counted in characters, as the parser counts),
  /// at most about 70 terminal columns of it around the column, and where the caret goes in
  /// that text, in terminal columns: a multi-line expression from standard input shows the
  /// right line, and wide characters and escapes move the caret with them.
  static func visibleWindow(of source: String, around column: Int) -> (text: String, column: Int) {
    let scalars = Array(source.unicodeScalars)
    // The column in characters, as a position among scalars.
    let characterIndex =
      source.index(source.startIndex, offsetBy: column, limitedBy: source.endIndex)
      ?? source.endIndex
    let target = source.unicodeScalars.distance(from: source.startIndex, to: characterIndex)
    var lineStart = target
    while lineStart > 0 && scalars[lineStart - 1] != "\n" { lineStart -= 1 }
    var lineEnd = target
    while lineEnd < scalars.count && scalars[lineEnd] != "\n" { lineEnd += 1 }
    // Widen a window around the target, up to 35 terminal columns each side.
    let cells = { (index: Int) -> Int in
      let text = escaped(scalars[index])
      return text.count == 1 ? width(of: scalars[index]) : text.count
    }
    var (start, end) = (target, Swift.min(target + 1, lineEnd))
    var (before, after) = (0, end > target ? cells(target) : 0)
    // Also at most 80 scalars each side: combining marks take no columns but do take bytes.
    while start > lineStart && before + cells(start - 1) <= 35 && target - start < 80 {
      start -= 1
      before += cells(start)
    }
    while end < lineEnd && after + cells(end) <= 35 && end - target < 80 {
      after += cells(end)
      end += 1
    }
    let prefix = start > lineStart ? "…" : ""
    let suffix = end < lineEnd ? "…" : ""
    let text = (start..<end).map { escaped(scalars[$0]) }.joined()
    return (prefix + text + suffix, before + prefix.count)
  }
}

/// A parsed expression. Every node knows its column, for error messages, and the height of its
/// subtree, so that recursion over it is bounded.
struct Expression {
  indirect enum Kind {
    case number(Double)
    case literal(Tensor)
    case name(String)
    case negate(Expression)
    case binary(BinaryOperator, Expression, Expression)
    case call(Function, [Expression])
    /// One of the library's elementwise functions of one operand.
    case elementwise(ElementwiseFunction, Expression)
    /// `x[i]` (the entry or row i; the axis is dropped) or `x[a:b]` (entries a..<b along the
    /// first axis), with Python's conventions: negative positions count from the end, and an
    /// omitted bound is the start or the end.
    case slice(Expression, Subscript)
  }

  let kind: Kind
  /// The 0-based column, in characters, where the node begins (an operator's own column for a
  /// binary node).
  let column: Int
  /// The height of the subtree: 1 for a leaf.
  let depth: Int

  init(_ kind: Kind, column: Int) {
    self.kind = kind
    self.column = column
    switch kind {
    case .number, .literal, .name: depth = 1
    case .negate(let operand): depth = operand.depth + 1
    case .binary(_, let lhs, let rhs): depth = Swift.max(lhs.depth, rhs.depth) + 1
    case .call(_, let arguments): depth = (arguments.map(\.depth).max() ?? 0) + 1
    case .elementwise(_, let operand): depth = operand.depth + 1
    case .slice(let base, _): depth = base.depth + 1
    }
  }

  /// The names of the variables the expression uses, in order of first use.
  var names: [String] {
    var seen: [String] = []
    for case .name(let name) in nodes.map(\.kind) where !seen.contains(name) { seen.append(name) }
    return seen
  }

  /// The names the expression is differentiated in: every name but those that appear only
  /// where an operand is held constant (the labels of the cross-entropies).
  var differentiableNames: [String] {
    var seen: [String] = []
    func visit(_ expression: Expression) {
      switch expression.kind {
      case .number, .literal: break
      case .name(let name): if !seen.contains(name) { seen.append(name) }
      case .negate(let operand), .elementwise(_, let operand): visit(operand)
      case .binary(_, let lhs, let rhs):
        visit(lhs)
        visit(rhs)
      case .call(let function, let arguments):
        for (position, argument) in arguments.enumerated()
        where !function.holdsConstant(position: position) {
          visit(argument)
        }
      case .slice(let base, _): visit(base)
      }
    }
    visit(self)
    return seen
  }

  /// This node and every node under it, each before its operands.
  var nodes: [Expression] {
    switch kind {
    case .number, .literal, .name: [self]
    case .negate(let operand), .elementwise(_, let operand): [self] + operand.nodes
    case .binary(_, let lhs, let rhs): [self] + lhs.nodes + rhs.nodes
    case .call(_, let arguments): [self] + arguments.flatMap(\.nodes)
    case .slice(let base, _): [self] + base.nodes
    }
  }
}

enum BinaryOperator: String {
  case add = "+"
  case subtract = "-"
  case multiply = "*"
  case divide = "/"
  case power = "^"
  case matmul = "@"
}

/// A subscript: one position, or a range of them, along the first axis.
struct Subscript {
  var lower: Int?
  var upper: Int?
  /// `x[i]` rather than `x[i:j]`: the axis is dropped.
  var isIndex: Bool
}

/// The functions of the expression language, named as the library names them, with the
/// arities each accepts. A call matches a name in any case (`logsumexp`, `logSumExp`), and the
/// older spellings `softmax_composed` and `logsoftmax` still work.
enum Function: String, CaseIterable {
  case pow, sum, mean, max, softmax
  case logsoftmax = "logSoftmax"
  case logsumexp = "logSumExp"
  case softmaxComposed = "composedSoftmax"
  // Elementwise with a constant, one operand or two.
  case leakyRelu, elu
  // Elementwise, two or three operands.
  case atan2, hypot, squaredDifference, min, clamp, select
  // Reductions and shapes.
  case prod, variance, standardDeviation, concatenate, stack, flattened
  // Losses.
  case meanSquaredError, binaryCrossEntropy, huberLoss, crossEntropy

  /// The function a call names: its spelling in any case, or an older alias.
  static func named(_ name: String) -> Function? {
    let key = name.lowercased()
    if key == "softmax_composed" { return .softmaxComposed }
    if key == "std" { return .standardDeviation }
    return lookup[key]
  }

  private static let lookup = Dictionary(
    uniqueKeysWithValues: allCases.map { ($0.rawValue.lowercased(), $0) })

  /// Whether the operand at `position` is held constant: data, such as labels, that the
  /// result is not differentiated in.
  func holdsConstant(position: Int) -> Bool {
    switch self {
    case .binaryCrossEntropy, .crossEntropy: position == 1
    default: false
    }
  }

  /// The spellings of every function that takes one operand, for the fuzzer's generator: the
  /// library's elementwise functions, then this table's.
  static var oneOperandNames: [String] {
    Elementwise.names + allCases.filter { $0.arities.contains(1) }.map(\.rawValue)
  }

  /// Whether `name`, in any case, names a function of either table.
  static func isFunction(_ name: String) -> Bool {
    named(name) != nil || Elementwise.named(name) != nil
  }

  var arities: ClosedRange<Int> {
    switch self {
    case .pow, .atan2, .hypot, .squaredDifference, .meanSquaredError, .binaryCrossEntropy,
      .crossEntropy:
      2...2
    case .max, .min, .leakyRelu, .elu: 1...2
    case .huberLoss: 2...3
    case .clamp, .select: 3...3
    case .concatenate, .stack: 1...64
    default: 1...1
    }
  }
}

/// The library's elementwise functions of one operand (exp, sin, relu, gelu, …), read from its
/// registry: a function added there is callable here, with no edit to the command.
enum Elementwise {
  /// Their spellings, in the library's order.
  static let names = Variable.elementwiseFunctions.map(\.name)

  private static let lookup = Dictionary(
    uniqueKeysWithValues: Variable.elementwiseFunctions.map { ($0.name.lowercased(), $0) })

  /// The function a call names, in any case: its spelling and the function itself.
  static func named(_ name: String) -> ElementwiseFunction? {
    lookup[name.lowercased()]
  }
}
