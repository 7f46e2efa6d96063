import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized hyperbolic tangent against the exact value: within 1 ulp over the whole range,
/// at the switch between its two methods, at subnormals and in the tails, with the IEEE special
/// cases, in every build the machine runs; and a scalar gives the bits a tensor gives
/// (`ulpError` measures against 80-bit `tanhl` where the platform has it).
@Suite("Vectorized tanh: within 1 ulp over the whole range")
struct HyperbolicTangentTests {
  /// The worst error over `inputs` in each width, checked against 1 ulp.
  @discardableResult
  static func expectWithinOneUlp(
    _ inputs: [Double], sourceLocation: SourceLocation = #_sourceLocation
  ) -> Double {
    expectKernelWithinOneUlp(
      "tanh", atWidth(\.hyperbolic_tangents), exact: { Foundation.tanh($0) }, on: inputs,
      sourceLocation: sourceLocation)
  }

  @Test func uniformWhereTheResultIsNotYetOne() {
    var generator = SeededGenerator(seed: 51)
    let inputs = (0..<200_000).map { _ in Double.random(in: -20...20, using: &generator) }
    Self.expectWithinOneUlp(inputs)
  }

  @Test func aroundTheSwitchBetweenMethodsAndNearZero() {
    var generator = SeededGenerator(seed: 52)
    let around = (0..<100_000).map { _ in Double.random(in: 0.45...0.65, using: &generator) }
    let small = (0..<50_000).map { _ in Double.random(in: -0.6...0.6, using: &generator) }
    var edge = 0.55
    var neighbours: [Double] = []
    for _ in 0..<64 {
      neighbours += [edge, -edge]
      edge = edge.nextDown
    }
    let switchPoint: Double = 0.55
    Self.expectWithinOneUlp(
      around + small + neighbours + [switchPoint.nextUp, switchPoint.nextUp.nextUp])
  }

  @Test func everyBinadeFromSubnormalsToTheLargestFinite() {
    var generator = SeededGenerator(seed: 53)
    let inputs = everyBinade(20, using: &generator)
    Self.expectWithinOneUlp(inputs + [.leastNonzeroMagnitude, .greatestFiniteMagnitude])
  }

  @Test func specialValuesRemaindersAndTheScalarPath() {
    let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 19.06, 20, 20.5, 710, -1e300]
    for width in kernelWidths {
      let y = runKernel(atWidth(\.hyperbolic_tangents), width: width, on: specials)
      #expect(y[0] == 0 && y[0].sign == .plus && y[1] == 0 && y[1].sign == .minus)
      #expect(y[2] == 1 && y[3] == -1 && y[4].isNaN, "width \(width)")
      #expect(y[5] == Foundation.tanh(19.06) && y[6] == 1 && y[7] == 1 && y[8] == 1 && y[9] == -1)
      expectEveryRemainder(
        atWidth(\.hyperbolic_tangents), width: width, scalar: bp_hyperbolic_tangent)
    }
    // The scalar path gives the dispatched vectors' bits, which the tanh primitive relies on.
    var generator = SeededGenerator(seed: 54)
    let inputs = (0..<10_003).map { _ in Double.random(in: -25...25, using: &generator) }
    let vector = runKernel(
      atWidth(\.hyperbolic_tangents), width: Int(bp_kernel_width()), on: inputs)
    #expect(zip(inputs, vector).allSatisfy { bp_hyperbolic_tangent($0) == $1 })
  }
}
