import Testing

@testable import Backprop

/// The mean squared error against constant targets is one entry with a pass each way; it must
/// be its composition, squaredDifference then the mean, to the bit: value, gradient, pullback
/// and Hessian, at every length and over the edges of the Double range.
@Suite("The fused mean squared error is its composition")
struct MeanSquaredErrorTests {
  static func same(_ a: Tensor, _ b: Tensor) -> Bool {
    a.shape == b.shape
      && zip(a.scalars, b.scalars).allSatisfy {
        $0.bitPattern == $1.bitPattern || $0.isNaN && $1.isNaN
      }
  }

  static func composed(_ x: Variable, _ e: Tensor) -> Variable {
    squaredDifference(x, Variable(e)).mean()
  }

  /// Lengths 0 to 40 (every tail of the sixteen-way sum) and 10⁶ + 3, with values from
  /// subnormal to 1e300 (whose squares overflow), ±∞ and NaN among ordinary ones.
  @Test func valueAndGradientAreTheCompositionsToTheBit() {
    var generator = SeededGenerator(seed: 29)
    let edges: [Double] = [
      0, -0.0, 5e-324, -2.5e-310, 1e-160, 1e150, -1e150, 1e300, .infinity, -.infinity, .nan, 1e17,
      -745, 709.5,
    ]
    for n in Array(0...40) + [1_000_003] {
      let x = Tensor.random([n], in: -3...3, using: &generator)
      let e = Tensor.random([n], in: -3...3, using: &generator)
      // The ordinary case, then each edge value in x and in e at a few positions.
      var cases = [(x, e)]
      if n > 0 {
        for edge in edges {
          var (xs, es) = (x.scalars, e.scalars)
          xs[n / 2] = edge
          es[n - 1] = edge
          cases.append((Tensor(xs), Tensor(es)))
        }
      }
      for (x, e) in cases {
        let fused = valueWithGradient(at: x) { meanSquaredError(predicted: $0, expected: e) }
        let composed = valueWithGradient(at: x) { Self.composed($0, e) }
        #expect(Self.same(fused.value, composed.value), "value at n = \(n)")
        #expect(Self.same(fused.gradient, composed.gradient), "gradient at n = \(n)")
        // A cotangent other than 1, through the pullback.
        let fusedPullback = pullback(at: x) { meanSquaredError(predicted: $0, expected: e) }
        let composedPullback = pullback(at: x) { Self.composed($0, e) }
        #expect(Self.same(fusedPullback(Tensor(-0.3)), composedPullback(Tensor(-0.3))), "n = \(n)")
      }
    }
  }

  /// One entry on the tape for a constant target of the same shape; broadcast or recorded
  /// targets take the composition, with the same numbers.
  @Test func oneEntryWhereTheTargetsAreConstantsOfTheSameShape() {
    let tape = Tape()
    let x = tape.variable([1, 2, 3])
    let loss = meanSquaredError(predicted: x, expected: [0.5, 0, -1])
    #expect(tape.count == 2 && loss.value == Tensor((0.25 + 4 + 16) / 3))
    #expect(tape.gradient(of: loss, wrt: x) == Tensor([1, 4, 8].map { $0 / 3 }))
    // A row of targets broadcast over a matrix: the composition.
    let m = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
    let row: Tensor = [1, 0]
    let broadcast = valueWithGradient(at: m) { meanSquaredError(predicted: $0, expected: row) }
    #expect(broadcast.value == Tensor((0 + 4 + 4 + 16) / 4.0))
    #expect(broadcast.gradient == Tensor(shape: [2, 2], scalars: [0, 1, 1, 2]))
    // Targets on the tape receive their gradient, −2(p − e)/n.
    let (gp, ge) = gradient(at: [1, 2], [0, 0]) { meanSquaredError(predicted: $0, expected: $1) }
    #expect(gp == [1, 2] && ge == [-1, -2])
  }

  /// Second derivatives through the recorded rule: the Hessian is (2/n) I, and a Hessian of a
  /// formula around the loss equals the composition's.
  @Test func hessiansAreTheCompositions() {
    let x: Tensor = [0.5, -2, 3, 1e-3]
    let e: Tensor = [1, 1, -1, 0]
    let h = hessian(at: x) { meanSquaredError(predicted: $0, expected: e) }
    #expect(h == Tensor(shape: [4, 4], scalars: (0..<16).map { $0 % 5 == 0 ? 0.5 : 0 }))
    let fused = hessian(at: x) { meanSquaredError(predicted: tanh($0) * $0, expected: e) }
    let composed = hessian(at: x) { Self.composed(tanh($0) * $0, e) }
    #expect(Self.same(fused, composed))
  }
}
