import Backprop
import Testing

@Suite("Tensor")
struct TensorTests {
  @Test func initializersGiveTheDocumentedShapes() {
    let x: Tensor = [1, 2, 3]
    #expect(x.shape == [3] && x.scalars == [1, 2, 3])
    #expect(Tensor([1.0, 2.0]).shape == [2])
    let s = Tensor(2.5)
    #expect(s.shape == [] && s.scalars == [2.5] && s.scalar == 2.5 && s.rank == 0)
    let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect(m.shape == [2, 3] && m.scalarCount == 6 && m[1, 0] == 4)
    #expect(Tensor([[1, 2], [3, 4]]) == Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
    #expect(Tensor.zeros([2]).scalars == [0, 0] && Tensor.ones([]).scalar == 1)
    #expect(Tensor.oneHot([2, 2], at: 3).scalars == [0, 0, 0, 1])
    #expect(Tensor(shape: [0, 3], scalars: []).scalarCount == 0)
  }

  @Test func reshapingKeepsScalarsInRowMajorOrder() {
    let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect(m.reshaped(to: [3, 2])[2, 1] == 6)
    #expect(m.transposed() == Tensor([[1, 4], [2, 5], [3, 6]]))
    #expect(Tensor(7).reshaped(to: [1, 1]).shape == [1, 1])
    #expect(Tensor([7]).reshaped(to: []) == Tensor(7))
  }

  @Test func arithmeticBroadcastsAsNumPyDoes() {
    let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect(m + Tensor([10, 20, 30]) == Tensor([[11, 22, 33], [14, 25, 36]]))
    #expect(m * Tensor([[2], [3]]) == Tensor([[2, 4, 6], [12, 15, 18]]))
    #expect(m - 1 == Tensor([[0, 1, 2], [3, 4, 5]]))
    #expect(1 / Tensor([2, 4]) == Tensor([0.5, 0.25]))
    // [3, 1] with [1, 2] broadcasts both ways to [3, 2].
    let column = Tensor(shape: [3, 1], scalars: [1, 2, 3])
    let row = Tensor(shape: [1, 2], scalars: [10, 20])
    #expect(column + row == Tensor([[11, 21], [12, 22], [13, 23]]))
    // Rank 4 with rank 1.
    let big = Tensor(repeating: 1, shape: [2, 1, 3, 2])
    #expect((big * Tensor([2, 3])).shape == [2, 1, 3, 2])
    #expect((big * Tensor([2, 3])).sum() == Tensor(30))
  }

  @Test func reductionsKeepTheReducedAxes() {
    let m = Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
    #expect(m.sum() == Tensor(21))
    #expect(m.sum(alongAxes: 1) == Tensor(shape: [2, 1], scalars: [9, 12]))
    #expect(m.sum(alongAxes: 0) == Tensor(shape: [1, 3], scalars: [5, 7, 9]))
    #expect(m.sum(alongAxes: -1) == m.sum(alongAxes: 1))
    #expect(m.max() == Tensor(6))
    #expect(m.max(alongAxes: 1) == Tensor(shape: [2, 1], scalars: [5, 6]))
    #expect(m.mean() == Tensor(3.5))
    #expect(m.mean(alongAxes: 0) == Tensor(shape: [1, 3], scalars: [2.5, 3.5, 4.5]))
    #expect(m.sum(alongAxes: 0, 1) == Tensor(shape: [1, 1], scalars: [21]))
  }

  @Test func sumOfManyScalarsIsAccurate() {
    let n = 1001
    let ramp = Tensor((0..<n).map(Double.init))
    #expect(ramp.sum() == Tensor(Double(n * (n - 1) / 2)))
  }

  @Test func matmulMultipliesMatrices() {
    let a = Tensor([[1, 2], [3, 4], [5, 6]])
    let b = Tensor([[1, 0, 2], [0, 1, 3]])
    #expect(matmul(a, b) == Tensor([[1, 2, 8], [3, 4, 18], [5, 6, 28]]))
  }

  @Test func descriptionFollowsTheShape() {
    #expect(Tensor(2.5).description == "2.5")
    #expect(Tensor([1, 2]).description == "[1.0, 2.0]")
    #expect(Tensor([[1, 2], [3, 4]]).description == "[[1.0, 2.0], [3.0, 4.0]]")
  }

  @Test func approximateEqualityUsesBothTolerances() {
    let a: Tensor = [1, 100]
    #expect(a.isApproximatelyEqual(to: [1 + 1e-13, 100 + 1e-13]))
    #expect(!a.isApproximatelyEqual(to: [1, 100.1], absoluteTolerance: 0.01))
    #expect(a.isApproximatelyEqual(to: [1, 100.1], absoluteTolerance: 0, relativeTolerance: 0.01))
    #expect(!a.isApproximatelyEqual(to: [1, 100, 3]))
    #expect(Tensor([.nan]).maxAbsoluteDifference(from: [1]).isNaN)
  }
}
