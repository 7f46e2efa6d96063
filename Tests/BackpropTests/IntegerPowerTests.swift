import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The integer-power kernel against 80-bit powl: within 1 ulp (0.5 and a hair by its method)
/// over every binade, both signs, for exponents from 1 to 64; overflow to ±∞ and underflow to
/// subnormals and ±0 where the exact result does; the IEEE cases; every remainder; widths and
/// the scalar entry to the bit; and `pow(x, n)` taking it.
@Suite("Vectorized integer powers: within 1 ulp")
struct IntegerPowerTests {
  static let exponents: [Int32] = [1, 2, 3, 4, 5, 7, 8, 13, 31, 64]

  static func run(_ xs: [Double], _ n: Int32, width: Int) -> [Double] {
    var out = [Double](repeating: 42, count: xs.count)
    xs.withUnsafeBufferPointer { xs in
      out.withUnsafeMutableBufferPointer { out in
        kernel(\.integer_powers, width: Int32(width))(xs.baseAddress, n, out.baseAddress, xs.count)
      }
    }
    return out
  }

  @Test(arguments: exponents)
  func withinOneUlpOverEveryBinade(n: Int32) {
    var generator = SeededGenerator(seed: 80 + UInt64(n))
    let inputs =
      everyBinade(4, using: &generator)
      + (0..<20_000).map { _ in Double.random(in: -3...3, using: &generator) }
    for width in kernelWidths {
      let results = Self.run(inputs, n, width: width)
      var worst = (error: 0.0, x: 0.0)
      for (x, y) in zip(inputs, results) {
        let exact = Foundation.pow(Extended(x), Extended(n))
        // Where the exact value is beyond the largest finite Double, the result is ±∞.
        if exact.magnitude > Extended(Double.greatestFiniteMagnitude) {
          let roundsToInfinity =
            exact.magnitude
            >= Extended(Double.greatestFiniteMagnitude) + Extended(
              Double.greatestFiniteMagnitude.ulp) / 2
          if roundsToInfinity {
            #expect(y.isInfinite && (y < 0) == (exact < 0), "\(x)^\(n) = \(y), exact \(exact)")
            continue
          }
        }
        let error = ulpError(y, exact: exact)
        if !(error <= worst.error) { worst = (error, x) }
      }
      #expect(
        worst.error <= 1, "x^\(n), width \(width): worst \(worst.error) ulp at x = \(worst.x)")
      if width == Int(bp_kernel_width()) { print("x^\(n) kernel: worst \(worst.error) ulp") }
    }
  }

  @Test func specialValuesRemaindersWidthsAndTheScalarEntry() {
    let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 1, -1]
    for width in kernelWidths {
      for n in Self.exponents {
        let y = Self.run(specials, n, width: width)
        let odd = n % 2 == 1
        #expect(y[0].bitPattern == (0.0).bitPattern, "n \(n)")
        #expect(y[1].bitPattern == (odd ? -0.0 : 0.0).bitPattern, "n \(n)")
        #expect(y[2] == .infinity && y[3] == (odd ? -.infinity : .infinity), "n \(n)")
        #expect(y[4].isNaN && y[5] == 1 && y[6] == (odd ? -1 : 1), "n \(n)")
        expectEveryRemainder(
          { width, source, destination, count in
            kernel(\.integer_powers, width: width)(source, n, destination, count)
          }, width: width, scalar: { Foundation.pow($0, Double(n)) })
      }
    }
    var generator = SeededGenerator(seed: 79)
    let inputs = (0..<10_003).map { _ in Double.random(in: -40...40, using: &generator) }
    for n in Self.exponents {
      let widths = kernelWidths.filter { $0 > 0 }
      let results = widths.map { Self.run(inputs, n, width: $0) }
      #expect(results.dropFirst().allSatisfy { $0 == results[0] }, "n \(n)")
      if let widest = results.last {
        #expect(zip(inputs, widest).allSatisfy { bp_integer_power($0, n) == $1 }, "n \(n)")
      }
    }
  }

  @Test func powTakesTheKernelForIntegerExponents() {
    let x = Tensor([1.1, -2.5, 0.3, 7, -0.0, 1e100])
    for n in [3.0, 4, 12, 64] {
      let kernel = x.scalars.map { bp_integer_power($0, Int32(n)) }
      #expect(pow(x, n).scalars.elementsEqual(kernel) { $0.bitPattern == $1.bitPattern })
      // A rank-0 tensor and a scalar inside a tensor agree to the bit.
      #expect(pow(Tensor(1.1), n).scalar! == kernel[0])
    }
    // 2.25 and 65 stay with pow.
    #expect(pow(x, 2.25).scalars[0] == Foundation.pow(1.1, 2.25))
    #expect(pow(x, 65).scalars[0] == Foundation.pow(1.1, 65))
    // The gradient of x³ is 3x², of x⁴ 4x³ (the kernel's x³).
    #expect(gradient(at: x) { pow($0, 3).sum() } == 3 * (x * x))
    #expect(
      gradient(at: x) { pow($0, 4).sum() }.scalars
        == x.scalars.map { 4 * bp_integer_power($0, 3) })
  }

  static let halfExponents: [Int32] = [0, 1, 2, 3, 5, 13, 63]

  static func runHalf(_ xs: [Double], _ n: Int32, width: Int) -> [Double] {
    var out = [Double](repeating: 42, count: xs.count)
    xs.withUnsafeBufferPointer { xs in
      out.withUnsafeMutableBufferPointer { out in
        kernel(\.half_integer_powers, width: Int32(width))(
          xs.baseAddress, n, out.baseAddress, xs.count)
      }
    }
    return out
  }

  /// x^(n + ½) against 80-bit powl over every binade of positive x (overflow to +∞ and
  /// underflow to subnormals and 0 included) and densely near 1, for n from 0 to 63: within
  /// 1 ulp, and 0.5 and a hair from 2⁻⁹⁶⁹ up.
  @Test(arguments: halfExponents)
  func halfIntegerPowersWithinOneUlp(n: Int32) {
    var generator = SeededGenerator(seed: 180 + UInt64(n))
    let inputs =
      everyBinade(4, bothSigns: false, using: &generator)
      + (0..<20_000).map { _ in Double.random(in: 0...3, using: &generator) }
    let p = Extended(n) + 0.5
    for width in kernelWidths {
      let results = Self.runHalf(inputs, n, width: width)
      var (worst, worstNormal) = ((error: 0.0, x: 0.0), 0.0)
      for (x, y) in zip(inputs, results) {
        let exact = Foundation.pow(Extended(x), p)
        if exact >= Extended(Double.greatestFiniteMagnitude)
          + Extended(Double.greatestFiniteMagnitude.ulp) / 2
        {
          #expect(y == .infinity, "\(x)^\(p) = \(y), exact \(exact)")
          continue
        }
        let error = ulpError(y, exact: exact)
        if !(error <= worst.error) { worst = (error, x) }
        if exact >= 0x1p-969 { worstNormal = max(worstNormal, error) }
      }
      // Within 1 ulp; from 2⁵³ times the smallest normal up, the method's bound: one rounding of
      // a pair within about 2⁻¹⁰⁰ of the value (below, a product's rounding error is subnormal,
      // so the pair is not exact).
      #expect(
        worst.error <= 1 && worstNormal <= 0.51,
        "x^\(p), width \(width): worst \(worst.error) ulp at x = \(worst.x), \(worstNormal) above")
      if width == Int(bp_kernel_width()) {
        print("x^\(p) kernel: worst \(worst.error) ulp, \(worstNormal) from 2⁻⁹⁶⁹ up")
      }
    }
  }

  @Test func halfIntegerSpecialValuesRemaindersWidthsAndThePower() {
    // pow's IEEE cases for a positive exponent that is not an odd integer.
    let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 1, -1, -1e-300]
    for width in kernelWidths {
      for n in Self.halfExponents {
        let y = Self.runHalf(specials, n, width: width)
        #expect(y[0].bitPattern == (0.0).bitPattern && y[1].bitPattern == (0.0).bitPattern)
        #expect(y[2] == .infinity && y[3] == .infinity && y[4].isNaN, "n \(n)")
        #expect(y[5] == 1 && y[6].isNaN && y[7].isNaN, "n \(n)")
        expectEveryRemainder(
          { width, source, destination, count in
            var shifted = (0..<count).map { source![$0] + 3 }
            kernel(\.half_integer_powers, width: width)(&shifted, n, destination, count)
          }, width: width, scalar: { Foundation.pow($0 + 3, Double(n) + 0.5) })
      }
    }
    var generator = SeededGenerator(seed: 179)
    let inputs = (0..<10_003).map { _ in Double.random(in: 0...40, using: &generator) }
    for n in Self.halfExponents {
      let results = kernelWidths.filter { $0 > 0 }.map { Self.runHalf(inputs, n, width: $0) }
      #expect(results.dropFirst().allSatisfy { $0 == results[0] }, "n \(n)")
      if let widest = results.last {
        #expect(zip(inputs, widest).allSatisfy { bp_half_integer_power($0, n) == $1 }, "n \(n)")
      }
    }
    // pow(x, 2.5) and pow(x, 0.5) take the kernel; the gradient of x^2.5 is 2.5 x^1.5 with the
    // kernel's x^1.5, by the vectorized pass and by the scalar rule alike.
    let x = Tensor([1.1, 2.5, 0.3, 7, -0.0, 1e100, 4])
    #expect(
      pow(x, 2.5).scalars.elementsEqual(x.scalars.map { bp_half_integer_power($0, 2) }) {
        $0.bitPattern == $1.bitPattern
      })
    #expect(pow(x, 2.5).scalars[6] == 32 && pow(Tensor(4), 0.5).scalar! == 2)
    let slopes = x.scalars.map { 2.5 * bp_half_integer_power($0, 1) }
    #expect(gradient(at: x) { pow($0, 2.5).sum() }.scalars == slopes)
    #expect(gradient(at: Tensor(1.1)) { pow($0, 2.5) }.scalar! == slopes[0])
  }
}
