internal import BackpropKernels
import Foundation

// Functions of one operation or two: abs, sign, square, reciprocal, rsqrt, hypot,
// squaredDifference and min, each a declaration with its value and its derivative over
// TensorAlgebra; then clamp and select, composed exactly from primitives.

/// y = |x|; y′ = sign(x), 0 at 0 (as PyTorch and JAX), NaN at NaN.
enum Magnitude: ElementaryFunction {
  static let name = "abs"
  static func value(_ x: Double) -> Double { x.magnitude }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { x.applying(Sign.self) }
}

/// y = sign(x): −1, 0 or 1 (±0 and NaN kept); y′ = 0, NaN at NaN.
enum Sign: ElementaryFunction {
  static let name = "sign"
  static func value(_ x: Double) -> Double { x > 0 ? 1 : x < 0 ? -1 : x }
  // sign(x) · 0 rather than a constant 0: it is NaN where x is, and 0 at ±∞.
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { 0 * y }
}

/// y = x²; y′ = 2x.
enum Square: ElementaryFunction {
  static let name = "square"
  static func value(_ x: Double) -> Double { x * x }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { 2 * x }
}

/// y = 1/x; y′ = −y².
enum Reciprocal: ElementaryFunction {
  static let name = "reciprocal"
  static func value(_ x: Double) -> Double { 1 / x }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { -(y * y) }

  /// The quotient kernel with a dividend of 1: the same bits, four or eight divisions at once.
  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    bp_rule(bp_rule_quotient, nil, 1, source.baseAddress, 0, nil, out.baseAddress, source.count)
  }
}

/// y = 1/√x; y′ = −y³/2.
enum ReciprocalSquareRoot: ElementaryFunction {
  static let name = "rsqrt"
  static func value(_ x: Double) -> Double { 1 / x.squareRoot() }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { -0.5 * (y * y * y) }

  /// The vectorized kernel, the same two correctly rounded operations.
  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    bp_rule(
      bp_rule_reciprocal_square_root, source.baseAddress, 0, nil, 0, nil, out.baseAddress,
      source.count)
  }
}

/// y = min(a, b), with broadcasting: the smaller, NaN where either is NaN; ∂y/∂a = 1 where
/// a < b, ½ at a tie (as `max`, PyTorch and JAX split it), 0 where a > b, NaN where either is
/// NaN; ∂y/∂b likewise.
///
/// A primitive, where −max(−a, −b) was three entries (four passes each way for a constant
/// bound); the same values and the same derivatives to the bit (−(−ȳ · s) is ȳ · s exactly).
enum Minimum: BinaryElementaryFunction {
  static let name = "min"

  /// NaN tested by comparison, so that loops over it blend.
  @inline(__always)
  static func value(_ a: Double, _ b: Double) -> Double { a < b || a != a ? a : b }

  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    T.constant(.elementwise(a.value, b.value, op: name, Share.self))
  }

  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    T.constant(.elementwise(b.value, a.value, op: name, Share.self))
  }

  /// Each operand's share scalar by scalar, in one pass each.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    var db: Tensor? = nil
    if wrt.1 && wrt.0 {
      var (shared, kept) = (cotangent, y)
      db = .pulling(&shared, a, b, output: &kept) { g, a, b, _ in g * Share.scalar(b, a) }
    } else if wrt.1 {
      db = .pulling(&cotangent, a, b, output: &y) { g, a, b, _ in g * Share.scalar(b, a) }
    }
    let da: Tensor? =
      wrt.0 ? .pulling(&cotangent, a, b, output: &y) { g, a, b, _ in g * Share.scalar(a, b) } : nil
    return (da, db)
  }

  static func pullback(_ cotangent: inout Tensor?, a: Tensor, constant b: Double, y: inout Tensor)
    -> Tensor?
  { .pulling(&cotangent, a, a, output: &y) { g, a, _, _ in g * Share.scalar(a, b) } }

  /// 1 where the first argument is the smaller, ½ at a tie, 0 where it is the larger, NaN if
  /// either is NaN: two selections of constants summed (exactly), then the NaN check, so that
  /// loops blend (nested selections compiled to branches, mispredicted on random data).
  enum Share: BinaryScalarFunction {
    @inline(__always)
    static func scalar(_ a: Double, _ b: Double) -> Double {
      let less: Double = a < b ? 1 : 0
      let tie: Double = a == b ? 0.5 : 0
      return a != a || b != b ? .nan : less + tie
    }
  }
}

/// y = √(a² + b²) without overflow; ∂y/∂a = a/y, ∂y/∂b = b/y (NaN at (0, 0), as 0/0). Where
/// a = ±∞ and b is finite, ∂y/∂a is its limit ±1 (∞/∞ is NaN) and ∂y/∂b is b/∞ = 0.
///
/// The vectorized kernel (`bp_rule_hypotenuse` in Sources/BackpropKernels/Arithmetic.c),
/// within 1 ulp, where the C library's is a call a pair; a scalar goes
/// through the same kernel, so that it agrees with a tensor to the bit.
enum Hypotenuse: BinaryElementaryFunction {
  static let name = "hypot"
  static func value(_ a: Double, _ b: Double) -> Double { bp_hypotenuse(a, b) }
  static var rule: bp_rule_kind? { bp_rule_hypotenuse }
  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T { ratio(a, b, y) }
  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T { ratio(b, a, y) }

  /// a/y, or its limit ±1 where a is infinite and b finite: on tensors and variables by
  /// constant masks, only when some a is infinite; on Double, per scalar, with the same bits.
  static func ratio<T: TensorAlgebra>(_ a: T, _ b: T, _ y: T) -> T {
    if T.self == Double.self {
      let (a, b, y) = (a as! Double, b as! Double, y as! Double)
      return (a.isInfinite && b.isFinite ? (a > 0 ? 1.0 : -1.0) : a / y) as! T
    }
    guard a.value.scalars.contains(where: \.isInfinite) else { return a / y }
    // ã/y with ã = 0 at the limits (0/∞ = 0 there, and the derivatives of it meet no ∞ · 0),
    // plus the limits.
    // The masks have the broadcast shape, y's: a is broadcast to it first (a row against a
    // column), so that the selection has one shape.
    let (av, bv) = (a.value, b.value)
    let wide = a.shape == y.shape ? a : a.broadcasted(to: y.shape)
    return wide.masked(by: .elementwise(av, bv, op: name, AwayFromLimit.self)) / y
      + T.constant(.elementwise(av, bv, op: name, Limit.self))
  }

  /// 0 where a is infinite and b finite (the quotient's place), 1 elsewhere.
  enum AwayFromLimit: BinaryScalarFunction {
    static func scalar(_ a: Double, _ b: Double) -> Double {
      a.isInfinite && b.isFinite ? 0 : 1
    }
  }

  /// ±1 where a = ±∞ and b is finite, −0 elsewhere: q + (−0) is q to the bit, −0 included,
  /// so the quotients keep the bits of the rule on Double.
  enum Limit: BinaryScalarFunction {
    static func scalar(_ a: Double, _ b: Double) -> Double {
      a.isInfinite && b.isFinite ? (a > 0 ? 1 : -1) : -0.0
    }
  }
}

/// y = (a − b)²; ∂y/∂a = 2(a − b), ∂y/∂b = −2(a − b). One entry where (a − b) ⊙ (a − b)
/// takes two and a tensor more, with the same numbers: the difference rounded once and
/// squared, and ȳ ⊙ 2(a − b) is 2(ȳ ⊙ (a − b)) exactly, as the product's VJP adds it.
///
/// The VJP doubles ȳ ⊙ (a − b) rather than multiplying ȳ by 2(a − b), which overflows for
/// |a − b| > 8.9e307 where the gradient itself may be finite.
enum SquaredDifference: BinaryElementaryFunction {
  static let name = "squaredDifference"
  static func value(_ a: Double, _ b: Double) -> Double {
    let d = a - b
    return d * d
  }
  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    let d = a - b
    return d + d
  }
  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T { -partialA(a: a, b: b, y: y) }

  /// t = ȳ ⊙ (a − b); ā = t + t and b̄ = −(t + t), each summed back to its operand's shape.
  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, y: T, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    let t = cotangent * (a - b)
    let twice = t + t
    return (
      wrt.0 ? twice.unbroadcast(to: a.shape) : nil, wrt.1 ? (-twice).unbroadcast(to: b.shape) : nil
    )
  }

  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    var db: Tensor? = nil
    let negatedTwice = { (g: Double, a: Double, b: Double, _: Double) -> Double in
      let t = g * (a - b)
      return -(t + t)
    }
    if wrt.1 && wrt.0 {
      // The cotangent and the output stay for ā: b̄ gets a buffer of its own.
      var (shared, kept) = (cotangent, y)
      db = .pulling(&shared, a, b, output: &kept, negatedTwice)
    } else if wrt.1 {
      db = .pulling(&cotangent, a, b, output: &y, negatedTwice)
    }
    let da: Tensor? =
      wrt.0
      ? .pulling(&cotangent, a, b, output: &y) { g, a, b, _ in
        let t = g * (a - b)
        return t + t
      } : nil
    return (da, db)
  }
}

/// The absolute value of each element.
public func abs(_ x: Tensor) -> Tensor { Magnitude.forward(x) }

/// The absolute value of each element, recorded: y = |x|, x̄ = ȳ ⊙ sign(x) (0 at 0, as PyTorch and JAX).
public func abs(_ x: Variable) -> Variable { x.applying(Magnitude.self) }

/// The sign (−1, 0 or 1; ±0 and NaN kept) of each element.
public func sign(_ x: Tensor) -> Tensor { Sign.forward(x) }

/// The sign (−1, 0 or 1; ±0 and NaN kept) of each element, recorded: y = sign(x), x̄ = 0 (NaN at NaN).
public func sign(_ x: Variable) -> Variable { x.applying(Sign.self) }

/// The square of each element.
public func square(_ x: Tensor) -> Tensor { Square.forward(x) }

/// The square of each element, recorded: y = x², x̄ = 2ȳ ⊙ x.
public func square(_ x: Variable) -> Variable { x.applying(Square.self) }

/// The reciprocal of each element.
public func reciprocal(_ x: Tensor) -> Tensor { Reciprocal.forward(x) }

/// The reciprocal of each element, recorded: y = 1/x, x̄ = −ȳ ⊙ y².
public func reciprocal(_ x: Variable) -> Variable { x.applying(Reciprocal.self) }

/// The reciprocal square root of each element.
public func rsqrt(_ x: Tensor) -> Tensor { ReciprocalSquareRoot.forward(x) }

/// The reciprocal square root of each element, recorded: y = 1/√x, x̄ = −ȳ ⊙ y³ / 2.
public func rsqrt(_ x: Variable) -> Variable { x.applying(ReciprocalSquareRoot.self) }

/// √(a² + b²) of each pair, without overflow, with broadcasting.
public func hypot(_ a: Tensor, _ b: Tensor) -> Tensor { Hypotenuse.forward(a, b) }

/// √(a² + b²) of each pair, without overflow, with broadcasting, recorded: h = hypot(a, b), ā = h̄ ⊙ a/h, b̄ = h̄ ⊙ b/h.
public func hypot(_ a: Variable, _ b: Variable) -> Variable {
  Variable.apply(Hypotenuse.self, a, b)
}

/// √(a² + b²) of each pair, without overflow, with broadcasting, recorded, with a constant operand.
public func hypot(_ a: Variable, _ b: Double) -> Variable { hypot(a, Variable(b)) }

/// √(a² + b²) of each pair, without overflow, with broadcasting, recorded, with a constant operand.
public func hypot(_ a: Double, _ b: Variable) -> Variable { hypot(Variable(a), b) }

/// √(a² + b²) of each pair, without overflow, with broadcasting, recorded, with a constant operand.
public func hypot(_ a: Variable, _ b: Tensor) -> Variable { hypot(a, Variable(b)) }

/// √(a² + b²) of each pair, without overflow, with broadcasting, recorded, with a constant operand.
public func hypot(_ a: Tensor, _ b: Variable) -> Variable { hypot(Variable(a), b) }

/// (a − b)² of each pair, with broadcasting: the term of a squared error.
public func squaredDifference(_ a: Tensor, _ b: Tensor) -> Tensor {
  SquaredDifference.forward(a, b)
}

/// (a − b)² of each pair, with broadcasting, recorded as one entry: y = (a − b)²,
/// ā = ȳ ⊙ 2(a − b), b̄ = −ȳ ⊙ 2(a − b).
public func squaredDifference(_ a: Variable, _ b: Variable) -> Variable {
  Variable.apply(SquaredDifference.self, a, b)
}

/// (a − b)² of each pair, with broadcasting, recorded, with a constant operand.
public func squaredDifference(_ a: Variable, _ b: Tensor) -> Variable {
  squaredDifference(a, Variable(b))
}

/// (a − b)² of each pair, with broadcasting, recorded, with a constant operand.
public func squaredDifference(_ a: Tensor, _ b: Variable) -> Variable {
  squaredDifference(Variable(a), b)
}

/// The elementwise minimum with broadcasting, recorded as one entry: ties split the gradient ½
/// and ½ as `max` does; NaN gives NaN.
public func min(_ a: Variable, _ b: Variable) -> Variable { .apply(Minimum.self, a, b) }

/// The elementwise minimum with a constant scalar.
public func min(_ a: Variable, _ b: Double) -> Variable { min(a, Variable(b)) }

/// The elementwise minimum with a constant scalar.
public func min(_ a: Double, _ b: Variable) -> Variable { min(Variable(a), b) }

/// The elementwise minimum of two tensors, with broadcasting.
public func min(_ a: Tensor, _ b: Tensor) -> Tensor { Minimum.forward(a, b) }

/// Each element limited to [lower, upper], composed as max(min(x, upper), lower).
///
/// The derivative is 1 strictly inside, 0 outside, and ½ at a bound, where `min` or `max`
/// splits a tie (the mean of the one-sided derivatives).
///
/// - Precondition: lower ≤ upper.
public func clamp(_ x: Variable, min lower: Double, max upper: Double) -> Variable {
  require(lower <= upper, "clamp: the lower bound \(lower) is above the upper bound \(upper)")
  return max(min(x, upper), lower)
}

/// Each element of `a` where `condition` is non-zero and of `b` elsewhere, with broadcasting
/// (NumPy's `where`), composed of two selections: ā = ȳ where the condition holds, b̄ = ȳ
/// elsewhere. A value the condition excludes contributes 0, never 0 · ∞; a NaN condition
/// selects NaN.
///
/// - Precondition: the condition broadcasts to the shapes of `a` and `b`, which broadcast
///   to each other.
public func select(_ condition: Tensor, _ a: Variable, _ b: Variable) -> Variable {
  let shape = Shape.broadcast(
    Shape.broadcast(a.shape, b.shape, op: "select"), condition.shape, op: "select")
  let (a, b) = (
    a.shape == shape ? a : a.broadcasted(to: shape), b.shape == shape ? b : b.broadcasted(to: shape)
  )
  // A selection then a NaN check, which vectorizes (nested branches do not).
  let complement = condition.map {
    let other: Double = $0 != 0 ? 0 : 1
    return $0 != $0 ? .nan : other
  }
  return a.masked(by: condition) + b.masked(by: complement)
}

/// Each element limited to [lower, upper].
public func clamp(_ x: Tensor, min lower: Double, max upper: Double) -> Tensor {
  clamp(Variable(x), min: lower, max: upper).value
}

/// `a` where `condition` is non-zero and `b` elsewhere, with broadcasting.
public func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
  select(condition, Variable(a), Variable(b)).value
}

/// The elementwise minimum with a constant tensor, recorded.
public func min(_ a: Variable, _ b: Tensor) -> Variable { min(a, Variable(b)) }

/// The elementwise minimum with a constant tensor, recorded.
public func min(_ a: Tensor, _ b: Variable) -> Variable { min(Variable(a), b) }
