internal import BackpropKernels
import Foundation

// The hyperbolic functions and their inverses: each a declaration with its value, its derivative
// over TensorAlgebra and its kernel, then its public spellings.

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
