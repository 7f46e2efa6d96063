import Backprop

/// W11: gradients of formulas beyond W7's, at n = 10⁶ (a 1000 × 1000 matrix where the formula
/// has rows): the functions of the library's catalogue, broadcasting against a scalar, a row
/// and a column, reductions along an axis, slices. W7 holds the formulas that were tuned; this
/// list is what a user reaches for next, and the check that a speed claim holds for a family
/// of formulas, not one. Each gradient is timed against its own forward pass, evaluated on
/// tensors with no tape (the ratio is what the backward pass and the recording add); the same
/// formulas run in PyTorch in peers.py.
func breadthFormulas(_ settings: Settings) -> [Row] {
  let n = settings.quick ? 250_000 : 1_000_000
  let side = settings.quick ? 500 : 1000
  var generator = SeededGenerator(seed: 11)
  let x = Tensor.random([n], in: 0.1...2, using: &generator)
  let t = Tensor.random([n], in: -1...1, using: &generator)
  let row = Tensor.random([side], in: -1...1, using: &generator)
  let column = Tensor.random([side, 1], in: -1...1, using: &generator)
  let tm = t.reshaped(to: [side, side])
  let labels = t.map { $0 > 0 ? 1 : 0 }
  func matrix(_ v: Variable) -> Variable { v.reshaped(to: [side, side]) }
  let formulas: [(String, (Variable) -> Variable)] = [
    ("sum(x / t)", { ($0 / t).sum() }),
    ("sum(x - t)", { ($0 - t).sum() }),
    ("sum(2 * x)", { (2 * $0).sum() }),
    ("sum(x + 1)", { ($0 + 1).sum() }),
    ("mean(x)", { $0.mean() }),
    ("sum(pow(x, 2))", { pow($0, 2).sum() }),
    ("sum(pow(x, 2.5))", { pow($0, 2.5).sum() }),
    ("sum(sqrt(x))", { sqrt($0).sum() }),
    ("sum(abs(x - t))", { abs($0 - t).sum() }),
    ("sum(cos(x))", { cos($0).sum() }),
    ("sum(tan(x))", { tan($0).sum() }),
    ("sum(softplus(x))", { softplus($0).sum() }),
    ("sum(logSigmoid(x))", { logSigmoid($0).sum() }),
    ("sum(gelu(x))", { gelu($0).sum() }),
    ("sum(swish(x))", { swish($0).sum() }),
    ("sum(erf(x))", { erf($0).sum() }),
    ("sum(log1p(x))", { log1p($0).sum() }),
    ("sum(expm1(x))", { expm1($0).sum() }),
    ("sum(leakyRelu(x))", { leakyRelu($0).sum() }),
    ("sum(elu(x - 1))", { elu($0 - 1).sum() }),
    ("sum(clamp(x, 0.5, 1.5))", { clamp($0, min: 0.5, max: 1.5).sum() }),
    ("variance(x)", { $0.variance() }),
    ("sum(tanh(x) * x)", { (tanh($0) * $0).sum() }),
    ("sum(M + row)", { (matrix($0) + row).sum() }),
    ("sum(M * row)", { (matrix($0) * row).sum() }),
    ("sum(M * column)", { (matrix($0) * column).sum() }),
    ("sum(sum(M, axis 1)²)", { ($0.reshaped(to: [side, side]).sum(alongAxes: 1)).squared() }),
    ("sum(sum(M, axis 0)²)", { ($0.reshaped(to: [side, side]).sum(alongAxes: 0)).squared() }),
    ("sum(max(M, axis 1))", { matrix($0).max(alongAxes: 1).sum() }),
    ("sum(softmax(M) * T)", { (softmax(matrix($0)) * tm).sum() }),
    ("sum(Mᵀ * T)", { (matrix($0).transposed() * tm).sum() }),
    ("sum(x[1000...])", { $0[1000..<n].sum() }),
    // Losses, powers and products people write next.
    ("sum(pow(x, 3))", { pow($0, 3).sum() }),
    ("sum(sin(x) * cos(x))", { (sin($0) * cos($0)).sum() }),
    ("sum(min(x, t))", { min($0, Variable(t)).sum() }),
    ("sum(relu(1 - x * t))", { relu(1 - $0 * t).sum() }),
    ("huberLoss(x, t)", { huberLoss(predicted: $0, expected: t) }),
    ("binaryCrossEntropy(x, t > 0)", { binaryCrossEntropy(logits: $0, labels: labels) }),
    (
      "sum(layerNorm(M) * T)",
      {
        let c = matrix($0) - matrix($0).mean(alongAxes: 1)
        return (c / sqrt(c.variance(alongAxes: 1) + 1e-5) * tm).sum()
      }
    ),
    ("sum(prod(M, axis 1))", { matrix($0).prod(alongAxes: 1).sum() }),
    // The product down the columns, whose runs are not contiguous.
    ("sum(prod(M, axis 0))", { matrix($0).prod(alongAxes: 0).sum() }),
    // A product whose operands both want gradients, a join, a matrix-vector product, atan, an
    // entropy.
    ("sum(x * x * x)", { ($0 * $0 * $0).sum() }),
    ("sum(concatenate(x, x))", { concatenate([$0, $0]).sum() }),
    ("sum(M column)", { matmul(matrix($0), Variable(column)).sum() }),
    ("sum(atan(x))", { atan($0).sum() }),
    ("entropy(softmax(x))", { 0 - (softmax($0) * logSoftmax($0)).sum() }),
    // The rest of the catalogue: the hyperbolic functions and their inverses, the inverse sine
    // and cosine, the other bases' exponential and logarithms, and the two-operand functions.
    ("sum(sinh(x))", { sinh($0).sum() }),
    ("sum(cosh(x))", { cosh($0).sum() }),
    ("sum(asinh(x))", { asinh($0).sum() }),
    ("sum(acosh(x + 1))", { acosh($0 + 1).sum() }),
    ("sum(atanh(x / 2.5))", { atanh($0 / 2.5).sum() }),
    ("sum(asin(x / 2.5))", { asin($0 / 2.5).sum() }),
    ("sum(acos(x / 2.5))", { acos($0 / 2.5).sum() }),
    ("sum(exp2(x))", { exp2($0).sum() }),
    ("sum(log2(x))", { log2($0).sum() }),
    ("sum(log10(x))", { log10($0).sum() }),
    ("sum(hypot(x, t))", { hypot($0, Variable(t)).sum() }),
    ("sum(atan2(x, t))", { atan2($0, Variable(t)).sum() }),
    ("sum(pow(x, t))", { pow($0, Variable(t)).sum() }),
    ("sum(pow(x / 2.5, x))", { pow($0 / 2.5, $0).sum() }),
  ]
  var rows: [Row] = []
  for (name, formula) in formulas where settings.formula.map({ name.contains($0) }) ?? true {
    let g = gradient(at: x, of: formula)
    precondition(g.shape == x.shape, "W11 \(name): the gradient has shape \(g.shape)")
    let times = medians(
      settings,
      [{ consume(gradient(at: x, of: formula)) }, { consume(formula(Variable(x)).value) }])
    let faults = pageFaults { consume(gradient(at: x, of: formula)) }
    rows.append(
      Row(
        workload: "W11 ∇ \(name)", variant: "gradient", seconds: times[0],
        baseline: "its forward pass, no tape", baselineSeconds: times[1], target: "", met: nil,
        note: String(format: "%.1f page faults a call", faults)))
  }
  return rows
}

extension Variable {
  /// The sum of squares, for the reductions' rows.
  fileprivate func squared() -> Variable { (self * self).sum() }
}
