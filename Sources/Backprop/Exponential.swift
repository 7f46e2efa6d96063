internal import BackpropKernels

// The exponential that the exp primitive and the softmax family use, and the logarithm and the
// hyperbolic tangent of the log and tanh primitives. Foundation's `exp` and `log` are a call per
// element, and softmax, log-softmax and cross-entropy spend most of their time in the exponential at large n. The
// kernels (Sources/BackpropKernels) evaluate four or eight lanes at a time, with AVX2 or
// AVX-512 and FMA where the processor has them, and stay within 1 ulp everywhere: subnormals,
// ±∞ and NaN included. ExponentialTests, LogarithmTests and HyperbolicTangentTests measure that
// against 80-bit results.

/// eˣ for one scalar by the same kernel, so that a scalar and a tensor holding it agree to the
/// last bit.
func exponential(_ x: Double) -> Double { bp_exponential(x) }

/// Computes e^(xᵢ − shift) for every scalar xᵢ of `source` into `destination`, and returns the
/// sum of the results: the inner loop of softmax, log-softmax and cross-entropy.
///
/// Four or eight lanes at a time, each within 1 ulp of the exact exponential of the rounded difference
/// xᵢ − shift; NaN gives NaN, +∞ gives +∞ and −∞ gives 0. The sum is accumulated in four lanes,
/// so it is not in index order and can differ from a left-to-right sum in the last bits.
///
/// - Precondition: `destination` holds at least as many scalars as `source`. It may be the
///   same memory as `source`, but may not otherwise overlap it.
public func exponentials(
  of source: UnsafeBufferPointer<Double>, minus shift: Double = 0,
  into destination: UnsafeMutableBufferPointer<Double>
) -> Double {
  require(
    destination.count >= source.count,
    "exponentials(of:minus:into:): \(source.count) scalars do not fit in \(destination.count)")
  guard let x = source.baseAddress, let out = destination.baseAddress else { return 0 }
  return bp_exponentials(x, shift, out, source.count)
}

/// ln x for one scalar by the vectorized kernel, so that a scalar and a tensor holding it agree
/// to the last bit.
func logarithm(_ x: Double) -> Double { bp_logarithm(x) }

/// Writes ln xᵢ for every scalar xᵢ of `source` into `destination`: the log primitive's kernel.
///
/// Four or eight lanes at a time, each within 1 ulp of the exact logarithm, subnormal inputs
/// included; ln 0 = −∞, the logarithm of a negative number is NaN, ln +∞ = +∞, NaN gives NaN.
///
/// - Precondition: `destination` holds at least as many scalars as `source`. It may be the
///   same memory as `source`, but may not otherwise overlap it.
public func logarithms(
  of source: UnsafeBufferPointer<Double>, into destination: UnsafeMutableBufferPointer<Double>
) {
  applyKernel(bp_logarithms, source, destination, name: "logarithms(of:into:)")
}

/// tanh x for one scalar, with the bits the vectorized kernel gives a tensor holding it.
@inline(__always)
func hyperbolicTangent(_ x: Double) -> Double { bp_hyperbolic_tangent(x) }

/// Writes tanh xᵢ for every scalar xᵢ of `source` into `destination`: the tanh primitive's
/// kernel.
///
/// Four or eight lanes at a time, each within 1 ulp of the exact value; ±0 gives ±0, ±∞ gives
/// ±1 and NaN gives NaN.
///
/// - Precondition: `destination` holds at least as many scalars as `source`. It may be the
///   same memory as `source`, but may not otherwise overlap it.
public func hyperbolicTangents(
  of source: UnsafeBufferPointer<Double>, into destination: UnsafeMutableBufferPointer<Double>
) {
  applyKernel(bp_hyperbolic_tangents, source, destination, name: "hyperbolicTangents(of:into:)")
}

/// Runs an elementwise kernel over `source` into `destination`, after checking that it fits.
private func applyKernel(
  _ kernel: (UnsafePointer<Double>, UnsafeMutablePointer<Double>, Int) -> Void,
  _ source: UnsafeBufferPointer<Double>, _ destination: UnsafeMutableBufferPointer<Double>,
  name: String
) {
  require(
    destination.count >= source.count,
    "\(name): \(source.count) scalars do not fit in \(destination.count)")
  guard let x = source.baseAddress, let out = destination.baseAddress else { return }
  kernel(x, out, source.count)
}
