import Backprop
import Testing

@Suite("Matrix product, reshape, transpose, broadcast")
struct ShapingTests {
  @Test("matmul's VJP is Ā = ȲBᵀ and B̄ = AᵀȲ")
  func matmulGradient() {
    var generator = SeededGenerator(seed: 3)
    let a = Tensor.random([3, 4], using: &generator)
    let b = Tensor.random([4, 2], using: &generator)
    let seed = Tensor.random([3, 2], using: &generator)
    let (ga, gb) = gradient(at: a, b) { a, b in (matmul(a, b) * seed).sum() }
    expectClose(ga, matmul(seed, b.transposed()), tolerance: 1e-15)
    expectClose(gb, matmul(a.transposed(), seed), tolerance: 1e-15)
    expectGradientMatchesFiniteDifferences(at: a) { a in (matmul(a, Variable(b)) * seed).sum() }
  }

  @Test func reshapeTransposeAndBroadcastMoveTheCotangentBack() {
    let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let weights = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
    #expect(gradient(at: m) { ($0.transposed() * weights).sum() } == weights.transposed())
    #expect(
      gradient(at: m) { ($0.reshaped(to: [3, 2]) * weights).sum() } == weights.reshaped(to: [2, 3]))
    #expect(gradient(at: [1, 2, 3]) { $0.broadcasted(to: [4, 3]).sum() } == [4, 4, 4])
    #expect(gradient(at: Tensor(5)) { $0.broadcasted(to: [2, 2]).sum() } == Tensor(4))
    let column = Tensor(shape: [2, 1], scalars: [1, 2])
    #expect(
      gradient(at: column) { ($0.broadcasted(to: [2, 3]) * m).sum() }
        == Tensor(shape: [2, 1], scalars: [6, 15]))
  }
}
