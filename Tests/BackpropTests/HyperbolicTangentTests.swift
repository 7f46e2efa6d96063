import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized hyperbolic tangent against the exact value: within 1 ulp over the whole range,
/// at the switch between its two methods, at subnormals and in the tails, with the IEEE special
/// cases, in every build the machine runs; and a scalar gives the bits a tensor gives. The exact
/// value is `tanhl` in 80-bit extended precision where the platform has it; elsewhere
/// Foundation's `tanh`.
@Suite("Vectorized tanh: within 1 ulp over the whole range")
struct HyperbolicTangentTests {
  static let widths = [0, 256, 512].filter { $0 <= Int(bp_kernel_width()) }

  static func tangents(_ xs: [Double], width: Int) -> [Double] {
    var out = [Double](repeating: 42, count: xs.count)
    xs.withUnsafeBufferPointer { xs in
      out.withUnsafeMutableBufferPointer { out in
        bp_hyperbolic_tangents_using(Int32(width), xs.baseAddress, out.baseAddress, xs.count)
      }
    }
    return out
  }

  static func ulpError(_ ours: Double, at x: Double) -> Double {
    #if arch(x86_64) && !os(Windows) && !os(Android)
      let exact = Foundation.tanh(Float80(x))
      if exact == 0 { return ours == 0 ? 0 : .infinity }
      let exponent = Swift.max(Int(exact.exponent), -1022)
      let ulp = Float80(sign: .plus, exponent: exponent - 52, significand: 1)
      return Double(abs(Float80(ours) - exact) / ulp)
    #else
      let reference = Foundation.tanh(x)
      if reference == 0 { return ours == 0 ? 0 : .infinity }
      return abs(ours - reference) / reference.ulp
    #endif
  }

  /// The worst error over `inputs` in each width, checked against 1 ulp.
  @discardableResult
  static func expectWithinOneUlp(
    _ inputs: [Double], sourceLocation: SourceLocation = #_sourceLocation
  ) -> Double {
    var worstOfAll = 0.0
    for width in widths {
      let results = tangents(inputs, width: width)
      var worst = (error: 0.0, x: 0.0)
      for (x, y) in zip(inputs, results) {
        let error = ulpError(y, at: x)
        if error > worst.error { worst = (error, x) }
      }
      #expect(
        worst.error <= 1, "width \(width): worst error \(worst.error) ulp at x = \(worst.x)",
        sourceLocation: sourceLocation)
      worstOfAll = max(worstOfAll, worst.error)
    }
    return worstOfAll
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
    let inputs = (-1074...1023).flatMap { exponent in
      (0..<20).flatMap { _ -> [Double] in
        let x = Double(
          sign: .plus, exponent: exponent,
          significand: Double.random(in: 1..<2, using: &generator))
        return [x, -x]
      }
    }
    Self.expectWithinOneUlp(inputs + [.leastNonzeroMagnitude, .greatestFiniteMagnitude])
  }

  @Test func specialValuesRemaindersAndTheScalarPath() {
    let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 19.06, 20, 20.5, 710, -1e300]
    for width in Self.widths {
      let y = Self.tangents(specials, width: width)
      #expect(y[0] == 0 && y[0].sign == .plus && y[1] == 0 && y[1].sign == .minus)
      #expect(y[2] == 1 && y[3] == -1 && y[4].isNaN, "width \(width)")
      #expect(y[5] == Foundation.tanh(19.06) && y[6] == 1 && y[7] == 1 && y[8] == 1 && y[9] == -1)
      for count in 0...17 {
        var buffer = (0..<(count + 1)).map { Double($0) * 0.3 - 2 }
        let expected = buffer.prefix(count).map { bp_hyperbolic_tangent($0) }
        buffer.withUnsafeMutableBufferPointer { buffer in
          bp_hyperbolic_tangents_using(Int32(width), buffer.baseAddress, buffer.baseAddress, count)
        }
        #expect(buffer[count] == Double(count) * 0.3 - 2, "count \(count): wrote past the end")
        for index in 0..<count {
          #expect(abs(buffer[index] - expected[index]) <= expected[index].ulp, "count \(count)")
        }
      }
    }
    // The scalar path gives the dispatched vectors' bits, which the tanh primitive relies on.
    var generator = SeededGenerator(seed: 54)
    let inputs = (0..<10_003).map { _ in Double.random(in: -25...25, using: &generator) }
    let vector = Self.tangents(inputs, width: Int(bp_kernel_width()))
    #expect(zip(inputs, vector).allSatisfy { bp_hyperbolic_tangent($0) == $1 })
  }
}
