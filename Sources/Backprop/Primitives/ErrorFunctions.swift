internal import BackpropKernels
import Foundation

// The error function and its complement: declarations with their values, derivatives over
// TensorAlgebra and vectorized kernels, then their public spellings.

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

/// The error function of each element.
public func erf(_ x: Tensor) -> Tensor { ErrorFunction.forward(x) }

/// The error function of each element, recorded: y = erf x, x̄ = ȳ ⊙ (2/√π) e^(−x²).
public func erf(_ x: Variable) -> Variable { x.applying(ErrorFunction.self) }

/// The complementary error function, 1 − erf, accurate in the right tail, of each element.
public func erfc(_ x: Tensor) -> Tensor { ComplementaryErrorFunction.forward(x) }

/// The complementary error function, 1 − erf, accurate in the right tail, of each element, recorded: y = erfc x, x̄ = −ȳ ⊙ (2/√π) e^(−x²).
public func erfc(_ x: Variable) -> Variable { x.applying(ComplementaryErrorFunction.self) }
