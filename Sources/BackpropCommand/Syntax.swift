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

  /// `error: …`, then for an expression error the source with a caret under the column.
  var rendered: String {
    var text = "error: \(message)\n"
    if let (source, column) = location {
      let shown = Self.visibleWindow(of: source, around: column)
      text += "  \(shown.text)\n  \(String(repeating: " ", count: shown.column))^\n"
    }
    return text
  }

  /// `{"error": "…", "column": n}` on one line, for `--json`: the message, and the 0-based
  /// column in the expression when the error has one.
  var json: String {
    var members = [("error", Output.json(message))]
    if let (_, column) = location { members.append(("column", "\(column)")) }
    return Output.object(members) + "\n"
  }

  /// At most ~70 characters of a long source around the column, so a caret stays readable.
  static func visibleWindow(of source: String, around column: Int) -> (text: String, column: Int) {
    let characters = Array(source)
    guard characters.count > 72 else { return (source, column) }
    let start = Swift.max(0, Swift.min(column - 35, characters.count - 70))
    let end = Swift.min(characters.count, start + 70)
    let prefix = start > 0 ? "…" : ""
    let suffix = end < characters.count ? "…" : ""
    return (prefix + String(characters[start..<end]) + suffix, column - start + prefix.count)
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
    }
  }

  /// The names of the variables the expression uses, in order of first use.
  var names: [String] {
    var seen: [String] = []
    func visit(_ expression: Expression) {
      switch expression.kind {
      case .number, .literal: break
      case .name(let name): if !seen.contains(name) { seen.append(name) }
      case .negate(let operand): visit(operand)
      case .binary(_, let lhs, let rhs):
        visit(lhs)
        visit(rhs)
      case .call(_, let arguments): arguments.forEach(visit)
      }
    }
    visit(self)
    return seen
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

/// The functions of the expression language, with the arities each accepts.
enum Function: String, CaseIterable {
  case exp, log, sqrt, tanh, sigmoid, relu, pow, sum, mean, max, softmax, logsoftmax, logsumexp
  case softmaxComposed = "softmax_composed"

  var arities: [Int] {
    switch self {
    case .pow: [2]
    case .max: [1, 2]
    default: [1]
    }
  }
}
