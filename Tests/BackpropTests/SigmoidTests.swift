import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized sigmoid and its one-pass pullback against 80-bit values: within 1.5 ulps over
/// the whole range in every build the machine runs, the left tail (σ(x) ≈ eˣ) and the right
/// tail of the derivative (σ′(x) ≈ e⁻ˣ, where 1 − σ(x) would cancel) included; a scalar gives
/// the bits a tensor gives; the pullback may write over its cotangent.
@Suite("Vectorized sigmoid and its pullback: within 1.5 ulps over the whole range")
struct SigmoidTests {
  static func exact(_ x: Double) -> Extended { 1 / (1 + Foundation.exp(-Extended(x))) }

  /// Inputs over every binade from subnormals to the largest finite, both signs, with a dense
  /// sample where neither tail has begun.
  static let inputs: [Double] = {
    var generator = SeededGenerator(seed: 61)
    let binades = everyBinade(10, using: &generator)
    let middle = (0..<100_000).map { _ in Double.random(in: -50...50, using: &generator) }
    return binades + middle + [-745, -744.5, -709, 36, 37, 38, 40, 709, 745]
  }()

  @Test func valuesWithinOneAndAHalfUlpsInEveryWidth() {
    for width in kernelWidths {
      let ys = runKernel(bp_sigmoids_using, width: width, on: Self.inputs)
      var worst = (error: 0.0, x: 0.0)
      for (x, y) in zip(Self.inputs, ys) {
        let error = ulpError(y, exact: Self.exact(x))
        if error > worst.error { worst = (error, x) }
      }
      #expect(worst.error <= 1.5, "width \(width): worst \(worst.error) ulp at x = \(worst.x)")
    }
  }

  @Test func pullbackWithinThreeUlpsOfTheExactDerivativeInEveryWidth() {
    // g = 1, so the pullback is σ′(x) = σ(x) σ(−x); in place, the destination being the
    // cotangent's buffer, as the sweep calls it.
    let ys = runKernel(bp_sigmoids_using, width: Int(bp_kernel_width()), on: Self.inputs)
    for width in kernelWidths {
      var g = [Double](repeating: 1, count: Self.inputs.count)
      Self.inputs.withUnsafeBufferPointer { x in
        ys.withUnsafeBufferPointer { y in
          g.withUnsafeMutableBufferPointer { g in
            bp_sigmoid_pullbacks_using(
              Int32(width), g.baseAddress, 0, x.baseAddress, y.baseAddress, g.baseAddress,
              x.count)
          }
        }
      }
      var worst = (error: 0.0, x: 0.0)
      for (x, d) in zip(Self.inputs, g) {
        let error = ulpError(d, exact: Self.exact(x) * Self.exact(-x))
        if error > worst.error { worst = (error, x) }
      }
      #expect(worst.error <= 3, "width \(width): worst \(worst.error) ulp at x = \(worst.x)")
    }
    // At x = 40, 1 − σ(40) rounds to 0; σ(40) σ(−40) is e⁻⁴⁰ to a few ulps.
    var (g, x, y, d) = (1.0, 40.0, Self.sigmoidByKernel(40), 0.0)
    bp_sigmoid_pullbacks(&g, 0, &x, &y, &d, 1)
    #expect(abs(d / Foundation.exp(-40.0) - 1) < 1e-15)
  }

  @Test func specialValuesRemaindersAndTheScalarPath() {
    let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 800, -800]
    for width in kernelWidths {
      let y = runKernel(bp_sigmoids_using, width: width, on: specials)
      #expect(y[0] == 0.5 && y[1] == 0.5 && y[2] == 1 && y[3] == 0 && y[4].isNaN, "\(width)")
      #expect(y[5] == 1 && y[6] == 0, "width \(width)")
      expectEveryRemainder(bp_sigmoids_using, width: width, scalar: Sigmoid.scalar)
    }
    // The primitive's scalar σ gives the dispatched vectors' bits, so a rank-0 tensor and a
    // tensor holding the same scalar agree.
    let ys = runKernel(bp_sigmoids_using, width: Int(bp_kernel_width()), on: Self.inputs)
    #expect(zip(Self.inputs, ys).allSatisfy { Sigmoid.scalar($0) == $1 || $1.isNaN })
  }

  /// σ of one scalar by the dispatched kernel.
  static func sigmoidByKernel(_ x: Double) -> Double {
    var (input, output) = (x, 0.0)
    bp_sigmoids(&input, &output, 1)
    return output
  }
}
