import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized sine and cosine against the exact values: within 1 ulp over the reduction's
/// range, next to multiples of π/2 (where the reduction cancels most), at subnormals, and beyond
/// it (where a lane takes the C library's function), with the IEEE special cases, in every build
/// the machine runs; a scalar gives the bits a tensor gives (`ulpError` measures against 80-bit
/// `sinl` and `cosl` where the platform has them).
@Suite("Vectorized sine and cosine: within 1 ulp")
struct SineCosineTests {
  static func apply(_ xs: [Double], width: Int, cosine: Bool) -> [Double] {
    runKernel(cosine ? atWidth(\.cosines) : atWidth(\.sines), width: width, on: xs)
  }

  static func expectWithinOneUlp(
    _ inputs: [Double], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    expectKernelWithinOneUlp(
      "sin", atWidth(\.sines), exact: { Foundation.sin($0) }, on: inputs,
      sourceLocation: sourceLocation)
    expectKernelWithinOneUlp(
      "cos", atWidth(\.cosines), exact: { Foundation.cos($0) }, on: inputs,
      sourceLocation: sourceLocation)
  }

  @Test func uniformOverTheReductionsRange() {
    var generator = SeededGenerator(seed: 61)
    let near = (0..<100_000).map { _ in Double.random(in: -10...10, using: &generator) }
    let far = (0..<100_000).map { _ in Double.random(in: -5e5...5e5, using: &generator) }
    Self.expectWithinOneUlp(near + far)
  }

  @Test func nextToMultiplesOfHalfPi() {
    // The doubles nearest k π/2 for k up to 2^19, and their neighbours: the reduction's
    // hardest inputs, where the result is tiny and every bit of π/2 counts.
    var generator = SeededGenerator(seed: 62)
    var inputs: [Double] = []
    for _ in 0..<3_000 {
      let k = Float80(Int.random(in: 1..<(1 << 19), using: &generator))
      let x = Double(k * Float80.pi / 2)
      inputs += [x, x.nextUp, x.nextDown, -x]
    }
    Self.expectWithinOneUlp(inputs + (1...40).map { Double($0) * .pi / 2 })
  }

  @Test func smallSubnormalAndBeyondTheRange() {
    var generator = SeededGenerator(seed: 63)
    let binades = everyBinade(10, using: &generator)
    Self.expectWithinOneUlp(binades + [0x1p19, 0x1p19.nextUp, -0x1p19, .greatestFiniteMagnitude])
  }

  @Test func specialValuesRemaindersAndTheScalarPath() {
    let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan]
    for width in kernelWidths {
      let s = Self.apply(specials, width: width, cosine: false)
      let c = Self.apply(specials, width: width, cosine: true)
      #expect(s[0] == 0 && s[0].sign == .plus && s[1] == 0 && s[1].sign == .minus)
      #expect(c[0] == 1 && c[1] == 1)
      #expect(s[2].isNaN && s[3].isNaN && s[4].isNaN && c[2].isNaN && c[3].isNaN && c[4].isNaN)
      expectEveryRemainder(atWidth(\.sines), width: width, scalar: bp_sine)
      expectEveryRemainder(atWidth(\.cosines), width: width, scalar: bp_cosine)
    }
    var generator = SeededGenerator(seed: 64)
    let inputs = (0..<10_003).map { _ in Double.random(in: -1e6...1e6, using: &generator) }
    let width = Int(bp_kernel_width())
    let sines = Self.apply(inputs, width: width, cosine: false)
    let cosines = Self.apply(inputs, width: width, cosine: true)
    #expect(zip(inputs, sines).allSatisfy { bp_sine($0) == $1 })
    #expect(zip(inputs, cosines).allSatisfy { bp_cosine($0) == $1 })
  }
}

/// The vectorized tangent against 80-bit `tanl`: within 1 ulp over the reduction's range, next
/// to multiples of π/2 (where it is tiny or huge) and of π/4 (where sine and cosine are
/// equal), at subnormals and beyond the range; the IEEE special cases, every remainder, and a
/// scalar with the bits a tensor gives.
@Suite("Vectorized tangent: within 1 ulp")
struct TangentTests {
  @discardableResult
  static func expectWithinOneUlp(
    _ inputs: [Double], sourceLocation: SourceLocation = #_sourceLocation
  ) -> Double {
    expectKernelWithinOneUlp(
      "tan", atWidth(\.tangents), exact: { Foundation.tan($0) }, on: inputs,
      sourceLocation: sourceLocation)
  }

  @Test func uniformOverTheReductionsRange() {
    var generator = SeededGenerator(seed: 71)
    let near = (0..<200_000).map { _ in Double.random(in: -10...10, using: &generator) }
    let far = (0..<100_000).map { _ in Double.random(in: -5e5...5e5, using: &generator) }
    let worst = Self.expectWithinOneUlp(near + far)
    print("tan kernel: worst \(worst) ulp over [−5e5, 5e5]")
  }

  @Test func nextToMultiplesOfAQuarterPi() {
    // The doubles nearest k π/4 and their neighbours: at even k the result is tiny or huge
    // (the reduction cancels most), at odd k sine and cosine of r are equal.
    var generator = SeededGenerator(seed: 72)
    var inputs: [Double] = []
    for _ in 0..<5_000 {
      let k = Float80(Int.random(in: 1..<(1 << 20), using: &generator))
      let x = Double(k * Float80.pi / 4)
      inputs += [x, x.nextUp, x.nextDown, -x, x.nextUp.nextUp]
    }
    let worst = Self.expectWithinOneUlp(inputs + (1...80).map { Double($0) * .pi / 4 })
    print("tan kernel: worst \(worst) ulp next to multiples of π/4")
  }

  @Test func smallSubnormalAndBeyondTheRange() {
    var generator = SeededGenerator(seed: 73)
    let binades = everyBinade(10, using: &generator)
    Self.expectWithinOneUlp(binades + [0x1p19, 0x1p19.nextUp, -0x1p19, .greatestFiniteMagnitude])
  }

  @Test func specialValuesRemaindersAndTheScalarPath() {
    let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude]
    for width in kernelWidths {
      let t = runKernel(atWidth(\.tangents), width: width, on: specials)
      #expect(t[0] == 0 && t[0].sign == .plus && t[1] == 0 && t[1].sign == .minus)
      #expect(t[2].isNaN && t[3].isNaN && t[4].isNaN && t[5] == .leastNonzeroMagnitude)
      // On [−2, 3.1): the remainders' inputs stay clear of the pole at π/2 only by chance, so
      // they are scaled into (−π/2, π/2) first.
      expectEveryRemainder(
        { width, source, destination, count in
          var scaled = (0..<count).map { source![$0] * 0.3 }
          kernel(\.tangents, width: width)(&scaled, destination, count)
        }, width: width, scalar: { bp_tangent($0 * 0.3) })
    }
    var generator = SeededGenerator(seed: 74)
    let inputs = (0..<10_003).map { _ in Double.random(in: -1e6...1e6, using: &generator) }
    let widths = kernelWidths.filter { $0 > 0 }
    let results = widths.map { runKernel(atWidth(\.tangents), width: $0, on: inputs) }
    #expect(results.dropFirst().allSatisfy { $0 == results[0] })
    if let widest = results.last {
      #expect(zip(inputs, widest).allSatisfy { bp_tangent($0) == $1 })
    }
  }
}
