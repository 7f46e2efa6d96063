// The differential operators, named as Swift's `_Differentiation` names them. Each makes a fresh
// tape, records the function on it, and sweeps it backwards; the tape is the caller's alone, so
// these are safe to call from many tasks at once.

// MARK: - Gradients on a tape

extension Tape {
  /// The gradient ∂y/∂x of a scalar `y` with respect to `x`, both on this tape.
  ///
  /// It is also what `x.grad` reads afterwards. Unlike ``Variable/backward()``, the sweep keeps
  /// no other adjoint, so the `grad` of any other entry is `nil` until the next sweep.
  ///
  /// - Precondition: `y` holds one scalar; `x` is recorded on this tape.
  public func gradient(of y: Variable, wrt x: Variable) -> Tensor {
    Variable.requireScalar(y.shape, op: "gradient(of:wrt:)")
    let gradient = pullback(of: y, seed: .ones(y.shape), wrt: x, op: "gradient(of:wrt:)")
    keep([(x, gradient)])
    return gradient
  }

  /// The gradients ∂y/∂xᵢ of a scalar `y` with respect to each of `xs`, in order; each `x.grad`
  /// reads its gradient afterwards, as for ``gradient(of:wrt:)-(_,Variable)``.
  ///
  /// - Precondition: `y` holds one scalar; every `x` is recorded on this tape.
  public func gradient(of y: Variable, wrt xs: [Variable]) -> [Tensor] {
    Variable.requireScalar(y.shape, op: "gradient(of:wrt:)")
    let gradients = pullback(of: y, seed: .ones(y.shape), wrt: xs, op: "gradient(of:wrt:)")
    keep(Array(zip(xs, gradients)))
    return gradients
  }

  /// Makes `gradients` what the inputs' ``Variable/grad`` reads, in place of the last sweep's.
  private func keep(_ gradients: [(Variable, Tensor)]) {
    adjoints = []
    requestedGradients = gradients.compactMap { x, gradient in
      x.index.map { (Int32($0), gradient) }
    }
  }

  /// The vector-Jacobian products seedᵀ ∂y/∂xᵢ for each of `xs`: one reverse sweep from `y`,
  /// which may be the tape's last (`consuming`; see ``reverseSweep(from:seed:consuming:)``).
  func pullback(
    of y: Variable, seed: Tensor, wrt xs: [Variable], op: String, consuming: Bool = false
  ) -> [Tensor] {
    require(
      seed.shape == y.shape, "\(op): cotangent shape \(seed.shape) is not the result's \(y.shape)")
    let indices = xs.map { self.requireRecorded($0, op: op) }
    guard let output = requireOnThisTape(y, op: op) else {
      return xs.map { .zeros($0.shape) }  // a result that is a constant has zero derivative
    }
    let adjoints: [Tensor?] = reverseSweep(from: output, seed: seed, consuming: consuming)
    return zip(indices, xs).map { index, x in adjoint(of: x, at: index, in: adjoints) }
  }

  /// ``pullback(of:seed:wrt:op:consuming:)`` for one input, without the arrays of inputs and
  /// results: the path of `gradient(at:of:)`, where a small gradient costs about a
  /// microsecond and each allocation is a few percent of it.
  func pullback(
    of y: Variable, seed: Tensor, wrt x: Variable, op: String, consuming: Bool = false
  ) -> Tensor {
    require(
      seed.shape == y.shape, "\(op): cotangent shape \(seed.shape) is not the result's \(y.shape)")
    let index = requireRecorded(x, op: op)
    guard let output = requireOnThisTape(y, op: op) else { return .zeros(x.shape) }
    return adjoint(of: index, sweepingFrom: output, seed: seed, consuming: consuming)
      ?? .zeros(x.shape)
  }

  /// The adjoint of input `x` at `index`, zeros if the output does not depend on it.
  private func adjoint(of x: Variable, at index: Int32, in adjoints: [Tensor?]) -> Tensor {
    Int(index) < adjoints.count ? adjoints[Int(index)] ?? .zeros(x.shape) : .zeros(x.shape)
  }

  /// The index of a variable that must be on this tape.
  func requireRecorded(_ x: Variable, op: String) -> Int32 {
    guard case .recorded(let tape, let index, let generation) = x.node else {
      fail("\(op): the input is a constant; record it with Tape.variable(_:)")
    }
    require(tape === self, "\(op): the input and the result are on two different tapes")
    requireCurrent(generation, op: op)
    return index
  }

  /// The index of a result on this tape, or `nil` if it is a constant.
  func requireOnThisTape(_ y: Variable, op: String) -> Int32? {
    guard case .recorded(let tape, let index, let generation) = y.node else { return nil }
    require(tape === self, "\(op): the result and the input are on two different tapes")
    requireCurrent(generation, op: op)
    return index
  }

  /// The Jacobian ∂y/∂x, of shape y.shape + x.shape: one reverse sweep per scalar of `y`, each
  /// seeded with a one-hot cotangent, gives one row.
  func jacobian(of y: Variable, wrt x: Variable, op: String) -> Tensor {
    let input = requireRecorded(x, op: op)
    let (rows, columns) = (y.value.scalarCount, x.value.scalarCount)
    var scalars = [Double](repeating: 0, count: rows * columns)
    if let output = requireOnThisTape(y, op: op), entries[Int(output)].needsGradient {
      // One adjoint array and one seed for every row: the seed's 1 moves along, written in
      // place once the last sweep has let go of it.
      var adjoints: [Tensor?] = []
      var seed = Tensor.zeros(y.shape)
      for row in 0..<rows {
        seed.withUnsafeMutableScalars { seed in
          if row > 0 { seed[row - 1] = 0 }
          seed[row] = 1
        }
        reverseSweep(from: output, seed: seed, into: &adjoints)
        // Read the input's adjoint before letting go of the seed's slot: when the function
        // returns its input, the two slots are one, and the adjoint is the seed itself.
        if Int(input) < adjoints.count, let adjoint = adjoints[Int(input)] {
          adjoint.withUnsafeScalars { source in
            for column in 0..<columns { scalars[row * columns + column] = source[column] }
          }
        }
        // Let go of the seed's slot, so that the seed is held once again. (If a VJP passed it
        // on unchanged, copy-on-write still keeps the rows apart.)
        adjoints[Int(output)] = nil
      }
    }
    return Tensor(shape: y.shape + x.shape, scalars: scalars)
  }
}

/// The gradient of a scalar `y` with respect to `x`, itself recorded on the tape so that it can
/// be differentiated again: reverse over reverse.
///
/// ```swift
/// let tape = Tape()
/// let x = tape.variable([1, 2])
/// let g = gradient(of: logSumExp(x), wrt: x)      // softmax(x), as a Variable
/// tape.gradient(of: (g * g).sum(), wrt: x)        // ∇‖softmax(x)‖², by a second sweep
/// ```
///
/// - Precondition: `y` holds one scalar; `x` is recorded on the same tape.
public func gradient(of y: Variable, wrt x: Variable) -> Variable {
  let op = "gradient(of:wrt:)"
  Variable.requireScalar(y.shape, op: op)
  guard let tape = x.tape else {
    fail("\(op): the input is a constant; record it with Tape.variable(_:)")
  }
  let input = tape.requireRecorded(x, op: op)
  guard let output = tape.requireOnThisTape(y, op: op) else { return Variable(.zeros(x.shape)) }
  let adjoints: [Variable?] = tape.reverseSweep(from: output, seed: Variable(.ones(y.shape)))
  return Int(input) < adjoints.count
    ? adjoints[Int(input)] ?? Variable(.zeros(x.shape)) : Variable(.zeros(x.shape))
}

// MARK: - Differential operators on functions

/// The value of `f` at `x` and its gradient ∇f(x), for `f` with a scalar result.
///
/// - Precondition: `f(x)` holds exactly one scalar.
public func valueWithGradient(
  at x: Tensor, of f: (Variable) -> Variable
) -> (value: Tensor, gradient: Tensor) {
  valueWithGradient(at: x, of: f, op: "gradient(at:of:)")
}

/// ``valueWithGradient(at:of:)->(_,Tensor)`` whose messages name `op`, the operator the user called.
func valueWithGradient(
  at x: Tensor, of f: (Variable) -> Variable, op: String
) -> (value: Tensor, gradient: Tensor) {
  // The variables live only in this function. Past it, a tape held once means that f kept
  // none of them: no one can read the tape's values again, and its one sweep may write
  // gradients over them. The tape is private to this call and swept once, so the sweep may
  // consume what it saved in any case.
  func record(on tape: Tape) -> (input: Int32, output: Int32?, value: Tensor) {
    let input = tape.variable(x)
    let y = f(input)
    Variable.requireScalar(y.shape, op: op)
    return (tape.requireRecorded(input, op: op), tape.requireOnThisTape(y, op: op), y.value)
  }
  var tape = Tape()
  let (input, output, value) = record(on: tape)
  guard let output else { return (value, .zeros(x.shape)) }
  let heldOnce = isKnownUniquelyReferenced(&tape)
  tape.valuesAreDisposable = heldOnce
  let gradient = tape.adjoint(
    of: input, sweepingFrom: output, seed: Tensor.ones(value.shape), consuming: true)
  return (value, gradient ?? .zeros(x.shape))
}

/// The gradient ∇f(x) of a function with a scalar result.
///
/// ```swift
/// gradient(at: [1, 2, 3]) { x in logSumExp(x) }   // softmax([1, 2, 3])
/// ```
///
/// - Precondition: `f(x)` holds exactly one scalar.
public func gradient(at x: Tensor, of f: (Variable) -> Variable) -> Tensor {
  valueWithGradient(at: x, of: f).gradient
}

/// The value of `f` at `(x, w)` and its gradients (∂f/∂x, ∂f/∂w), for `f` with a scalar result.
///
/// - Precondition: `f(x, w)` holds exactly one scalar.
public func valueWithGradient(
  at x: Tensor, _ w: Tensor, of f: (Variable, Variable) -> Variable
) -> (value: Tensor, gradient: (Tensor, Tensor)) {
  let (value, gradients) = valueWithGradients(at: [x, w], op: "gradient(at:_:of:)") {
    f($0[0], $0[1])
  }
  return (value, (gradients[0], gradients[1]))
}

/// The value of `f` at `xs` and its gradient with respect to each, from one consuming sweep of
/// a private tape; the messages name `op`. As for one input, the tape's values are disposable
/// when `f` kept none of its variables: its one sweep may then write gradients over them.
func valueWithGradients(
  at xs: [Tensor], op: String, of f: ([Variable]) -> Variable
) -> (value: Tensor, gradients: [Tensor]) {
  func record(on tape: Tape) -> (inputs: [Int32], output: Int32?, value: Tensor) {
    let inputs = xs.map { tape.variable($0) }
    let y = f(inputs)
    Variable.requireScalar(y.shape, op: op)
    return (
      inputs.map { tape.requireRecorded($0, op: op) }, tape.requireOnThisTape(y, op: op), y.value
    )
  }
  var tape = Tape()
  let (inputs, output, value) = record(on: tape)
  guard let output else { return (value, xs.map { .zeros($0.shape) }) }
  // Asked before the assignment: `tape.valuesAreDisposable = isKnownUniquelyReferenced(&tape)`
  // reads `tape` for the setter first, a second reference, and the answer is always no.
  let heldOnce = isKnownUniquelyReferenced(&tape)
  tape.valuesAreDisposable = heldOnce
  let adjoints: [Tensor?] = tape.reverseSweep(
    from: output, seed: Tensor.ones(value.shape), consuming: true)
  return (
    value,
    zip(inputs, xs).map { index, x in
      Int(index) < adjoints.count ? adjoints[Int(index)] ?? .zeros(x.shape) : .zeros(x.shape)
    }
  )
}

/// The gradients (∂f/∂x, ∂f/∂w) of a two-argument function with a scalar result.
///
/// - Precondition: `f(x, w)` holds exactly one scalar.
public func gradient(
  at x: Tensor, _ w: Tensor, of f: (Variable, Variable) -> Variable
) -> (Tensor, Tensor) {
  valueWithGradient(at: x, w, of: f).gradient
}

/// The value of `f` at `x` and its pullback: the function v ↦ vᵀ J_f(x), a vector-Jacobian
/// product, taking a cotangent of the result's shape to one of the input's shape.
///
/// The pullback keeps the recorded tape and sweeps it once per call.
///
/// - Precondition (of the pullback): the cotangent has the shape of `f(x)`.
public func valueWithPullback(
  at x: Tensor, of f: (Variable) -> Variable
) -> (value: Tensor, pullback: (Tensor) -> Tensor) {
  let tape = Tape()
  let input = tape.variable(x)
  let y = f(input)
  return (
    y.value,
    { cotangent in tape.pullback(of: y, seed: cotangent, wrt: input, op: "pullback") }
  )
}

/// The pullback of `f` at `x`: the vector-Jacobian product v ↦ vᵀ J_f(x).
public func pullback(at x: Tensor, of f: (Variable) -> Variable) -> (Tensor) -> Tensor {
  valueWithPullback(at: x, of: f).pullback
}

/// The Jacobian of `f` at `x`: J[i…, j…] = ∂f(x)[i…]/∂x[j…], of shape f(x).shape + x.shape.
///
/// In whichever mode takes fewer sweeps: reverse (one sweep per scalar of the result, a row
/// each) unless x has fewer scalars than f(x), then forward (one Jacobian-vector product per
/// scalar of x, a column each; see ``jacobianForward(at:of:)``). Forward mode needs every
/// custom operation in f to be recordable; otherwise reverse mode is used.
public func jacobian(at x: Tensor, of f: (Variable) -> Variable) -> Tensor {
  let tape = Tape()
  let input = tape.variable(x)
  let y = f(input)
  let forwardIsCheaper =
    x.scalarCount < y.value.scalarCount
    && tape.customOperations.allSatisfy { $0.operation is any RecordableCustomOperation }
  guard forwardIsCheaper else { return tape.jacobian(of: y, wrt: input, op: "jacobian(at:of:)") }
  let (value, differential) = tape.valueWithDifferential(of: y, at: input, x: x)
  return Tensor.columns(count: x.scalarCount, outputShape: value.shape, inputShape: x.shape) {
    differential(.oneHot(x.shape, at: $0))
  }
}

/// The Hessian of a scalar function: H[i…, j…] = ∂²f/∂x[i…]∂x[j…], of shape x.shape + x.shape.
///
/// Exact to rounding, not a finite difference: the gradient is recorded on the tape as it is
/// computed (reverse over reverse), and its Jacobian is then taken by ordinary reverse sweeps.
///
/// - Precondition: `f(x)` holds exactly one scalar.
public func hessian(at x: Tensor, of f: (Variable) -> Variable) -> Tensor {
  let tape = Tape()
  let input = tape.variable(x)
  let y = f(input)
  Variable.requireScalar(y.shape, op: "hessian(at:of:)")
  return tape.jacobian(of: gradient(of: y, wrt: input), wrt: input, op: "hessian(at:of:)")
}
