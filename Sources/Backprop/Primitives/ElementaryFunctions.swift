internal import BackpropKernels
import Foundation

// The elementwise functions beyond the core primitives, each one declaration: its name, its
// value on one Double, and its derivative written in the operations of `TensorAlgebra`. That one
// derivative runs on tensors (a gradient), on recorded variables (so that Hessians are exact)
// and on Doubles (the fast rank-0 path), like every other rule. Adding a function is a type
// here, a line in `Elementary.unary` or `Elementary.binary`, and its public spelling.
//
// Which are primitives, and why: a function is a primitive here when composing it from others would
// lose accuracy or speed: sin, cos, tan, their inverses, the hyperbolic functions, exp2, expm1,
// log2, log10, log1p, erf and erfc are each one function within about an ulp (sin, cos, tan, asin,
// acos, atan, sinh, cosh, atanh, exp2, log2, log10, expm1, log1p, erf and erfc vectorized kernels,
// asinh and acosh the C library's), where a composition rounds several times and can cancel;
// softplus and logSigmoid evaluate e^(−|x|) only, so no tail overflows or cancels; abs, sign,
// square, reciprocal and rsqrt are one operation; relu is one select with its own mask, a primitive
// so that its forward and backward passes are one pass each with no mask tensor; swish and gelu are
// one kernel pass and a product each way. Huber and the binary cross-entropy term are primitives of
// two operands for the same reason (their losses took nine and ten entries), and so are min, elu
// and leakyRelu (three to five). clamp and select are composed: each is an exact combination of the
// primitives, so a composition loses nothing, and their derivatives come from the chain rule.

/// A scalar function applied elementwise, declared once.
///
/// `derivative(x:y:)` gives f′(x) from the input and the output y = f(x), written with the
/// operations of ``TensorAlgebra`` (including other elementary functions), so that it can be
/// recorded and differentiated again.
protocol ElementaryFunction: SendableMetatype {
  /// The name a tape listing prints and the command reads.
  static var name: String { get }
  /// f(x) for one scalar.
  static func value(_ x: Double) -> Double
  /// f′(x), given x and y = f(x).
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T
  /// x̄ = ȳ ⊙ f′(x), by default; a requirement so that a function whose derivative is a
  /// selection (relu) can select instead of multiplying, which keeps 0 · ∞ out.
  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T, y: T) -> T
  /// ``pullback(_:x:y:)`` on tensors of one shape in one pass, into the cotangent's or the
  /// output's buffer when it may (see ``Tensor/pulling(_:_:_:output:_:)``). A requirement with
  /// a default, not only an extension method, so that each function's witness is specialized:
  /// the sweep calls it through the registry's existential, once a tensor, not once a scalar.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor
  /// f on every scalar of `source`, into `out` of the same count: a loop over ``value(_:)``
  /// unless the function has a vectorized kernel (whose `value` then gives the same bits).
  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>)
}

extension ElementaryFunction {
  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    for index in source.indices { out[index] = value(source[index]) }
  }

  static func forward(_ x: Tensor) -> Tensor {
    if case .scalar(let value) = x.storage { return Tensor(Self.value(value)) }
    return x.withUnsafeScalars { source in
      Tensor(shape: x.shape, count: source.count) { out in apply(source, into: out) }
    }
  }

  /// x̄ = ȳ ⊙ f′(x).
  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T, y: T) -> T {
    cotangent * derivative(x: x, y: y)
  }

  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .pulling(&cotangent, x, x, output: &y) { g, x, _, y in pullback(g, x: x, y: y) }
  }
}

/// An elementary function whose forward pass keeps y′ beside y, from one pass of a kernel with
/// two results (swish's σ and σ′, gelu's erfc(u) and e^(−u²)), so that its VJP is one product
/// (none for a unit cotangent).
protocol DerivativeKeeping: ElementaryFunction {
  /// The two-result kernel: `kernel(source, first, second, count)`.
  static var parts: Tensor.PairKernel { get }
  /// y and y′ from x and the kernel's two results for it: `value`'s and `derivative`'s bits.
  static func valueAndSlope(x: Double, first: Double, second: Double) -> (Double, Double)
}

extension DerivativeKeeping {
  /// y and y′ from one pass of the kernel, each over one of its two buffers. A rank-0 input
  /// keeps nothing (its VJP runs on Double).
  static func forwardKeepingDerivative(_ x: Tensor) -> (Tensor, Tensor?) {
    if case .scalar = x.storage { return (forward(x), nil) }
    let (y, derivative) = valuesAndSlopes(x)
    return (y, derivative)
  }

  /// Where nothing was kept (an input that needed no gradient when recorded, a tape replayed):
  /// the forward pass's kernel, then ȳ times y′: the rule's numbers.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    var (_, slopes) = valuesAndSlopes(x)
    if let unit = Tensor.unitScaled(&cotangent, &slopes) { return unit }
    return .pulling(&cotangent, x, x, output: &slopes) { g, _, _, slope in g * slope }
  }

  /// y over the first result's buffer and y′ over the second's, each lane read before it is
  /// written.
  @inline(__always)
  static func valuesAndSlopes(_ x: Tensor) -> (Tensor, Tensor) {
    Tensor.pair(x, kernel: parts) { source, values, derivatives in
      for index in source.indices {
        (values[index], derivatives[index]) = valueAndSlope(
          x: source[index], first: values[index], second: derivatives[index])
      }
    }
  }
}

/// x f(x) for a factor f that vanishes faster than 1/x as x → −∞ (σ for swish, Φ for gelu):
/// its limit −0 at x = −∞, where the product is −∞ · 0 = NaN. A selection, so that loops over
/// it blend.
@inline(__always)
func productVanishingAtNegativeInfinity(_ x: Double, _ product: Double) -> Double {
  x == -.infinity ? -0.0 : product
}

/// y′ = f(x) + x f′(x) (swish's and gelu's) at x = ±∞, where x f′(x) is ±∞ · 0 = NaN: its limit
/// 0, leaving f(±∞) (1 or 0). A selection, so that loops over it blend.
@inline(__always)
func slopeAtInfinity(_ x: Double, factor: Double, slope: Double) -> Double {
  x.magnitude == .infinity ? factor : slope
}

extension TensorAlgebra {
  /// This value with 0 where it is ±∞, recorded as a selection by a constant mask: x̃ in the
  /// term x̃ f′(x) of swish's and gelu's derivatives, which is then 0 at ±∞ (its limit, where
  /// x f′(x) is ∞ · 0), and whose own derivatives meet no ∞ · 0 either (a zero cotangent times
  /// an infinite x in a product's VJP), so Hessians are 0 there too. Finite scalars keep their
  /// bits.
  func infinitiesZeroed() -> Self {
    masked(by: value.map { $0.magnitude == .infinity ? 0 : 1 })
  }
}

/// A scalar function of two operands, applied elementwise with broadcasting, declared once.
protocol BinaryElementaryFunction: SendableMetatype {
  /// The name a tape listing prints and the command reads.
  static var name: String { get }
  /// f(a, b) for one pair of scalars.
  static func value(_ a: Double, _ b: Double) -> Double
  /// ∂f/∂a, given a, b and y = f(a, b).
  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T
  /// ∂f/∂b, given a, b and y = f(a, b).
  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T
  /// ā = ȳ ⊙ ∂f/∂a and b̄ = ȳ ⊙ ∂f/∂b by default; a requirement so that a function can group
  /// the product otherwise (the squared difference forms ȳ ⊙ (a − b) before doubling it).
  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, y: T, wrt: (Bool, Bool)
  ) -> (T?, T?)
  /// ``pullback(_:a:b:y:wrt:)`` on operands of the cotangent's shape, in one pass per operand
  /// with the same numbers, the first operand's written over the cotangent when nothing else
  /// holds it. A requirement with a default so that each function's witness is specialized.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?)
  /// The first operand's VJP where the second is the constant scalar `b` (δ, α, a bound), in
  /// one pass with ``fusedPullback(_:a:b:y:wrt:)``'s numbers, or nil (the default) where the
  /// function has no such pass: the caller then fills `b` to the first operand's shape. A
  /// requirement with a default so that the registry's existential reaches each function's own.
  static func pullback(_ cotangent: inout Tensor?, a: Tensor, constant b: Double, y: inout Tensor)
    -> Tensor?
  /// f of every pair, with broadcasting: the broadcasting loop over ``value(_:_:)`` unless the
  /// function has vectorized passes (whose results are then `value`'s bits). A requirement
  /// with a default, so that the registry's existential and `Variable.apply` reach the
  /// function's own.
  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor
  /// The C kernel rule (`bp_rule`) that computes ``value(_:_:)`` with the same bits, used by
  /// the default ``forward(_:_:)`` where the operands' shapes allow; nil (the default) if none.
  static var rule: bp_rule_kind? { get }
}

extension BinaryElementaryFunction {
  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
    .elementwise(a, b, op: name, Scalar<Self>.self)
  }

  static func pullback(_ cotangent: inout Tensor?, a: Tensor, constant b: Double, y: inout Tensor)
    -> Tensor?
  { nil }

  static var rule: bp_rule_kind? { nil }

  /// ā = ȳ ⊙ ∂f/∂a and b̄ = ȳ ⊙ ∂f/∂b, each summed back to its operand's shape.
  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, y: T, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    (
      wrt.0 ? (cotangent * partialA(a: a, b: b, y: y)).unbroadcast(to: a.shape) : nil,
      wrt.1 ? (cotangent * partialB(a: a, b: b, y: y)).unbroadcast(to: b.shape) : nil
    )
  }
}

extension BinaryElementaryFunction {
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    // b̄ first, into a buffer of its own if ā needs the cotangent too; each scalar's rule is
    // the tensor rule's, ȳ ⊙ ∂f, evaluated on Double. (The sweep passes a rank-0 cotangent only
    // when one operand wants a gradient.)
    var db: Tensor? = nil
    if wrt.1 {
      if wrt.0 {
        var shared = cotangent
        var kept = y
        db = .pulling(&shared, a, b, output: &kept) { g, a, b, y in
          g * partialB(a: a, b: b, y: y)
        }
      } else {
        db = .pulling(&cotangent, a, b, output: &y) { g, a, b, y in
          g * partialB(a: a, b: b, y: y)
        }
      }
    }
    let da: Tensor? =
      wrt.0
      ? .pulling(&cotangent, a, b, output: &y) { g, a, b, y in g * partialA(a: a, b: b, y: y) }
      : nil
    return (da, db)
  }
}

/// A binary elementary function as the scalar function the broadcasting kernel takes.
enum Scalar<F: BinaryElementaryFunction>: BinaryScalarFunction {
  static func scalar(_ a: Double, _ b: Double) -> Double { F.value(a, b) }
  static var rule: bp_rule_kind? { F.rule }
}

/// The registry: an entry of the tape names its function by its place here.
enum Elementary {
  static let unary: [any ElementaryFunction.Type] = [
    Sine.self, Cosine.self, Tangent.self, ArcSine.self, ArcCosine.self, ArcTangent.self,
    HyperbolicSine.self, HyperbolicCosine.self, InverseHyperbolicSine.self,
    InverseHyperbolicCosine.self, InverseHyperbolicTangent.self, BinaryExponential.self,
    ExponentialMinusOne.self, BinaryLogarithm.self, DecimalLogarithm.self, LogOnePlus.self,
    Magnitude.self, Sign.self, Square.self, Reciprocal.self, ReciprocalSquareRoot.self,
    ErrorFunction.self, ComplementaryErrorFunction.self, Softplus.self, LogSigmoid.self,
    RectifiedLinearUnit.self, Swish.self, Gelu.self,
  ]

  static let binary: [any BinaryElementaryFunction.Type] = [
    Power.self, ArcTangent2.self, Hypotenuse.self, SquaredDifference.self, Huber.self,
    BinaryCrossEntropy.self, ExponentialLinearUnit.self, LeakyRectifiedLinearUnit.self,
    Minimum.self,
  ]

  private static let unaryIDs = Dictionary(
    uniqueKeysWithValues: unary.enumerated().map { (ObjectIdentifier($1), UInt8($0)) })
  private static let binaryIDs = Dictionary(
    uniqueKeysWithValues: binary.enumerated().map { (ObjectIdentifier($1), UInt8($0)) })

  static func id(of function: any ElementaryFunction.Type) -> UInt8 {
    unaryIDs[ObjectIdentifier(function)]!
  }

  static func id(of function: any BinaryElementaryFunction.Type) -> UInt8 {
    binaryIDs[ObjectIdentifier(function)]!
  }
}

extension Variable {
  /// Evaluates an elementary function: at once for a constant, or recorded on the tape.
  static func apply<F: ElementaryFunction>(_ function: F.Type, _ x: Variable) -> Variable {
    apply(.elementary, x, function: Elementary.id(of: function), F.forward)
  }

  /// Evaluates a binary elementary function with broadcasting, recorded when either operand is.
  static func apply<F: BinaryElementaryFunction>(
    _ function: F.Type, _ a: Variable, _ b: Variable
  ) -> Variable {
    apply(.binaryElementary, a, b, function: Elementary.id(of: function), F.forward)
  }
}

// MARK: - Trigonometric

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

/// y = sin x; y′ = cos x.
///
/// Sine and cosine run the vectorized kernel (Sources/BackpropKernels/SineCosine.c), within
/// 1 ulp; a scalar goes through the same kernel, so that it agrees with a tensor to the bit.
enum Sine: ElementaryFunction {
  static let name = "sin"
  static func value(_ x: Double) -> Double { bp_sine(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { x.applying(Cosine.self) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress { bp_sines(x, y, source.count) }
  }

  /// ȳ ⊙ cos x with the cosines from the kernel, not a call per scalar: the same numbers.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .scaledDerivative(&cotangent, x, output: &y, apply: Cosine.apply) { g, c in g * c }
  }
}

/// y = cos x; y′ = −sin x.
enum Cosine: ElementaryFunction {
  static let name = "cos"
  static func value(_ x: Double) -> Double { bp_cosine(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { -x.applying(Sine.self) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress { bp_cosines(x, y, source.count) }
  }

  /// ȳ ⊙ −sin x with the sines from the kernel: the same numbers as the rule.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .scaledDerivative(&cotangent, x, output: &y, apply: Sine.apply) { g, s in g * -s }
  }
}

/// y = tan x; y′ = 1 + y², which has no cancellation (it is at least 1).
///
/// The vectorized kernel beside sine and cosine, within 1 ulp; a scalar goes through the same
/// kernel, so that it agrees with a tensor to the bit.
enum Tangent: ElementaryFunction {
  static let name = "tan"
  static func value(_ x: Double) -> Double { bp_tangent(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { 1 + y * y }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress { bp_tangents(x, y, source.count) }
  }
}

/// y = asin x on [−1, 1]; y′ = 1/√((1 − x)(1 + x)), factored so that it does not cancel near ±1.
///
/// The vectorized kernel (Sources/BackpropKernels/ArcSine.c), within 1 ulp; a scalar goes through
/// the same kernel, so that it agrees with a tensor to the bit.
enum ArcSine: ElementaryFunction {
  static let name = "asin"
  static func value(_ x: Double) -> Double { bp_arc_sine(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T {
    ((1 - x) * (1 + x)).applying(ReciprocalSquareRoot.self)
  }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress { bp_arc_sines(x, y, source.count) }
  }
}

/// y = acos x on [−1, 1]; y′ = −1/√((1 − x)(1 + x)). The kernel beside asin's, within 1 ulp.
enum ArcCosine: ElementaryFunction {
  static let name = "acos"
  static func value(_ x: Double) -> Double { bp_arc_cosine(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T {
    -((1 - x) * (1 + x)).applying(ReciprocalSquareRoot.self)
  }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress { bp_arc_cosines(x, y, source.count) }
  }
}

/// y = atan x; y′ = 1/(1 + x²).
///
/// The vectorized kernel (Sources/BackpropKernels/ArcTangent.h), within 1 ulp; a scalar goes
/// through the same kernel, so that it agrees with a tensor to the bit.
enum ArcTangent: ElementaryFunction {
  static let name = "atan"
  static func value(_ x: Double) -> Double { bp_arc_tangent(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { 1 / (1 + x * x) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress { bp_arc_tangents(x, y, source.count) }
  }
}

// MARK: - Hyperbolic

/// y = sinh x; y′ = cosh x.
///
/// The vectorized kernel (Sources/BackpropKernels/Hyperbolic.c), within 1 ulp; a scalar goes
/// through the same kernel, so that it agrees with a tensor to the bit.
enum HyperbolicSine: ElementaryFunction {
  static let name = "sinh"
  static func value(_ x: Double) -> Double { bp_hyperbolic_sine(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { x.applying(HyperbolicCosine.self) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_hyperbolic_sines(x, y, source.count)
    }
  }

  /// ȳ ⊙ cosh x with the cosines from the kernel, over y's buffer when it may: the rule's numbers.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .scaledDerivative(&cotangent, x, output: &y, apply: HyperbolicCosine.apply) { g, c in g * c }
  }
}

/// y = cosh x; y′ = sinh x. The kernel beside sinh's, within 1 ulp.
enum HyperbolicCosine: ElementaryFunction {
  static let name = "cosh"
  static func value(_ x: Double) -> Double { bp_hyperbolic_cosine(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { x.applying(HyperbolicSine.self) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_hyperbolic_cosines(x, y, source.count)
    }
  }

  /// ȳ ⊙ sinh x with the sines from the kernel: the rule's numbers.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .scaledDerivative(&cotangent, x, output: &y, apply: HyperbolicSine.apply) { g, s in g * s }
  }
}

/// y = asinh x; y′ = 1/√(x² + 1), as 1/hypot(x, 1) so that x² cannot overflow.
enum InverseHyperbolicSine: ElementaryFunction {
  static let name = "asinh"
  static func value(_ x: Double) -> Double { Foundation.asinh(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T {
    1 / x.applying(Hypotenuse.self, T.constant(Tensor(1)))
  }

  /// The rule on tensors: hypot's kernel and the quotient's, a pass each, where the default's
  /// one pass paid a call of hypot's kernel per scalar.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    pullback(cotangent.take()!, x: x, y: y)
  }
}

/// y = acosh x for x ≥ 1; y′ = 1/√((x − 1)(x + 1)), as 1/√(x − 1) · 1/√(x + 1): x − 1 is exact
/// near 1, and the product under one root would overflow above 1e154.
enum InverseHyperbolicCosine: ElementaryFunction {
  static let name = "acosh"
  static func value(_ x: Double) -> Double { Foundation.acosh(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T {
    (x - 1).applying(ReciprocalSquareRoot.self) * (1 + x).applying(ReciprocalSquareRoot.self)
  }
}

/// y = atanh x on (−1, 1); y′ = 1/((1 − x)(1 + x)).
///
/// The vectorized kernel beside log1p's (Sources/BackpropKernels/Logarithm.c), within 1 ulp; a
/// scalar goes through the same kernel, so that it agrees with a tensor to the bit.
enum InverseHyperbolicTangent: ElementaryFunction {
  static let name = "atanh"
  static func value(_ x: Double) -> Double { bp_inverse_hyperbolic_tangent(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { 1 / ((1 - x) * (1 + x)) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_inverse_hyperbolic_tangents(x, y, source.count)
    }
  }
}

// MARK: - Exponentials and logarithms

/// y = 2ˣ; y′ = y ln 2.
///
/// The vectorized kernel (Sources/BackpropKernels/BinaryExponential.c), within 1 ulp and exact
/// at integers; a scalar goes through the same kernel, so that it agrees with a tensor to the
/// bit.
enum BinaryExponential: ElementaryFunction {
  static let name = "exp2"
  static func value(_ x: Double) -> Double { bp_binary_exponential(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { M_LN2 * y }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_binary_exponentials(x, y, source.count)
    }
  }
}

/// y = eˣ − 1, accurate for small x; y′ = eˣ (not y + 1, which rounds to 0 for x < −37).
///
/// The vectorized kernel (Sources/BackpropKernels/ExponentialMinusOne.c), within 1 ulp; a
/// scalar goes through the same kernel, so that it agrees with a tensor to the bit.
enum ExponentialMinusOne: ElementaryFunction {
  static let name = "expm1"
  static func value(_ x: Double) -> Double { bp_exponential_minus_one(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { x.exponential() }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_exponentials_minus_one(x, y, source.count)
    }
  }

  /// ȳ ⊙ eˣ with eˣ from the vectorized kernel, not a call a scalar: the rule's numbers.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .scaledDerivative(&cotangent, x, output: &y, apply: Exp.apply) { g, e in g * e }
  }
}

/// y = log₂ x; y′ = 1/(x ln 2).
///
/// The vectorized kernel beside ln's (Sources/BackpropKernels/Logarithm.c), within 1 ulp and
/// exact at powers of two; a scalar goes through the same kernel, so that it agrees with a
/// tensor to the bit.
enum BinaryLogarithm: ElementaryFunction {
  static let name = "log2"
  static func value(_ x: Double) -> Double { bp_binary_logarithm(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { (1 / M_LN2) / x }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_binary_logarithms(x, y, source.count)
    }
  }
}

/// y = log₁₀ x; y′ = 1/(x ln 10).
///
/// The vectorized kernel beside ln's, within 1 ulp and exact at the powers of ten a Double
/// holds; a scalar goes through the same kernel.
enum DecimalLogarithm: ElementaryFunction {
  static let name = "log10"
  static func value(_ x: Double) -> Double { bp_decimal_logarithm(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { (1 / M_LN10) / x }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_decimal_logarithms(x, y, source.count)
    }
  }
}

/// y = ln(1 + x), accurate for small x; y′ = 1/(1 + x).
///
/// The vectorized kernel (Sources/BackpropKernels/Logarithm.c), within 1 ulp; a scalar goes
/// through the same kernel, so that it agrees with a tensor to the bit.
enum LogOnePlus: ElementaryFunction {
  static let name = "log1p"
  static func value(_ x: Double) -> Double { bp_logarithm_one_plus(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T { 1 / (1 + x) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_logarithms_one_plus(x, y, source.count)
    }
  }
}

// MARK: - Arithmetic

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

// MARK: - Error function

/// y = erf x; y′ = (2/√π) e^(−x²).
///
/// The vectorized kernel (Sources/BackpropKernels/ErrorFunction.c), within 1 ulp; a scalar goes
/// through the same kernel, so that it agrees with a tensor to the bit.
enum ErrorFunction: ElementaryFunction {
  static let name = "erf"
  static func value(_ x: Double) -> Double { bp_error_function(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T {
    M_2_SQRTPI * (-(x * x)).exponential()
  }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_error_functions(x, y, source.count)
    }
  }

  /// (2/√π) e^(−x²) for every scalar in one vectorized pass, the rule's bits.
  static func slopes(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_error_function_slopes(x, y, source.count)
    }
  }

  /// ȳ ⊙ (2/√π) e^(−x²) with the slopes from the kernel, not an exponential a scalar.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .scaledDerivative(&cotangent, x, output: &y, apply: slopes) { g, s in g * s }
  }
}

/// y = erfc x = 1 − erf x, accurate in the right tail; y′ = −(2/√π) e^(−x²).
///
/// The vectorized kernel beside erf's, within 1 ulp, subnormal results included.
enum ComplementaryErrorFunction: ElementaryFunction {
  static let name = "erfc"
  static func value(_ x: Double) -> Double { bp_complementary_error_function(x) }
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T {
    -M_2_SQRTPI * (-(x * x)).exponential()
  }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    if let x = source.baseAddress, let y = out.baseAddress {
      bp_complementary_error_functions(x, y, source.count)
    }
  }

  /// ȳ ⊙ −(2/√π) e^(−x²), erf's slopes negated (exactly): the rule's bits.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .scaledDerivative(&cotangent, x, output: &y, apply: ErrorFunction.slopes) { g, s in g * -s }
  }
}

// MARK: - Softplus

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

// MARK: - Swish

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

// MARK: - Minimum

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

// MARK: - Rectifiers with a slope

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

// MARK: - gelu

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

// MARK: - Two operands

/// y = aᵇ, both differentiable; ∂y/∂a = b a^(b−1), ∂y/∂b = y ln a.
///
/// Two boundaries are decided by their limits, as PyTorch decides them: ∂y/∂a = 0 wherever
/// b = 0 (a⁰ = 1 for every a, where b a^(b−1) would be 0 · ∞ at a = 0 and NaN at a = NaN), and
/// ∂y/∂b = 0 at a = ±0 with b ≥ 0 (0ᵇ is constant there, where y ln a would be 0 · (−∞)). Both
/// are selections, so their second derivatives are the selections' too. A negative base takes
/// NaN in ∂y/∂b (ln a is NaN), as in both frameworks; at a = 0 with b < 0, y ln a = −∞, as
/// PyTorch gives. For a constant exponent use `pow(_:_:)` with a `Double`.
enum Power: BinaryElementaryFunction {
  static let name = "pow"
  static func value(_ a: Double, _ b: Double) -> Double { Foundation.pow(a, b) }
  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    let slope = b * a.applying(Power.self, b - 1)
    guard b.value.withUnsafeScalars({ $0.contains(0) }) else { return slope }
    return slope.masked(by: .elementwise(b.value, a.value, op: name, NonZeroExponent.self))
  }
  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    guard a.value.withUnsafeScalars({ $0.contains(0) }) else { return y * a.logarithm() }
    // The mask has the broadcast shape, y's: a is broadcast to it first.
    let wide = a.shape == y.shape ? a : a.broadcasted(to: y.shape)
    return y
      * wide.logarithm().masked(by: .elementwise(a.value, b.value, op: name, AwayFromZeroBase.self))
  }

  /// 0 where the exponent is ±0, 1 elsewhere (NaN included).
  enum NonZeroExponent: BinaryScalarFunction {
    static func scalar(_ b: Double, _: Double) -> Double { b == 0 ? 0 : 1 }
  }

  /// 0 where the base is ±0 and the exponent b ≥ 0, 1 elsewhere.
  enum AwayFromZeroBase: BinaryScalarFunction {
    static func scalar(_ a: Double, _ b: Double) -> Double { a == 0 && b >= 0 ? 0 : 1 }
  }

  /// The rule on tensors, a pass per operation: ∂y/∂b's logarithm is then the vectorized
  /// kernel, where the default's one pass called it per scalar.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    pullback(cotangent.take()!, a: a, b: b, y: y, wrt: wrt)
  }
}

/// y = atan2(a, b), the angle of the point (b, a), a first as in C; ∂y/∂a = b/r², ∂y/∂b = −a/r²,
/// with r = hypot(a, b) divided twice so that r² cannot overflow. At (0, 0) both are NaN.
///
/// The vectorized rule (`bp_rule_arc_tangent2`, Sources/BackpropKernels/ArcTangent.h), within
/// 1 ulp; a scalar goes through the same lanes, so that it agrees with a tensor to the bit.
enum ArcTangent2: BinaryElementaryFunction {
  static let name = "atan2"
  static func value(_ a: Double, _ b: Double) -> Double { bp_arc_tangent2(a, b) }
  static var rule: bp_rule_kind? { bp_rule_arc_tangent2 }
  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    let r = a.applying(Hypotenuse.self, b)
    return b / r / r
  }
  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    let r = a.applying(Hypotenuse.self, b)
    return -(a / r / r)
  }

  /// The rule on tensors, a vectorized pass per operation (hypot's kernel, the quotients'), where
  /// the default's one pass paid a call of hypot's kernel per scalar.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    pullback(cotangent.take()!, a: a, b: b, y: y, wrt: wrt)
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

// MARK: - Public spellings

/// The sine of each element.
public func sin(_ x: Tensor) -> Tensor { Sine.forward(x) }
/// The sine of each element, recorded: y = sin x, x̄ = ȳ ⊙ cos x.
public func sin(_ x: Variable) -> Variable { x.applying(Sine.self) }

/// The cosine of each element.
public func cos(_ x: Tensor) -> Tensor { Cosine.forward(x) }
/// The cosine of each element, recorded: y = cos x, x̄ = −ȳ ⊙ sin x.
public func cos(_ x: Variable) -> Variable { x.applying(Cosine.self) }

/// The tangent of each element.
public func tan(_ x: Tensor) -> Tensor { Tangent.forward(x) }
/// The tangent of each element, recorded: y = tan x, x̄ = ȳ ⊙ (1 + y²).
public func tan(_ x: Variable) -> Variable { x.applying(Tangent.self) }

/// The arcsine, on [−1, 1] of each element.
public func asin(_ x: Tensor) -> Tensor { ArcSine.forward(x) }
/// The arcsine, on [−1, 1] of each element, recorded: y = asin x, x̄ = ȳ / √((1 − x)(1 + x)).
public func asin(_ x: Variable) -> Variable { x.applying(ArcSine.self) }

/// The arccosine, on [−1, 1] of each element.
public func acos(_ x: Tensor) -> Tensor { ArcCosine.forward(x) }
/// The arccosine, on [−1, 1] of each element, recorded: y = acos x, x̄ = −ȳ / √((1 − x)(1 + x)).
public func acos(_ x: Variable) -> Variable { x.applying(ArcCosine.self) }

/// The arctangent of each element.
public func atan(_ x: Tensor) -> Tensor { ArcTangent.forward(x) }
/// The arctangent of each element, recorded: y = atan x, x̄ = ȳ / (1 + x²).
public func atan(_ x: Variable) -> Variable { x.applying(ArcTangent.self) }

/// The hyperbolic sine of each element.
public func sinh(_ x: Tensor) -> Tensor { HyperbolicSine.forward(x) }
/// The hyperbolic sine of each element, recorded: y = sinh x, x̄ = ȳ ⊙ cosh x.
public func sinh(_ x: Variable) -> Variable { x.applying(HyperbolicSine.self) }

/// The hyperbolic cosine of each element.
public func cosh(_ x: Tensor) -> Tensor { HyperbolicCosine.forward(x) }
/// The hyperbolic cosine of each element, recorded: y = cosh x, x̄ = ȳ ⊙ sinh x.
public func cosh(_ x: Variable) -> Variable { x.applying(HyperbolicCosine.self) }

/// The inverse hyperbolic sine of each element.
public func asinh(_ x: Tensor) -> Tensor { InverseHyperbolicSine.forward(x) }
/// The inverse hyperbolic sine of each element, recorded: y = asinh x, x̄ = ȳ / hypot(x, 1).
public func asinh(_ x: Variable) -> Variable { x.applying(InverseHyperbolicSine.self) }

/// The inverse hyperbolic cosine, for x ≥ 1 of each element.
public func acosh(_ x: Tensor) -> Tensor { InverseHyperbolicCosine.forward(x) }
/// The inverse hyperbolic cosine, for x ≥ 1 of each element, recorded: y = acosh x, x̄ = ȳ / √((x − 1)(x + 1)).
public func acosh(_ x: Variable) -> Variable { x.applying(InverseHyperbolicCosine.self) }

/// The inverse hyperbolic tangent, on (−1, 1) of each element.
public func atanh(_ x: Tensor) -> Tensor { InverseHyperbolicTangent.forward(x) }
/// The inverse hyperbolic tangent, on (−1, 1) of each element, recorded: y = atanh x, x̄ = ȳ / ((1 − x)(1 + x)).
public func atanh(_ x: Variable) -> Variable { x.applying(InverseHyperbolicTangent.self) }

/// 2 to the power of of each element.
public func exp2(_ x: Tensor) -> Tensor { BinaryExponential.forward(x) }
/// 2 to the power of of each element, recorded: y = 2ˣ, x̄ = ȳ ⊙ y ln 2.
public func exp2(_ x: Variable) -> Variable { x.applying(BinaryExponential.self) }

/// Eˣ − 1, accurate near 0, of of each element.
public func expm1(_ x: Tensor) -> Tensor { ExponentialMinusOne.forward(x) }
/// Eˣ − 1, accurate near 0, of of each element, recorded: y = eˣ − 1, x̄ = ȳ ⊙ eˣ.
public func expm1(_ x: Variable) -> Variable { x.applying(ExponentialMinusOne.self) }

/// The base-2 logarithm of each element.
public func log2(_ x: Tensor) -> Tensor { BinaryLogarithm.forward(x) }
/// The base-2 logarithm of each element, recorded: y = log₂ x, x̄ = ȳ / (x ln 2).
public func log2(_ x: Variable) -> Variable { x.applying(BinaryLogarithm.self) }

/// The base-10 logarithm of each element.
public func log10(_ x: Tensor) -> Tensor { DecimalLogarithm.forward(x) }
/// The base-10 logarithm of each element, recorded: y = log₁₀ x, x̄ = ȳ / (x ln 10).
public func log10(_ x: Variable) -> Variable { x.applying(DecimalLogarithm.self) }

/// Ln(1 + x), accurate near 0, of of each element.
public func log1p(_ x: Tensor) -> Tensor { LogOnePlus.forward(x) }
/// Ln(1 + x), accurate near 0, of of each element, recorded: y = ln(1 + x), x̄ = ȳ / (1 + x).
public func log1p(_ x: Variable) -> Variable { x.applying(LogOnePlus.self) }

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

/// The error function of each element.
public func erf(_ x: Tensor) -> Tensor { ErrorFunction.forward(x) }
/// The error function of each element, recorded: y = erf x, x̄ = ȳ ⊙ (2/√π) e^(−x²).
public func erf(_ x: Variable) -> Variable { x.applying(ErrorFunction.self) }

/// The complementary error function, 1 − erf, accurate in the right tail, of each element.
public func erfc(_ x: Tensor) -> Tensor { ComplementaryErrorFunction.forward(x) }
/// The complementary error function, 1 − erf, accurate in the right tail, of each element, recorded: y = erfc x, x̄ = −ȳ ⊙ (2/√π) e^(−x²).
public func erfc(_ x: Variable) -> Variable { x.applying(ComplementaryErrorFunction.self) }

/// Softplus, ln(1 + eˣ), accurate in both tails, of each element.
public func softplus(_ x: Tensor) -> Tensor { Softplus.forward(x) }
/// Softplus, ln(1 + eˣ), accurate in both tails, of each element, recorded: y = ln(1 + eˣ), x̄ = ȳ ⊙ σ(x).
public func softplus(_ x: Variable) -> Variable { x.applying(Softplus.self) }

/// Ln σ(x) = −softplus(−x), accurate in both tails, of each element.
public func logSigmoid(_ x: Tensor) -> Tensor { LogSigmoid.forward(x) }
/// Ln σ(x) = −softplus(−x), accurate in both tails, of each element, recorded: y = ln σ(x), x̄ = ȳ ⊙ σ(−x).
public func logSigmoid(_ x: Variable) -> Variable { x.applying(LogSigmoid.self) }

/// Each element of `base` raised to the matching element of `exponent`, with broadcasting.
public func pow(_ base: Tensor, _ exponent: Tensor) -> Tensor { Power.forward(base, exponent) }
/// Each element of `base` raised to the matching element of `exponent`, with broadcasting, both
/// differentiable, recorded: y = aᵇ, ā = ȳ ⊙ b a^(b−1), b̄ = ȳ ⊙ y ln a; ā is 0 where b = 0 and
/// b̄ is 0 where a = 0 and b ≥ 0, the limits (docs/conventions.md).
public func pow(_ base: Variable, _ exponent: Variable) -> Variable {
  Variable.apply(Power.self, base, exponent)
}
/// Each element of `base` raised to the matching element of `exponent`, with broadcasting, both differentiable (base > 0), recorded, with a constant operand.
public func pow(_ base: Double, _ exponent: Variable) -> Variable { pow(Variable(base), exponent) }
/// Each element of `base` raised to the matching element of `exponent`, with broadcasting, both differentiable (base > 0), recorded, with a constant operand.
public func pow(_ base: Variable, _ exponent: Tensor) -> Variable { pow(base, Variable(exponent)) }
/// Each element of `base` raised to the matching element of `exponent`, with broadcasting, both differentiable (base > 0), recorded, with a constant operand.
public func pow(_ base: Tensor, _ exponent: Variable) -> Variable { pow(Variable(base), exponent) }

/// The angle of each point (x, y), with y first as in C, with broadcasting.
public func atan2(_ y: Tensor, _ x: Tensor) -> Tensor { ArcTangent2.forward(y, x) }
/// The angle of each point (x, y), with y first as in C, with broadcasting, recorded:
/// θ = atan2(y, x), ∂θ/∂y = x/r², ∂θ/∂x = −y/r², with r = hypot(y, x).
public func atan2(_ y: Variable, _ x: Variable) -> Variable {
  Variable.apply(ArcTangent2.self, y, x)
}
/// The angle of each point (x, y), with y first as in C, with broadcasting, recorded, with a constant operand.
public func atan2(_ y: Variable, _ x: Double) -> Variable { atan2(y, Variable(x)) }
/// The angle of each point (x, y), with y first as in C, with broadcasting, recorded, with a constant operand.
public func atan2(_ y: Double, _ x: Variable) -> Variable { atan2(Variable(y), x) }
/// The angle of each point (x, y), with y first as in C, with broadcasting, recorded, with a constant operand.
public func atan2(_ y: Variable, _ x: Tensor) -> Variable { atan2(y, Variable(x)) }
/// The angle of each point (x, y), with y first as in C, with broadcasting, recorded, with a constant operand.
public func atan2(_ y: Tensor, _ x: Variable) -> Variable { atan2(Variable(y), x) }

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

/// The Huber function of d with threshold δ: y = ½d² where |d| ≤ δ, δ(|d| − ½δ) elsewhere;
/// ∂y/∂d = d inside, δ sign(d) outside (continuous at |d| = δ), ∂²y/∂d² = the inside mask;
/// ∂y/∂δ = 0 inside, |d| − δ outside. A primitive so that `huberLoss` is three entries with one
/// pass each way, where its composition from masks, squares and absolute values takes ten. The
/// square is only ever taken inside, so an outlier's never overflows; the formula is the
/// definition's, for any δ.
enum Huber: BinaryElementaryFunction {
  static let name = "huber"

  @inline(__always)
  static func value(_ d: Double, _ delta: Double) -> Double {
    let magnitude = Swift.abs(d)
    return magnitude <= delta ? 0.5 * d * d : delta * (magnitude - 0.5 * delta)
  }

  /// d masked to the inside plus the constant slopes ±δ outside: recorded, so that the second
  /// derivative in d is the inside mask.
  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    a.masked(by: .elementwise(a.value, b.value, op: name, Inside.self))
      + T.constant(.elementwise(a.value, b.value, op: name, OutsideSlope.self))
  }

  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    (a.applying(Magnitude.self) - b).masked(
      by: .elementwise(a.value, b.value, op: name, Outside.self))
  }

  /// The rules scalar by scalar: ∂y/∂d as the masked d plus the slope (d + 0 inside, so −0
  /// gives +0; ±δ outside; NaN at NaN), ∂y/∂δ as (|d| − δ) selected outside.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    var db: Tensor? = nil
    let byThreshold = { (g: Double, d: Double, delta: Double, _: Double) -> Double in
      g * Select.scalar(Swift.abs(d) - delta, Outside.scalar(d, delta))
    }
    if wrt.1 && wrt.0 {
      var (shared, kept) = (cotangent, y)
      db = .pulling(&shared, a, b, output: &kept, byThreshold)
    } else if wrt.1 {
      db = .pulling(&cotangent, a, b, output: &y, byThreshold)
    }
    let da: Tensor? =
      wrt.0
      ? .pulling(&cotangent, a, b, output: &y) { g, d, delta, _ in g * slope(d, delta) } : nil
    return (da, db)
  }

  static func pullback(_ cotangent: inout Tensor?, a: Tensor, constant b: Double, y: inout Tensor)
    -> Tensor?
  { .pulling(&cotangent, a, a, output: &y) { g, d, _, _ in g * slope(d, b) } }

  /// ∂y/∂d spelled out in selections (the helpers left a call a scalar in the loop); + 0 as the
  /// rule's sum of the masked d and the slope has it, so that ±0 gives +0.
  @inline(__always)
  static func slope(_ d: Double, _ delta: Double) -> Double {
    let signed = d > 0 ? delta : -delta
    let slope = Swift.abs(d) <= delta ? d : signed
    return d != d || delta != delta ? .nan : slope + 0
  }

  /// 1 where |d| ≤ δ, 0 elsewhere, NaN where d or δ is NaN: a selection, then the NaN check.
  enum Inside: BinaryScalarFunction {
    @inline(__always)
    static func scalar(_ d: Double, _ delta: Double) -> Double {
      let inside: Double = Swift.abs(d) <= delta ? 1 : 0
      return d != d || delta != delta ? .nan : inside
    }
  }

  /// 1 − Inside: 1 where |d| > δ.
  enum Outside: BinaryScalarFunction {
    @inline(__always)
    static func scalar(_ d: Double, _ delta: Double) -> Double {
      let outside: Double = Swift.abs(d) <= delta ? 0 : 1
      return d != d || delta != delta ? .nan : outside
    }
  }

  /// 0 where |d| ≤ δ, δ sign(d) elsewhere, NaN where d or δ is NaN.
  enum OutsideSlope: BinaryScalarFunction {
    @inline(__always)
    static func scalar(_ d: Double, _ delta: Double) -> Double {
      let signed = d > 0 ? delta : -delta
      let slope: Double = Swift.abs(d) <= delta ? 0 : signed
      return d != d || delta != delta ? .nan : slope
    }
  }
}

/// The binary cross-entropy of a logit x against a label y in [0, 1]:
/// y = y·softplus(−x) + (1 − y)·softplus(x), two non-negative terms, so nothing cancels and no
/// tail overflows; ∂/∂x = (1 − y)σ(x) − yσ(−x) (that is σ(x) − y, with each tail kept);
/// ∂/∂y = softplus(−x) − softplus(x). A primitive so that `binaryCrossEntropy` is two entries:
/// its composition from softplus, negations, products and a sum takes nine. Both softplus terms share one e^(−|x|) and one ln(1 + ·), so the value is
/// the composition's to the bit.
enum BinaryCrossEntropy: BinaryElementaryFunction {
  static let name = "binaryCrossEntropy"

  @inline(__always)
  static func value(_ x: Double, _ y: Double) -> Double {
    combine(x, y, bp_logarithm_one_plus(exponential(-Swift.abs(x))))
  }

  /// The value from l = ln(1 + e^(−|x|)): softplus(x) = x + l for x > 0 and l otherwise, and
  /// softplus(−x) likewise, as ``Softplus`` forms them.
  @inline(__always)
  static func combine(_ x: Double, _ y: Double, _ l: Double) -> Double {
    let positive = x > 0 ? x + l : l
    let negative = -x > 0 ? -x + l : l
    return y * negative + (1 - y) * positive
  }

  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    (1 - b) * a.sigmoid() - b * (-a).sigmoid()
  }

  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    (-a).applying(Softplus.self) - a.applying(Softplus.self)
  }

  /// Operands of one shape in three vectorized passes (e^(−|x|), then ln(1 + ·) in place,
  /// then the two terms), with `value`'s bits; the broadcasting loop otherwise.
  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
    guard a.shape == b.shape, a.rank > 0 else {
      return .elementwise(a, b, op: name, Scalar<Self>.self)
    }
    return a.withUnsafeScalars { x in
      b.withUnsafeScalars { y in
        Tensor(shape: a.shape, count: x.count) { out in
          guard let base = out.baseAddress else { return }
          for index in x.indices { out[index] = -Swift.abs(x[index]) }
          _ = bp_exponentials(base, 0, base, x.count)
          bp_logarithms_one_plus(base, base, x.count)
          for index in x.indices { out[index] = combine(x[index], y[index], out[index]) }
        }
      }
    }
  }

  /// ∂/∂x with σ(x) and σ(−x) from the sigmoid kernel (the bits `partialA` has on Doubles),
  /// ȳ ⊙ ((1 − y)σ(x) − yσ(−x)) in one more pass; ∂/∂y scalar by scalar.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    var db: Tensor? = nil
    let byLabel = { (g: Double, x: Double, _: Double, _: Double) -> Double in
      g * (Softplus.value(-x) - Softplus.value(x))
    }
    if wrt.1 && wrt.0 {
      var (shared, kept) = (cotangent, y)
      db = .pulling(&shared, a, b, output: &kept, byLabel)
    } else if wrt.1 {
      db = .pulling(&cotangent, a, b, output: &y, byLabel)
    }
    guard wrt.0 else { return (nil, db) }
    let slopes = a.withUnsafeScalars { x in
      b.withUnsafeScalars { labels in
        Tensor(shape: a.shape, count: x.count) { out in
          guard let base = out.baseAddress, let source = x.baseAddress else { return }
          // σ(−x) in a tensor's storage (large ones fault in huge pages; see LargeBuffer).
          let negated = Tensor(shape: a.shape, count: x.count) { buffer in
            for index in x.indices { buffer[index] = -x[index] }
            bp_sigmoids(buffer.baseAddress, buffer.baseAddress, x.count)
          }
          bp_sigmoids(source, base, x.count)
          negated.withUnsafeScalars { negated in
            for index in x.indices {
              out[index] = (1 - labels[index]) * out[index] - labels[index] * negated[index]
            }
          }
        }
      }
    }
    let da: Tensor = .pulling(&cotangent, slopes, slopes, output: &y) { g, s, _, _ in g * s }
    return (da, db)
  }
}

// MARK: - Composed

/// The Gaussian error linear unit, exact (erf) form: gelu(x) = x Φ(x), with Φ the standard
/// normal distribution function, as (x/2) erfc(−x/√2), recorded as one entry; its derivative is
/// Φ(x) + x φ(x).
///
/// Through erfc rather than (1 + erf(x/√2))/2, which cancels in the left tail: gelu(−10) is
/// −7.6e−23, not 0.
public func gelu(_ x: Variable) -> Variable {
  .apply(
    .elementary, x, function: Elementary.id(of: Gelu.self), value: Gelu.forward,
    keeping: Gelu.forwardKeepingDerivative)
}

/// swish(x) = x σ(x) (also called SiLU), recorded as one entry; its derivative is
/// σ(x) + x σ′(x), σ′ = σ(x) σ(−x), the composition's numbers for a unit cotangent.
public func swish(_ x: Variable) -> Variable {
  .apply(
    .elementary, x, function: Elementary.id(of: Swish.self), value: Swish.forward,
    keeping: Swish.forwardKeepingDerivative)
}

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

// MARK: - The composed functions on tensors and with constants

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
