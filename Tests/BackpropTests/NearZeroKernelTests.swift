import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// A one-input kernel as the tests call it, with its scalar entry and its exact reference.
struct NearZeroKernel: Sendable, CustomStringConvertible {
  let description: String
  let kernel: @Sendable (Int32, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void
  let scalar: @Sendable (Double) -> Double
  let exact: @Sendable (Extended) -> Extended

  static let logarithmOnePlus = NearZeroKernel(
    description: "log1p", kernel: atWidth(\.logarithms_one_plus), scalar: bp_logarithm_one_plus,
    exact: { Foundation.log1p($0) })
  static let exponentialMinusOne = NearZeroKernel(
    description: "expm1", kernel: atWidth(\.exponentials_minus_one),
    scalar: bp_exponential_minus_one, exact: { Foundation.expm1($0) })
  /// sinh and cosh, built on expm1's parts.
  static let hyperbolicSine = NearZeroKernel(
    description: "sinh", kernel: atWidth(\.hyperbolic_sines), scalar: bp_hyperbolic_sine,
    exact: { Foundation.sinh($0) })
  static let hyperbolicCosine = NearZeroKernel(
    description: "cosh", kernel: atWidth(\.hyperbolic_cosines), scalar: bp_hyperbolic_cosine,
    exact: { Foundation.cosh($0) })
  /// atanh, built on log1p's lanes.
  static let inverseHyperbolicTangent = NearZeroKernel(
    description: "atanh", kernel: atWidth(\.inverse_hyperbolic_tangents),
    scalar: bp_inverse_hyperbolic_tangent, exact: { Foundation.atanh($0) })
  static let all = [
    logarithmOnePlus, exponentialMinusOne, hyperbolicSine, hyperbolicCosine,
    inverseHyperbolicTangent,
  ]

  /// The worst error over `inputs` in each width, checked against 1 ulp.
  @discardableResult
  func expectWithinOneUlp(
    _ inputs: [Double], sourceLocation: SourceLocation = #_sourceLocation
  ) -> Double {
    expectKernelWithinOneUlp(
      description, kernel, exact: exact, on: inputs, sourceLocation: sourceLocation)
  }
}

/// The vectorized ln(1 + x), eˣ − 1, sinh, cosh and atanh against the exact values (80-bit
/// `log1pl`, `expm1l`, `sinhl`, `coshl` and `atanhl` where the platform has them): within 1 ulp
/// over the whole range of Double, at every switch between their branches, with the IEEE
/// special cases, in every build the machine runs.
@Suite("Vectorized log1p, expm1, sinh, cosh and atanh: within 1 ulp over the whole range")
struct NearZeroKernelTests {
  @Test func log1pOverEveryBinadeAndNearMinusOne() {
    var generator = SeededGenerator(seed: 61)
    // Positive inputs of every size, and negative ones above −1.
    let positive = everyBinade(20, bothSigns: false, using: &generator)
    let negative = positive.filter { $0 < 1 }.map { -$0 }
    let nearMinusOne = (1...53).flatMap { bits -> [Double] in
      let step = Double(sign: .plus, exponent: -bits, significand: 1)
      return [-1 + step, -1 + 3 * step / 2, -1 + step.nextUp]
    }
    let worst = NearZeroKernel.logarithmOnePlus.expectWithinOneUlp(
      positive + negative + nearMinusOne
        + [.leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude])
    print("log1p kernel: worst \(worst) ulp over every binade")
  }

  @Test func log1pAroundItsBranchesAndUniformly() {
    var generator = SeededGenerator(seed: 62)
    let uniform = (0..<200_000).map { _ in Double.random(in: -1...3, using: &generator) }
    // Where u = 1 + x leaves [√2/2, √2) and the rounding of 1 + x starts to be recovered, and
    // where u reaches 2 (the recovery changes form) and 2^53 (1 + x = x).
    var edges: [Double] = []
    for switchPoint in [(0.5).squareRoot() - 1, (2.0).squareRoot() - 1, 1, 0x1p53 - 1, 0x1p53] {
      var below = switchPoint
      var above = switchPoint
      for _ in 0..<64 {
        edges += [below, above]
        below = below.nextDown
        above = above.nextUp
      }
    }
    let worst = NearZeroKernel.logarithmOnePlus.expectWithinOneUlp(uniform + edges)
    print("log1p kernel: worst \(worst) ulp over [−1, 3] and its branch points")
  }

  @Test func expm1OverEveryBinade() {
    var generator = SeededGenerator(seed: 63)
    let inputs = everyBinade(20, using: &generator)
    let worst = NearZeroKernel.exponentialMinusOne.expectWithinOneUlp(
      inputs + [.leastNonzeroMagnitude, 709.78, 709.782712893384, -37, -38, -40, -41])
    print("expm1 kernel: worst \(worst) ulp over every binade")
  }

  @Test func expm1WhereEachPowerOfTwoTakesOver() {
    var generator = SeededGenerator(seed: 64)
    // Up to the largest x whose eˣ − 1 is finite.
    let uniform = (0..<200_000).map { _ in
      Double.random(in: -45...709.782712893384, using: &generator)
    }
    let small = (0..<100_000).map { _ in Double.random(in: -2...2, using: &generator) }
    // k = round(x / ln 2) changes at odd multiples of ln 2 / 2: the neighbours of each, for k
    // from −60 to 60 and near overflow.
    var edges: [Double] = []
    for j in stride(from: -121, through: 121, by: 2) + [2045, 2047] {
      var point = Double(j) * M_LN2 / 2
      for _ in 0..<8 {
        edges += [point]
        point = point.nextDown
      }
      point = Double(j) * M_LN2 / 2
      for _ in 0..<8 {
        point = point.nextUp
        edges += [point]
      }
    }
    let worst = NearZeroKernel.exponentialMinusOne.expectWithinOneUlp(
      uniform + small + edges.filter { $0 < 709.78 })
    print("expm1 kernel: worst \(worst) ulp over [−45, 710] and where k changes")
  }

  @Test(arguments: [NearZeroKernel.hyperbolicSine, .hyperbolicCosine])
  func hyperbolicOverEveryBinadeAndNearOverflow(_ function: NearZeroKernel) {
    var generator = SeededGenerator(seed: 66)
    let binades = everyBinade(20, using: &generator)
    let uniform = (0..<200_000).map { _ in Double.random(in: -712...712, using: &generator) }
    let small = (0..<100_000).map { _ in Double.random(in: -3...3, using: &generator) }
    // Where x itself (or 1) takes over, where k changes (odd multiples of ln 2 / 2), and where
    // e^x overflows but sinh and cosh do not, up to their own overflow at 710.4758600739439.
    var edges: [Double] = []
    for center in [0x1p-26, 709.782712893384, 710.4758600739439]
      + stride(from: -61, through: 61, by: 2).map({ Double($0) * M_LN2 / 2 })
    {
      var (below, above) = (center, center)
      for _ in 0..<16 {
        edges += [below, above, -below, -above]
        (below, above) = (below.nextDown, above.nextUp)
      }
    }
    let worst = function.expectWithinOneUlp(binades + uniform + small + edges)
    print("\(function) kernel: worst \(worst) ulp over every binade and near overflow")
  }

  @Test func atanhOverEveryBinadeAndNearOne() {
    var generator = SeededGenerator(seed: 67)
    let binades = everyBinade(20, using: &generator).filter { abs($0) < 1 }
    let uniform = (0..<200_000).map { _ in Double.random(in: -1..<1, using: &generator) }
    // Near ±1, where 1 − a loses its leading bits, and around 1/2, where 1 − a becomes exact.
    var edges: [Double] = []
    for bits in 1...53 {
      let step = Double(sign: .plus, exponent: -bits, significand: 1)
      edges += [1 - step, -(1 - step), (1 - step).nextUp, 1 - 1.5 * step]
    }
    var (below, above) = (0.5, 0.5)
    for _ in 0..<64 {
      edges += [below, above, -below, -above]
      (below, above) = (below.nextDown, above.nextUp)
    }
    let worst = NearZeroKernel.inverseHyperbolicTangent.expectWithinOneUlp(
      binades + uniform + edges.filter { abs($0) < 1 })
    print("atanh kernel: worst \(worst) ulp over every binade below 1 and near ±1")
  }

  @Test func specialValues() {
    for width in kernelWidths {
      let log1p = runKernel(
        atWidth(\.logarithms_one_plus), width: width,
        on: [0, -0.0, -1, -1.5, -.infinity, .infinity, .nan, -.leastNonzeroMagnitude])
      #expect(log1p[0].bitPattern == (0.0).bitPattern, "width \(width)")
      #expect(log1p[1].bitPattern == (-0.0).bitPattern, "width \(width)")
      #expect(log1p[2] == -.infinity && log1p[3].isNaN && log1p[4].isNaN, "width \(width)")
      #expect(log1p[5] == .infinity && log1p[6].isNaN, "width \(width)")
      #expect(log1p[7] == -.leastNonzeroMagnitude, "width \(width)")
      let expm1 = runKernel(
        atWidth(\.exponentials_minus_one), width: width,
        on: [0, -0.0, -.infinity, .infinity, .nan, 710, 1e300, -1e300, -.leastNonzeroMagnitude])
      #expect(expm1[0].bitPattern == (0.0).bitPattern, "width \(width)")
      #expect(expm1[1].bitPattern == (-0.0).bitPattern, "width \(width)")
      #expect(expm1[2] == -1 && expm1[3] == .infinity && expm1[4].isNaN, "width \(width)")
      #expect(expm1[5] == .infinity && expm1[6] == .infinity && expm1[7] == -1, "width \(width)")
      #expect(expm1[8] == -.leastNonzeroMagnitude, "width \(width)")
      let edges: [Double] = [
        0, -0.0, .infinity, -.infinity, .nan, -.leastNonzeroMagnitude, 710.4758600739439,
        710.475860073944, -1e300,
      ]
      let sinh = runKernel(atWidth(\.hyperbolic_sines), width: width, on: edges)
      #expect(sinh[0].bitPattern == (0.0).bitPattern, "width \(width)")
      #expect(sinh[1].bitPattern == (-0.0).bitPattern, "width \(width)")
      #expect(sinh[2] == .infinity && sinh[3] == -.infinity && sinh[4].isNaN, "width \(width)")
      #expect(sinh[5] == -.leastNonzeroMagnitude, "width \(width)")
      #expect(sinh[6].isFinite && sinh[7] == .infinity && sinh[8] == -.infinity, "\(width)")
      let cosh = runKernel(atWidth(\.hyperbolic_cosines), width: width, on: edges)
      #expect(cosh[0] == 1 && cosh[1] == 1 && cosh[5] == 1, "width \(width)")
      #expect(cosh[2] == .infinity && cosh[3] == .infinity && cosh[4].isNaN, "width \(width)")
      #expect(cosh[6].isFinite && cosh[7] == .infinity && cosh[8] == .infinity, "\(width)")
      let atanh = runKernel(
        atWidth(\.inverse_hyperbolic_tangents), width: width,
        on: [0, -0.0, 1, -1, 1.5, -.infinity, .nan, -.leastNonzeroMagnitude])
      #expect(atanh[0].bitPattern == (0.0).bitPattern, "width \(width)")
      #expect(atanh[1].bitPattern == (-0.0).bitPattern, "width \(width)")
      #expect(atanh[2] == .infinity && atanh[3] == -.infinity, "width \(width)")
      #expect(atanh[4].isNaN && atanh[5].isNaN && atanh[6].isNaN, "width \(width)")
      #expect(atanh[7] == -.leastNonzeroMagnitude, "width \(width)")
    }
  }

  @Test(arguments: NearZeroKernel.all)
  func everyRemainderAndTheWidthsAgreeToTheBit(_ function: NearZeroKernel) {
    // The remainders' inputs run from −2 to 3; ln(1 + x) takes them shifted into its domain,
    // and atanh scaled into it.
    let shift = function.description == "log1p" ? 3.0 : 0
    let scale = function.description == "atanh" ? 0.3 : 1
    for width in kernelWidths {
      expectEveryRemainder(
        { width, source, destination, count in
          var shifted = (0..<count).map { source![$0] * scale + shift }
          function.kernel(width, &shifted, destination, count)
        }, width: width, scalar: { function.scalar($0 * scale + shift) })
    }
    var generator = SeededGenerator(seed: 65)
    let inputs = (0..<10_003).map { _ in
      Double(
        sign: .plus, exponent: Int.random(in: -1074...9, using: &generator),
        significand: Double.random(in: 1..<2, using: &generator))
        * (Bool.random(using: &generator) ? 1 : -0.5)
    }
    let vectorized = kernelWidths.filter { $0 > 0 }
    let results = vectorized.map { runKernel(function.kernel, width: $0, on: inputs) }
    #expect(
      results.dropFirst().allSatisfy { $0.map(\.bitPattern) == results[0].map(\.bitPattern) },
      "\(function)")
    // The scalar entry gives the bits of the widest vector loop, NaN for NaN.
    if let widest = results.last {
      #expect(
        zip(inputs, widest).allSatisfy {
          function.scalar($0).bitPattern == $1.bitPattern || ($1.isNaN && function.scalar($0).isNaN)
        }, "\(function)")
    }
  }
}
