/// The primitive operations a tape records. Every other operation is composed of these.
///
/// The reverse sweep dispatches on this code (see `Tape+Rules.swift`); each primitive's forward
/// pass and vector-Jacobian product sit together in the file of its family.
enum Op: UInt8, CaseIterable, Sendable {
  case variable, constant
  case add, subtract, multiply, divide, negate
  case exp, log, sqrt, pow, tanh, sigmoid
  case maximum, select
  case sum, max, prod
  case matmul, reshape, transpose, broadcast
  case slice, pad, gather, scatterAdd
  /// Two operands joined along the axis held in the entry's `function`.
  case concatenate
  case softmax, logSoftmax, logSumExp, crossEntropy
  /// An ``ElementaryFunction`` of one operand, or a ``BinaryElementaryFunction`` of two: which
  /// one is the entry's `function`.
  case elementary, binaryElementary
  /// A ``CustomOperation``, kept in the tape's `customOperations`.
  case custom

  /// Whether the op works scalar by scalar (with broadcasting), so that a rank-0 result
  /// comes from rank-0 operands.
  var isElementwise: Bool {
    switch self {
    case .add, .subtract, .multiply, .divide, .negate, .exp, .log, .sqrt, .pow, .tanh,
      .sigmoid, .maximum, .select, .elementary, .binaryElementary:
      true
    case .variable, .constant, .sum, .max, .prod, .matmul, .reshape, .transpose, .broadcast,
      .softmax, .logSoftmax, .logSumExp, .crossEntropy, .slice, .pad, .gather, .scatterAdd,
      .concatenate, .custom:
      false
    }
  }

  /// Whether `Tape.fusedPullback` may have a one-pass rule for the op: the elementwise ops;
  /// log-softmax, whose VJP reads only its cotangent and output, of one shape; max along
  /// trailing axes; a slice, padded from a uniform cotangent with no tensor to hold it; a
  /// concatenation, whose parts of a uniform cotangent are uniform.
  var mayFusePullback: Bool {
    isElementwise || self == .logSoftmax || self == .max || self == .slice || self == .concatenate
  }

  /// The name printed in a tape listing: the case's own name.
  var name: String { Self.names[Int(rawValue)] }

  /// Every case's name, by raw value, made once (Swift describes a case by its name).
  private static let names = allCases.map { String(describing: $0) }
}

/// One line of the Wengert list: which primitive ran, on which earlier entries, and what it
/// produced. The output value is all a VJP needs besides its inputs' values.
struct Record {
  var value: Tensor
  /// The first operand's index, or −1.
  var lhs: Int32
  /// The second operand's index, or −1.
  var rhs: Int32
  var op: Op
  /// Whether a differentiable leaf (a `variable`) reaches this entry. The sweep skips entries
  /// that do not, so constants never receive adjoints.
  var needsGradient: Bool
  /// For an `elementary` or `binaryElementary` entry, which function, by its place in
  /// ``Elementary/unary`` or ``Elementary/binary``. (It fits in the record's padding.)
  var function: UInt8 = 0

  /// The name printed in a listing: the op's, or the elementary function's.
  var name: String { op.name(function: function) }
}

extension Op {
  /// The name of this op with `function` (see ``Record/function``): an elementary function's
  /// own name, the op's otherwise. What listings print and messages say.
  func name(function: UInt8) -> String {
    switch self {
    case .elementary: Elementary.unary[Int(function)].name
    case .binaryElementary: Elementary.binary[Int(function)].name
    default: name
    }
  }
}

/// A Wengert list: the record of every operation on its variables, in the order they ran.
///
/// Each operation on a ``Variable`` appends one entry: the primitive, the indices of its operand
/// entries, and its output value. Reverse-mode differentiation walks the list backwards once,
/// in a loop (not by recursion, so a chain of millions of entries is fine), applying each
/// entry's vector-Jacobian product.
///
/// ```swift
/// let tape = Tape()
/// let a = tape.variable([1, 2, 3])
/// let y = logSumExp(a)
/// tape.gradient(of: y, wrt: a)   // softmax(a)
/// print(tape)                    // the Wengert list
/// ```
///
/// A tape belongs to whoever made it. It is a reference type that is not `Sendable`: give each
/// task its own.
public final class Tape {
  /// The list itself. Every read and write of it is in this module, by the tape's own methods,
  /// and none calls out of the module while an access is open; a tape is not `Sendable`, so
  /// accesses never come from two threads. The dynamic exclusivity check Swift otherwise makes
  /// on each access to a class's stored `var` can therefore never fire, and it is a large share
  /// of a scalar chain's recording cost (W1), so it is turned off for this property only.
  @exclusivity(unchecked) var entries: [Record] = []
  /// The constants that operations on this tape's variables took as operands: 1.01 in
  /// `1.01 * y`, a mask, a pow's exponent. They are not entries of the list, since they have no
  /// operands and receive no adjoint; an entry refers to constant k by the operand code −2 − k.
  /// Unchecked for exclusivity for the same reason as `entries`.
  @exclusivity(unchecked) var constants: [Tensor] = []
  /// Set by a caller that holds the only reference to this tape, so that no variable of it is
  /// alive and no one can read its values again, before it sweeps it once, consuming: that
  /// sweep may then write each entry's VJP result over the entry's own value. Set only inside
  /// `valueWithGradient`, never on a tape a user holds.
  var valuesAreDisposable = false
  /// The adjoint of every entry from the last ``Variable/backward()``, empty before one and
  /// after any other sweep.
  var adjoints: [Tensor?] = []
  /// The gradients that the last ``gradient(of:wrt:)-(_,Variable)`` computed, by entry: that
  /// sweep keeps only what was asked for, so that its other adjoints are freed as it goes.
  var requestedGradients: [(entry: Int32, gradient: Tensor)] = []
  /// What a few fused primitives keep for their VJP beyond their output, by entry index (the
  /// softmax of a cross-entropy). A side table, so that the entries of every other op stay small.
  ///
  /// An array in entry order, searched by bisection: most tapes save nothing or once, and an
  /// array costs one small allocation where a dictionary costs a hashed table.
  var saved: [(entry: Int32, tensor: Tensor?)] = []
  /// The custom operations recorded, by entry, in entry order.
  var customOperations: [(entry: Int32, operation: any CustomOperation)] = []

  /// Whether this tape checks every recorded value and every adjoint for NaN and infinities,
  /// keeping the first in ``anomaly``: opt-in, like PyTorch's `detect_anomaly`, because it reads
  /// every scalar of every value. A constant, so the check costs the hot path nothing when off.
  public let detectsAnomalies: Bool

  /// The first value or adjoint that went non-finite while ``detectsAnomalies`` was on.
  public internal(set) var anomaly: Anomaly?

  /// Creates an empty tape; with `detectsAnomalies`, one that keeps the first value or adjoint
  /// that goes NaN or infinite in ``anomaly``.
  public init(detectsAnomalies: Bool = false) {
    self.detectsAnomalies = detectsAnomalies
    // Room for a small computation up front (8 KiB): growing from empty copies the list
    // several times before it reaches even a few hundred entries.
    entries.reserveCapacity(256)
  }

  /// The number of entries recorded so far.
  public var count: Int { entries.count }

  /// How many times the tape has been reset; each variable remembers the generation it was
  /// recorded in, so that one from before a reset is refused rather than read as another entry.
  /// Read by every operation, so unchecked for exclusivity like `entries` (for the same
  /// reasons; the check cost W1 about 10%).
  ///
  /// 16 bits, so that a `Variable` stays 16 bytes (a tape, an index and this, with room for the
  /// enum's tag; at 17 bytes it is passed through memory, which cost W1 10%). After 65,536
  /// resets the count wraps, and a variable exactly that many generations old would pass.
  @exclusivity(unchecked) private(set) var generation: UInt16 = 0

  /// Empties the tape for reuse: every entry, constant, saved tensor and gradient goes, and the
  /// capacity stays.
  ///
  /// The pattern for a training loop that keeps one tape (micrograd's): reset it at the top of
  /// each step, record the parameters as new variables, compute the loss, call `backward()`, and
  /// read each parameter's ``Variable/grad``. Each step then costs what that step records; a
  /// tape that is never reset keeps every step, and each sweep walks all of them. (Making a new
  /// `Tape()` per step, as ``gradient(at:of:)->Tensor`` does, is the same.)
  ///
  /// Variables recorded before the reset are stale: using one stops with a message naming the
  /// operation.
  public func reset() {
    entries.removeAll(keepingCapacity: true)
    constants.removeAll(keepingCapacity: true)
    saved.removeAll(keepingCapacity: true)
    customOperations.removeAll(keepingCapacity: true)
    adjoints = []
    requestedGradients = []
    anomaly = nil
    generation &+= 1
  }

  /// Stops with a message if a variable of `generation` predates this tape's last reset.
  @inline(__always)
  func requireCurrent(_ generation: UInt16, op: @autoclosure () -> String) {
    if _slowPath(generation != self.generation) {
      fail(
        "\(op()): the variable was recorded before its tape was reset; record it again")
    }
  }

  /// Records a differentiable input: a leaf that gradients are taken with respect to.
  public func variable(_ value: Tensor) -> Variable {
    Variable(tape: self, index: appendLeaf(value, differentiable: true))
  }

  /// Records a constant: a leaf that takes part in computations but receives no gradient.
  public func constant(_ value: Tensor) -> Variable {
    Variable(tape: self, index: appendLeaf(value, differentiable: false))
  }

  /// Appends a leaf: a differentiable `variable` or a `constant`.
  @inline(__always)
  func appendLeaf(_ value: Tensor, differentiable: Bool) -> Int32 {
    append(
      Record(
        value: value, lhs: -1, rhs: -1, op: differentiable ? .variable : .constant,
        needsGradient: differentiable))
  }

  /// Appends one entry and returns its index.
  @inline(__always)
  func append(_ entry: Record) -> Int32 {
    require(entries.count < Int(Int32.max), "Tape: more than \(Int32.max) entries")
    entries.append(entry)
    let index = Int32(truncatingIfNeeded: entries.count - 1)
    if detectsAnomalies && anomaly == nil && !entry.value.isFinite {  // `let` first: free when off
      anomaly = Anomaly(phase: .forward, entry: Int(index), value: entry.value, on: self)
    }
    return index
  }

  /// The value of operand `code`: an entry's index, or −2 − k for constant k.
  @inline(__always)
  func value(ofOperand code: Int32) -> Tensor {
    code >= 0 ? entries[Int(code)].value : constants[Int(-2 - code)]
  }

  /// Records the result of `op` applied to the given operands (see ``value(ofOperand:)``).
  @inline(__always)
  func record(
    _ op: Op, _ value: Tensor, _ lhs: Int32, _ rhs: Int32 = -1, function: UInt8 = 0
  ) -> Variable {
    let needsGradient =
      (lhs >= 0 && entries[Int(lhs)].needsGradient)
      || (rhs >= 0 && entries[Int(rhs)].needsGradient)
    let index = append(
      Record(
        value: value, lhs: lhs, rhs: rhs, op: op, needsGradient: needsGradient,
        function: function))
    return Variable(tape: self, index: index)
  }

  /// Keeps `tensor` for the VJP of the entry just recorded.
  func save(_ tensor: Tensor, for entry: Int32) {
    require(saved.last.map { $0.entry < entry } ?? true, "Tape: saved out of entry order")
    saved.append((entry, tensor))
  }

  /// What was saved for `entry`, if anything; `taking` it leaves nothing behind, so that the
  /// caller holds the only reference.
  func savedTensor(for entry: Int32, taking: Bool) -> Tensor? {
    var (low, high) = (0, saved.count)
    while low < high {
      let middle = (low + high) / 2
      if saved[middle].entry < entry { low = middle + 1 } else { high = middle }
    }
    guard low < saved.count, saved[low].entry == entry else { return nil }
    return taking ? saved[low].tensor.take() : saved[low].tensor
  }

  /// The operand code of `variable` on this tape: its entry's index, or for a constant that
  /// no tape holds, −2 − k after adding it to the constants as number k.
  ///
  /// - Precondition: `variable` is not on another tape.
  func index(of variable: Variable, op: Op, function: UInt8 = 0) -> Int32 {
    switch variable.node {
    case .constant(let value):
      constants.append(value)
      return -1 - Int32(truncatingIfNeeded: constants.count)
    case .recorded(let tape, let index, let generation):
      require(
        tape === self,
        "\(op.name(function: function)): the operands are variables from two different tapes")
      requireCurrent(generation, op: op.name(function: function))
      return index
    }
  }
}
