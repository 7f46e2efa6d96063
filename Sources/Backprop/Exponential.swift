internal import BackpropKernels

// The exponential that the exp primitive and the softmax family use. Foundation's `exp` is a
// call per element of 3 to 6 ns, and softmax, log-softmax and cross-entropy spend most of their
// time in it at large n. The kernel (Sources/BackpropKernels) evaluates four lanes at a time,
// with AVX2 and FMA where the processor has them, and stays within 1 ulp of eˣ everywhere:
// subnormal results, ±∞ and NaN included. ExponentialTests measures that against 80-bit `exp`.

/// eˣ for one scalar by the same kernel, so that a scalar and a tensor holding it agree to the
/// last bit.
func exponential(_ x: Double) -> Double {
  var (input, output) = (x, 0.0)
  _ = bp_exponentials(&input, 0, &output, 1)
  return output
}

/// Computes e^(xᵢ − shift) for every scalar xᵢ of `source` into `destination`, and returns the
/// sum of the results: the inner loop of softmax, log-softmax and cross-entropy.
///
/// Four lanes at a time, each within 1 ulp of the exact exponential of the rounded difference
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
