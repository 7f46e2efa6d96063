internal import BackpropKernels
import Foundation

// The trigonometric functions and their inverses, atan2 among them: each a declaration with its
// value, its derivative over TensorAlgebra and its vectorized kernel, then its public spellings.

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
