import Backprop
import Foundation

/// Checks an expression's shapes against the bound variables before anything is evaluated, so
/// that every error is a message and no precondition in the library can fire.
struct Checker {
  /// The most scalars any intermediate result may hold: beyond it, a mistyped broadcast such as
  /// [10⁶, 1] + [1, 10⁶] would exhaust memory instead of answering.
  static let maximumScalars = 50_000_000

  let source: String
  let shapes: [String: [Int]]
  /// What evaluating the expression will cost, added up as its nodes are checked.
  let tally = Tally()

  /// The shape of `expression`'s value; adds the node's cost to ``tally``.
  func shape(of expression: Expression) throws(CommandError) -> [Int] {
    let shape = try nodeShape(of: expression)
    if case .literal = expression.kind { tally.add(stored: count(shape)) }
    return shape
  }

  private func count(_ shape: [Int]) -> Double { shape.reduce(1.0) { $0 * Double($1) } }

  private func nodeShape(of expression: Expression) throws(CommandError) -> [Int] {
    let column = expression.column
    switch expression.kind {
    case .number: return []
    case .literal(let value): return value.shape
    case .name(let name):
      guard let shape = shapes[name] else {
        throw CommandError(
          "unbound variable '\(abbreviated(name))' — bind it with --at \(abbreviated(name))=…",
          in: source, at: column)
      }
      return shape
    case .negate(let operand):
      let result = try shape(of: operand)
      tally.add(operations: count(result), stored: count(result))
      return result
    case .binary(let op, let lhs, let rhs):
      let (a, b) = (try shape(of: lhs), try shape(of: rhs))
      switch op {
      case .add, .subtract, .multiply, .divide:
        let result = try broadcast(a, b, op: "'\(op.rawValue)'", at: column)
        tally.add(operations: count(result), stored: count(result))
        return result
      case .power:
        // A constant scalar exponent records one `pow`; any other broadcasts, both operands
        // differentiable.
        let result =
          isConstantScalar(rhs, shape: b) ? a : try broadcast(a, b, op: "'^'", at: column)
        tally.add(operations: 4 * count(result), stored: 2 * count(result))
        return result
      case .matmul:
        // The library's matmul ranks (NumPy's): matrix or vector on either side, or a batch of
        // matrices on the left, times a matrix, a vector or a batch of the same length.
        guard (1...3).contains(a.count), (1...3).contains(b.count), !(a.count < 3 && b.count == 3)
        else {
          throw CommandError(
            "'@' takes matrices, vectors or a batch of matrices on the left (and then on the "
              + "right), got shapes \(a) and \(b)", in: source, at: column)
        }
        let inner = b.count == 1 ? b[0] : b[b.count - 2]
        guard a.last == inner else {
          throw CommandError(
            "'@' of shapes \(a) and \(b): the inner dimensions \(a.last!) and \(inner) differ",
            in: source, at: column)
        }
        if a.count == 3 && b.count == 3 && a[0] != b[0] {
          throw CommandError(
            "'@' of shapes \(a) and \(b): batches of \(a[0]) and \(b[0]) matrices differ",
            in: source, at: column)
        }
        let columns = b.count == 1 ? [] : [b[b.count - 1]]
        let result = try limited(Array(a.dropLast()) + columns, at: column)
        tally.add(
          operations: count(a) * Double(columns.first ?? 1), stored: count(result),
          entries: Double(a.count == 3 && b.count == 3 ? 2 * a[0] + 1 : 3))
        return result
      }
    case .slice(let base, let selection):
      let shape = try shape(of: base)
      let range = try bounds(of: selection, in: shape, at: column)
      let result =
        selection.isIndex ? Array(shape.dropFirst()) : [range.count] + Array(shape.dropFirst())
      tally.add(operations: count(result), stored: 2 * count(result))
      return result
    case .elementwise(let function, let operand):
      // One entry: its value, and y′ beside it for a function that keeps it (gelu, swish).
      let result = try shape(of: operand)
      let copies = function.keepsDerivative ? 2.0 : 1.0
      tally.add(operations: count(result), stored: copies * count(result))
      return result
    case .call(let function, let arguments):
      let shapes = try arguments.map { argument throws(CommandError) in try shape(of: argument) }
      let result = try callShape(function, arguments, shapes, at: column)
      // Composed functions record several entries of the input's size: composedSoftmax six,
      // prod a tree of halves, a loss several.
      let largest = shapes.map(count).max() ?? 1
      let size = Swift.max(largest, count(result))
      switch function {
      case .max, .sum, .flattened:
        tally.add(operations: size, stored: count(result))
      case .softmax, .logsoftmax:
        tally.add(operations: 4 * size, stored: 2 * size)
      case .concatenate, .stack:
        let pieces = Double(shapes.count)
        tally.add(operations: pieces * size, stored: (pieces + 1) * size, entries: 3 * pieces)
      case .prod:
        // Two slices and a product per level of the tree of halves.
        let levels = Foundation.log2(Swift.max(size, 1)).rounded(.up) + 1
        tally.add(operations: 4 * size, stored: 3 * size, entries: 4 * levels)
      default:
        tally.add(operations: 8 * size, stored: 6 * size, entries: 8)
      }
      return result
    }
  }

  /// The shape of a call's result, given its arguments' shapes.
  private func callShape(
    _ function: Function, _ arguments: [Expression], _ shapes: [[Int]], at column: Int
  ) throws(CommandError) -> [Int] {
    let name = function.rawValue
    switch function {
    case .sum, .mean, .logsumexp, .prod, .variance, .standardDeviation:
      return []
    case .max, .min:
      return shapes.count == 1 ? [] : try broadcast(shapes[0], shapes[1], op: name, at: column)
    case .pow:
      return isConstantScalar(arguments[1], shape: shapes[1])
        ? shapes[0] : try broadcast(shapes[0], shapes[1], op: "pow", at: column)
    case .atan2, .hypot, .squaredDifference:
      return try broadcast(shapes[0], shapes[1], op: name, at: column)
    case .leakyRelu, .elu:
      if arguments.count == 2 { try requireConstant(arguments[1], shapes[1], "\(name)'s alpha") }
      return shapes[0]
    case .clamp:
      try requireConstant(arguments[1], shapes[1], "clamp's lower bound")
      try requireConstant(arguments[2], shapes[2], "clamp's upper bound")
      let (lower, upper) = (constant(arguments[1]), constant(arguments[2]))
      guard lower <= upper else {
        throw CommandError(
          "clamp's lower bound \(lower) is above its upper bound \(upper)", in: source, at: column)
      }
      return shapes[0]
    case .select:
      if let used = arguments[0].names.first {
        throw CommandError(
          "select's condition must be constant, but it uses '\(abbreviated(used))'", in: source,
          at: arguments[0].column)
      }
      let pair = try broadcast(shapes[1], shapes[2], op: "select", at: column)
      return try broadcast(pair, shapes[0], op: "select", at: column)
    case .softmax, .softmaxComposed, .logsoftmax:
      guard !shapes[0].isEmpty else {
        throw CommandError(
          "\(name) works along the last axis and needs a vector or matrix, not a scalar",
          in: source, at: column)
      }
      return shapes[0]
    case .flattened:
      return [shapes[0].reduce(1, *)]
    case .concatenate, .stack:
      let first = shapes[0]
      guard !first.isEmpty || function == .stack else {
        throw CommandError(
          "concatenate joins along the first axis; a scalar has none", in: source, at: column)
      }
      for (position, shape) in shapes.enumerated() {
        let agrees =
          function == .stack
          ? shape == first : shape.count == first.count && shape.dropFirst() == first.dropFirst()
        guard agrees else {
          throw CommandError(
            "\(name) of shapes \(first) and \(shape): they must agree"
              + (function == .stack ? "" : " except along the first axis"),
            in: source, at: arguments[position].column)
        }
      }
      return try limited(
        function == .stack
          ? [shapes.count] + first : [shapes.map { $0[0] }.reduce(0, +)] + first.dropFirst(),
        at: column)
    case .meanSquaredError, .huberLoss:
      _ = try broadcast(shapes[0], shapes[1], op: name, at: column)
      if arguments.count == 3 { try requireConstant(arguments[2], shapes[2], "huberLoss's delta") }
      if arguments.count == 3 && !(constant(arguments[2]) > 0) {
        throw CommandError(
          "huberLoss's delta must be positive", in: source, at: arguments[2].column)
      }
      return []
    case .binaryCrossEntropy:
      _ = try broadcast(shapes[0], shapes[1], op: name, at: column)
      return []
    case .crossEntropy:
      guard shapes[0].count == 2 && shapes[1] == shapes[0] else {
        throw CommandError(
          "crossEntropy takes logits and probabilities as matrices of one shape, got \(shapes[0])"
            + " and \(shapes[1])", in: source, at: column)
      }
      return []
    }
  }

  /// The range a subscript takes along the first axis of `shape`, with Python's conventions.
  private func bounds(of selection: Subscript, in shape: [Int], at column: Int) throws(CommandError)
    -> Range<Int>
  {
    guard let length = shape.first else {
      throw CommandError("a scalar has no axis to subscript", in: source, at: column)
    }
    func resolve(_ position: Int?, _ otherwise: Int) -> Int {
      guard let position else { return otherwise }
      return position < 0 ? position + length : position
    }
    if selection.isIndex {
      let index = resolve(selection.lower, 0)
      guard (0..<length).contains(index) else {
        throw CommandError(
          "index \(selection.lower ?? 0) is out of range for the first axis of shape \(shape)",
          in: source, at: column)
      }
      return index..<(index + 1)
    }
    let (lower, upper) = (resolve(selection.lower, 0), resolve(selection.upper, length))
    // Not empty either: like an empty literal, an empty slice would reach reductions (max,
    // softmax) that have no value on no entries.
    guard 0 <= lower && lower < upper && upper <= length else {
      throw CommandError(
        "the range \(selection.lower.map(String.init) ?? ""):\(selection.upper.map(String.init) ?? "")"
          + " is empty or not within the first axis of shape \(shape)", in: source, at: column)
    }
    return lower..<upper
  }

  /// Whether an expression is a constant scalar: no variables, shape [].
  private func isConstantScalar(_ expression: Expression, shape: [Int]) -> Bool {
    expression.names.isEmpty && shape.isEmpty
  }

  /// Requires a constant scalar, naming what it is for.
  private func requireConstant(
    _ expression: Expression, _ shape: [Int], _ what: String
  ) throws(CommandError) {
    if let name = expression.names.first {
      throw CommandError(
        "\(what) must be a constant number, but it uses '\(abbreviated(name))'", in: source,
        at: expression.column)
    }
    guard shape.isEmpty else {
      throw CommandError(
        "\(what) must be a scalar, not shape \(shape)", in: source, at: expression.column)
    }
  }

  private func broadcast(_ a: [Int], _ b: [Int], op: String, at column: Int) throws(CommandError)
    -> [Int]
  {
    let rank = Swift.max(a.count, b.count)
    let paddedA = [Int](repeating: 1, count: rank - a.count) + a
    let paddedB = [Int](repeating: 1, count: rank - b.count) + b
    var result: [Int] = []
    for (x, y) in zip(paddedA, paddedB) {
      guard x == y || x == 1 || y == 1 else {
        throw CommandError(
          "shapes \(a) and \(b) do not broadcast for \(op)",
          in: source, at: column)
      }
      result.append(x == 1 ? y : x)
    }
    return try limited(result, at: column)
  }

  private func limited(_ shape: [Int], at column: Int) throws(CommandError) -> [Int] {
    var count = 1
    for axis in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: axis)
      guard !overflow, product <= Self.maximumScalars else {
        throw CommandError(
          "this result would have shape \(shape), more than \(Self.maximumScalars) scalars",
          in: source, at: column)
      }
      count = product
    }
    return shape
  }
}

/// Evaluates a checked expression on variables: recorded on a tape where they are taped, at once
/// where they are constants.
func evaluate(_ expression: Expression, _ variables: [String: Variable]) -> Variable {
  switch expression.kind {
  case .number(let value): return Variable(value)
  case .literal(let value): return Variable(value)
  case .name(let name): return variables[name]!
  case .negate(let operand): return -evaluate(operand, variables)
  case .binary(let op, let lhs, let rhs):
    let a = evaluate(lhs, variables)
    switch op {
    case .add: return a + evaluate(rhs, variables)
    case .subtract: return a - evaluate(rhs, variables)
    case .multiply: return a * evaluate(rhs, variables)
    case .divide: return a / evaluate(rhs, variables)
    case .matmul: return matmul(a, evaluate(rhs, variables))
    case .power:
      let exponent = evaluate(rhs, variables)
      return rhs.names.isEmpty && exponent.shape.isEmpty
        ? pow(a, exponent.value.scalar!) : pow(a, exponent)
    }
  case .slice(let base, let selection):
    let x = evaluate(base, variables)
    let length = x.shape[0]
    func resolve(_ position: Int?, _ otherwise: Int) -> Int {
      guard let position else { return otherwise }
      return position < 0 ? position + length : position
    }
    if selection.isIndex { return x[resolve(selection.lower, 0)] }
    return x[resolve(selection.lower, 0)..<resolve(selection.upper, length)]
  case .elementwise(let function, let operand):
    return function.apply(evaluate(operand, variables))
  case .call(let function, let arguments):
    let x = evaluate(arguments[0], variables)
    func argument(_ position: Int) -> Variable { evaluate(arguments[position], variables) }
    switch function {
    case .leakyRelu:
      return arguments.count == 2 ? leakyRelu(x, alpha: constant(arguments[1])) : leakyRelu(x)
    case .elu: return arguments.count == 2 ? elu(x, alpha: constant(arguments[1])) : elu(x)
    case .pow:
      return arguments[1].names.isEmpty && argument(1).shape.isEmpty
        ? pow(x, constant(arguments[1])) : pow(x, argument(1))
    case .atan2: return atan2(x, argument(1))
    case .hypot: return hypot(x, argument(1))
    case .squaredDifference: return squaredDifference(x, argument(1))
    case .min: return arguments.count == 1 ? x.min() : min(x, argument(1))
    case .clamp: return clamp(x, min: constant(arguments[1]), max: constant(arguments[2]))
    case .select: return select(x.value, argument(1), argument(2))
    case .sum: return x.sum()
    case .mean: return x.mean()
    case .max: return arguments.count == 1 ? x.max() : max(x, argument(1))
    case .prod: return x.prod()
    case .variance: return x.variance()
    case .standardDeviation: return x.standardDeviation()
    case .flattened: return x.flattened()
    case .concatenate: return concatenate(arguments.indices.map(argument), alongAxis: 0)
    case .stack: return stack(arguments.indices.map(argument), alongAxis: 0)
    case .softmax: return softmax(x)
    case .softmaxComposed: return composedSoftmax(x)
    case .logsoftmax: return logSoftmax(x)
    case .logsumexp: return logSumExp(x)
    case .meanSquaredError: return meanSquaredError(predicted: x, expected: argument(1))
    case .huberLoss:
      return huberLoss(
        predicted: x, expected: argument(1),
        delta: arguments.count == 3 ? constant(arguments[2]) : 1)
    // Labels and probabilities are data: held constant.
    case .binaryCrossEntropy: return binaryCrossEntropy(logits: x, labels: argument(1).value)
    case .crossEntropy: return crossEntropy(logits: x, probabilities: argument(1).value)
    }
  }
}

/// Stops at labels of `binaryCrossEntropy` outside [0, 1], which the library refuses (a
/// programmer error there): values, not shapes, so found once the variables are bound and the
/// budget checked, before anything is differentiated.
func checkLabels(
  in expression: Expression, _ variables: [String: Variable], source: String
) throws(CommandError) {
  for node in expression.nodes {
    guard case .call(.binaryCrossEntropy, let arguments) = node.kind else { continue }
    let labels = evaluate(arguments[1], variables).value.scalars
    if let index = labels.firstIndex(where: { $0 < 0 || $0 > 1 }) {
      throw CommandError(
        "binaryCrossEntropy's labels must be in [0, 1], but entry \(index) is "
          + Output.number(labels[index]), in: source, at: arguments[1].column)
    }
  }
}

/// The value of a checked constant scalar expression.
func constant(_ expression: Expression) -> Double {
  evaluate(expression, [:]).value.scalar!
}
