import Testing

@testable import Backprop

// Slices on tensors: each run one block copy, and the VJP one pass that writes each scalar once,
// from a cotangent of the box's extent or from a uniform one (a full sum of a large tensor passes
// its cotangent on as a rank-0 stand-in). Checked against the definition written out index by
// index: the cotangent inside the box, 0 outside.

@Suite("slices and their VJP")
struct SliceTests {
  /// Shapes and boxes: small and large (from 2 MiB, where a full sum passes its cotangent on
  /// uniform), boxes touching either end, in the middle, the whole, empty, of length 1.
  static let cases: [([Int], [Int], [Int])] = [
    ([7], [2], [5]), ([7], [0], [7]), ([7], [3], [3]), ([4, 5, 6], [1, 0, 2], [3, 5, 5]),
    ([4, 5, 6], [0, 2, 0], [4, 3, 6]), ([3, 1, 8], [1, 0, 7], [2, 1, 8]),
    ([300_007], [1000], [300_007]), ([300_007], [5], [299_000]),
    ([70, 80, 60], [3, 10, 7], [60, 80, 59]), ([70, 80, 60], [0, 0, 0], [70, 80, 60]),
  ]

  @Test("values, and gradients with uniform, full and accumulated cotangents", arguments: cases)
  func gradients(shape: [Int], lower: [Int], upper: [Int]) {
    let count = shape.reduce(1, *)
    let x = Tensor(shape: shape, scalars: (0..<count).map { Double($0 % 1009) - 500 })
    let extent = zip(lower, upper).map { $1 - $0 }
    let inside = extent.reduce(1, *)
    let w = Tensor(shape: extent, scalars: (0..<inside).map { Double($0 % 7) - 3.25 })
    // The definition: position p of x lies in the box when each coordinate does; its place in
    // the box counts in the box's extent.
    let strides = Shape.contiguousStrides(shape)
    func place(_ p: Int) -> Int? {
      var (position, rest) = (0, p)
      for axis in shape.indices {
        let coordinate = rest / strides[axis]
        rest %= strides[axis]
        guard coordinate >= lower[axis] && coordinate < upper[axis] else { return nil }
        position = position * extent[axis] + coordinate - lower[axis]
      }
      return position
    }
    let places = (0..<count).map(place)
    let sliced = x.slice(lowerBounds: lower, upperBounds: upper)
    var expectedSlice = [Double](repeating: 0, count: inside)
    for (p, q) in places.enumerated() { if let q { expectedSlice[q] = x.scalars[p] } }
    #expect(sliced == Tensor(shape: extent, scalars: expectedSlice))
    let (ones, weighted, both) = (
      places.map { $0 == nil ? 0.0 : 1 }, places.map { $0.map { w.scalars[$0] } ?? 0 },
      places.map { $0.map { 1 + w.scalars[$0] } ?? 0 }
    )
    func box(_ v: Variable) -> Variable { v.slice(lowerBounds: lower, upperBounds: upper) }
    #expect(gradient(at: x) { box($0).sum() } == Tensor(shape: shape, scalars: ones))
    #expect(gradient(at: x) { (box($0) * w).sum() } == Tensor(shape: shape, scalars: weighted))
    #expect(
      gradient(at: x) { box($0).sum() + (box($0) * w).sum() }
        == Tensor(shape: shape, scalars: both))
    // Twice the same slice entry, summed and weighted: its adjoint accumulates first.
    #expect(
      gradient(at: x) { v in
        let s = box(v)
        return s.sum() + (s * w).sum()
      } == Tensor(shape: shape, scalars: both))
  }
}
