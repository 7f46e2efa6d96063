import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized logarithm against the exact value over the whole range of Double: within 1 ulp
/// everywhere, subnormal inputs included, with the IEEE special cases, in every build the machine
/// runs (`ulpError` measures against 80-bit `logl` where the platform has it).
@Suite("Vectorized logarithm: within 1 ulp over the whole range")
struct LogarithmTests {
  static func expectWithinOneUlp(
    _ inputs: [Double], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    expectKernelWithinOneUlp(
      "log", bp_logarithms_using, exact: { Foundation.log($0) }, on: inputs,
      sourceLocation: sourceLocation)
  }

  @Test func everyBinadeFromSubnormalsToTheLargestFinite() {
    var generator = SeededGenerator(seed: 21)
    let inputs = everyBinade(40, bothSigns: false, using: &generator)
    Self.expectWithinOneUlp(
      inputs + [.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude])
  }

  @Test func nearOneWhereTheResultIsSmall() {
    var generator = SeededGenerator(seed: 22)
    let near = (0..<100_000).map { _ in Double.random(in: 0.5...2, using: &generator) }
    let closer = (1...52).flatMap { bits -> [Double] in
      let step = Double(sign: .plus, exponent: -bits, significand: 1)
      return [1 + step, 1 - step / 2, 1 + 3 * step, 1 - 3 * step / 2]
    }
    Self.expectWithinOneUlp(near + closer + [1, 2, 0.5, sqrt(2), sqrt(0.5)])
  }

  @Test func specialValuesAndEveryRemainder() {
    let specials: [Double] = [0, -0.0, -1, -.leastNonzeroMagnitude, -.infinity, .infinity, .nan, 1]
    for width in kernelWidths {
      let results = runKernel(bp_logarithms_using, width: width, on: specials)
      #expect(results[0] == -.infinity && results[1] == -.infinity, "width \(width)")
      #expect(results[2].isNaN && results[3].isNaN && results[4].isNaN, "width \(width)")
      #expect(results[5] == .infinity && results[6].isNaN && results[7] == 0, "width \(width)")
      // On positive inputs: the remainders' lanes are padded with 1.
      expectEveryRemainder(
        { width, source, destination, count in
          var shifted = (0..<count).map { source![$0] + 3 }
          bp_logarithms_using(width, &shifted, destination, count)
        }, width: width, scalar: { logarithm($0 + 3) })
    }
  }

  @Test func theVectorizedWidthsAgreeToTheBit() {
    let vectorized = kernelWidths.filter { $0 > 0 }
    guard vectorized.count > 1 else { return }
    var generator = SeededGenerator(seed: 23)
    let inputs = (0..<10_003).map { _ in
      Double(
        sign: .plus, exponent: Int.random(in: -1074...1023, using: &generator),
        significand: Double.random(in: 1..<2, using: &generator))
    }
    let results = vectorized.map { runKernel(bp_logarithms_using, width: $0, on: inputs) }
    #expect(results.dropFirst().allSatisfy { $0 == results[0] })
    #expect(zip(inputs, results.last!).allSatisfy { logarithm($0) == $1 })
  }
}
