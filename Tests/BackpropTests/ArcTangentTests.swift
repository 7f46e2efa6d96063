import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The vectorized atan and atan2 (Sources/BackpropKernels/ArcTangent.h) against 80-bit `atanl`
/// and `atan2l`: within 1 ulp in every width over the whole range, at the reduction's interval
/// edges and in every quadrant; C's special cases; a scalar, a tensor and a broadcast operand
/// giving the same bits.
@Suite("Vectorized atan and atan2: within 1 ulp over the whole range")
struct ArcTangentTests {
  static func atan2Kernel(width: Int, _ y: [Double], _ x: [Double]) -> [Double] {
    var out = [Double](repeating: 42, count: y.count)
    kernel(\.rule, width: Int32(width))(bp_rule_arc_tangent2, y, 0, x, 0, nil, &out, y.count)
    return out
  }

  @Test func atanOverEveryBinadeAndItsIntervals() {
    var generator = SeededGenerator(seed: 81)
    let binades = everyBinade(20, using: &generator)
    let uniform = (0..<200_000).map { _ in Double.random(in: -4...4, using: &generator) }
    var edges: [Double] = []
    for edge in [7.0 / 16, 11.0 / 16, 19.0 / 16, 39.0 / 16, 0x1p-27, 0x1p66] {
      var (below, above) = (edge, edge)
      for _ in 0..<32 {
        edges += [below, above, -below, -above]
        (below, above) = (below.nextDown, above.nextUp)
      }
    }
    let worst = expectKernelWithinOneUlp(
      "atan", atWidth(\.arc_tangents), exact: { Foundation.atan($0) },
      on: binades + uniform + edges + [.leastNonzeroMagnitude, .greatestFiniteMagnitude])
    print("atan kernel: worst \(worst) ulp over every binade and the reduction's edges")
  }

  @Test func atan2InEveryQuadrantAndOverEveryPairOfBinades() {
    var generator = SeededGenerator(seed: 82)
    var (y, x) = pairsOfBinades(stride: 9, span: 70, step: 5, using: &generator)
    // Points on the unit circle at every angle, and near the diagonals and the axes, where
    // the quotient crosses 1 and where the angle is near 0, ±π/2 or ±π.
    for _ in 0..<100_000 {
      let angle = Double.random(in: -Double.pi...Double.pi, using: &generator)
      let radius = Double.random(in: 0.1...10, using: &generator)
      y.append(radius * Foundation.sin(angle))
      x.append(radius * Foundation.cos(angle))
    }
    for _ in 0..<20_000 {
      let a = Double.random(in: 0.5...2, using: &generator)
      let b = a * Double.random(in: 0.999...1.001, using: &generator)
      let tiny = a * Double.random(in: 1e-20...1e-8, using: &generator)
      for (s, t) in [(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)] {
        y += [s * a, s * tiny, s * a]
        x += [t * b, t * a, t * tiny]
      }
    }
    expectRuleWithinOneUlp("atan2", bp_rule_arc_tangent2, y, x) { Foundation.atan2($0, $1) }
  }

  @Test func specialValuesAsC() {
    let values: [Double] = [
      0, -0.0, 1, -1, .leastNonzeroMagnitude, -2.5, 1e300, .infinity, -.infinity, .nan,
    ]
    let pairs = values.flatMap { y in values.map { (y, $0) } }
    let (y, x) = (pairs.map(\.0), pairs.map(\.1))
    for width in kernelWidths {
      for (index, angle) in Self.atan2Kernel(width: width, y, x).enumerated() {
        let expected = Foundation.atan2(y[index], x[index])
        #expect(
          angle.bitPattern == expected.bitPattern || (angle.isNaN && expected.isNaN)
            || (angle.isFinite && abs(angle - expected) <= expected.ulp),
          "width \(width): atan2(\(y[index]), \(x[index])) = \(angle), C's \(expected)")
        #expect(
          angle.sign == expected.sign || angle.isNaN, "width \(width): the sign of \(expected)")
      }
      let atan = runKernel(atWidth(\.arc_tangents), width: width, on: values)
      for (x, angle) in zip(values, atan) {
        let expected = Foundation.atan(x)
        #expect(
          angle.bitPattern == expected.bitPattern || (angle.isNaN && expected.isNaN)
            || abs(angle - expected) <= expected.ulp, "width \(width): atan(\(x)) = \(angle)")
      }
    }
  }

  @Test func everyRemainderAndAScalarATensorAndABroadcastAgree() {
    for width in kernelWidths {
      expectEveryRemainder(atWidth(\.arc_tangents), width: width, scalar: bp_arc_tangent)
    }
    var generator = SeededGenerator(seed: 83)
    let a = Tensor.random([3, 7], in: -4...4, using: &generator)
    let row = Tensor.random([7], in: -1e3...1e3, using: &generator)
    let (angles, broadcast, same) = (atan(a), atan2(a, row), atan2(a, a * -0.5))
    for i in 0..<3 {
      for j in 0..<7 {
        let (v, r) = (a.scalars[i * 7 + j], row.scalars[j])
        #expect(angles.scalars[i * 7 + j].bitPattern == atan(Tensor(v)).scalar!.bitPattern)
        #expect(broadcast.scalars[i * 7 + j].bitPattern == ArcTangent2.value(v, r).bitPattern)
        #expect(same.scalars[i * 7 + j].bitPattern == ArcTangent2.value(v, v * -0.5).bitPattern)
      }
    }
  }
}

/// The VJPs that run their rules on tensors (atan2's, hypot's through them, pow's and asinh's)
/// give, scalar by scalar, the bits of the same rule on rank-0 operands (the sweep's Double
/// path), over edge values of both operands, one variable used for both included.
@Suite("Two-operand VJPs on tensors are the scalar rules' bits")
struct TensorRuleVJPTests {
  static let values: [Double] = [
    0.5, -2, 3, 1e-300, -1e300, Double("2.5e-310")!, 0, -0.0, .infinity, -.infinity, .nan, 7e17,
  ]

  static func same(_ a: Double, _ b: Double) -> Bool {
    a.bitPattern == b.bitPattern || a.isNaN && b.isNaN
  }

  @Test func binaryFunctionsAgainstTheirScalarRules() {
    let pairs = Self.values.flatMap { a in Self.values.map { (a, $0) } }
    let (a, b) = (Tensor(pairs.map(\.0)), Tensor(pairs.map(\.1)))
    let positive = Tensor(pairs.map { Swift.abs($0.0) + 0.25 })
    let cases: [(String, Tensor, (Variable, Variable) -> Variable)] = [
      ("atan2", a, { atan2($0, $1) }), ("hypot", a, { hypot($0, $1) }),
      ("pow", positive, { pow($0, $1) }),
    ]
    for (name, base, function) in cases {
      let w = Tensor((0..<pairs.count).map { [1, -0.5, 3][$0 % 3] })
      let (ga, gb) = gradient(at: base, b) { (function($0, $1) * w).sum() }
      for index in pairs.indices {
        let (sa, sb) = gradient(at: Tensor(base.scalars[index]), Tensor(b.scalars[index])) {
          function($0, $1) * w.scalars[index]
        }
        #expect(
          Self.same(ga.scalars[index], sa.scalar!) && Self.same(gb.scalars[index], sb.scalar!),
          "\(name)(\(base.scalars[index]), \(b.scalars[index]))")
      }
    }
    // One variable for both operands: the two partials added, as on a scalar.
    let x = Tensor(Self.values)
    let both = gradient(at: x) { atan2($0, $0).sum() + hypot($0, $0).sum() }
    for (index, value) in Self.values.enumerated() {
      let scalar = gradient(at: Tensor(value)) { atan2($0, $0) + hypot($0, $0) }
      #expect(Self.same(both.scalars[index], scalar.scalar!), "x = \(value)")
    }
  }

  @Test func asinhAgainstItsScalarRule() {
    let x = Tensor(Self.values)
    let g = gradient(at: x) { (asinh($0) * 3).sum() }
    for (index, value) in Self.values.enumerated() {
      let scalar = gradient(at: Tensor(value)) { asinh($0) * 3 }
      #expect(Self.same(g.scalars[index], scalar.scalar!), "asinh at \(value)")
    }
  }
}
