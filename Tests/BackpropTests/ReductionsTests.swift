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

  /// The maximum along trailing axes (the vectorized kernel a row, the fold where a row's
  /// maximum is 0 or NaN) and its tie weights (two passes a row) against the general loop's
  /// rule written out here, bit for bit: ties, −0 beside +0 in either order, NaN, ±∞, and
  /// runs of every remainder of the kernel's lanes.
  @Test(arguments: [[4, 1], [3, 2], [5, 3], [2, 7], [3, 33], [2, 70]])
  func maximaAlongTrailingAxesKeepTheFoldsBits(shape: [Int]) {
    var generator = SeededGenerator(seed: UInt64(shape[1]))
    let pool: [Double] = [0, -0.0, 1, 1, -1, 2.5, .infinity, -.infinity, .nan, -3]
    for trial in 0..<40 {
      // Small integers give ties; some rows are all zeros of both signs or hold a NaN.
      let scalars = (0..<(shape[0] * shape[1])).map { _ -> Double in
        trial % 3 == 0
          ? pool.randomElement(using: &generator)!
          : trial % 3 == 1
            ? [0.0, -0.0].randomElement(using: &generator)!
            : Double(Int.random(in: -3...3, using: &generator))
      }
      let x = Tensor(shape: shape, scalars: scalars)
      let cotangent = Tensor(
        shape: [shape[0], 1],
        scalars: (0..<shape[0]).map { _ in Double(Int.random(in: -4...4, using: &generator)) })
      let (y, pullback) = valueWithPullback(at: x) { $0.max(alongAxes: 1) }
      let gradient = pullback(cotangent)
      for row in 0..<shape[0] {
        let run = scalars[(row * shape[1])..<((row + 1) * shape[1])]
        let expected = run.reduce(-Double.infinity) { $0 > $1 || $0 != $0 ? $0 : $1 }
        let got = y.scalars[row]
        #expect(
          got.bitPattern == expected.bitPattern || (got.isNaN && expected.isNaN),
          "max of \(Array(run)) = \(got), the fold gives \(expected)")
        let attains = run.map { $0 == expected ? 1.0 : expected.isNaN ? .nan : 0 }
        let ties = attains.reduce(0, +)
        for (offset, a) in attains.enumerated() {
          let want = cotangent.scalars[row] * (a / ties)
          let have = gradient.scalars[row * shape[1] + offset]
          #expect(
            have.bitPattern == want.bitPattern || (have.isNaN && want.isNaN),
            "gradient at \(offset) of \(Array(run)): \(have), the rule gives \(want)")
        }
      }
    }
  }

  @Test func maximaOverSeveralTrailingAxesAndTheWholeTensor() {
    let x = Tensor(shape: [2, 3, 4], scalars: (0..<24).map { Double(($0 * 7) % 5) })
    let over = x.max(alongAxes: 1, 2)
    #expect(over.shape == [2, 1, 1] && over.scalars == [4, 4])
    // Two 4s in the first block of twelve (at 2 and 7), and three in the second.
    let g = gradient(at: x) { $0.max(alongAxes: 1, 2).sum() }
    let expected = x.scalars.enumerated().map { index, value -> Double in
      value == 4 ? (index < 12 ? 1.0 / 2 : 1.0 / 3) : 0
    }
    #expect(g.scalars == expected, "\(g.scalars)")
    #expect(gradient(at: [1, 5, 5, -2]) { $0.max() } == [0, 0.5, 0.5, 0])
  }

  /// The sum's sixteen partial sums and their tail, at every length through three blocks: exact
  /// where every partial sum is exact (small integers; ±1e300 pairs that cancel within a
  /// lane; subnormals, whose sums are exact), NaN wherever a NaN or both infinities are,
  /// ±∞ where one infinity is, +0 for −0s, as the previous four-way sum gave, and a matrix's
  /// sums along its rows each its row's sum to the bit.
  @Test func sumsAtEveryLengthAndEdge() {
    for count in 0...50 {
      let integers = (0..<count).map { Double($0 % 7) - 3 }
      let exact = integers.reduce(0, +)
      #expect(Tensor(integers).sum().scalar == exact, "integers, count \(count)")
      #expect(Tensor(Array(repeating: -0.0, count: count)).sum().scalar!.sign == .plus)
      #expect(Tensor((0..<count).map { _ in 0x1p-1074 }).sum().scalar == Double(count) * 0x1p-1074)
      guard count >= 2 else { continue }
      // ±1e300 sixteen places apart share a partial sum and cancel exactly; the ones remain.
      var big = Array(repeating: 1.0, count: count)
      if count > 16 { (big[0], big[16]) = (1e300, -1e300) }
      #expect(Tensor(big).sum().scalar == (count > 16 ? Double(count - 2) : Double(count)))
      for (position, edge) in [(0, Double.nan), (count - 1, .nan), (count / 2, .infinity)] {
        var values = integers
        values[position] = edge
        let total = Tensor(values).sum().scalar!
        #expect(edge.isNaN ? total.isNaN : total == .infinity, "count \(count) at \(position)")
      }
      var opposite = integers
      (opposite[0], opposite[count - 1]) = (.infinity, -.infinity)
      #expect(Tensor(opposite).sum().scalar!.isNaN)
      let rows = Tensor(shape: [2, count], scalars: integers + integers.reversed())
      #expect(rows.sum(alongAxes: 1).scalars == [Tensor(integers).sum().scalar!, exact])
    }
  }
}
