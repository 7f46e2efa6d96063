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
      0, -0.0, 0x1p-1074, Double("-2.5e-310")!, 1e-160, 1e150, -1e150, 1e300, .infinity, -.infinity,
      .nan, 1e17,
      -745, 709.5,
    ]
    for (n, x, e) in predictionCases(&generator, edges: edges, targetSign: 1) {
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

/// The variance is one entry whose passes write nothing; it must be its composition,
/// mean((x − mean x)²) with the deviation squared by a product, to the bit.
@Suite("The fused variance is its composition")
struct VarianceTests {
  static func composed(_ x: Variable) -> Variable {
    let centered = x - x.mean()
    return (centered * centered).mean()
  }

  @Test func valueAndGradientAreTheCompositionsToTheBit() {
    var generator = SeededGenerator(seed: 31)
    let edges: [Double] = [
      0, -0.0, 0x1p-1074, 1e-160, 1e150, -1e150, 1e300, -1e300, .infinity, -.infinity, .nan, 1e17,
      -745,
    ]
    for n in Array(0...40) + [1_000_003] {
      let x = Tensor.random([n], in: -3...3, using: &generator) + 1e8 * Double(n % 3)
      var cases = [x]
      // Every edge at the short lengths; three at 10⁶ + 3, where a debug build is slow.
      if n > 0 {
        for edge in n > 40 ? Array(edges.prefix(3)) : edges {
          var xs = x.scalars
          xs[n / 3] = edge
          cases.append(Tensor(xs))
        }
      }
      for x in cases {
        let fused = valueWithGradient(at: x) { $0.variance() }
        let composed = valueWithGradient(at: x) { Self.composed($0) }
        #expect(MeanSquaredErrorTests.same(fused.value, composed.value), "value at n = \(n)")
        #expect(MeanSquaredErrorTests.same(fused.gradient, composed.gradient), "n = \(n)")
        let fusedPullback = pullback(at: x) { $0.variance() }
        let composedPullback = pullback(at: x) { Self.composed($0) }
        #expect(
          MeanSquaredErrorTests.same(fusedPullback(Tensor(2.5)), composedPullback(Tensor(2.5))))
      }
    }
    // A rank-0 tensor, whose variance is 0 with gradient 0.
    let scalar = valueWithGradient(at: Tensor(3)) { $0.variance() }
    #expect(scalar.value == Tensor(0) && scalar.gradient == Tensor(0))
    // The standard deviation and the tensor's variance take the same entry.
    let x: Tensor = [1, 2, 3, 4]
    #expect(x.variance() == Tensor(1.25))
    #expect(
      gradient(at: x) { $0.standardDeviation() }
        == gradient(at: x) { sqrt(Self.composed($0)) })
  }

  /// The Hessian is (2/n)(I − 11ᵀ/n), and one around the variance equals the composition's.
  @Test func hessiansAreTheCompositions() {
    let x: Tensor = [0.5, -2, 3, 1e-3]
    let h = hessian(at: x) { $0.variance() }
    let expected = (0..<16).map { ($0 % 5 == 0 ? 0.5 : 0) - 0.5 / 4 }
    expectClose(h, Tensor(shape: [4, 4], scalars: expected), tolerance: 1e-15)
    let fused = hessian(at: x) { (tanh($0) * $0).variance() }
    let composed = hessian(at: x) { Self.composed(tanh($0) * $0) }
    expectClose(fused, composed, tolerance: 1e-15)
  }
}

/// The Huber loss against constant targets is one entry; it must be its composition, the
/// Huber function of the difference and then the mean, to the bit, for thresholds from
/// subnormal to infinite.
@Suite("The fused Huber loss is its composition")
struct HuberLossTests {
  static func composed(_ x: Variable, _ e: Tensor, _ delta: Double) -> Variable {
    Variable.apply(Huber.self, x - Variable(e), Variable(delta)).mean()
  }

  @Test(arguments: [1, 0.5, Double("3e-310")!, 1e300, .infinity])
  func valueAndGradientAreTheCompositionsToTheBit(delta: Double) {
    var generator = SeededGenerator(seed: 37)
    let edges: [Double] = [
      0, -0.0, 0x1p-1074, 1e-160, 1e150, -1e150, 1e300, .infinity, -.infinity, .nan, 1, -1, 0.5,
    ]
    for (n, x, e) in predictionCases(&generator, edges: edges, targetSign: -1) {
      let fused = valueWithGradient(at: x) {
        huberLoss(predicted: $0, expected: e, delta: delta)
      }
      let composed = valueWithGradient(at: x) { Self.composed($0, e, delta) }
      #expect(MeanSquaredErrorTests.same(fused.value, composed.value), "value, n = \(n)")
      #expect(MeanSquaredErrorTests.same(fused.gradient, composed.gradient), "n = \(n)")
      let fusedPullback = pullback(at: x) { huberLoss(predicted: $0, expected: e, delta: delta) }
      let composedPullback = pullback(at: x) { Self.composed($0, e, delta) }
      #expect(
        MeanSquaredErrorTests.same(fusedPullback(Tensor(-7)), composedPullback(Tensor(-7))))
    }
  }

  /// One entry for constant targets of the same shape; the Hessian is the inside mask over n,
  /// and one around the loss equals the composition's.
  @Test func oneEntryAndTheCompositionsHessian() {
    let tape = Tape()
    let x = tape.variable([0.5, 3, -2])
    let loss = huberLoss(predicted: x, expected: [0, 0, 0])
    #expect(tape.count == 2 && loss.value == Tensor((0.125 + 2.5 + 1.5) / 3))
    let point: Tensor = [0.5, 3, -0.2, 1e-3]
    let e: Tensor = [1, 1, -1, 0]
    let h = hessian(at: point) { huberLoss(predicted: $0, expected: e) }
    let inside = Tensor(
      shape: [4, 4], scalars: (0..<16).map { [0, 10, 15].contains($0) ? 0.25 : 0 })
    #expect(h == inside)
    let fused = hessian(at: point) { huberLoss(predicted: tanh($0) * 3, expected: e) }
    let composed = hessian(at: point) { Self.composed(tanh($0) * 3, e, 1) }
    #expect(MeanSquaredErrorTests.same(fused, composed))
  }
}

/// Predictions and targets at lengths 0 to 40 (every tail of the sixteen-way sum) and 10⁶ + 3:
/// random ones, then with each edge value in the middle of the predictions and, times
/// `targetSign`, at the end of the targets. Every edge at the short lengths; three at the long
/// one, where a debug build is slow.
func predictionCases(
  _ generator: inout SeededGenerator, edges: [Double], targetSign: Double
) -> [(n: Int, x: Tensor, e: Tensor)] {
  var cases: [(n: Int, x: Tensor, e: Tensor)] = []
  for n in Array(0...40) + [1_000_003] {
    let x = Tensor.random([n], in: -3...3, using: &generator)
    let e = Tensor.random([n], in: -3...3, using: &generator)
    cases.append((n, x, e))
    guard n > 0 else { continue }
    for edge in n > 40 ? Array(edges.prefix(3)) : edges {
      var (xs, es) = (x.scalars, e.scalars)
      xs[n / 2] = edge
      es[n - 1] = targetSign * edge
      cases.append((n, Tensor(xs), Tensor(es)))
    }
  }
  return cases
}
