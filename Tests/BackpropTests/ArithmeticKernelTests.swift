import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized quotient, square-root and relu kernels (`bp_rule`) against the Swift scalar
/// rules they restate: division and the square root are correctly rounded and relu selects, so
/// every width must give the same bits, NaN for NaN.
@Suite("Quotient, square-root and relu kernels")
struct ArithmeticKernelTests {
  static let edges: [Double] = [
    0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, -1, 1, 3,
    1e300, -1e300, 1e-300, .greatestFiniteMagnitude, .infinity, -.infinity, .nan, 0.5,
    Double("2.5e-310")!,
  ]

  /// Each rule and the scalar rule it restates.
  static var rules: [(String, bp_rule_kind, (Double, Double, Double) -> Double)] {
    [
      ("quotient", bp_rule_quotient, { p, q, _ in p / q }),
      ("square root", bp_rule_square_root, { p, _, _ in Sqrt.scalar(p) }),
      (
        "1 / square root", bp_rule_reciprocal_square_root,
        { p, _, _ in ReciprocalSquareRoot.value(p) }
      ),
      ("relu", bp_rule_rectified, { _, q, _ in RectifiedLinearUnit.value(q) }),
      ("dividend pullback", bp_rule_dividend_pullback, { p, q, _ in p / q }),
      ("divisor pullback", bp_rule_divisor_pullback, { p, q, r in -((p * r) / q) }),
      ("square root pullback", bp_rule_square_root_pullback, { p, _, r in Sqrt.pullback(p, y: r) }),
      (
        "relu pullback", bp_rule_rectified_pullback,
        { p, q, _ in Select.scalar(p, ReluMask.scalar(q)) }
      ),
      ("hypot", bp_rule_hypotenuse, { p, q, _ in Hypotenuse.value(p, q) }),
      ("atan2", bp_rule_arc_tangent2, { p, q, _ in bp_arc_tangent2(p, q) }),
    ]
  }

  static func same(_ x: Double, _ y: Double) -> Bool {
    x.bitPattern == y.bitPattern || x.isNaN && y.isNaN
  }

  /// Every triple of edge values (p, q, r), in every width, with p or q uniform or read per
  /// position, written into a new buffer and over each input in turn, at lengths that leave
  /// every tail of four and eight lanes.
  @Test(arguments: 0..<10)
  func ruleIsItsScalarRuleInEveryWidthAndPlace(rule index: Int) {
    let (name, rule, scalar) = Self.rules[index]
    let edges = Self.edges
    let triples = edges.flatMap { p in
      edges.flatMap { q in [edges[0], q, p, 1.5].map { (p, q, $0) } }
    }
    for count in [triples.count, 0, 1, 5, 7, 9, 15] {
      let (p, q, r) = (
        triples.prefix(count).map(\.0), triples.prefix(count).map(\.1),
        triples.prefix(count).map(\.2)
      )
      for width in kernelWidths {
        for (pu, qu) in [
          (nil, nil), (-0.0, nil), (2.5, nil), (nil, .nan), (nil, 4), (.infinity, 0),
        ]
          as [(Double?, Double?)]
        {
          let expected = (0..<count).map { scalar(pu ?? p[$0], qu ?? q[$0], r[$0]) }
          for place in 0..<4 {
            var (ps, qs, rs) = (p, q, r)
            var out = [Double](repeating: 42, count: count)
            ps.withUnsafeMutableBufferPointer { pp in
              qs.withUnsafeMutableBufferPointer { qp in
                rs.withUnsafeMutableBufferPointer { rp in
                  out.withUnsafeMutableBufferPointer { op in
                    let destination = [op, pp, qp, rp][place].baseAddress
                    kernel(\.rule, width: Int32(width))(
                      rule, pu == nil ? pp.baseAddress : nil, pu ?? 0,
                      qu == nil ? qp.baseAddress : nil, qu ?? 0, rp.baseAddress, destination, count)
                  }
                }
              }
            }
            let result = [out, ps, qs, rs][place]
            for i in 0..<count where !Self.same(result[i], expected[i]) {
              Issue.record(
                "\(name), width \(width), place \(place), count \(count): (\(pu ?? p[i]), \(qu ?? q[i]), \(r[i])) gave \(result[i]), not \(expected[i])"
              )
              break
            }
          }
        }
      }
    }
  }

  /// Through the forward passes and the sweep, past the size whose VJPs write in place: x / t,
  /// t / x, x / 3, 3 / x, √x and relu(x) with their gradients equal to the generic rules' on
  /// tensors, bit for bit, with every edge value among the entries.
  @Test func forwardAndGradientsMatchTheTensorRules() {
    let n = LargeBuffer.threshold + 5
    let edges = Self.edges
    let x = Tensor((0..<n).map { edges[$0 % edges.count] })
    let t = Tensor((0..<n).map { edges[($0 / edges.count) % edges.count] })
    let w = Tensor((0..<n).map { Double($0 % 7) - 3 })
    func same(_ a: Tensor, _ b: Tensor) -> Bool {
      a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { Self.same($0, $1) }
    }
    // The forward passes against a loop over the scalar rule.
    #expect(same(x / t, Tensor(zip(x.scalars, t.scalars).map { $0 / $1 })))
    #expect(same(x / 3, x.map { $0 / 3 }))
    #expect(same(3 / x, x.map { 3 / $0 }))
    #expect(same(Tensor(-0.0) / Tensor(0), Tensor(-Double.nan)))
    #expect(same(sqrt(x), x.map { $0.squareRoot() }))
    #expect(same(rsqrt(x), x.map { 1 / $0.squareRoot() }))
    #expect(same(reciprocal(x), x.map { 1 / $0 }))
    #expect(same(relu(Variable(x)).value, x.map { RectifiedLinearUnit.value($0) }))
    // The gradients against the rules scalar by scalar: ȳ ⊘ b, −((ȳ ⊙ y) ⊘ b), ȳ ⊘ (2y) and
    // relu's selection.
    func map(_ f: (Int) -> Double) -> Tensor { Tensor((0..<n).map(f)) }
    let (xs, ts, ws) = (x.scalars, t.scalars, w.scalars)
    let divisor = map { -((ws[$0] * (xs[$0] / ts[$0])) / ts[$0]) }
    let (gx, gt) = gradient(at: x, t) { a, b in (a / b * w).sum() }
    #expect(same(gx, map { ws[$0] / ts[$0] }))
    #expect(same(gt, divisor))
    #expect(same(gradient(at: t) { (Variable(x) / $0 * w).sum() }, divisor))
    #expect(same(gradient(at: x) { ($0 / t).sum() }, map { 1 / ts[$0] }))
    #expect(
      same(gradient(at: x) { (sqrt($0) * w).sum() }, map { ws[$0] / (2 * xs[$0].squareRoot()) }))
    #expect(same(gradient(at: x) { sqrt($0).sum() }, map { 1 / (2 * xs[$0].squareRoot()) }))
    #expect(same(gradient(at: x) { (log($0) * w).sum() }, map { ws[$0] / xs[$0] }))
    #expect(same(gradient(at: x) { log($0).sum() }, map { 1 / xs[$0] }))
    let relu = map { Select.scalar(ws[$0], ReluMask.scalar(xs[$0])) }
    #expect(same(gradient(at: x) { (Backprop.relu($0) * w).sum() }, relu))
    #expect(
      same(
        gradient(at: x) { Backprop.relu($0).sum() },
        map { Select.scalar(1, ReluMask.scalar(xs[$0])) }))
  }

  /// A product or quotient with a broadcast row or column, from a uniform cotangent: ȳ ⊙ b
  /// (or ȳ ⊘ b) spread, the general rule's numbers scalar by scalar, with every edge value
  /// in b and ȳ.
  @Test(arguments: [1, -0.0, 3, .infinity, .nan])
  func broadcastOperandFromAUniformCotangent(scale: Double) {
    let edges = Self.edges
    // Past the size at which a full sum passes its cotangent on as one value.
    let columns = edges.count
    let rows = LargeBuffer.threshold / columns + 1
    let m = Tensor(shape: [rows, columns], scalars: (0..<(rows * columns)).map { Double($0) - 7 })
    let row = Tensor(edges)
    let column = Tensor(shape: [rows, 1], scalars: (0..<rows).map { [2, -0.0, .nan][$0 % 3] })
    func same(_ a: Tensor, _ b: Tensor) -> Bool {
      a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { Self.same($0, $1) }
    }
    func spread(_ f: (Int, Int) -> Double) -> Tensor {
      Tensor(
        shape: [rows, columns],
        scalars: (0..<(rows * columns)).map { f($0 / columns, $0 % columns) })
    }
    let (r, c) = (row.scalars, column.scalars)
    #expect(same(gradient(at: m) { ($0 * row).sum() * scale }, spread { scale * r[$1] }))
    #expect(same(gradient(at: m) { (Variable(row) * $0).sum() * scale }, spread { scale * r[$1] }))
    #expect(same(gradient(at: m) { ($0 / row).sum() * scale }, spread { scale / r[$1] }))
    #expect(same(gradient(at: m) { ($0 * column).sum() * scale }, spread { i, _ in scale * c[i] }))
    #expect(same(gradient(at: m) { ($0 / column).sum() * scale }, spread { i, _ in scale / c[i] }))
  }

  /// The fused Huber loss's kernels in every width against Swift's Huber.value summed in Sum's
  /// order and Huber.slope, bit for bit, over edge differences and thresholds, at lengths that
  /// leave every tail.
  @Test(arguments: [1, 0.5, Double("3e-310")!, 1e300, .infinity])
  func huberKernelsAreTheSwiftRulesInEveryWidth(delta: Double) {
    let edges = Self.edges
    // Every pair of edge values, then ordinary values, whose sums show the order of addition
    // (the edges' infinities and NaN hide it).
    var generator = SeededGenerator(seed: 41)
    let pairs =
      edges.flatMap { a in edges.map { b in (a, b) } }
      + (0..<100).map { _ in
        // Magnitudes from 10⁻⁴ to 10⁴, so that sums in another order round otherwise.
        let scale = Foundation.pow(10, Double.random(in: -4...4, using: &generator))
        return (
          scale * Double.random(in: -3...3, using: &generator),
          Double.random(in: -3...3, using: &generator)
        )
      }
    let lengths = [pairs.count] + Array(0...40)
    for (count, offset) in lengths.map({ ($0, 0) }) + lengths.map({ ($0, pairs.count - $0) }) {
      let chosen = pairs[offset..<(offset + count)]
      let (x, e) = (chosen.map(\.0), chosen.map(\.1))
      let expected = Sum.total(count: count) { i in
        SIMD8((0..<8).map { Huber.value(x[i + $0] - e[i + $0], delta) })
      } scalar: { i in
        Huber.value(x[i] - e[i], delta)
      }
      let slopes = (0..<count).map { -2.5 * Huber.slope(x[$0] - e[$0], delta) }
      for width in kernelWidths {
        let total = kernel(\.huber_total, width: Int32(width))(x, e, delta, count)
        #expect(Self.same(total, expected), "width \(width), count \(count)")
        var out = [Double](repeating: 42, count: count)
        out.withUnsafeMutableBufferPointer { out in
          kernel(\.huber_pullbacks, width: Int32(width))(-2.5, x, e, delta, out.baseAddress, count)
        }
        for i in 0..<count where !Self.same(out[i], slopes[i]) {
          Issue.record(
            "width \(width): slope at \(x[i]) − \(e[i]) gave \(out[i]), not \(slopes[i])")
          break
        }
      }
    }
  }

  /// The sum kernel in every width is Swift's sixteen-way order to the bit (which fused
  /// reductions share), over values of every magnitude, at every length to 50 and a long one;
  /// the fill kernel writes its value everywhere, −0 and NaN included.
  @Test func totalIsSumsOrderInEveryWidthAndFillFills() {
    var generator = SeededGenerator(seed: 43)
    let values = (0..<1_003).map { _ in
      Foundation.pow(10, Double.random(in: -8...8, using: &generator))
        * Double.random(in: -1...1, using: &generator)
    }
    for count in Array(0...50) + [1_003] {
      let x = Array(values.prefix(count))
      let expected = Sum.total(count: count) { i in
        SIMD8(x[i..<(i + 8)])
      } scalar: {
        x[$0]
      }
      for width in kernelWidths {
        #expect(
          Self.same(kernel(\.total, width: Int32(width))(x, count), expected), "\(width), \(count)")
      }
      for value in [1.5, -0.0, .nan] {
        var out = [Double](repeating: 42, count: count + 1)
        out.withUnsafeMutableBufferPointer { bp_fill(value, $0.baseAddress, count) }
        #expect(out.prefix(count).allSatisfy { Self.same($0, value) } && out[count] == 42)
      }
    }
  }
}

/// The vectorized hypot against √(a² + b²) in 80-bit arithmetic (64-bit squares and sum, whose
/// roundings are 2¹¹ times below a Double's ulp): within 1 ulp in every width, over pairs of
/// every pair of binades, pairs of nearly equal size, and the scaling's thresholds; C's special
/// cases; and the scalar, a tensor and a broadcast operand giving the same bits.
@Suite("The hypot kernel: within 1 ulp over the whole range")
struct HypotenuseKernelTests {
  static func exact(_ x: Extended, _ y: Extended) -> Extended { (x * x + y * y).squareRoot() }

  static func run(width: Int, _ a: [Double], _ b: [Double]) -> [Double] {
    var out = [Double](repeating: 42, count: a.count)
    kernel(\.rule, width: Int32(width))(bp_rule_hypotenuse, a, 0, b, 0, nil, &out, a.count)
    return out
  }

  @Test func withinOneUlpOverEveryPairOfBinades() {
    var generator = SeededGenerator(seed: 71)
    var (a, b) = pairsOfBinades(stride: 7, span: 60, step: 3, using: &generator)
    // Nearly equal, where the two squares are alike, and around the scaling's thresholds.
    for _ in 0..<20_000 {
      let x = Double.random(in: 0.5...2, using: &generator)
      a.append(x)
      b.append(x * Double.random(in: 0.999...1.001, using: &generator))
    }
    for threshold in [0x1p500, 0x1p-500] {
      var (below, above) = (threshold, threshold)
      for _ in 0..<32 {
        a += [below, above, below, above]
        b += [below / 3, above * 0.7, 1, 1e-300]
        (below, above) = (below.nextDown, above.nextUp)
      }
    }
    expectRuleWithinOneUlp("hypot", bp_rule_hypotenuse, a, b, exact: Self.exact)
  }

  @Test func specialValuesAsC() {
    let cases: [(Double, Double, Double)] = [
      (3, 4, 5), (-3, 4, 5), (0, 0, 0), (-0.0, -0.0, 0), (0, -7, 7),
      (1e308, 1e308, 1e308 * 2.0.squareRoot()),
      (.infinity, .nan, .infinity), (.nan, -.infinity, .infinity), (.nan, 1, .nan), (2, .nan, .nan),
      (.greatestFiniteMagnitude, .greatestFiniteMagnitude, .infinity),
      (.leastNonzeroMagnitude, .leastNonzeroMagnitude, .leastNonzeroMagnitude),
      (3 * .leastNonzeroMagnitude, 4 * .leastNonzeroMagnitude, 5 * .leastNonzeroMagnitude),
      (Double("1e-320")!, 0, Double("1e-320")!),
      (0x1p-1022, 0x1p-1022, 0x1p-1022 * 2.0.squareRoot()),
    ]
    let (a, b) = (cases.map(\.0), cases.map(\.1))
    for width in kernelWidths {
      for (index, y) in Self.run(width: width, a, b).enumerated() {
        let expected = cases[index].2
        #expect(
          y == expected || (y.isNaN && expected.isNaN),
          "width \(width): hypot(\(a[index]), \(b[index])) = \(y), not \(expected)")
        #expect(y.sign == .plus || y.isNaN, "width \(width): hypot is never negative")
      }
    }
  }

  @Test func aScalarATensorAndABroadcastAgree() {
    var generator = SeededGenerator(seed: 72)
    let a = Tensor.random([3, 5], in: -4...4, using: &generator)
    let row = Tensor.random([5], in: -1e200...1e200, using: &generator)
    let (same, broadcast) = (hypot(a, a * 0.75), hypot(a, row))
    for i in 0..<3 {
      for j in 0..<5 {
        let x = a.scalars[i * 5 + j]
        #expect(
          same.scalars[i * 5 + j].bitPattern
            == hypot(Tensor(x), Tensor(x * 0.75)).scalar!.bitPattern)
        #expect(
          broadcast.scalars[i * 5 + j].bitPattern == Hypotenuse.value(x, row.scalars[j]).bitPattern)
      }
    }
  }
}
