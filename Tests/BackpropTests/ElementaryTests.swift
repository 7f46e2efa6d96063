import BackpropKernels
import Foundation
import Testing

@testable import Backprop

@Suite("Elementary primitives")
struct ElementaryTests {
  @Test func valuesAndDerivativesAtHandCheckedPoints() {
    #expect(gradient(at: Tensor(0)) { exp($0) } == Tensor(1))
    #expect(gradient(at: Tensor(2)) { log($0) } == Tensor(0.5))
    #expect(gradient(at: Tensor(4)) { sqrt($0) } == Tensor(0.25))
    #expect(gradient(at: Tensor(2)) { pow($0, 3) } == Tensor(12))
    #expect(gradient(at: Tensor(3)) { pow($0, 2) } == Tensor(6))
    #expect(gradient(at: Tensor(3)) { pow($0, 1) } == Tensor(1))
    #expect(gradient(at: Tensor(0)) { pow($0, 0) } == Tensor(0))
    #expect(gradient(at: Tensor(0)) { tanh($0) } == Tensor(1))
    #expect(gradient(at: Tensor(0)) { sigmoid($0) } == Tensor(0.25))
    #expect(sigmoid(Variable(0)).value == Tensor(0.5))
    #expect(exp(Tensor([0, 1])) == [1, M_E])
    #expect(log(Tensor(1)) == Tensor(0) && sqrt(Tensor(9)) == Tensor(3))
    #expect(pow(Tensor([2, 3]), 2) == [4, 9])
  }

  @Test func reluHasDerivativeZeroAtZero() {
    let x: Tensor = [-1, 0, 2]
    #expect(relu(Variable(x)).value == [0, 0, 2])
    #expect(gradient(at: x) { relu($0).sum() } == [0, 0, 1])
  }

  @Test func elementwiseMaxSplitsTiesEqually() {
    let (ga, gb) = gradient(at: [1, 2, 3], [3, 2, 1]) { a, b in max(a, b).sum() }
    #expect(ga == [0, 0.5, 1] && gb == [1, 0.5, 0])
    #expect(max(Tensor([1, 5]), Tensor(3)) == [3, 5])
    #expect(gradient(at: [1, 5]) { max($0, 3).sum() } == [0, 1])
  }

  /// The elementwise maximum over every pair of edge values, in vectors long enough for the
  /// vectorized loop and its remainder, and with a scalar on either side: the larger, NaN if
  /// either is NaN, and at a tie of ±0 the second (the bits of `b`, as the rule says).
  @Test func elementwiseMaxOfEdgesInVectorsAndScalars() {
    let edges: [Double] = [
      0, -0.0, .leastNonzeroMagnitude, -1, 1, 1e300, -1e300, .infinity, -.infinity, .nan,
    ]
    let pairs = edges.flatMap { a in edges.map { b in (a, b) } }
    let (a, b) = (Tensor(pairs.map(\.0)), Tensor(pairs.map(\.1)))
    func expected(_ a: Double, _ b: Double) -> Double {
      a.isNaN || b.isNaN ? .nan : a > b ? a : b
    }
    func same(_ x: Double, _ y: Double) -> Bool {
      x.bitPattern == y.bitPattern || x.isNaN && y.isNaN
    }
    let result = max(a, b).scalars
    for (index, (x, y)) in pairs.enumerated() {
      #expect(same(result[index], expected(x, y)), "max(\(x), \(y)) = \(result[index])")
    }
    for scalar in edges {
      let left = max(Tensor(scalar), b).scalars
      let right = max(a, Tensor(scalar)).scalars
      for (index, (x, y)) in pairs.enumerated() {
        #expect(same(left[index], expected(scalar, y)), "max(\(scalar), \(y))")
        #expect(same(right[index], expected(x, scalar)), "max(\(x), \(scalar))")
      }
    }
  }

  /// The maximum's VJP kernel gives ȳ · Share(a, b) bit for bit (NaN for NaN) in every width,
  /// for every pair of edge values, with a cotangent per position and a uniform one (±0, ∞ and
  /// NaN among them), written into a new buffer and over each of its inputs; and through the
  /// sweep, a large max(x, t) and max(t, x) give the generic rule's bits.
  @Test func maximumPullbackKernelIsTheShareRuleInEveryWidthAndPlace() {
    let edges: [Double] = [
      0, -0.0, .leastNonzeroMagnitude, -1, 1, 1e300, -1e300, .infinity, -.infinity, .nan, 0.5,
    ]
    let pairs = edges.flatMap { a in edges.map { b in (a, b) } }
    let (a, b) = (pairs.map(\.0), pairs.map(\.1))
    let g = pairs.indices.map { edges[$0 % edges.count] * 3 }
    func same(_ x: Double, _ y: Double) -> Bool {
      x.bitPattern == y.bitPattern || x.isNaN && y.isNaN
    }
    for width in kernelWidths {
      for uniform in [nil, 2.5, -0.0, .infinity, .nan] as [Double?] {
        let expected = pairs.indices.map { (uniform ?? g[$0]) * Maximum.Share.scalar(a[$0], b[$0]) }
        // Into a new buffer, then over the cotangent, a and b in turn.
        for place in 0..<4 {
          var (gs, xs, ys) = (g, a, b)
          var out = [Double](repeating: 42, count: a.count)
          gs.withUnsafeMutableBufferPointer { gp in
            xs.withUnsafeMutableBufferPointer { xp in
              ys.withUnsafeMutableBufferPointer { yp in
                out.withUnsafeMutableBufferPointer { op in
                  let destination = [op, gp, xp, yp][place].baseAddress
                  kernel(\.maximum_pullbacks, width: Int32(width))(
                    uniform == nil ? gp.baseAddress : nil, uniform ?? 0,
                    xp.baseAddress, yp.baseAddress, destination, a.count)
                }
              }
            }
          }
          let result = [out, gs, xs, ys][place]
          for index in pairs.indices where !same(result[index], expected[index]) {
            Issue.record(
              "width \(width), place \(place), ȳ \(uniform ?? g[index]): share of max(\(a[index]), \(b[index])) gave \(result[index]), not \(expected[index])"
            )
          }
        }
      }
    }
    // Through the sweep, with ties and NaN in a tensor past the size that writes in place.
    let n = LargeBuffer.threshold + 5
    let x = Tensor((0..<n).map { edges[$0 % edges.count] })
    let t = Tensor((0..<n).map { edges[($0 / edges.count) % edges.count] })
    let w = Tensor((0..<n).map { Double($0 % 7) - 3 })
    for (name, f) in [
      ("max(x, t)", { max($0, Variable(t)) }), ("max(t, x)", { max(Variable(t), $0) }),
    ]
      as [(String, (Variable) -> Variable)]
    {
      let fast = gradient(at: x) { (f($0) * w).sum() }.scalars
      // The VJP to x is ȳ ⊙ share(x, t) in both orders: x's share against t.
      let rule = (w * Maximum.share(x, t)).scalars
      #expect(zip(fast, rule).allSatisfy { same($0, $1) }, "\(name)")
    }
  }

  /// softplus and logSigmoid on tensors (e^(−|x|) by the vectorized kernel, then ln1p) give
  /// the scalar function's bits over every binade of both signs and the edges, and their
  /// gradients (σ(±x) by the vectorized kernel) the rule's, ȳ ⊙ σ(±x), small and in place.
  @Test func softplusAndLogSigmoidOnTensorsAreTheScalarsBits() {
    var generator = SeededGenerator(seed: 71)
    let edges: [Double] = [
      0, -0.0, .infinity, -.infinity, .nan, 36, 37, 40, -40, 709, 710, -745, 800, -800, 1e17,
    ]
    let inputs = edges + everyBinade(2, using: &generator)
    func same(_ a: Double, _ b: Double) -> Bool {
      a.bitPattern == b.bitPattern || a.isNaN && b.isNaN
    }
    for count in [inputs.count, LargeBuffer.threshold + 3] {
      let x = Tensor((0..<count).map { inputs[$0 % inputs.count] })
      let w = Tensor((0..<count).map { [1, -2, 0.5, .infinity][$0 % 4] })
      for (name, function, scalar, slope) in [
        ("softplus", { softplus($0) }, Softplus.value, { (x: Tensor) in sigmoid(x) }),
        ("logSigmoid", { logSigmoid($0) }, LogSigmoid.value, { (x: Tensor) in sigmoid(-x) }),
      ] as [(String, (Variable) -> Variable, (Double) -> Double, (Tensor) -> Tensor)] {
        let values = function(Variable(x)).value.scalars
        let wrong = x.scalars.indices.filter { !same(values[$0], scalar(x.scalars[$0])) }
        #expect(
          wrong.isEmpty,
          "\(name): \(wrong.count) values differ, first at \(wrong.first.map { x.scalars[$0] } ?? 0)"
        )
        let g = gradient(at: x) { (function($0) * w).sum() }.scalars
        let rule = (w * slope(x)).scalars
        #expect(zip(g, rule).allSatisfy { same($0, $1) }, "\(name): gradient, \(count)")
      }
    }
  }

  @Test func sigmoidStaysFiniteInBothTails() {
    let x: Tensor = [-1000, 1000]
    #expect(sigmoid(Variable(x)).value == [0, 1])
    #expect(gradient(at: x) { sigmoid($0).sum() } == [0, 0])
  }

  @Test(arguments: 0..<4)
  func finiteDifferencesAgree(seed: Int) {
    var generator = SeededGenerator(seed: UInt64(seed))
    let x = Tensor.random([5], scale: 2, using: &generator)
    let positive = x.map { abs($0) + 0.5 }
    expectGradientMatchesFiniteDifferences(at: x) { exp($0).sum() }
    expectGradientMatchesFiniteDifferences(at: positive) { log($0).sum() }
    expectGradientMatchesFiniteDifferences(at: positive) { sqrt($0).sum() }
    expectGradientMatchesFiniteDifferences(at: positive) { pow($0, 2.5).sum() }
    expectGradientMatchesFiniteDifferences(at: x) { pow($0, 3).sum() }
    expectGradientMatchesFiniteDifferences(at: x) { tanh($0).sum() }
    expectGradientMatchesFiniteDifferences(at: x) { sigmoid($0 * 3).sum() }
    expectGradientMatchesFiniteDifferences(at: x) { (max($0, $0 * $0) * $0).sum() }
  }
}
