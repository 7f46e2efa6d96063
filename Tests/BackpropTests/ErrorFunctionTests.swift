import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized erf and erfc (Sources/BackpropKernels/ErrorFunction.c) against 80-bit `erfl`
/// and `erfcl` where the platform has them: within 1 ulp over the whole range of Double, at every
/// switch between the kernel's three pieces and between its table's points, with the IEEE special
/// cases, in every build the machine runs; and erf's slope to the scalar rule's bits.
@Suite("Vectorized erf and erfc: within 1 ulp over the whole range")
struct ErrorFunctionTests {
  static let erf = NearZeroKernel(
    description: "erf", kernel: atWidth(\.error_functions), scalar: bp_error_function,
    exact: { Foundation.erf($0) })
  static let erfc = NearZeroKernel(
    description: "erfc", kernel: atWidth(\.complementary_error_functions),
    scalar: bp_complementary_error_function, exact: { Foundation.erfc($0) })

  /// x and its 16 neighbours on each side, for every x in `points`, both signs.
  static func neighbours(of points: [Double]) -> [Double] {
    points.flatMap { point -> [Double] in
      var below = point
      var above = point
      var out: [Double] = []
      for _ in 0..<16 {
        out += [below, above, -below, -above]
        below = below.nextDown
        above = above.nextUp
      }
      return out
    }
  }

  @Test func overEveryBinade() {
    var generator = SeededGenerator(seed: 71)
    let inputs =
      everyBinade(20, using: &generator)
      + [.leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude]
    let erf = Self.erf.expectWithinOneUlp(inputs)
    let erfc = Self.erfc.expectWithinOneUlp(inputs)
    // The figures the kernel's comment gives: 0.67 ulp for erf, 0.72 for erfc's normal results
    // (the last rounding's half ulp, the exponential's polynomial and the table's correction).
    #expect(erf <= 0.7 && erfc <= 0.75, "erf \(erf), erfc \(erfc) ulp")
    print("erf kernel: worst \(erf) ulp, erfc \(erfc) ulp over every binade")
  }

  @Test func uniformlyWhereTheyAreNotFlat() {
    var generator = SeededGenerator(seed: 72)
    // erf changes below 6 in magnitude; erfc is nonzero up to about 27.23, subnormal above
    // 26.55, and tends to 2 on the left.
    let inputs = (0..<300_000).map { _ in Double.random(in: -7...7, using: &generator) }
    let tail = (0..<200_000).map { _ in Double.random(in: 5...26.5, using: &generator) }
    let subnormal = (0..<20_000).map { _ in Double.random(in: 26.55...27.3, using: &generator) }
    let erf = Self.erf.expectWithinOneUlp(inputs)
    let erfc = Self.erfc.expectWithinOneUlp(inputs + tail)
    // Where the result is subnormal, the scaling rounds a second time: 0.8 ulp at most.
    let subnormals = Self.erfc.expectWithinOneUlp(subnormal)
    #expect(erf <= 0.7 && erfc <= 0.75 && subnormals <= 0.8, "\(erf), \(erfc), \(subnormals)")
    print("erf kernel: worst \(erf) ulp on [−7, 7]; erfc \(erfc) ulp on [−7, 28]")
  }

  @Test func aroundEverySwitch() {
    // The pieces meet at 1/4 and 6; the table's nearest point changes halfway between points
    // (i + 1/2)/128, where the step d is largest; 27.25 is where large inputs are clamped.
    let halfways = (32..<768).map { (Double($0) + 0.5) / 128 }
    let points = Self.neighbours(of: [0.25, 6, 26.5] + halfways)
    let erf = Self.erf.expectWithinOneUlp(points)
    let erfc = Self.erfc.expectWithinOneUlp(points)
    #expect(erf <= 0.7 && erfc <= 0.75, "erf \(erf), erfc \(erfc) ulp")
    // Into the subnormals, and where the result reaches 0 and large inputs are clamped.
    _ = Self.erfc.expectWithinOneUlp(Self.neighbours(of: [26.55, 27.2, 27.23, 27.25]))
    print("erf kernel: worst \(erf) ulp, erfc \(erfc) ulp around each switch")
  }

  @Test func specialValues() {
    for width in kernelWidths {
      let erf = runKernel(
        atWidth(\.error_functions), width: width,
        on: [0, -0.0, .infinity, -.infinity, .nan, 6, -6, 1e300, -.leastNonzeroMagnitude])
      #expect(erf[0].bitPattern == (0.0).bitPattern, "width \(width)")
      #expect(erf[1].bitPattern == (-0.0).bitPattern, "width \(width)")
      #expect(erf[2] == 1 && erf[3] == -1 && erf[4].isNaN, "width \(width)")
      #expect(erf[5] == 1 && erf[6] == -1 && erf[7] == 1, "width \(width)")
      // erf(x) ≈ 1.128 x rounds to a subnormal: 2/√π · 2⁻¹⁰⁷⁴ is 1 · 2⁻¹⁰⁷⁴ to nearest.
      #expect(erf[8] == -.leastNonzeroMagnitude, "width \(width)")
      let erfc = runKernel(
        atWidth(\.complementary_error_functions), width: width,
        on: [0, -0.0, .infinity, -.infinity, .nan, 27.25, 28, 1e300, -1e300, -6])
      #expect(erfc[0] == 1 && erfc[1] == 1, "width \(width)")
      #expect(erfc[2].bitPattern == (0.0).bitPattern && erfc[3] == 2 && erfc[4].isNaN)
      #expect(erfc[5] == 0 && erfc[6] == 0 && erfc[7] == 0 && erfc[8] == 2 && erfc[9] == 2)
    }
  }

  @Test(arguments: [erf, erfc])
  func everyRemainderAndTheWidthsAgreeToTheBit(_ function: NearZeroKernel) {
    for width in kernelWidths {
      expectEveryRemainder(
        { function.kernel($0, $1, $2, $3) }, width: width, scalar: function.scalar)
    }
    var generator = SeededGenerator(seed: 73)
    // Every piece in one vector: small, tabulated and tail inputs of both signs, mixed.
    let inputs = (0..<10_003).map { _ in
      Double(
        sign: Bool.random(using: &generator) ? .plus : .minus,
        exponent: Int.random(in: -1074...5, using: &generator),
        significand: Double.random(in: 1..<2, using: &generator))
    }
    let results = kernelWidths.map { runKernel(function.kernel, width: $0, on: inputs) }
    #expect(
      results.dropFirst().allSatisfy { $0.map(\.bitPattern) == results[0].map(\.bitPattern) },
      "\(function)")
    if let widest = results.last {
      #expect(
        zip(inputs, widest).allSatisfy { function.scalar($0).bitPattern == $1.bitPattern },
        "\(function)")
    }
  }

  /// The slope kernel is the scalar rule 2/√π · e^(−x·x), in that order, to the bit, in the
  /// widths that share the scalar exponential's instructions (the portable build has no fused
  /// multiply-add where the machine has one, so it rounds otherwise).
  @Test func slopesHaveTheRulesBits() {
    var generator = SeededGenerator(seed: 74)
    let inputs =
      (0..<5_003).map { _ in Double.random(in: -30...30, using: &generator) }
      + [0, -0.0, .infinity, -.infinity, .nan, 1e300, 27.3, .leastNonzeroMagnitude]
    let rule = inputs.map { M_2_SQRTPI * exponential(-($0 * $0)) }
    for width in kernelWidths where width > 0 || bp_kernel_width() == 0 {
      let slopes = runKernel(atWidth(\.error_function_slopes), width: width, on: inputs)
      #expect(
        zip(slopes, rule).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) },
        "width \(width)")
    }
  }
}
