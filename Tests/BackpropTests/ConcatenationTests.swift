import Testing

@testable import Backprop

/// Concatenation as a recorded primitive: one entry per pair of pieces, forward by copying runs,
/// and a VJP that hands each piece its part of ȳ (a slice, recorded again on variables, so
/// Hessians and forward mode follow).
@Suite("Concatenation, recorded")
struct ConcatenationTests {
  /// Three pieces along each axis of a rank-3 shape, one of them empty: each gradient is its
  /// part of the weights, to the bit, and the value is the tensors' concatenation.
  @Test(arguments: 0..<3)
  func gradientsAreThePartsOfTheCotangent(axis: Int) {
    var generator = SeededGenerator(seed: UInt64(40 + axis))
    func shape(_ extent: Int) -> [Int] {
      var shape = [2, 3, 4]
      shape[axis] = extent
      return shape
    }
    let pieces = [1, 0, 3].map { Tensor.random(shape($0), in: -1...1, using: &generator) }
    // The weights are the cotangent, with the edges among them: each must reach its piece as
    // it is.
    var weightScalars = Tensor.random(shape(4), in: -1...1, using: &generator).scalars
    let edges = [1e300, -1e300, 0x1p-1074, -0x1p-1074, .infinity, -.infinity, .nan, -0.0]
    for (index, edge) in edges.enumerated() { weightScalars[index * 3] = edge }
    let weights = Tensor(shape: shape(4), scalars: weightScalars)
    let tape = Tape()
    let variables = pieces.map { tape.variable($0) }
    let joined = concatenate(variables, alongAxis: axis)
    #expect(joined.value == concatenate(pieces, alongAxis: axis))
    let gradients = tape.gradient(of: (joined * Variable(weights)).sum(), wrt: variables)
    var offset = 0
    for (piece, gradient) in zip(pieces, gradients) {
      var (lower, upper) = ([0, 0, 0], weights.shape)
      (lower[axis], upper[axis]) = (offset, offset + piece.shape[axis])
      let part = weights.slice(lowerBounds: lower, upperBounds: upper)
      #expect(gradient.shape == piece.shape)
      #expect(gradient.scalars.map(\.bitPattern) == part.scalars.map(\.bitPattern))
      offset += piece.shape[axis]
    }
    // Two entries join three pieces: a concatenate per pair, nothing result-sized else.
    #expect(tape.entries.filter { $0.op == .concatenate }.count == 2)
  }

  /// A full sum's uniform cotangent reaches each piece as one value, at a size where the sweep
  /// takes that path: ones, and twos where a piece is used twice.
  @Test func uniformCotangentsReachEachPiece() {
    let count = LargeBuffer.threshold + 3
    var generator = SeededGenerator(seed: 44)
    let x = Tensor.random([count], in: -1...1, using: &generator)
    let g = gradient(at: x) {
      concatenate([$0, 2 * $0, $0.slice(lowerBounds: [1], upperBounds: [5])]).sum()
    }
    let expected = (0..<count).map { $0 >= 1 && $0 < 5 ? 4.0 : 3.0 }
    // Counts, not arrays, so that a failure prints two numbers.
    #expect(zip(g.scalars, expected).filter { $0 != $1 }.count == 0)
    // Against the plain sweep, which has no uniform cotangents to pass on.
    let tape = Tape()
    let v = tape.variable(x)
    let plain = tape.gradient(of: (concatenate([v, v * v]) * 1.5).sum(), wrt: v)
    let ours = gradient(at: x) { (concatenate([$0, $0 * $0]) * 1.5).sum() }
    #expect(zip(ours.scalars, plain.scalars).filter { $0.bitPattern != $1.bitPattern }.isEmpty)
  }

  /// Second derivatives through a join, and forward mode's Jacobian equal to reverse mode's.
  @Test func higherDerivativesAndForwardMode() {
    let x = Tensor([0.5, -1.25, 2])
    expectHessianMatchesDifferences(at: x) { x in
      (concatenate([x * x, exp(x), x[1..<3]]) * Tensor([1, 2, 3, -1, 0.5, 2, 3, -2])).sum()
    }
    // The Hessian of Σ w · [x², x³] is diag(2 w₁ + 6 w₂ x), exactly.
    let h = hessian(at: x) { x in
      (concatenate([x * x, x * x * x]) * Tensor([1, 1, 1, 2, 2, 2])).sum()
    }
    for i in 0..<3 {
      for j in 0..<3 { #expect(h[i, j] == (i == j ? 2 + 12 * x.scalars[i] : 0)) }
    }
    let f: (Variable) -> Variable = { x in concatenate([sin(x), x * x], alongAxis: 0) }
    #expect(jacobianForward(at: x, of: f) == jacobianReverse(at: x, of: f))
  }

  /// Many pieces pair off as a balanced tree: k − 1 entries, the value of one copy.
  @Test func manyPiecesPairOff() {
    let tape = Tape()
    let pieces = (0..<37).map { tape.variable(Tensor([Double($0), -Double($0)])) }
    let joined = concatenate(pieces)
    #expect(joined.value.scalars == (0..<37).flatMap { [Double($0), -Double($0)] })
    #expect(tape.entries.filter { $0.op == .concatenate }.count == 36)
    let gradients = tape.gradient(of: (joined * joined).sum(), wrt: pieces)
    #expect(gradients.enumerated().allSatisfy { $1.scalars == [2 * Double($0), -2 * Double($0)] })
  }
}
