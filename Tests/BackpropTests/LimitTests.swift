import Testing

@testable import Backprop

// Functions whose formula meets ∞ · 0 at an infinite input, where the function or its
// derivative has a limit: the limit, on every path (rank 0, a tensor with no tape, a recorded
// tensor small and large, the Hessian's recorded rule).

@Suite("limits at infinite inputs")
struct LimitTests {
  /// Each function recorded and on tensors with no tape.
  static let functions: [(String, @Sendable (Variable) -> Variable, @Sendable (Tensor) -> Tensor)] =
    [("gelu", { gelu($0) }, { gelu($0) }), ("swish", { swish($0) }, { swish($0) })]

  @Test("gelu and swish: −0 at −∞, slopes 0 and 1, second derivatives 0")
  func geluAndSwish() {
    for (name, f, onTensor) in Self.functions {
      for count in [1, 5, LargeBuffer.threshold + 3] {
        var scalars = [Double](repeating: 0.5, count: count)
        scalars[0] = -.infinity
        if count > 1 { scalars[count - 1] = .infinity }
        let x = count == 1 ? Tensor(-Double.infinity) : Tensor(scalars)
        let unit = gradient(at: x) { f($0).sum() }
        let scaled = gradient(at: x) { (f($0) * 1.5).sum() }
        let values = onTensor(x).scalars
        let recorded = f(Variable(x)).value.scalars
        #expect(values[0].bitPattern == (-0.0).bitPattern, "\(name) at −∞, \(count)")
        #expect(recorded[0].bitPattern == (-0.0).bitPattern, "\(name) at −∞ recorded, \(count)")
        #expect(unit.scalars[0] == 0 && scaled.scalars[0] == 0, "slope at −∞, \(name) \(count)")
        if count > 1 {
          #expect(values[count - 1] == .infinity && recorded[count - 1] == .infinity)
          #expect(
            unit.scalars[count - 1] == 1 && scaled.scalars[count - 1] == 1.5,
            "slope at +∞, \(name) \(count)")
          // The finite scalars keep their bits.
          #expect(values[1].bitPattern == onTensor(Tensor(0.5)).scalar!.bitPattern)
        }
      }
      // The recorded rule: the gradient on variables, and the Hessian, 0 at ±∞.
      let x = Tensor([-.infinity, 0.5, .infinity])
      let onVariables = hessian(at: x) { f($0).sum() }
      #expect(onVariables.scalars[0] == 0 && onVariables.scalars[8] == 0, "\(name): \(onVariables)")
      let slopes = gradient(at: x) { v in (f(v) * Variable(Tensor([1, 1, 1]))).sum() }
      #expect(slopes == Tensor([0, slopes.scalars[1], 1]), "\(name): \(slopes)")
    }
  }

  @Test("hypot: ∂/∂a is ±1 where a = ±∞ and b is finite, NaN where both are infinite")
  func hypotenuse() {
    for (a, b, expected) in [
      (Double.infinity, 3.0, (1.0, 0.0)), (-.infinity, -3, (-1, -0.0)), (3, -.infinity, (0, -1)),
      (-.infinity, 0, (-1, 0)),
    ] {
      let (ga, gb) = gradient(at: Tensor(a), Tensor(b)) { hypot($0, $1) }
      #expect(ga.scalar! == expected.0 && gb.scalar! == expected.1, "hypot(\(a), \(b))")
      // On tensors (the one-pass rule), broadcast against a row, and on variables.
      let row = Tensor([b, 1, b])
      let (ta, tb) = gradient(at: Tensor([a, 2, a]), row) { hypot($0, $1).sum() }
      #expect(ta.scalars[0] == expected.0 && tb.scalars[2] == expected.1, "tensors \(a), \(b)")
      let h = hessian(at: Tensor([a, 2])) { hypot($0, b).sum() }
      #expect(h.scalars[0] == 0, "Hessian at \(a), \(b): \(h)")
    }
    // Broadcasting: a column of a against a row of b, infinities in both, where the masks have
    // the broadcast shape and a does not (the fuzzer's case: a failure, not a gradient).
    let column = Tensor([[.infinity], [2], [-.infinity]])
    let row = Tensor([[3, .infinity, -4]])
    let (gColumn, gRow) = gradient(at: column, row) { hypot($0, $1).sum() }
    #expect(gColumn.shape == [3, 1] && gRow.shape == [1, 3])
    // Column: ±1 against each finite b, NaN against b = ∞; row: 0 against a = ±∞.
    #expect(gColumn.scalars[0].isNaN && gColumn.scalars[2].isNaN)
    #expect(gColumn.scalars[1] == 2.0 / 13.0.squareRoot() + 2.0 / 20.0.squareRoot())
    let h = hessian(at: column) { hypot($0, row).sum() }
    #expect(h.shape == [3, 1, 3, 1])
    let (ga, gb) = gradient(at: Tensor(Double.infinity), Tensor(-.infinity)) { hypot($0, $1) }
    #expect(ga.scalar!.isNaN && gb.scalar!.isNaN)
    // A finite call keeps the quotient's bits, −0 included.
    let (fa, _) = gradient(at: Tensor([-0.0, 3]), Tensor([2, 4])) { hypot($0, $1).sum() }
    #expect(fa.scalars[0].bitPattern == (-0.0 / 2).bitPattern && fa.scalars[1] == 0.6)
  }
}
