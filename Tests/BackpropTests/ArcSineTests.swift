import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized asin and acos (Sources/BackpropKernels/ArcSine.c) against 80-bit `asinl` and
/// `acosl`: within 1 ulp in every width over [−1, 1], every binade below 1, near ±1 and at the
/// switch at ±1/2; C's special cases; every remainder, with a scalar's bits.
@Suite("Vectorized asin and acos: within 1 ulp over their domain")
struct ArcSineTests {
  static let kernels:
    [(
      String, @Sendable (Int32, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void,
      @Sendable (Double) -> Double, @Sendable (Extended) -> Extended
    )] = [
      ("asin", atWidth(\.arc_sines), bp_arc_sine, { Foundation.asin($0) }),
      ("acos", atWidth(\.arc_cosines), bp_arc_cosine, { Foundation.acos($0) }),
    ]

  @Test(arguments: 0..<2)
  func withinOneUlpOverTheDomain(kernel index: Int) {
    let (name, kernel, _, exact) = Self.kernels[index]
    var generator = SeededGenerator(seed: 101)
    let uniform = (0..<200_000).map { _ in Double.random(in: -1...1, using: &generator) }
    let binades = everyBinade(20, using: &generator).filter { abs($0) <= 1 }
    var edges: [Double] = []
    for bits in 1...53 {
      let step = Double(sign: .plus, exponent: -bits, significand: 1)
      edges += [1 - step, -(1 - step), 1 - 1.5 * step, -(1 - 1.5 * step)]
    }
    var (below, above) = (0.5, 0.5)
    for _ in 0..<64 {
      edges += [below, above, -below, -above]
      (below, above) = (below.nextDown, above.nextUp)
    }
    let worst = expectKernelWithinOneUlp(
      name, kernel, exact: exact, on: uniform + binades + edges + [1, -1, 0.5, -0.5])
    print("\(name) kernel: worst \(worst) ulp over [−1, 1]")
  }

  @Test(arguments: 0..<2)
  func specialValuesAsCAndEveryRemainder(kernel index: Int) {
    let (name, kernel, scalar, _) = Self.kernels[index]
    let values: [Double] = [
      0, -0.0, 1, -1, 0.5, -0.5, 1.5, -1.0000000000000002, .infinity, -.infinity, .nan,
      .leastNonzeroMagnitude,
    ]
    let reference: (Double) -> Double =
      index == 0 ? { Foundation.asin($0) } : { Foundation.acos($0) }
    for width in kernelWidths {
      for (x, y) in zip(values, runKernel(kernel, width: width, on: values)) {
        let expected = reference(x)
        #expect(
          y.bitPattern == expected.bitPattern || (y.isNaN && expected.isNaN),
          "\(name), width \(width): \(name)(\(x)) = \(y), C's \(expected)")
      }
      expectEveryRemainder(
        { width, source, destination, count in
          var scaled = (0..<count).map { source![$0] / 3.5 }
          kernel(width, &scaled, destination, count)
        }, width: width, scalar: { scalar($0 / 3.5) })
    }
  }
}
