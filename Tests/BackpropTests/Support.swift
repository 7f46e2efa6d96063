import Backprop
import BackpropKernels
import Foundation
import Testing

extension Tensor {
  /// Scalars drawn uniformly from −scale...scale.
  static func random(
    _ shape: [Int], scale: Double = 1, using generator: inout SeededGenerator
  ) -> Tensor {
    let count = shape.reduce(1, *)
    return Tensor(
      shape: shape, scalars: (0..<count).map { _ in .random(in: -scale...scale, using: &generator) }
    )
  }
}

/// Expects two tensors of the same shape to agree within `tolerance` in every scalar,
/// reporting the largest difference when they do not.
func expectClose(
  _ actual: Tensor, _ expected: Tensor, tolerance: Double, _ comment: Comment? = nil,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  guard actual.shape == expected.shape else {
    Issue.record(
      "shapes differ: \(actual.shape) vs \(expected.shape). \(comment?.rawValue ?? "")",
      sourceLocation: sourceLocation)
    return
  }
  let difference = actual.maxAbsoluteDifference(from: expected)
  #expect(
    difference <= tolerance,
    "largest difference \(difference) > \(tolerance): \(actual) vs \(expected). \(comment?.rawValue ?? "")",
    sourceLocation: sourceLocation)
}

/// Expects the reverse-mode gradient of `f` at `x` to pass a central-difference check.
func expectGradientMatchesFiniteDifferences(
  at x: Tensor, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
  of f: (Variable) -> Variable
) {
  let report = checkGradient(at: x, of: f)
  #expect(report.passed, "\(report). \(comment?.rawValue ?? "")", sourceLocation: sourceLocation)
}

// MARK: - Vectorized kernels against extended precision

#if arch(x86_64) && !os(Windows) && !os(Android)
  /// The reference precision for the kernels' tests: 80-bit extended, 11 bits beyond Double,
  /// where the platform has it.
  typealias Extended = Float80
#else
  /// Elsewhere Double itself, whose C library is within a few tenths of an ulp.
  typealias Extended = Double
#endif

/// |ours − exact| in units in the last place of the exact value, the ulp of 0 and of subnormals
/// being 2⁻¹⁰⁷⁴; infinite when the exact value is 0 and ours is not.
///
/// An exact value past Double's range counts as the infinity it rounds to, and equal values
/// (infinities, or NaN for NaN) are 0 ulps apart; any other NaN, on either side, is infinitely
/// far, so that a NaN can never hide among the errors (a NaN error once let every error before
/// it pass: `!(error <= worst)` replaced the worst with each later one).
func ulpError(_ ours: Double, exact: Extended) -> Double {
  let exact = Double(exact).isInfinite ? Extended(Double(exact)) : exact
  if Extended(ours) == exact || (ours.isNaN && exact.isNaN) { return 0 }
  if ours.isNaN || exact.isNaN || exact.isInfinite { return .infinity }
  if exact == 0 { return ours == 0 ? 0 : .infinity }
  let exponent = Swift.max(Int(exact.exponent), -1022)
  let ulp = Extended(sign: .plus, exponent: exponent - 52, significand: 1)
  return Double(abs(Extended(ours) - exact) / ulp)
}

/// The register widths this machine runs the kernels in, the portable build (0) included.
let kernelWidths = [0, 256, 512].filter { bp_kernels(Int32($0)) != nil }

/// The C signature of a one-input kernel over buffers, such as `bp_kernel_table.logarithms`.
typealias MapKernel =
  @convention(c) (UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void

/// The kernel `name` of the build for registers of `width` bits, which this machine must run.
func kernel<Function>(
  _ name: KeyPath<bp_kernel_table, Function?>, width: some BinaryInteger
) -> Function {
  guard let table = bp_kernels(Int32(width)) else { fatalError("no kernels of width \(width)") }
  return table.pointee[keyPath: name]!
}

/// A one-input kernel as a function of the width and the buffers.
func atWidth(
  _ name: any KeyPath<bp_kernel_table, MapKernel?> & Sendable
) -> @Sendable (Int32, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void {
  { width, source, destination, count in kernel(name, width: width)(source, destination, count) }
}

/// A kernel of the form `kernel(\.logarithms, width: width)(source, destination, count)` on `xs`.
func runKernel(
  _ kernel: (Int32, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void,
  width: Int, on xs: [Double]
) -> [Double] {
  var out = [Double](repeating: 42, count: xs.count)
  xs.withUnsafeBufferPointer { xs in
    out.withUnsafeMutableBufferPointer { out in
      kernel(Int32(width), xs.baseAddress, out.baseAddress, xs.count)
    }
  }
  return out
}

/// The worst error of a one-input kernel (of the form `atWidth(\.logarithms)`) over `inputs`
/// against `exact`, in ulps, in every width the machine runs, each width checked against 1 ulp.
@discardableResult
func expectKernelWithinOneUlp(
  _ name: String,
  _ kernel: (Int32, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void,
  exact: (Extended) -> Extended, on inputs: [Double],
  sourceLocation: SourceLocation = #_sourceLocation
) -> Double {
  var worstOfAll = 0.0
  for width in kernelWidths {
    let results = runKernel(kernel, width: width, on: inputs)
    var worst = (error: 0.0, x: 0.0)
    for (x, y) in zip(inputs, results) {
      let error = ulpError(y, exact: exact(Extended(x)))
      if !(error <= worst.error) { worst = (error, x) }
    }
    #expect(
      worst.error <= 1, "\(name), width \(width): worst error \(worst.error) ulp at x = \(worst.x)",
      sourceLocation: sourceLocation)
    worstOfAll = max(worstOfAll, worst.error)
  }
  return worstOfAll
}

/// Checks that `kernel` writes exactly `count` results, in place, for every count up to 17 (so
/// every remainder of 2, 4 and 8 lanes runs), each within 1 ulp of `scalar`'s.
func expectEveryRemainder(
  _ kernel: (Int32, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void,
  width: Int, scalar: (Double) -> Double, sourceLocation: SourceLocation = #_sourceLocation
) {
  for count in 0...17 {
    var buffer = (0..<(count + 1)).map { Double($0) * 0.3 - 2 }
    let expected = buffer.prefix(count).map(scalar)
    buffer.withUnsafeMutableBufferPointer { buffer in
      kernel(Int32(width), buffer.baseAddress, buffer.baseAddress, count)
    }
    #expect(
      buffer[count] == Double(count) * 0.3 - 2, "count \(count): wrote past the end",
      sourceLocation: sourceLocation)
    for index in 0..<count {
      #expect(
        abs(buffer[index] - expected[index]) <= expected[index].ulp, "count \(count)",
        sourceLocation: sourceLocation)
    }
  }
}

/// Pairs of random scalars of either sign for a kernel of two operands: the first in every
/// `stride`-th binade from the smallest subnormal to the largest finite, the second in every
/// `step`-th binade within `span` of the first's, so that every ratio of sizes meets every size.
func pairsOfBinades(
  stride: Int, span: Int, step: Int, using generator: inout SeededGenerator
) -> (first: [Double], second: [Double]) {
  func random(_ exponent: Int) -> Double {
    Double(
      sign: Bool.random(using: &generator) ? .plus : .minus, exponent: exponent,
      significand: Double.random(in: 1..<2, using: &generator))
  }
  var (first, second): ([Double], [Double]) = ([], [])
  for e1 in Swift.stride(from: -1074, through: 1023, by: stride) {
    for e2 in Swift.stride(from: e1 - span, through: e1 + span, by: step)
    where (-1074...1023).contains(e2) {
      first.append(random(e1))
      second.append(random(e2))
    }
  }
  return (first, second)
}

/// The worst error of a `bp_rule` of two operands over the pairs (p[i], q[i]) against `exact`,
/// in ulps, in every width the machine runs, each width checked against 1 ulp.
@discardableResult
func expectRuleWithinOneUlp(
  _ name: String, _ rule: bp_rule_kind, _ p: [Double], _ q: [Double],
  exact: (Extended, Extended) -> Extended, sourceLocation: SourceLocation = #_sourceLocation
) -> Double {
  var worstOfAll = 0.0
  for width in kernelWidths {
    var out = [Double](repeating: 42, count: p.count)
    kernel(\.rule, width: Int32(width))(rule, p, 0, q, 0, nil, &out, p.count)
    var worst = (error: 0.0, p: 0.0, q: 0.0)
    for index in p.indices {
      let error = ulpError(out[index], exact: exact(Extended(p[index]), Extended(q[index])))
      if !(error <= worst.error) { worst = (error, p[index], q[index]) }
    }
    #expect(
      worst.error <= 1, "\(name), width \(width): \(worst.error) ulp at (\(worst.p), \(worst.q))",
      sourceLocation: sourceLocation)
    worstOfAll = max(worstOfAll, worst.error)
  }
  print("\(name) kernel: worst \(worstOfAll) ulp over \(p.count) pairs")
  return worstOfAll
}

/// `perBinade` random scalars in every binade from the smallest subnormal to the largest
/// finite, each followed by its negative when `bothSigns`: the kernels' whole-range inputs.
func everyBinade(
  _ perBinade: Int, bothSigns: Bool = true, using generator: inout SeededGenerator
) -> [Double] {
  (-1074...1023).flatMap { exponent in
    (0..<perBinade).flatMap { _ -> [Double] in
      let x = Double(
        sign: .plus, exponent: exponent,
        significand: Double.random(in: 1..<2, using: &generator))
      return bothSigns ? [x, -x] : [x]
    }
  }
}
