import Backprop

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
        try requireConstantExponent(rhs, shape: b, op: "'^'")
        tally.add(operations: 2 * count(a), stored: count(a))
        return a
      case .matmul:
        guard a.count == 2, b.count == 2 else {
          throw CommandError(
            "'@' needs two matrices, got shapes \(a) and \(b)", in: source, at: column)
        }
        guard a[1] == b[0] else {
          throw CommandError(
            "'@' of shapes \(a) and \(b): the inner dimensions \(a[1]) and \(b[0]) differ",
            in: source, at: column)
        }
        let result = try limited([a[0], b[1]], at: column)
        tally.add(operations: count(a) * Double(b[1]), stored: count(result))
        return result
      }
    case .call(let function, let arguments):
      let shapes = try arguments.map { argument throws(CommandError) in try shape(of: argument) }
      let result = try callShape(function, arguments, shapes, at: column)
      // Composed functions record several entries of the input's size: logsumexp five,
      // softmax_composed six, relu a mask and a selection.
      let input = count(shapes[0])
      switch function {
      case .exp, .log, .sqrt, .tanh, .sigmoid, .max, .sum:
        tally.add(operations: Swift.max(input, count(result)), stored: count(result))
      case .mean, .relu, .pow:
        tally.add(operations: 2 * input, stored: 2 * count(result))
      case .softmax, .logsoftmax:
        tally.add(operations: 4 * input, stored: 2 * input)
      case .logsumexp, .softmaxComposed:
        tally.add(operations: 6 * input, stored: 6 * input)
      }
      return result
    }
  }

  /// The shape of a call's result, given its arguments' shapes.
  private func callShape(
    _ function: Function, _ arguments: [Expression], _ shapes: [[Int]], at column: Int
  ) throws(CommandError) -> [Int] {
    switch function {
    case .exp, .log, .sqrt, .tanh, .sigmoid, .relu: return shapes[0]
    case .sum, .mean: return []
    case .max:
      return shapes.count == 1 ? [] : try broadcast(shapes[0], shapes[1], op: "max", at: column)
    case .pow:
      try requireConstantExponent(arguments[1], shape: shapes[1], op: "pow")
      return shapes[0]
    case .logsumexp:
      // Over every scalar, like sum and max here and logSumExp(_:) in the library.
      return []
    case .softmax, .softmaxComposed, .logsoftmax:
      guard !shapes[0].isEmpty else {
        throw CommandError(
          "\(function.rawValue) works along the last axis and needs a vector or matrix, "
            + "not a scalar", in: source, at: column)
      }
      return shapes[0]
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

  /// Backprop's power takes a constant exponent: a scalar expression with no variables.
  private func requireConstantExponent(
    _ exponent: Expression, shape: [Int], op: String
  ) throws(CommandError) {
    if let name = exponent.names.first {
      throw CommandError(
        "the exponent of \(op) must be a constant number, but it uses '\(abbreviated(name))'",
        in: source, at: exponent.column)
    }
    guard shape.isEmpty else {
      throw CommandError(
        "the exponent of \(op) must be a scalar, not shape \(shape)", in: source,
        at: exponent.column)
    }
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
    case .power: return pow(a, constant(rhs))
    }
  case .call(let function, let arguments):
    let x = evaluate(arguments[0], variables)
    switch function {
    case .exp: return exp(x)
    case .log: return log(x)
    case .sqrt: return sqrt(x)
    case .tanh: return tanh(x)
    case .sigmoid: return sigmoid(x)
    case .relu: return relu(x)
    case .pow: return pow(x, constant(arguments[1]))
    case .sum: return x.sum()
    case .mean: return x.mean()
    case .max: return arguments.count == 1 ? x.max() : max(x, evaluate(arguments[1], variables))
    case .softmax: return softmax(x)
    case .softmaxComposed: return composedSoftmax(x)
    case .logsoftmax: return logSoftmax(x)
    case .logsumexp: return logSumExp(x)
    }
  }
}

/// The value of a checked constant scalar expression.
private func constant(_ expression: Expression) -> Double {
  evaluate(expression, [:]).value.scalar!
}
