import Backprop
import Testing

@Suite("Reductions")
struct ReductionsTests {
  @Test func sumAndMeanSpreadTheCotangentEvenly() {
    let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect(gradient(at: m) { $0.sum() } == .ones([2, 3]))
    expectClose(
      gradient(at: m) { $0.mean() }, Tensor(repeating: 1.0 / 6, shape: [2, 3]), tolerance: 1e-16)
    let weights = Tensor(shape: [2, 1], scalars: [1, 10])
    #expect(
      gradient(at: m) { ($0.sum(alongAxes: 1) * weights).sum() }
        == Tensor([[1, 1, 1], [10, 10, 10]]))
    #expect(
      gradient(at: m) { ($0.mean(alongAxes: 0) * Tensor([1, 2, 3])).sum() }
        == Tensor([[0.5, 1, 1.5], [0.5, 1, 1.5]]))
    #expect(Variable(m).sum(alongAxes: 1).shape == [2, 1])
    #expect(Variable(m).mean().shape == [])
  }

  @Test("Ties in max split the gradient equally, as PyTorch's amax does")
  func maxSplitsTies() {
    #expect(gradient(at: [3, 1, 3]) { $0.max() } == [0.5, 0, 0.5])
    #expect(gradient(at: [2, 2, 2, 2]) { $0.max() } == [0.25, 0.25, 0.25, 0.25])
    #expect(gradient(at: [1, 4, 2]) { $0.max() } == [0, 1, 0])
    let m = Tensor([[1, 5, 5], [7, 0, 7]])
    #expect(
      gradient(at: m) { $0.max(alongAxes: 1).sum() } == Tensor([[0, 0.5, 0.5], [0.5, 0, 0.5]]))
    #expect(gradient(at: m) { $0.max(alongAxes: 0).sum() } == Tensor([[0, 1, 0], [1, 0, 1]]))
  }

  @Test(arguments: [[0], [1], [0, 1], [-1]])
  func finiteDifferencesAgree(axes: [Int]) {
    var generator = SeededGenerator(seed: 7)
    let x = Tensor.random([3, 4], using: &generator)
    let w = Tensor.random([3, 4], using: &generator)
    expectGradientMatchesFiniteDifferences(at: x) { x in
      (x.sum(alongAxes: axes) * x.max(alongAxes: axes) * (x * w).mean(alongAxes: axes)).sum()
    }
  }
}
