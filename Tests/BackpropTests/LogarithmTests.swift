import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// A logarithm kernel as the tests call it, with its scalar entry and its exact reference.
struct LogarithmKernel: Sendable, CustomStringConvertible {
  let description: String
  let kernel: @Sendable (Int32, UnsafePointer<Double>?, UnsafeMutablePointer<Double>?, Int) -> Void
  let scalar: @Sendable (Double) -> Double
  let exact: @Sendable (Extended) -> Extended

  static let all = [
    LogarithmKernel(
      description: "log", kernel: atWidth(\.logarithms), scalar: { logarithm($0) },
      exact: { Foundation.log($0) }),
    LogarithmKernel(
      description: "log2", kernel: atWidth(\.binary_logarithms), scalar: bp_binary_logarithm,
      exact: { Foundation.log2($0) }),
    LogarithmKernel(
      description: "log10", kernel: atWidth(\.decimal_logarithms), scalar: bp_decimal_logarithm,
      exact: { Foundation.log10($0) }),
  ]

  func expectWithinOneUlp(_ inputs: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
    let worst = expectKernelWithinOneUlp(
      description, kernel, exact: exact, on: inputs, sourceLocation: sourceLocation)
    print("\(description) kernel: worst \(worst) ulp over \(inputs.count) inputs")
  }
}

/// The vectorized logarithms (ln, log₂, log₁₀) against the exact value over the whole range of
/// Double: within 1 ulp everywhere, subnormal inputs included, with the IEEE special cases, in
/// every build the machine runs (`ulpError` measures against 80-bit `logl`, `log2l` and
/// `log10l` where the platform has them).
@Suite("Vectorized logarithms: within 1 ulp over the whole range")
struct LogarithmTests {
  @Test(arguments: LogarithmKernel.all)
  func everyBinadeFromSubnormalsToTheLargestFinite(_ function: LogarithmKernel) {
    var generator = SeededGenerator(seed: 21)
    let inputs = everyBinade(40, bothSigns: false, using: &generator)
    function.expectWithinOneUlp(
      inputs + [.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude])
  }

  @Test(arguments: LogarithmKernel.all)
  func nearOneWhereTheResultIsSmall(_ function: LogarithmKernel) {
    var generator = SeededGenerator(seed: 22)
    let near = (0..<100_000).map { _ in Double.random(in: 0.5...2, using: &generator) }
    let closer = (1...52).flatMap { bits -> [Double] in
      let step = Double(sign: .plus, exponent: -bits, significand: 1)
      return [1 + step, 1 - step / 2, 1 + 3 * step, 1 - 3 * step / 2]
    }
    function.expectWithinOneUlp(near + closer + [1, 2, 0.5, sqrt(2), sqrt(0.5)])
  }

  /// log₂ 2ᵏ = k and log₁₀ 10ⁿ = n exactly, as a correctly rounded logarithm gives them.
  @Test func exactAtPowersOfTheBase() {
    for width in kernelWidths {
      let exponents = Array(-1074...1023)
      let powers = exponents.map { Double(sign: .plus, exponent: $0, significand: 1) }
      let log2 = runKernel(atWidth(\.binary_logarithms), width: width, on: powers)
      #expect(zip(exponents, log2).allSatisfy { Double($0) == $1 }, "width \(width)")
      let tens = (0...22).map { Foundation.pow(10.0, Double($0)) }
      let log10 = runKernel(atWidth(\.decimal_logarithms), width: width, on: tens)
      #expect(log10 == (0...22).map(Double.init), "width \(width): \(log10)")
    }
  }

  @Test(arguments: LogarithmKernel.all)
  func specialValuesAndEveryRemainder(_ function: LogarithmKernel) {
    let specials: [Double] = [0, -0.0, -1, -.leastNonzeroMagnitude, -.infinity, .infinity, .nan, 1]
    for width in kernelWidths {
      let results = runKernel(function.kernel, width: width, on: specials)
      #expect(results[0] == -.infinity && results[1] == -.infinity, "\(function), width \(width)")
      #expect(
        results[2].isNaN && results[3].isNaN && results[4].isNaN, "\(function), width \(width)")
      #expect(
        results[5] == .infinity && results[6].isNaN && results[7].bitPattern == 0,
        "\(function), width \(width)")
      // On positive inputs: the remainders' lanes are padded with 1.
      expectEveryRemainder(
        { width, source, destination, count in
          var shifted = (0..<count).map { source![$0] + 3 }
          function.kernel(width, &shifted, destination, count)
        }, width: width, scalar: { function.scalar($0 + 3) })
    }
  }

  @Test(arguments: LogarithmKernel.all)
  func theVectorizedWidthsAgreeToTheBit(_ function: LogarithmKernel) {
    let vectorized = kernelWidths.filter { $0 > 0 }
    var generator = SeededGenerator(seed: 23)
    let inputs = (0..<10_003).map { _ in
      Double(
        sign: .plus, exponent: Int.random(in: -1074...1023, using: &generator),
        significand: Double.random(in: 1..<2, using: &generator))
    }
    let results = vectorized.map { runKernel(function.kernel, width: $0, on: inputs) }
    #expect(results.dropFirst().allSatisfy { $0 == results[0] }, "\(function)")
    if let widest = results.last {
      #expect(zip(inputs, widest).allSatisfy { function.scalar($0) == $1 }, "\(function)")
    }
  }
}
