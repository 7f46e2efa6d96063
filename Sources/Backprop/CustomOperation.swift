// Operations of your own: one tape entry, with a vector-Jacobian product you write by hand,
// as Backprop's fused softmax is. The tape records the operation under its name, and
// `checkCustomOperation(_:against:at:)` checks the hand-written rule against a composed
// definition in one call.

/// An operation of one tensor with a hand-written vector-Jacobian product: one entry on the
/// tape, like `softmax`, where a composition would record several.
///
/// Write `forward` on plain tensors, and the VJP x̄ = Jᵀȳ given the cotangent ȳ, the input x
/// and the output y. This VJP runs on plain tensors, so gradients, Jacobians and pullbacks
/// work; to differentiate the operation twice (a Hessian, forward mode), conform to
/// ``RecordableCustomOperation`` instead.
///
/// ```swift
/// struct Cube: CustomOperation {
///   let name = "cube"
///   func forward(_ x: Tensor) -> Tensor { x * x * x }
///   func pullback(_ cotangent: Tensor, input x: Tensor, output y: Tensor) -> Tensor {
///     cotangent * 3 * x * x
///   }
/// }
/// gradient(at: [1, 2]) { x in x.applying(Cube()).sum() }   // [3, 12]
/// ```
///
/// Like `torch.autograd.Function` and JAX's `custom_vjp`; unlike them, Backprop checks the
/// rule for you against a composed definition with ``checkCustomOperation(_:against:at:tolerance:seed:)``.
public protocol CustomOperation {
  /// The name that tape listings, `--dot` graphs, replays and costs print.
  var name: String { get }
  /// The value of the operation: y = f(x).
  func forward(_ x: Tensor) -> Tensor
  /// The vector-Jacobian product x̄ = Jᵀȳ, of x's shape, given ȳ (of y's shape), x and y.
  func pullback(_ cotangent: Tensor, input x: Tensor, output y: Tensor) -> Tensor
}

/// A ``CustomOperation`` whose VJP is written on ``Variable``s, so that the backward pass is
/// itself recorded and can be differentiated again: Hessians of the operation are exact, and
/// forward mode works. The VJP on tensors comes for free (the same rule, evaluated on
/// constants).
///
/// ```swift
/// struct Cube: RecordableCustomOperation {
///   let name = "cube"
///   func forward(_ x: Tensor) -> Tensor { x * x * x }
///   func pullback(_ cotangent: Variable, input x: Variable, output y: Variable) -> Variable {
///     cotangent * 3 * x * x
///   }
/// }
/// hessian(at: [2]) { x in x.applying(Cube()).sum() }   // [[12]]
/// ```
public protocol RecordableCustomOperation: CustomOperation {
  /// The vector-Jacobian product x̄ = Jᵀȳ in operations on variables, which are recorded when
  /// the sweep runs on a tape.
  func pullback(_ cotangent: Variable, input x: Variable, output y: Variable) -> Variable
}

extension RecordableCustomOperation {
  /// The recorded rule evaluated on constants: nothing is recorded, so it is a plain VJP.
  public func pullback(_ cotangent: Tensor, input x: Tensor, output y: Tensor) -> Tensor {
    pullback(Variable(cotangent), input: Variable(x), output: Variable(y)).value
  }
}

extension Variable {
  /// The variable with `operation` applied, recorded as one entry named by the operation;
  /// the sweep applies the operation's own VJP.
  ///
  /// - Precondition: the VJP returns a tensor of the input's shape (checked when it runs).
  public func applying(_ operation: some CustomOperation) -> Variable {
    switch node {
    case .constant(let value):
      return Variable(operation.forward(value))
    case .recorded(let tape, let index, let generation):
      tape.requireCurrent(generation, op: operation.name)
      let value = operation.forward(tape.entries[Int(index)].value)
      // Registered before the entry is appended: appending may report an anomaly, whose
      // description names the entry's op, which is looked up here.
      tape.customOperations.append((Int32(truncatingIfNeeded: tape.entries.count), operation))
      return tape.record(.custom, value, index)
    }
  }
}

extension Tensor {
  /// The operation's forward pass.
  public func applying(_ operation: some CustomOperation) -> Tensor { operation.forward(self) }
}

extension Tape {
  /// The custom operation recorded at `entry`, found by bisection (entries are in order).
  func customOperation(at entry: Int32) -> any CustomOperation {
    var (low, high) = (0, customOperations.count)
    while low < high {
      let middle = (low + high) / 2
      if customOperations[middle].entry < entry { low = middle + 1 } else { high = middle }
    }
    return customOperations[low].operation
  }

  /// A custom entry's VJP on the sweep's algebra: on tensors, the operation's own; on
  /// variables, its recorded rule, which only a ``RecordableCustomOperation`` has.
  func customPullback<T: TensorAlgebra>(
    at entry: Int32, _ cotangent: T, input: T, output: T
  ) -> T {
    let operation = customOperation(at: entry)
    let inputShape = input.shape
    let result: T
    if T.self == Tensor.self {
      result =
        operation.pullback(cotangent.value, input: input.value, output: output.value) as! T
    } else if T.self == Variable.self {
      guard let recordable = operation as? any RecordableCustomOperation else {
        fail(
          "\(operation.name): its VJP is written on Tensor, so it cannot be differentiated "
            + "again (a Hessian, forward mode); conform to RecordableCustomOperation")
      }
      result =
        recordable.pullback(
          cotangent as! Variable, input: input as! Variable, output: output as! Variable) as! T
    } else {
      fail("\(operation.name): a custom operation has no rank-0 fast path")
    }
    require(
      result.shape == inputShape,
      "\(operation.name): its VJP returned shape \(result.shape) for an input of shape "
        + "\(inputShape)")
    return result
  }
}

// MARK: - Checking a custom operation

/// What ``checkCustomOperation(_:against:at:tolerance:seed:)`` found: the largest differences
/// between the operation and its composed definition, in value, Jacobian, VJPs on random
/// cotangents and (for a recordable operation) Hessians.
public struct CustomOperationReport: Sendable, CustomStringConvertible {
  /// The operation's name.
  public let name: String
  /// Whether every difference is within the tolerance.
  public let passed: Bool
  /// The largest |f(x) − g(x)| over the entries of the values.
  public let valueDifference: Double
  /// The largest difference between the Jacobians, and where.
  public let jacobianDifference: Double
  /// The multi-index into the Jacobian (output axes, then input axes) of that difference.
  public let worstJacobianIndex: [Int]
  /// The largest difference between the VJPs uᵀJ on random cotangents u.
  public let pullbackDifference: Double
  /// The largest difference between the Hessians of ⟨w, f(x)⟩ for a random w, or `nil` when
  /// the operation's VJP is not recordable (a Hessian of it cannot be taken).
  public let hessianDifference: Double?
  /// The tolerance: a difference d passes when d ≤ tolerance · max(1, |composed|).
  public let tolerance: Double

  /// One line: passed or FAILED, and each largest difference.
  public var description: String {
    let hessian = hessianDifference.map { "Hessians \($0)" } ?? "Hessians not checked"
    return
      "\(name) against its composed definition: \(passed ? "passed" : "FAILED"); largest "
      + "differences: values \(valueDifference), Jacobians \(jacobianDifference) at "
      + "\(worstJacobianIndex), VJPs \(pullbackDifference), \(hessian)"
  }
}

/// Checks a custom operation against a composed definition of the same function at `x`: their
/// values, their Jacobians (built by reverse sweeps through each), their VJPs on three random
/// cotangents, and, when the operation's VJP is recordable, the Hessians of ⟨w, f(x)⟩ for a
/// random w. A hand-written VJP that is transposed, misses a term or has a wrong sign differs
/// in the Jacobian by far more than rounding.
///
/// ```swift
/// checkCustomOperation(Cube(), against: { x in x * x * x }, at: [1, -2, 0.5]).passed  // true
/// ```
///
/// - Parameters:
///   - operation: the custom operation to check.
///   - composed: the same function composed of recorded operations.
///   - x: where to compare them.
///   - tolerance: a difference d passes when d ≤ tolerance · max(1, |the composed value|).
///   - seed: the seed of the random cotangents and weights.
public func checkCustomOperation(
  _ operation: some CustomOperation, against composed: (Variable) -> Variable, at x: Tensor,
  tolerance: Double = 1e-9, seed: UInt64 = 0
) -> CustomOperationReport {
  var passed = true
  func compare(_ a: Tensor, _ b: Tensor) -> (Double, Int) {
    require(
      a.shape == b.shape,
      "checkCustomOperation: \(operation.name) gives shape \(a.shape), the composed "
        + "definition \(b.shape)")
    var (worst, position) = (0.0, 0)
    for (index, (p, q)) in zip(a.scalars, b.scalars).enumerated() where p != q {
      let difference = abs(p - q)
      if !(difference <= tolerance * Swift.max(1, abs(q))) { passed = false }
      if !(difference <= worst) { (worst, position) = (difference, index) }
    }
    return (worst, position)
  }
  let fused: (Variable) -> Variable = { $0.applying(operation) }
  let value = compare(operation.forward(x), composed(Variable(x)).value).0
  let jacobians = compareJacobians(at: x, fused, composed)
  let (jacobianDifference, jacobianPosition) = compare(jacobians.first, jacobians.second)
  var generator = SeededGenerator(seed: seed)
  let outputShape = jacobians.first.shape.dropLast(x.rank)
  var pullbackDifference = 0.0
  let (pullbackOfOperation, pullbackOfComposed) = (
    pullback(at: x, of: fused), pullback(at: x, of: composed)
  )
  for _ in 0..<3 {
    let u = Tensor.random(Array(outputShape), in: -1...1, using: &generator)
    pullbackDifference = Swift.max(
      pullbackDifference, compare(pullbackOfOperation(u), pullbackOfComposed(u)).0)
  }
  var hessianDifference: Double?
  if operation is any RecordableCustomOperation {
    let w = Tensor.random(Array(outputShape), in: -1...1, using: &generator)
    hessianDifference =
      compare(
        hessian(at: x) { (fused($0) * w).sum() }, hessian(at: x) { (composed($0) * w).sum() }
      ).0
  }
  return CustomOperationReport(
    name: operation.name, passed: passed, valueDifference: value,
    jacobianDifference: jacobianDifference,
    worstJacobianIndex: jacobians.first.scalarCount == 0
      ? [] : multiIndex(jacobianPosition, in: jacobians.first.shape),
    pullbackDifference: pullbackDifference, hessianDifference: hessianDifference,
    tolerance: tolerance)
}
