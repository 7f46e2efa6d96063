internal import BackpropKernels
import Foundation

// The activation functions: relu, softplus, logSigmoid, swish, gelu, leakyRelu and elu, each a
// declaration with its value, its derivative over TensorAlgebra and its kernel, then its public
// spellings. (sigmoid and tanh, core primitives, are in Elementary.swift.)

/// The rectified linear unit: y = x where x > 0, else 0; y′ = 1 where x > 0, else 0.
///
/// At x = 0 the derivative is taken to be 0, as PyTorch and JAX do, rather than the ½ that
/// `max(x, 0)` with its tie rule would give. The derivative is a constant mask, so relu has no
/// second derivative, and its VJP selects the cotangent rather than multiplying it by the
/// mask: relu(−∞) = 0 with derivative 0, and an infinite cotangent where x ≤ 0 gives 0, not
/// NaN. NaN in gives NaN out, in the value and in the derivative (PyTorch's and JAX's relu
/// return a NaN value but a zero derivative there): the mask is NaN where x is, and a NaN mask
/// selects NaN.
enum RectifiedLinearUnit: ElementaryFunction {
  static let name = "relu"

  @inline(__always)
  static func value(_ x: Double) -> Double { Select.scalar(x, ReluMask.scalar(x)) }

  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T {
    T.constant(x.value.map(ReluMask.self))
  }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T, y: T) -> T {
    cotangent.masked(by: x.value.map(ReluMask.self))
  }

  /// The same selection scalar by scalar, by the vectorized kernel: the generic rule on a
  /// Double builds a rank-0 mask tensor per scalar.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .pulling(&cotangent, x, output: &y, rule: bp_rule_rectified_pullback)
  }

  /// The vectorized kernel, the same selection: a Swift loop over ``value(_:)`` runs two lanes
  /// and a dozen operations a pair, which made relu's pass a tenth slower than a subtraction's.
  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    bp_rule(bp_rule_rectified, nil, 0, source.baseAddress, 0, nil, out.baseAddress, source.count)
  }
}

/// y = softplus(x) = ln(1 + eˣ), as max(x, 0) + ln1p(e^(−|x|)): no overflow for large x and
/// no underflow to NaN for very negative x (softplus(−800) is 0, e^−800 rounded); y′ = σ(x).
enum Softplus: ElementaryFunction {
  static let name = "softplus"
  static func value(_ x: Double) -> Double {
    x > 0
      ? x + bp_logarithm_one_plus(exponential(-x)) : bp_logarithm_one_plus(exponential(x))
  }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { x.sigmoid() }

  /// ``value(_:)`` of every scalar, or of every scalar negated and the result negated (for
  /// logSigmoid): e^(−|x|) by the vectorized kernel in one pass, which is the exponential
  /// `value` takes on either side (−x for x > 0, x otherwise), then ln(1 + ·) of each by its
  /// kernel in place, then x added where x > 0. The same bits, in three vectorized passes.
  static func values(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
    negated: Bool
  ) {
    guard let base = out.baseAddress else { return }
    for index in source.indices { out[index] = -Swift.abs(source[index]) }
    _ = bp_exponentials(base, 0, base, source.count)
    bp_logarithms_one_plus(base, base, source.count)
    let sign = negated ? -1.0 : 1.0
    for index in source.indices {
      // x > 0 ? x + l : l, negated for logSigmoid (−(−x + l) = x − l is not the same rounding
      // path, so the sign goes on after the sum, as value(_:) does).
      let x = sign * source[index]
      let l = out[index]
      out[index] = sign * (x > 0 ? x + l : l)
    }
  }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    values(source, into: out, negated: false)
  }

  /// ȳ ⊙ σ(x) with σ from the vectorized kernel, not a call a scalar: the rule's numbers.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .scaledDerivative(&cotangent, x, output: &y, apply: Sigmoid.apply) { g, s in g * s }
  }
}

/// y = ln σ(x) = −softplus(−x), accurate in both tails (logSigmoid(−800) = −800); y′ = σ(−x).
enum LogSigmoid: ElementaryFunction {
  static let name = "logSigmoid"
  static func value(_ x: Double) -> Double { -Softplus.value(-x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { (-x).sigmoid() }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    Softplus.values(source, into: out, negated: true)
  }

  /// ȳ ⊙ σ(−x) with σ from the vectorized kernel: the rule's numbers.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .scaledDerivative(&cotangent, x, output: &y, apply: negatedSigmoids) { g, s in g * s }
  }

  /// σ(−x) of every scalar: the negations, then the sigmoid kernel over them in place.
  static func negatedSigmoids(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    for index in source.indices { out[index] = -source[index] }
    Sigmoid.apply(UnsafeBufferPointer(out), into: out)
  }
}

/// y = swish(x) = x σ(x) (SiLU); y′ = σ(x) + x σ′(x) with σ′ = σ(x) σ(−x), which keeps the
/// left tail (σ(x) ≈ eˣ) and needs no 1 − σ. A primitive, where x ⊙ sigmoid(x) was two entries
/// whose VJP took four passes and three tensors: recorded, the forward pass takes σ and σ′ from
/// one exponential a scalar and keeps y′ beside the entry, as sigmoid keeps σ′, so the VJP is
/// one product (none for a unit cotangent). The value is the product's to the bit, and the
/// derivative the composition's for a cotangent of 1 (for others, ȳ(σ + xσ′) rounds where
/// ȳσ + (ȳx)σ′ did).
enum Swish: DerivativeKeeping {
  static let name = "swish"
  static func value(_ x: Double) -> Double {
    productVanishingAtNegativeInfinity(x, x * bp_sigmoid(x))
  }

  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T {
    let s = x.sigmoid()
    return s + x.infinitiesZeroed() * (s * (-x).sigmoid())
  }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    guard let x = source.baseAddress, let y = out.baseAddress else { return }
    bp_sigmoids(x, y, source.count)
    for index in source.indices {
      out[index] = productVanishingAtNegativeInfinity(source[index], source[index] * out[index])
    }
  }

  static let parts = bp_sigmoids_and_derivatives

  /// x σ and σ + x σ′ from σ and σ′ (σ′ with the bits of σ(x) · σ(−x)); their limits −0 and
  /// σ(±∞) at ±∞.
  @inline(__always)
  static func valueAndSlope(x: Double, first s: Double, second d: Double) -> (Double, Double) {
    (
      productVanishingAtNegativeInfinity(x, x * s),
      slopeAtInfinity(x, factor: s, slope: s + x * d)
    )
  }
}

/// 1 where x ≤ 0 (−∞ included), 0 where x > 0, NaN where x is NaN: the complement of relu's
/// mask, two selects of values (blends, not branches).
enum NonPositiveMask: UnaryScalarFunction {
  @inline(__always)
  static func scalar(_ x: Double) -> Double {
    let step: Double = x > 0 ? 0 : 1
    return x != x ? x : step
  }
}

/// y = elu(x, α) = x where x > 0, α(eˣ − 1) elsewhere; ∂y/∂x = 1 where x > 0 and α eˣ
/// elsewhere (α at 0, as PyTorch); ∂y/∂α = 0 where x > 0 and eˣ − 1 elsewhere.
///
/// A primitive of two operands (α a constant scalar, as `elu(_:alpha:)` records it), where the
/// composition x·[x > 0] + α expm1(x·[x ≤ 0]) was five entries and as many passes each way.
/// expm1 and e^x are taken of x with its positive entries masked to 0, so that a large positive
/// x never reaches them (e^x's overflow would make the masked-out derivative 0 · ∞ = NaN).
enum ExponentialLinearUnit: BinaryElementaryFunction {
  static let name = "elu"

  @inline(__always)
  static func value(_ x: Double, _ alpha: Double) -> Double {
    x > 0 ? x : alpha * bp_exponential_minus_one(x)
  }

  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    let inside = a.value.map(NonPositiveMask.self)
    return T.constant(a.value.map(ReluMask.self))
      + (b * a.masked(by: inside).exponential()).masked(by: inside)
  }

  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    a.masked(by: a.value.map(NonPositiveMask.self)).applying(ExponentialMinusOne.self)
  }

  /// One pass of the expm1 kernel over x with its positive entries masked to 0, then the
  /// selection: `value`'s bits. Broadcasting other than against a scalar α takes the general
  /// loop.
  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
    guard case .scalar(let alpha) = b.storage, !a.shape.isEmpty else {
      return .elementwise(a, b, op: name, Scalar<Self>.self)
    }
    return a.withUnsafeScalars { x in
      Tensor(shape: a.shape, count: x.count) { out in
        for index in x.indices { out[index] = x[index] > 0 ? 0 : x[index] }
        ExponentialMinusOne.apply(UnsafeBufferPointer(out), into: out)
        // Both sides computed, then selected: a blend, where the branch on random signs was
        // mispredicted half the time (this loop took a quarter of elu's gradient).
        for index in x.indices {
          let (value, scaled) = (x[index], alpha * out[index])
          out[index] = value > 0 ? value : scaled
        }
      }
    }
  }

  /// The rules on tensors of one shape: ∂y/∂x with e^x from the kernel (one pass over x masked,
  /// one scaling by α, one with the cotangent), the rule's numbers; ∂y/∂α by the general rule.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    var db: Tensor? = nil
    if wrt.1 {
      let g = wrt.0 ? cotangent! : cotangent.take()!
      db = pullback(g, a: a, b: b, y: y, wrt: (false, true)).1
    }
    guard wrt.0 else { return (nil, db) }
    let scaled = b.withUnsafeScalars { alpha in
      scaledExponentials(a) { index, e in 0 + alpha[index] * e }
    }
    let da: Tensor = .pulling(&cotangent, a, scaled, output: &y) { g, x, slope, _ in
      g * (x > 0 ? 1 : slope)
    }
    return (da, db)
  }

  static func pullback(_ cotangent: inout Tensor?, a: Tensor, constant b: Double, y: inout Tensor)
    -> Tensor?
  {
    let scaled = scaledExponentials(a) { _, e in 0 + b * e }
    return .pulling(&cotangent, a, scaled, output: &y) { g, x, slope, _ in g * (x > 0 ? 1 : slope) }
  }

  /// `scale(i, e^(xᵢ masked))` for every scalar, e^x from the kernel over x with its positive
  /// entries masked to 0: 0 + α e^x where x ≤ 0 is the rule's sum of the step's 0 and the
  /// selection. Each loop a selection of values computed on both sides, so a blend.
  @inline(__always)
  static func scaledExponentials(_ a: Tensor, _ scale: (Int, Double) -> Double) -> Tensor {
    a.withUnsafeScalars { x in
      Tensor(shape: a.shape, count: x.count) { out in
        for index in x.indices { out[index] = x[index] > 0 ? 0 : x[index] }
        Exp.apply(UnsafeBufferPointer(out), into: out)
        for index in x.indices { out[index] = scale(index, out[index]) }
      }
    }
  }
}

/// y = leakyRelu(x, α) = x where x > 0, α x elsewhere; ∂y/∂x = 1 where x > 0 and α elsewhere
/// (α at 0, as PyTorch); ∂y/∂α = 0 where x > 0 and x elsewhere.
///
/// A primitive of two operands (α a constant scalar), where x ⊙ slopes was a product with a
/// constant tensor of slopes built first.
enum LeakyRectifiedLinearUnit: BinaryElementaryFunction {
  static let name = "leakyRelu"

  /// α x computed on both sides of the selection, so that loops over it blend, not branch.
  @inline(__always)
  static func value(_ x: Double, _ alpha: Double) -> Double {
    let scaled = alpha * x
    return x > 0 ? x : scaled
  }

  /// The step plus α selected where x ≤ 0 (α spread to x's shape first when it is a scalar).
  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    let shape = a.value.shape
    let alpha = b.value.shape == shape ? b : b.broadcasted(to: shape)
    return T.constant(a.value.map(ReluMask.self))
      + alpha.masked(by: a.value.map(NonPositiveMask.self))
  }

  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    a.masked(by: a.value.map(NonPositiveMask.self))
  }

  /// The rules scalar by scalar, in one pass each: the same selections and sum.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    var db: Tensor? = nil
    let byAlpha = { (g: Double, x: Double, _: Double, _: Double) -> Double in
      g * (x > 0 ? 0 : x)
    }
    if wrt.1 && wrt.0 {
      var (shared, kept) = (cotangent, y)
      db = .pulling(&shared, a, b, output: &kept, byAlpha)
    } else if wrt.1 {
      db = .pulling(&cotangent, a, b, output: &y, byAlpha)
    }
    let da: Tensor? =
      wrt.0 ? .pulling(&cotangent, a, b, output: &y) { g, x, alpha, _ in g * slope(x, alpha) } : nil
    return (da, db)
  }

  static func pullback(_ cotangent: inout Tensor?, a: Tensor, constant b: Double, y: inout Tensor)
    -> Tensor?
  { .pulling(&cotangent, a, a, output: &y) { g, x, _, _ in g * slope(x, b) } }

  /// ∂y/∂x: 1 where x > 0, 0 + α elsewhere (the rule's sum), NaN at NaN; selections of values.
  @inline(__always)
  static func slope(_ x: Double, _ alpha: Double) -> Double {
    let slope = x > 0 ? 1 : 0 + alpha
    return x != x ? x : slope
  }
}

/// y = gelu(x) = x Φ(x) = (x/2) erfc(u), u = −x/√2 (Φ the standard normal distribution
/// function); y′ = Φ(x) + x φ(x) = erfc(u)/2 + x e^(−u²)/√(2π).
///
/// Through erfc rather than (1 + erf(x/√2))/2, which cancels in the left tail: gelu(−10) is
/// −7.6e−23, not 0. A primitive, where the composition 0.5 · x · erfc(−√½ · x) was four entries
/// and four passes each way: recorded, the forward pass takes erfc(u) and e^(−u²) from one pass
/// of the kernel and keeps y′ beside the entry, as swish does, so the VJP is one product. The
/// value is the composition's to the bit.
enum Gelu: DerivativeKeeping {
  static let name = "gelu"
  /// −√½, rounded: u = scale · x.
  static let scale = -(0.5.squareRoot())
  /// 1/√(2π), correctly rounded.
  static let inverseRootTwoPi = 0x1.9884533d43651p-2

  static func value(_ x: Double) -> Double {
    productVanishingAtNegativeInfinity(x, 0.5 * x * bp_complementary_error_function(scale * x))
  }

  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T {
    // x φ(x) from x̃ (0 at ±∞), inside the Gaussian too: its rule's 2u would meet ∞ · 0.
    let (u, finite) = (scale * x, x.infinitiesZeroed())
    let v = scale * finite
    return 0.5 * u.applying(ComplementaryErrorFunction.self)
      + finite * (inverseRootTwoPi * (-(v * v)).exponential())
  }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    for index in source.indices { out[index] = scale * source[index] }
    ComplementaryErrorFunction.apply(UnsafeBufferPointer(out), into: out)
    for index in source.indices {
      let x = source[index]
      out[index] = productVanishingAtNegativeInfinity(x, 0.5 * x * out[index])
    }
  }

  static let parts = bp_gelu_parts

  /// (x/2) erfc(u) and erfc(u)/2 + x e^(−u²)/√(2π) from erfc(u) and e^(−u·u); their limits −0
  /// and Φ(±∞) at ±∞.
  @inline(__always)
  static func valueAndSlope(x: Double, first e: Double, second g: Double) -> (Double, Double) {
    (
      productVanishingAtNegativeInfinity(x, 0.5 * x * e),
      slopeAtInfinity(x, factor: 0.5 * e, slope: 0.5 * e + x * (inverseRootTwoPi * g))
    )
  }
}

/// Softplus, ln(1 + eˣ), accurate in both tails, of each element.
public func softplus(_ x: Tensor) -> Tensor { Softplus.forward(x) }

/// Softplus, ln(1 + eˣ), accurate in both tails, of each element, recorded: y = ln(1 + eˣ), x̄ = ȳ ⊙ σ(x).
public func softplus(_ x: Variable) -> Variable { x.applying(Softplus.self) }

/// Ln σ(x) = −softplus(−x), accurate in both tails, of each element.
public func logSigmoid(_ x: Tensor) -> Tensor { LogSigmoid.forward(x) }

/// Ln σ(x) = −softplus(−x), accurate in both tails, of each element, recorded: y = ln σ(x), x̄ = ȳ ⊙ σ(−x).
public func logSigmoid(_ x: Variable) -> Variable { x.applying(LogSigmoid.self) }

/// The Gaussian error linear unit, exact (erf) form: gelu(x) = x Φ(x), with Φ the standard
/// normal distribution function, as (x/2) erfc(−x/√2), recorded as one entry; its derivative is
/// Φ(x) + x φ(x).
///
/// Through erfc rather than (1 + erf(x/√2))/2, which cancels in the left tail: gelu(−10) is
/// −7.6e−23, not 0.
public func gelu(_ x: Variable) -> Variable { Gelu.record(x) }

/// swish(x) = x σ(x) (also called SiLU), recorded as one entry; its derivative is
/// σ(x) + x σ′(x), σ′ = σ(x) σ(−x), the composition's numbers for a unit cotangent.
public func swish(_ x: Variable) -> Variable { Swish.record(x) }

/// The leaky rectified linear unit: x where x > 0, α x elsewhere, recorded as one entry of two
/// operands (α a constant).
///
/// The derivative is 1 where x > 0 and α where x ≤ 0, α at 0 as in PyTorch; NaN gives NaN.
/// α = 0 is ``relu(_:)``, a selection, so that relu(−∞) stays 0 (α x would give 0 · (−∞) =
/// NaN).
public func leakyRelu(_ x: Variable, alpha: Double = 0.01) -> Variable {
  if alpha == 0 { return relu(x) }
  return .apply(LeakyRectifiedLinearUnit.self, x, Variable(alpha))
}

/// The exponential linear unit: x where x > 0, α(eˣ − 1) elsewhere, recorded as one entry of two
/// operands (α a constant).
///
/// The derivative is 1 where x > 0 and α eˣ where x ≤ 0 (α at 0, as PyTorch); a large positive
/// x never reaches eˣ.
public func elu(_ x: Variable, alpha: Double = 1) -> Variable {
  .apply(ExponentialLinearUnit.self, x, Variable(alpha))
}

/// gelu(x) = x Φ(x) of each element (see ``gelu(_:)->Variable``).
public func gelu(_ x: Tensor) -> Tensor { Gelu.forward(x) }

/// swish(x) = x σ(x) of each element.
public func swish(_ x: Tensor) -> Tensor { Swish.forward(x) }

/// x where x > 0, α x elsewhere, of each element.
public func leakyRelu(_ x: Tensor, alpha: Double = 0.01) -> Tensor {
  alpha == 0 ? RectifiedLinearUnit.forward(x) : LeakyRectifiedLinearUnit.forward(x, Tensor(alpha))
}

/// x where x > 0, α(eˣ − 1) elsewhere, of each element.
public func elu(_ x: Tensor, alpha: Double = 1) -> Tensor {
  ExponentialLinearUnit.forward(x, Tensor(alpha))
}

/// The rectified linear unit relu(x) = max(x, 0): x where x > 0, else 0, recorded as one
/// entry.
///
/// At x = 0 the derivative is taken to be 0, as PyTorch and JAX do, rather than the ½ that
/// `max(x, 0)` with its tie rule would give. The derivative is a constant mask, so relu
/// contributes no second derivative, and relu(−∞) = 0 with derivative 0.
///
/// NaN in gives NaN out, in the value and in the derivative (PyTorch's and JAX's relu return a
/// NaN value but a zero derivative there).
public func relu(_ x: Variable) -> Variable { x.applying(RectifiedLinearUnit.self) }

/// relu's mask: 1 where x > 0, 0 where x ≤ 0 (−∞ included), NaN where x is NaN; two selects
/// of values, which a loop turns into blends, not branches.
enum ReluMask: UnaryScalarFunction {
  @inline(__always)
  static func scalar(_ x: Double) -> Double {
    let step: Double = x > 0 ? 1 : 0
    return x != x ? x : step  // NaN ≠ NaN
  }
}
