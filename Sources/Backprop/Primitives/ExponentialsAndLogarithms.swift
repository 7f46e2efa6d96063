internal import BackpropKernels
import Foundation

// Exponentials and logarithms beyond exp and log (Elementary.swift), and pow with a variable
// exponent: each a declaration with its value, its derivative over TensorAlgebra and its
// kernel, then its public spellings.

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
