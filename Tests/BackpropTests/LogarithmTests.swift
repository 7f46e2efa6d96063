import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized logarithm against the exact value over the whole range of Double: within 1 ulp
/// everywhere, subnormal inputs included, with the IEEE special cases, in every build the machine
/// runs. The exact value is `logl` in 80-bit extended precision where the platform has it (11
/// more bits than Double); elsewhere Foundation's `log`, itself within a few tenths of an ulp.
@Suite("Vectorized logarithm: within 1 ulp over the whole range")
struct LogarithmTests {
  /// Every width this machine runs, the baseline build included.
  static let widths = [0, 256, 512].filter { $0 <= Int(bp_kernel_width()) }

  static func logarithms(_ xs: [Double], width: Int) -> [Double] {
    var out = [Double](repeating: 42, count: xs.count)
    xs.withUnsafeBufferPointer { xs in
      out.withUnsafeMutableBufferPointer { out in
        bp_logarithms_using(Int32(width), xs.baseAddress, out.baseAddress, xs.count)
      }
    }
    return out
  }

  /// The error of `ours` as ln x in units in the last place of the exact result.
  static func ulpError(_ ours: Double, at x: Double) -> Double {
    #if arch(x86_64) && !os(Windows) && !os(Android)
      let exact = Foundation.log(Float80(x))
      if exact == 0 { return ours == 0 ? 0 : .infinity }
      let exponent = Swift.max(Int(exact.exponent), -1022)
      let ulp = Float80(sign: .plus, exponent: exponent - 52, significand: 1)
      return Double(abs(Float80(ours) - exact) / ulp)
    #else
      let reference = Foundation.log(x)
      if reference == 0 { return ours == 0 ? 0 : .infinity }
      return abs(ours - reference) / reference.ulp
    #endif
  }

  static func expectWithinOneUlp(
    _ inputs: [Double], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    for width in widths {
      let results = logarithms(inputs, width: width)
      var worst = (error: 0.0, x: 0.0)
      for (x, y) in zip(inputs, results) {
        let error = ulpError(y, at: x)
        if error > worst.error { worst = (error, x) }
      }
      #expect(
        worst.error <= 1, "width \(width): worst error \(worst.error) ulp at x = \(worst.x)",
        sourceLocation: sourceLocation)
    }
  }

  @Test func everyBinadeFromSubnormalsToTheLargestFinite() {
    var generator = SeededGenerator(seed: 21)
    let inputs = (-1074...1023).flatMap { exponent in
      (0..<40).map { _ in
        Double(
          sign: .plus, exponent: exponent,
          significand: Double.random(in: 1..<2, using: &generator))
      }
    }
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
    let specials: [Double] = [0, -0.0, -1, -5e-324, -.infinity, .infinity, .nan, 1]
    for width in Self.widths {
      let results = Self.logarithms(specials, width: width)
      #expect(results[0] == -.infinity && results[1] == -.infinity, "width \(width)")
      #expect(results[2].isNaN && results[3].isNaN && results[4].isNaN, "width \(width)")
      #expect(results[5] == .infinity && results[6].isNaN && results[7] == 0, "width \(width)")
      // Buffers of every length up to 17, so each remainder of 4 and 8 lanes runs, writing
      // exactly count results; in place too.
      for count in 0...17 {
        var buffer = (0..<(count + 1)).map { Double($0) + 0.5 }
        let expected = Self.logarithms(Array(buffer.prefix(count)), width: 0)
        buffer.withUnsafeMutableBufferPointer { buffer in
          bp_logarithms_using(Int32(width), buffer.baseAddress, buffer.baseAddress, count)
        }
        #expect(buffer[count] == Double(count) + 0.5, "count \(count): wrote past the end")
        for index in 0..<count {
          #expect(abs(buffer[index] - expected[index]) <= expected[index].ulp, "count \(count)")
        }
      }
    }
  }

  @Test func theVectorizedWidthsAgreeToTheBit() {
    let vectorized = Self.widths.filter { $0 > 0 }
    guard vectorized.count > 1 else { return }
    var generator = SeededGenerator(seed: 23)
    let inputs = (0..<10_003).map { _ in
      Double(
        sign: .plus, exponent: Int.random(in: -1074...1023, using: &generator),
        significand: Double.random(in: 1..<2, using: &generator))
    }
    let results = vectorized.map { Self.logarithms(inputs, width: $0) }
    #expect(results.dropFirst().allSatisfy { $0 == results[0] })
  }
}
