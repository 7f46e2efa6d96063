import Testing

@testable import Backprop

// The product along an axis, a primitive whose VJP is ȳ Πⱼ≠ᵢ xⱼ by prefix and suffix products on
// tensors and a recorded composition on variables. Each layout the kernels take (a run shorter
// than 16, a run cut into four segments with and without a remainder, an axis with scalars
// after it) is checked against products of the others in 80-bit arithmetic, with zeros in each
// segment, infinities and NaN; Hessians against Πⱼ≠ᵢ,ₖ xⱼ.

/// Πⱼ≠ᵢ xⱼ along `axis` for every i, times `weights` (of the products' shape), in 80-bit
/// arithmetic and in order, then rounded.
private func productsOfOthers(_ x: Tensor, axis: Int, weights: Tensor) -> Tensor {
  let (outer, length, inner) = Product.layout(x.shape, axis: axis)
  let (v, w) = (x.scalars, weights.scalars)
  var out = [Double](repeating: 0, count: v.count)
  for o in 0..<outer {
    for j in 0..<inner {
      for i in 0..<length {
        var product = Float80(w[o * inner + j])
        for k in 0..<length where k != i { product *= Float80(v[(o * length + k) * inner + j]) }
        out[(o * length + i) * inner + j] = Double(product)
      }
    }
  }
  return Tensor(shape: x.shape, scalars: out)
}

/// Expects `actual` to be `expected` within `ulps` relative rounding errors, exactly where
/// `expected` is 0 or infinite, and NaN where it is NaN.
private func expectProducts(
  _ actual: Tensor, _ expected: Tensor, ulps: Double, _ comment: Comment,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(actual.shape == expected.shape, comment, sourceLocation: sourceLocation)
  for (index, (a, e)) in zip(actual.scalars, expected.scalars).enumerated() {
    let close =
      e.isNaN
      ? a.isNaN : (e == 0 || e.isInfinite) ? a == e : abs(a - e) <= ulps * e.ulp.magnitude
    #expect(close, "\(comment): at \(index), \(a) against \(e)", sourceLocation: sourceLocation)
  }
}

@Suite("prod along an axis")
struct ProductTests {
  /// The layouts: (shape, axis). Runs of 15 (one chain), 16 (four segments, no remainder),
  /// 37 (four segments of 9 and a remainder of 1 in the last) and 1003 along the last axis;
  /// axes with scalars after them.
  static let layouts: [([Int], Int)] = [
    ([2, 15], 1), ([3, 16], 1), ([3, 37], 1), ([1003], 0), ([5, 4, 3], 0), ([5, 4, 3], 1),
    ([5, 4, 3], 2), ([37, 6], 0),
  ]

  @Test("the gradient is ȳ Πⱼ≠ᵢ xⱼ, with zeros in every segment", arguments: layouts)
  func gradientAgainstProductsOfOthers(shape: [Int], axis: Int) {
    var generator = SeededGenerator(seed: 5)
    var x = Tensor.random(shape, in: 0.9...1.1, using: &generator)
    // Signs, and zeros: one in the first run's first position, one in the second run's last,
    // two in the third run (any earlier positions when the runs are short).
    var scalars = x.scalars.enumerated().map { $0.offset % 3 == 1 ? -$0.element : $0.element }
    let (outer, length, inner) = Product.layout(shape, axis: axis)
    func at(_ o: Int, _ i: Int) -> Int { (o * length + i) * inner }
    scalars[at(0, 0)] = 0
    if outer > 1 { scalars[at(1, length - 1)] = 0 }
    if outer > 2 { (scalars[at(2, length / 4)], scalars[at(2, length - 2)]) = (0, 0) }
    x = Tensor(shape: shape, scalars: scalars)
    var kept = shape
    kept[axis] = 1
    let weights = Tensor.random(kept, in: -2...2, using: &generator)
    let ulps = Double(length + 3)
    expectProducts(
      gradient(at: x) { ($0.prod(alongAxes: axis) * weights).sum() },
      productsOfOthers(x, axis: axis, weights: weights), ulps: ulps, "weighted, \(shape) \(axis)")
    expectProducts(
      gradient(at: x) { $0.prod(alongAxes: axis).sum() },
      productsOfOthers(x, axis: axis, weights: .ones(kept)), ulps: ulps, "summed, \(shape) \(axis)")
    // The value: within the same bound of the 80-bit product, and Tensor's with Variable's
    // bits.
    let value = Variable(x).prod(alongAxes: axis).value
    #expect(value.scalars.map(\.bitPattern) == x.prod(alongAxes: axis).scalars.map(\.bitPattern))
    let products = (0..<(outer * inner)).map { position in
      let (o, j) = (position / inner, position % inner)
      return Double((0..<length).reduce(Float80(1)) { $0 * Float80(scalars[at(o, $1) + j]) })
    }
    expectProducts(value, Tensor(shape: kept, scalars: products), ulps: ulps, "value, \(shape)")
  }

  @Test("infinities and NaN give the products of the others, in every segment")
  func nonFinite() {
    for length in [4, 15, 16, 37] {
      for (first, second) in [(Double.infinity, 0.0), (0, -.infinity), (.nan, 2), (.infinity, 3)] {
        var scalars = (0..<length).map { 1 + Double($0 % 5) / 8 }
        scalars[0] = first
        scalars[length - 1] = second
        let x = Tensor(scalars)
        expectProducts(
          gradient(at: x) { $0.prod() }, productsOfOthers(x, axis: 0, weights: .ones([1])),
          ulps: Double(length + 3), "\(length): \(first), \(second)")
      }
    }
  }

  @Test("Hessians are Πⱼ≠ᵢ,ₖ xⱼ, through zeros", arguments: [5, 20])
  func hessians(length: Int) {
    var generator = SeededGenerator(seed: 9)
    for zeros in [[], [2], [1, length - 1]] {
      var scalars = Tensor.random([length], in: -1.5...1.5, using: &generator).scalars
      for index in zeros { scalars[index] = 0 }
      let x = Tensor(scalars)
      var expected = [Double](repeating: 0, count: length * length)
      for i in 0..<length {
        for k in 0..<length where k != i {
          var product: Float80 = 1
          for j in 0..<length where j != i && j != k { product *= Float80(scalars[j]) }
          expected[i * length + k] = Double(product)
        }
      }
      expectProducts(
        hessian(at: x) { $0.prod() }, Tensor(shape: [length, length], scalars: expected),
        ulps: Double(length + 3), "\(length) with zeros at \(zeros)")
    }
    // Along an axis with scalars after it, against differences of the gradient.
    expectHessianMatchesDifferences(at: Tensor(shape: [3, 2], scalars: [1.5, 0, -2, 0.5, 0.7, 3])) {
      ($0.prod(alongAxes: 0) * Tensor([[2, -1]])).sum()
    }
  }

  @Test("empty axes, axes of length 1, a product used twice, Jacobians")
  func edges() {
    // An empty product is 1, and its gradient is empty.
    #expect(Tensor.zeros([0]).prod() == Tensor(1))
    #expect(gradient(at: .zeros([0])) { $0.prod() }.shape == [0])
    #expect(Variable(Tensor.zeros([2, 0])).prod(alongAxes: 1).value == Tensor([[1], [1]]))
    #expect(gradient(at: .zeros([2, 0])) { $0.prod(alongAxes: 1).sum() }.shape == [2, 0])
    // Products of empty tensors along an axis that is not empty, or is: shapes, and ones.
    for (shape, axis, expected) in [
      ([3, 0], 0, [1, 0]), ([0, 3], 1, [0, 1]), ([0, 3], 0, [1, 3]), ([2, 0, 2], 1, [2, 1, 2]),
    ] {
      let products = Tensor.zeros(shape).prod(alongAxes: axis)
      #expect(products == Tensor.ones(expected), "\(shape) along \(axis)")
      #expect(Variable(Tensor.zeros(shape)).prod(alongAxes: axis).value == products)
      #expect(gradient(at: .zeros(shape)) { $0.prod(alongAxes: axis).sum() }.shape == shape)
      #expect(hessian(at: .zeros(shape)) { $0.prod(alongAxes: axis).sum() }.scalarCount == 0)
    }
    // A length-1 axis is its own product: the identity's Jacobian.
    let column = Tensor([[2], [-3]])
    #expect(
      jacobian(at: column) { $0.prod(alongAxes: 1) }
        == Tensor(shape: [2, 1, 2, 1], scalars: [1, 0, 0, 1]))
    // One product used twice: d(p²)/dxᵢ = 2p Πⱼ≠ᵢ xⱼ.
    let x = Tensor([1.5, -2, 0.25, 3])
    #expect(gradient(at: x) { $0.prod() * $0.prod() } == Tensor([6.75, -5.0625, 40.5, 3.375]))
    // The Jacobian of the products of a matrix's rows: Πⱼ≠ᵢ in each row's block.
    let m = Tensor([[1, 2, 3], [0, 5, 6]])
    #expect(
      jacobian(at: m) { $0.prod(alongAxes: 1) }
        == Tensor(shape: [2, 1, 2, 3], scalars: [6, 3, 2, 0, 0, 0, 0, 0, 0, 30, 0, 0]))
    // Two axes at once, and the tape records one entry per axis longer than 1.
    let tape = Tape()
    var generator = SeededGenerator(seed: 3)
    let cube = tape.variable(Tensor.random([2, 3, 4], in: 0.5...2, using: &generator))
    let both = cube.prod(alongAxes: 0, 2)
    #expect(tape.entries.filter { $0.op == .prod }.count == 2)
    expectClose(both.value, cube.value.prod(alongAxes: 0).prod(alongAxes: 2), tolerance: 0)
  }
}
