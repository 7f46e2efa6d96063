import Backprop
import Testing

@Suite("Arithmetic primitives")
struct ArithmeticTests {
  @Test func gradientsAtHandCheckedPoints() {
    let a: Tensor = [2, -3]
    let b: Tensor = [5, 4]
    // f = Σ a ⊙ b: ∂f/∂a = b, ∂f/∂b = a.
    let (ga, gb) = gradient(at: a, b) { a, b in (a * b).sum() }
    #expect(ga == b && gb == a)
    // f = Σ a / b: ∂f/∂a = 1/b, ∂f/∂b = −a/b².
    let (qa, qb) = gradient(at: a, b) { a, b in (a / b).sum() }
    expectClose(qa, [0.2, 0.25], tolerance: 1e-15)
    expectClose(qb, [-2.0 / 25, 3.0 / 16], tolerance: 1e-15)
    // f = Σ (a − b) + Σ −a: ∂f/∂a = 0, ∂f/∂b = −1.
    let (da, db) = gradient(at: a, b) { a, b in (a - b).sum() + (-a).sum() }
    #expect(da == [0, 0] && db == [-1, -1])
    let sum = valueWithGradient(at: a) { a in (a + a).sum() }
    #expect(sum.value == Tensor(-2) && sum.gradient == [2, 2])
  }

  @Test func scalarAndTensorConstantsOnEitherSide() {
    let g = gradient(at: [1, 2]) { x in (2 * x + 1 - x / 4 + Tensor([1, 1]) * x - 3 / x).sum() }
    // d/dx (2x + 1 − x/4 + x − 3/x) = 2 − 1/4 + 1 + 3/x².
    expectClose(g, [2.75 + 3, 2.75 + 0.75], tolerance: 1e-14)
  }

  @Test("Broadcast VJPs sum the cotangent back to each operand's shape")
  func broadcastingVJPs() {
    let matrix = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    // [2, 3] with [3]: the vector's gradient sums over rows.
    let (_, row) = gradient(at: matrix, [10, 20, 30]) { m, v in (m * v).sum() }
    #expect(row == [5, 7, 9])
    // [2, 3] with [2, 1]: the column's gradient sums over columns.
    let column = Tensor(shape: [2, 1], scalars: [1, 2])
    let (gm, gc) = gradient(at: matrix, column) { m, c in (m * c).sum() }
    #expect(gc == Tensor(shape: [2, 1], scalars: [6, 15]))
    #expect(gm == Tensor([[1, 1, 1], [2, 2, 2]]))
    // Rank 0 with a matrix: the scalar's gradient sums everything.
    let (gs, _) = gradient(at: Tensor(3), matrix) { s, m in (s * m).sum() }
    #expect(gs == Tensor(21))
    // [3, 1] with [1, 2]: both operands broadcast.
    let (ga, gb) = gradient(
      at: Tensor(shape: [3, 1], scalars: [1, 2, 3]), Tensor(shape: [1, 2], scalars: [1, 10])
    ) { a, b in (a - b).sum() }
    #expect(ga == Tensor(shape: [3, 1], scalars: [2, 2, 2]))
    #expect(gb == Tensor(shape: [1, 2], scalars: [-3, -3]))
  }

  @Test(arguments: [[3], [2, 3], [2, 1, 3]])
  func finiteDifferencesAgree(shape: [Int]) {
    var generator = SeededGenerator(seed: UInt64(shape.count))
    let w = Tensor.random(shape, using: &generator) + 3  // bounded away from zero
    let b = Tensor.random([shape.last!], using: &generator)
    let x = Tensor.random(shape, using: &generator)
    expectGradientMatchesFiniteDifferences(at: x) { x in ((x * b + x / w - b) * (x - w)).sum() }
    expectGradientMatchesFiniteDifferences(at: w) { w in (Tensor(2) / w * x).sum() }
  }

  @Test func constantsEvaluateWithoutATape() {
    let y = Variable([1, 2]) * 3 + Variable([1, 1])
    #expect(y.tape == nil && y.value == [4, 7])
  }
}
