// Forward mode, Hessian-vector products and Jacobians by either mode.
//
// Jacobian-vector products come from the reverse sweep run twice: the pullback u ↦ Jᵀu is
// recorded on the tape as a function of a placeholder cotangent u (it is linear in u), and
// J v = ∇ᵤ ⟨Jᵀu, v⟩ is one more reverse sweep, through that recording. So a JVP costs a small
// constant times the function, like a reverse gradient, with no forward rule to write for any
// primitive, and it is exact, not a finite difference (the "double VJP" of JAX's `linear_transpose`
// and of Swift for TensorFlow's early forward mode).

/// The value of `f` at `x` and its differential: the Jacobian-vector product v ↦ J v, taking a
/// tangent of x's shape to one of the result's shape.
///
/// The function is recorded once, with its pullback as a function of a placeholder cotangent;
/// each call of the differential is then one reverse sweep through that recording, a small
/// constant times the cost of `f`, whatever the size of x.
///
/// ```swift
/// let (value, differential) = valueWithDifferential(at: [1, 2]) { x in softmax(x) }
/// differential([1, 0])   // the first column of the softmax Jacobian
/// ```
///
/// - Precondition (of the differential): the tangent has x's shape.
public func valueWithDifferential(
  at x: Tensor, of f: (Variable) -> Variable
) -> (value: Tensor, differential: (Tensor) -> Tensor) {
  let tape = Tape()
  let input = tape.variable(x)
  return tape.valueWithDifferential(of: f(input), at: input, x: x)
}

extension Tape {
  /// ``valueWithDifferential(at:of:)`` for a result `y` already recorded from `input`.
  func valueWithDifferential(
    of y: Variable, at input: Variable, x: Tensor
  ) -> (value: Tensor, differential: (Tensor) -> Tensor) {
    let tape = self
    let outputShape = y.shape
    guard let output = tape.requireOnThisTape(y, op: "valueWithDifferential(at:of:)"),
      tape.entries[Int(output)].needsGradient
    else {
      return (y.value, { _ in .zeros(outputShape) })
    }
    // The pullback of a placeholder cotangent u, recorded: g(u) = Jᵀu.
    let placeholder = tape.variable(.zeros(outputShape))
    let adjoints: [Variable?] = tape.reverseSweep(from: output, seed: placeholder)
    let pulledBack = adjoints[Int(tape.requireRecorded(input, op: "differential"))]
    return (
      y.value,
      { tangent in
        require(
          tangent.shape == x.shape,
          "differential: tangent shape \(tangent.shape) is not the input's \(x.shape)")
        guard let pulledBack else { return .zeros(outputShape) }
        // J v = ∇ᵤ ⟨Jᵀu, v⟩.
        let product = (pulledBack * tangent).sum()
        return tape.pullback(
          of: product, seed: Tensor(1), wrt: placeholder, op: "differential")
      }
    )
  }
}

/// The differential of `f` at `x`: the Jacobian-vector product v ↦ J v.
public func differential(at x: Tensor, of f: (Variable) -> Variable) -> (Tensor) -> Tensor {
  valueWithDifferential(at: x, of: f).differential
}

/// The Hessian of a scalar function times a vector, H v, exact to rounding, at the cost of a
/// small constant times one gradient: the gradient is recorded (reverse over reverse) and
/// ⟨∇f, v⟩ differentiated once more. The full Hessian is never formed.
///
/// - Precondition: `f(x)` holds one scalar and `v` has x's shape.
public func hessianVectorProduct(
  at x: Tensor, _ v: Tensor, of f: (Variable) -> Variable
) -> Tensor {
  let op = "hessianVectorProduct(at:_:of:)"
  require(v.shape == x.shape, "\(op): vector shape \(v.shape) is not the input's \(x.shape)")
  let tape = Tape()
  let input = tape.variable(x)
  let y = f(input)
  Variable.requireScalar(y.shape, op: op)
  let g = gradient(of: y, wrt: input)
  guard g.tape != nil else { return .zeros(x.shape) }
  return tape.pullback(of: (g * v).sum(), seed: Tensor(1), wrt: input, op: op)
}

/// The Jacobian of `f` at `x` in forward mode: one Jacobian-vector product per input scalar,
/// each giving a column. Cheaper than ``jacobianReverse(at:of:)`` when x has fewer scalars
/// than f(x).
public func jacobianForward(at x: Tensor, of f: (Variable) -> Variable) -> Tensor {
  let (value, differential) = valueWithDifferential(at: x, of: f)
  return Tensor.columns(count: x.scalarCount, outputShape: value.shape, inputShape: x.shape) {
    differential(.oneHot(x.shape, at: $0))
  }
}

extension Tensor {
  /// A Jacobian of shape outputShape + inputShape assembled from its columns.
  static func columns(
    count columns: Int, outputShape: [Int], inputShape: [Int], _ column: (Int) -> Tensor
  ) -> Tensor {
    let rows = outputShape.reduce(1, *)
    var scalars = [Double](repeating: 0, count: rows * columns)
    for index in 0..<columns {
      column(index).withUnsafeScalars { entries in
        for row in 0..<rows { scalars[row * columns + index] = entries[row] }
      }
    }
    return Tensor(shape: outputShape + inputShape, scalars: scalars)
  }
}

/// The Jacobian of `f` at `x` in reverse mode: one reverse sweep per output scalar, each giving
/// a row. Cheaper than ``jacobianForward(at:of:)`` when f(x) has fewer scalars than x.
public func jacobianReverse(at x: Tensor, of f: (Variable) -> Variable) -> Tensor {
  let tape = Tape()
  let input = tape.variable(x)
  return tape.jacobian(of: f(input), wrt: input, op: "jacobianReverse(at:of:)")
}

// MARK: - Many inputs

/// The value of `f` at `xs` and its gradient with respect to each input, for `f` with a scalar
/// result: one reverse sweep, however many inputs.
///
/// - Precondition: `f(xs)` holds exactly one scalar.
public func valueWithGradient(
  at xs: [Tensor], of f: ([Variable]) -> Variable
) -> (value: Tensor, gradient: [Tensor]) {
  let (value, gradients) = valueWithGradients(
    at: xs, op: "gradient(at:of:) with many inputs", of: f)
  return (value, gradients)
}

/// The gradient of `f` with respect to each of its inputs, for `f` with a scalar result.
///
/// ```swift
/// let (w, b) = (Tensor([[0.5], [-1]]), Tensor([0.1]))
/// let g = gradient(at: [w, b]) { p in (matmul(Variable(x), p[0]) + p[1]).sum() }
/// ```
public func gradient(at xs: [Tensor], of f: ([Variable]) -> Variable) -> [Tensor] {
  valueWithGradient(at: xs, of: f).gradient
}

/// The Hessian of a scalar function of several inputs, as blocks: `blocks[i][j]` is
/// ∂²f/∂xᵢ∂xⱼ, of shape xs[i].shape + xs[j].shape. The gradient with respect to every input is
/// recorded by one sweep, then each of its scalars swept once.
///
/// - Precondition: `f(xs)` holds exactly one scalar.
public func hessian(at xs: [Tensor], of f: ([Variable]) -> Variable) -> [[Tensor]] {
  let op = "hessian(at:of:) with many inputs"
  let tape = Tape()
  let inputs = xs.map { tape.variable($0) }
  let y = f(inputs)
  Variable.requireScalar(y.shape, op: op)
  guard let output = tape.requireOnThisTape(y, op: op), tape.entries[Int(output)].needsGradient
  else {
    return xs.map { a in xs.map { b in .zeros(a.shape + b.shape) } }
  }
  let adjoints: [Variable?] = tape.reverseSweep(from: output, seed: Variable(.ones(y.shape)))
  let gradients = inputs.map { input in
    adjoints[Int(tape.requireRecorded(input, op: op))] ?? Variable(.zeros(input.shape))
  }
  return zip(xs, gradients).map { x, g in
    // Rows of block row i: one sweep per scalar of gᵢ, read at every input.
    var rows = xs.map { [Double](repeating: 0, count: x.scalarCount * $0.scalarCount) }
    if let index = g.index, tape.entries[index].needsGradient {
      for row in 0..<x.scalarCount {
        let seeded = tape.pullback(
          of: g, seed: .oneHot(x.shape, at: row), wrt: inputs, op: op)
        for (j, block) in seeded.enumerated() {
          let width = xs[j].scalarCount
          block.withUnsafeScalars { entries in
            for column in 0..<width { rows[j][row * width + column] = entries[column] }
          }
        }
      }
    }
    return xs.indices.map { j in Tensor(shape: x.shape + xs[j].shape, scalars: rows[j]) }
  }
}

extension Variable {
  /// The same value as a constant: the gradient stops here (JAX's `stop_gradient`, PyTorch's
  /// `detach`). The one way to make a value constant.
  ///
  /// ```swift
  /// gradient(at: [1, 2]) { x in (x * x.detached()).sum() }   // [1, 2], not [2, 4]
  /// ```
  public func detached() -> Variable { Variable(value) }
}
