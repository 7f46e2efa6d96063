/// A tensor-valued quantity whose operations are recorded on a ``Tape`` for differentiation.
///
/// A variable is either an entry of a tape (from ``Tape/variable(_:)``, or the result of an
/// operation on such a variable) or a constant made with ``init(_:)-(Tensor)``, which belongs to
/// no tape. Operations on constants alone are evaluated at once and record nothing; an operation
/// that mixes a constant with a taped variable records the constant on that tape.
///
/// Inside the closures passed to ``gradient(at:of:)->Tensor`` and its relatives every input is a
/// variable, so a function written once evaluates plainly on constants and records on a tape.
public struct Variable {
  enum Node {
    case constant(Tensor)
    /// An entry of a tape, in the tape's generation when it was recorded: a
    /// ``Tape/reset()`` starts a new generation, and a variable from an earlier one is stale.
    case recorded(Tape, Int32, generation: UInt16)
  }

  let node: Node

  init(tape: Tape, index: Int32) {
    node = .recorded(tape, index, generation: tape.generation)
  }

  /// A constant: it takes part in computations and never receives a gradient.
  public init(_ value: Tensor) {
    node = .constant(value)
  }

  /// A rank-0 constant.
  public init(_ scalar: Double) {
    node = .constant(Tensor(scalar))
  }

  /// The forward value.
  public var value: Tensor {
    switch node {
    case .constant(let value): return value
    case .recorded(let tape, let index, let generation):
      tape.requireCurrent(generation, op: "value")
      return tape.entries[Int(index)].value
    }
  }

  /// The shape of the forward value.
  public var shape: [Int] { value.shape }

  /// The tape this variable is recorded on, or `nil` for a constant.
  public var tape: Tape? {
    if case .recorded(let tape, _, _) = node { return tape }
    return nil
  }

  /// The variable's index in its tape's list, or `nil` for a constant.
  public var index: Int? {
    if case .recorded(_, let index, _) = node { return Int(index) }
    return nil
  }

  /// The gradient ∂y/∂self from the tape's last sweep from a scalar `y`, if that sweep
  /// computed it: ``backward()`` computes it for every entry, and
  /// ``Tape/gradient(of:wrt:)-(_,Variable)`` for the variables it was asked about, which it
  /// also returns.
  ///
  /// `nil` for a constant, before any sweep, and for an entry the last sweep did not compute;
  /// zeros if `y` does not depend on this variable.
  public var grad: Tensor? {
    guard case .recorded(let tape, let index, let generation) = node else { return nil }
    tape.requireCurrent(generation, op: "grad")
    guard !tape.adjoints.isEmpty else {
      return tape.requestedGradients.last { $0.entry == index }?.gradient
    }
    let i = Int(index)
    return i < tape.adjoints.count ? tape.adjoints[i] ?? .zeros(shape) : .zeros(shape)
  }

  /// Runs the reverse sweep from this scalar and stores the adjoint of every entry, read back
  /// through ``grad``.
  ///
  /// Each call replaces the previous pass's gradients; calling it twice gives the same
  /// gradients, never their sum.
  ///
  /// - Precondition: the variable is on a tape and holds exactly one scalar.
  public func backward() {
    Self.requireScalar(shape, op: "backward()")
    backward(seed: .ones(shape))
  }

  /// Runs the reverse sweep from this variable with the cotangent `seed`, of the same shape,
  /// and stores the adjoint of every entry (a vector-Jacobian product seedᵀ J for each).
  ///
  /// - Precondition: the variable is on a tape and `seed` has its shape.
  public func backward(seed: Tensor) {
    guard case .recorded(let tape, let index, let generation) = node else {
      fail("backward(seed:): a constant is on no tape; nothing to differentiate")
    }
    tape.requireCurrent(generation, op: "backward(seed:)")
    require(
      seed.shape == shape, "backward(seed:): seed shape \(seed.shape) is not the result's \(shape)")
    tape.requestedGradients = []
    tape.adjoints = tape.reverseSweep(from: index, seed: seed)
  }

  /// Checks that a result holds a single scalar, naming the operation that needs one.
  static func requireScalar(_ shape: [Int], op: String) {
    require(
      shape.reduce(1, *) == 1,
      "\(op): the result has shape \(shape), not a scalar — use jacobian or pullback")
  }
}

// MARK: - Recording

extension Variable {
  /// Evaluates a one-operand primitive: at once for a constant, or recorded on the tape.
  /// `function` names the elementary function of an `elementary` entry (see
  /// ``Record/function``).
  @inline(__always)
  static func apply(
    _ op: Op, _ x: Variable, function: UInt8 = 0, _ forward: (Tensor) -> Tensor
  ) -> Variable {
    switch x.node {
    case .constant(let value):
      return Variable(forward(value))
    case .recorded(let tape, let index, let generation):
      tape.requireCurrent(generation, op: op.name(function: function))
      return tape.record(op, forward(tape.entries[Int(index)].value), index, function: function)
    }
  }

  /// Evaluates a one-operand primitive whose VJP is cheaper from something the forward pass
  /// computes on the way: recorded, `forward` returns the value and what to keep beside the
  /// entry (or nil); a constant takes `value` alone, and so does an entry that needs no
  /// gradient, which keeps nothing.
  static func apply(
    _ op: Op, _ x: Variable, function: UInt8 = 0, value: (Tensor) -> Tensor,
    keeping forward: (Tensor) -> (Tensor, Tensor?)
  ) -> Variable {
    guard case .recorded(let tape, let index, let generation) = x.node else {
      return Variable(value(x.value))
    }
    tape.requireCurrent(generation, op: op.name(function: function))
    let input = tape.entries[Int(index)]
    guard input.needsGradient else {
      return tape.record(op, value(input.value), index, function: function)
    }
    let (y, kept) = forward(input.value)
    let result = tape.record(op, y, index, function: function)
    if let kept, case .recorded(_, let entry, _) = result.node { tape.save(kept, for: entry) }
    return result
  }

  /// Evaluates a two-operand primitive: at once if both are constants, otherwise recorded on
  /// the operands' tape, with a constant operand recorded there first.
  ///
  /// - Precondition: the operands are not on two different tapes.
  @inline(__always)
  static func apply(
    _ op: Op, _ lhs: Variable, _ rhs: Variable, function: UInt8 = 0,
    _ forward: (Tensor, Tensor) -> Tensor
  ) -> Variable {
    // The tape is bound inside each case rather than copied out to a local: a binding the
    // optimizer can borrow costs no reference count, and this runs once per operation.
    if case .recorded(let tape, let i, let generation) = lhs.node {
      tape.requireCurrent(generation, op: op.name(function: function))
      let j = tape.index(of: rhs, op: op, function: function)
      return tape.record(
        op, forward(tape.entries[Int(i)].value, tape.value(ofOperand: j)), i, j,
        function: function)
    }
    if case .recorded(let tape, let j, let generation) = rhs.node {
      tape.requireCurrent(generation, op: op.name(function: function))
      let i = tape.index(of: lhs, op: op, function: function)
      return tape.record(
        op, forward(tape.value(ofOperand: i), tape.entries[Int(j)].value), i, j,
        function: function)
    }
    return Variable(forward(lhs.value, rhs.value))
  }

  /// Evaluates a two-operand primitive whose VJP needs more than its output: `forward` returns
  /// the value and what to keep, which the tape holds beside the entry.
  static func apply(
    _ op: Op, _ lhs: Variable, _ rhs: Variable,
    _ forward: (Tensor, Tensor) -> (Tensor, Tensor)
  ) -> Variable {
    var kept: Tensor?
    let result = apply(op, lhs, rhs) { a, b in
      let (value, saved) = forward(a, b)
      kept = saved
      return value
    }
    if case .recorded(let tape, let index, _) = result.node, let kept {
      tape.save(kept, for: index)
    }
    return result
  }
}

extension Variable: CustomStringConvertible {
  /// The value, with the tape index for a recorded variable: `Variable(#3: [1.0, 2.0])`.
  public var description: String {
    switch node {
    case .constant(let value): return "Variable(constant: \(value))"
    case .recorded(let tape, let index, let generation):
      return generation == tape.generation
        ? "Variable(#\(index): \(value))" : "Variable(#\(index), stale: its tape was reset)"
    }
  }
}
