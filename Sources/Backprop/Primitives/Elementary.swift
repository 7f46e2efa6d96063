internal import BackpropKernels
import Foundation

// Elementwise functions of one tensor. Where the derivative can be written in terms of the
// output, the VJP reuses it (exp, sqrt, tanh), as Swift's own derivatives do.

/// Exponential: y = eˣ. VJP: x̄ = ȳ ⊙ y.
///
/// Overflows to +∞ above x ≈ 709.78 and underflows to 0 below x ≈ −745.13, as `Foundation.exp`.
/// The forward pass is the vectorized kernel in `Exponential.swift`, within 1 ulp of eˣ.
enum Exp: UnaryScalarFunction {
  static func scalar(_ x: Double) -> Double { exponential(x) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    _ = exponentials(of: source, into: out)
  }

  static func forward(_ x: Tensor) -> Tensor { x.map(Self.self) }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, y: T) -> T { cotangent * y }
}

/// Natural logarithm: y = ln x. VJP: x̄ = ȳ ⊘ x.
///
/// ln 0 = −∞ with derivative +∞; the logarithm of a negative number is NaN. The forward pass
/// is the vectorized kernel in `Exponential.swift`, within 1 ulp of ln x.
enum Log: UnaryScalarFunction {
  static func scalar(_ x: Double) -> Double { logarithm(x) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    logarithms(of: source, into: out)
  }

  static func forward(_ x: Tensor) -> Tensor { x.map(Self.self) }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T) -> T { cotangent / x }
}

/// Square root: y = √x. VJP: x̄ = ȳ ⊘ (2y).
///
/// √0 = 0 with derivative +∞; the square root of a negative number is NaN.
enum Sqrt: UnaryScalarFunction {
  static func scalar(_ x: Double) -> Double { x.squareRoot() }

  /// The vectorized kernel: the square root is correctly rounded, so the same bits as
  /// ``scalar(_:)``, four or eight roots an instruction where a Swift loop takes one.
  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    bp_rule(bp_rule_square_root, source.baseAddress, 0, nil, 0, nil, out.baseAddress, source.count)
  }

  static func forward(_ x: Tensor) -> Tensor { x.map(Self.self) }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, y: T) -> T { cotangent / (2 * y) }
}

/// Power with a constant exponent: y = xᵖ. VJP: x̄ = ȳ ⊙ p xᵖ⁻¹.
///
/// The exponent is recorded as a rank-0 constant operand and receives no gradient. For p = 0 the
/// derivative is 0 everywhere (x⁰ = 1 is constant), including at x = 0 where p xᵖ⁻¹ = 0 · ∞.
enum Pow {
  /// xᵖ for one scalar: x · x for p = 2 (correctly rounded, where `pow` is within an ulp), x
  /// itself for p = 1 (as `pow` gives), the double-double kernels for an integer p from 3 to 64
  /// and a half-integer from ½ to 63½ (`bp_integer_power`, `bp_half_integer_power`: xⁿ√x, within
  /// 0.5 ulp and a hair), and `pow` otherwise, a call of the C library a scalar.
  @inline(__always)
  static func scalar(_ x: Double, _ p: Double) -> Double {
    if p == 2 { return x * x }
    if p == 1 { return x }
    if isSmallInteger(p) { return bp_integer_power(x, Int32(p)) }
    if isHalfInteger(p) { return bp_half_integer_power(x, Int32(p - 0.5)) }
    return Foundation.pow(x, p)
  }

  /// Whether p is an integer from 3 to 64, which the integer-power kernel takes.
  @inline(__always)
  static func isSmallInteger(_ p: Double) -> Bool { p >= 3 && p <= 64 && p.rounded() == p }

  /// Whether p is n + ½ for an integer n from 0 to 63, which the half-integer kernel takes.
  @inline(__always)
  static func isHalfInteger(_ p: Double) -> Bool {
    p >= 0.5 && p <= 63.5 && (p - 0.5).rounded() == p - 0.5
  }

  /// Whether a tensor's powers take a vectorized kernel (`forward`'s one pass).
  @inline(__always)
  static func isVectorized(_ p: Double) -> Bool { isSmallInteger(p) || isHalfInteger(p) }

  static func forward(_ x: Tensor, _ exponent: Tensor) -> Tensor {
    let p = exponent.scalar!
    if p == 1 { return x }
    if isVectorized(p), x.rank > 0 {
      // The vectorized loops, with the bits `scalar` gives.
      return x.withUnsafeScalars { source in
        Tensor(shape: x.shape, count: source.count) { out in
          if let from = source.baseAddress, let to = out.baseAddress {
            if isSmallInteger(p) {
              bp_integer_powers(from, Int32(p), to, source.count)
            } else {
              bp_half_integer_powers(from, Int32(p - 0.5), to, source.count)
            }
          }
        }
      }
    }
    return x.map { Pow.scalar($0, p) }
  }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T, exponent: T) -> T? {
    let p = exponent.value.scalar!
    if p == 0 { return nil }
    if p == 1 { return cotangent }
    return cotangent * (p * x.raised(to: p - 1))
  }
}

/// Hyperbolic tangent: y = tanh x. VJP: x̄ = ȳ ⊙ (1 − y²).
///
/// The forward pass is the vectorized kernel in `Exponential.swift`, within 1 ulp of tanh x; a
/// rank-0 value goes through the same kernel, so that it agrees with a tensor to the bit.
enum Tanh: UnaryScalarFunction {
  static func scalar(_ x: Double) -> Double { hyperbolicTangent(x) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    hyperbolicTangents(of: source, into: out)
  }

  static func forward(_ x: Tensor) -> Tensor { x.map(Self.self) }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, y: T) -> T {
    cotangent * (1 - y * y)
  }
}

/// The logistic sigmoid: y = σ(x) = 1 / (1 + e⁻ˣ). VJP: x̄ = ȳ ⊙ σ(x) σ(−x).
///
/// A primitive, not (1 + tanh(x/2)) / 2, because that composition loses the left tail: there
/// σ is tiny and the sum 1 + tanh cancels, so σ(−37) was 30% off and σ(−40) was 0. Here each
/// side uses e^(−|x|) ≤ 1, which neither overflows nor cancels: 1 / (1 + e⁻ˣ) for x ≥ 0 and
/// eˣ / (1 + eˣ) for x < 0, with 1 + e^(−|x|) carried exactly and the quotient corrected, so
/// within 1.5 ulps (the vectorized kernel, Sigmoid.c, for a scalar and a tensor alike).
///
/// The derivative σ(1 − σ) is written σ(x) σ(−x): 1 − σ(x) rounds to 0 once σ(x) rounds to 1
/// (x ≳ 37), while σ(−x) keeps its relative accuracy, so σ′(40) is e⁻⁴⁰, not 0.
enum Sigmoid: UnaryScalarFunction {
  static func scalar(_ x: Double) -> Double { bp_sigmoid(x) }

  /// The same function on a buffer, by the vectorized kernel, which evaluates the two sides
  /// above in lanes and selects one: the same bits as ``scalar(_:)``, in one pass.
  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    bp_sigmoids(source.baseAddress, out.baseAddress, source.count)
  }

  static func forward(_ x: Tensor) -> Tensor { x.map(Self.self) }

  /// σ(x) and, for a tensor that is not rank 0, σ′(x) = σ(x) σ(−x) beside it, from one
  /// exponential a scalar (`bp_sigmoids_and_derivatives`): σ′ with the bits of `y * sigmoid(-x)`
  /// (SigmoidTests). A rank-0 input keeps nothing: its VJP runs on Double, where σ(−x) costs
  /// less than a tensor.
  static func forwardKeepingDerivative(_ x: Tensor) -> (Tensor, Tensor?) {
    if case .scalar = x.storage { return (forward(x), nil) }
    let (y, derivative) = Tensor.pair(x, kernel: bp_sigmoids_and_derivatives) { _, _, _ in }
    return (y, derivative)
  }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T, y: T) -> T {
    cotangent * (y * (-x).sigmoid())
  }

  /// The rule from the σ′ the forward pass kept: ȳ ⊙ σ′, one product a scalar, the rule's bits
  /// (it computes y ⊙ σ(−x), which is σ′, before multiplying). Into the cotangent's buffer or
  /// σ′'s, as ``Tensor/pulling(_:_:_:output:_:)`` chooses (σ′'s when the sweep took it from the
  /// tape); `x` only gives the shape. Takes the cotangent, leaving `nil`.
  static func pullback(_ cotangent: inout Tensor?, x: Tensor, derivative: inout Tensor) -> Tensor {
    if let d = Tensor.unitScaled(&cotangent, &derivative) { return d }
    return .pulling(&cotangent, x, x, output: &derivative) { g, _, _, d in g * d }
  }

  /// The rule on tensors of one shape, with the same numbers, in one pass of the vectorized
  /// kernel: ȳ ⊙ (y ⊙ σ(−x)), σ(−x) evaluated as ``apply(_:into:)`` does, into the cotangent's
  /// or the output's buffer as ``Tensor/pulling(_:_:_:output:_:)`` chooses (a rank-0 cotangent
  /// is one value everywhere). Takes the cotangent, leaving `nil`.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    var g = cotangent.take()!
    let shape = x.shape
    let uniform: Double? = if case .scalar(let c) = g.storage { c } else { nil }
    /// The kernel from `g` (or the uniform value), x and y into `out`, which may be g or y.
    func run(
      _ g: UnsafePointer<Double>?, _ y: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>
    ) {
      x.withUnsafeScalars { x in
        bp_sigmoid_pullbacks(g, uniform ?? 0, x.baseAddress, y, out, x.count)
      }
    }
    if uniform == nil, g.holdsUniqueLargeBuffer() {
      y.withUnsafeScalars { y in
        g.withUnsafeMutableScalars { g in run(g.baseAddress, y.baseAddress!, g.baseAddress!) }
      }
      return g
    }
    return g.withUnsafeScalars { g in
      let cotangent = uniform == nil ? g.baseAddress : nil
      if y.holdsUniqueLargeBuffer() {
        y.withUnsafeMutableScalars { y in run(cotangent, y.baseAddress!, y.baseAddress!) }
        return y.takenOut()
      }
      return y.withUnsafeScalars { y in
        Tensor(shape: shape, count: y.count) { out in
          run(cotangent, y.baseAddress!, out.baseAddress!)
        }
      }
    }
  }
}

/// Elementwise maximum with broadcasting: y = max(a, b).
/// VJP: ā = ȳ ⊙ [a > b] and b̄ = ȳ ⊙ [b > a], each summed back to its operand's shape.
///
/// **Ties** (a = b) split the cotangent equally, ½ to each, as PyTorch's `maximum` and JAX do:
/// the mean of the two one-sided derivatives. A NaN operand gives NaN.
enum Maximum: BinaryScalarFunction {
  /// NaN tested as `a != a`, a comparison, where `isNaN` tests the bits in integer registers:
  /// the loops over it then compile to vector compares and blends.
  @inline(__always)
  static func scalar(_ a: Double, _ b: Double) -> Double { a > b || a != a ? a : b }

  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
    .elementwise(a, b, op: "max", Self.self)
  }

  /// The share of the cotangent that goes to the first argument at each position.
  static func share(_ a: Tensor, _ b: Tensor) -> Tensor {
    .elementwise(a, b, op: "max", Share.self)
  }

  /// ȳ ⊙ share(a, b), the first operand's VJP on tensors of one shape, in one vectorized pass
  /// (`bp_maximum_pullbacks`, the bits of ``Share``), into the buffer
  /// ``Tensor/pulling(_:_:_:output:kernel:)`` chooses; swap a and b for the second operand's.
  static func fusedPullback(
    _ cotangent: inout Tensor?, _ a: Tensor, _ b: Tensor, output: inout Tensor
  ) -> Tensor {
    .pulling(&cotangent, a, b, output: &output) { bp_maximum_pullbacks($0, $1, $2, $3, $4, $5) }
  }

  /// 1 where the first argument wins, ½ at a tie, 0 where it loses, NaN if either is NaN.
  enum Share: BinaryScalarFunction {
    static func scalar(_ a: Double, _ b: Double) -> Double {
      a > b ? 1 : a == b ? 0.5 : a.isNaN || b.isNaN ? .nan : 0
    }
  }

  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    (
      wrt.0 ? (cotangent * share(a.value, b.value)).unbroadcast(to: a.shape) : nil,
      wrt.1 ? (cotangent * share(b.value, a.value)).unbroadcast(to: b.shape) : nil
    )
  }
}

/// Masking: y = x where the constant mask is non-zero, and 0 elsewhere. VJP: x̄ = ȳ masked
/// the same way.
///
/// It selects rather than multiplies, so a masked-out entry is 0 even when it is ±∞ or NaN,
/// where x ⊙ mask would give 0 · ∞ = NaN. Where the mask itself is NaN the result is NaN. The mask is recorded as a constant operand and
/// receives no gradient.
enum Select: BinaryScalarFunction {
  /// A NaN mask selects NaN: a condition that is NaN is neither true nor false.
  ///
  /// Written as two selects of values rather than nested branches, so that the loops over it
  /// compile to blends: with a mask of random signs, branches mispredicted half the time made
  /// relu's gradient at 10⁶ 20 times a loop's.
  @inline(__always)
  static func scalar(_ x: Double, _ mask: Double) -> Double {
    let chosen = mask != mask ? mask : x  // NaN ≠ NaN
    return mask != 0 ? chosen : 0
  }

  static func forward(_ x: Tensor, _ mask: Tensor) -> Tensor {
    require(
      Shape.broadcasts(mask.shape, to: x.shape),
      "select: mask shape \(mask.shape) does not broadcast to the operand's \(x.shape)")
    return .elementwise(x, mask, op: "select", Self.self)
  }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, mask: T) -> T {
    cotangent.masked(by: mask.value)
  }
}

// MARK: - Public functions

/// The exponential eˣ of each element.
public func exp(_ x: Tensor) -> Tensor { Exp.forward(x) }
/// The exponential eˣ of each element, recorded: y = eˣ, x̄ = ȳ ⊙ y.
public func exp(_ x: Variable) -> Variable { .apply(.exp, x, Exp.forward) }

/// The natural logarithm ln x of each element (ln 0 = −∞; negative → NaN).
public func log(_ x: Tensor) -> Tensor { Log.forward(x) }
/// The natural logarithm of each element, recorded: y = ln x, x̄ = ȳ ⊘ x.
public func log(_ x: Variable) -> Variable { .apply(.log, x, Log.forward) }

/// The square root √x of each element (negative → NaN).
public func sqrt(_ x: Tensor) -> Tensor { Sqrt.forward(x) }
/// The square root of each element, recorded: y = √x, x̄ = ȳ ⊘ (2y).
public func sqrt(_ x: Variable) -> Variable { .apply(.sqrt, x, Sqrt.forward) }

/// Each element raised to a constant power: xᵖ.
public func pow(_ x: Tensor, _ exponent: Double) -> Tensor { Pow.forward(x, Tensor(exponent)) }
/// Each element raised to a constant power, recorded: y = xᵖ, x̄ = ȳ ⊙ p xᵖ⁻¹.
public func pow(_ x: Variable, _ exponent: Double) -> Variable {
  .apply(.pow, x, Variable(exponent), Pow.forward)
}

/// The hyperbolic tangent of each element.
public func tanh(_ x: Tensor) -> Tensor { Tanh.forward(x) }
/// The hyperbolic tangent of each element, recorded: y = tanh x, x̄ = ȳ ⊙ (1 − y²).
public func tanh(_ x: Variable) -> Variable { .apply(.tanh, x, Tanh.forward) }

/// The logistic sigmoid σ(x) = 1 / (1 + e⁻ˣ) of each element, accurate in both tails.
public func sigmoid(_ x: Tensor) -> Tensor { Sigmoid.forward(x) }
/// The logistic sigmoid of each element, recorded: y = σ(x) = 1 / (1 + e⁻ˣ),
/// x̄ = ȳ ⊙ σ(x) σ(−x).
///
/// Within a few ulps relative everywhere, including the left tail where σ(x) ≈ eˣ, so
/// `log(sigmoid(x))` at x = −40 is −40 with derivative 1, not −∞ and NaN. σ(−∞) = 0,
/// σ(+∞) = 1, and NaN gives NaN.
///
/// On a tensor that needs a gradient, the forward pass also keeps σ′(x) = σ(x) σ(−x), which it
/// computes from the same exponential: the VJP is then one product, ȳ ⊙ σ′, with the same bits
/// as the rule, for a tensor of σ′ held beside the entry until the sweep takes it.
public func sigmoid(_ x: Variable) -> Variable {
  .apply(.sigmoid, x, value: Sigmoid.forward, keeping: Sigmoid.forwardKeepingDerivative)
}

extension Tensor {
  /// The tensor where `mask` is non-zero and 0 elsewhere: a selection, so a masked-out ±∞ or
  /// NaN becomes 0 (where multiplying by the mask would give NaN).
  ///
  /// - Precondition: the mask's shape broadcasts to this tensor's.
  public func masked(by mask: Tensor) -> Tensor { Select.forward(self, mask) }
}

extension Variable {
  /// The variable where the constant `mask` is non-zero and 0 elsewhere, recorded:
  /// y = x where mask ≠ 0, else 0; x̄ = ȳ masked the same way.
  ///
  /// A selection, not a product: a masked-out ±∞ or NaN gives 0 and a zero gradient, where
  /// x ⊙ mask would give NaN.
  ///
  /// - Precondition: the mask's shape broadcasts to the variable's.
  public func masked(by mask: Tensor) -> Variable {
    .apply(.select, self, Variable(mask), Select.forward)
  }
}

/// The elementwise maximum of two tensors, with broadcasting.
public func max(_ a: Tensor, _ b: Tensor) -> Tensor { Maximum.forward(a, b) }
/// The elementwise maximum, recorded: y = max(a, b); ties split the gradient ½ and ½.
public func max(_ a: Variable, _ b: Variable) -> Variable {
  .apply(.maximum, a, b, Maximum.forward)
}
/// The elementwise maximum with a constant scalar, recorded: y = max(a, s).
public func max(_ a: Variable, _ b: Double) -> Variable { max(a, Variable(b)) }
/// The elementwise maximum with a constant scalar, recorded: y = max(s, b).
public func max(_ a: Double, _ b: Variable) -> Variable { max(Variable(a), b) }
/// The elementwise maximum with a constant tensor, recorded.
public func max(_ a: Variable, _ b: Tensor) -> Variable { max(a, Variable(b)) }
/// The elementwise maximum with a constant tensor, recorded.
public func max(_ a: Tensor, _ b: Variable) -> Variable { max(Variable(a), b) }
