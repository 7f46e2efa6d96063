import Backprop
import Foundation

/// Softmax's Jacobian by cases, as a matrix, and its product with a vector without the matrix.
func softmaxJacobianLesson(_ lesson: inout Lesson) {
  let x: Tensor = [1, 2, 3]
  let s = softmax(x)
  lesson.say(
    """
    softmax(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ. Each output depends on every input through the sum, so the
    derivative has two cases:
      i = j:   ∂sᵢ/∂xᵢ = sᵢ (1 − sᵢ)
      i ≠ j:   ∂sᵢ/∂xⱼ = −sᵢ sⱼ
    Together, J = diag(s) − s sᵀ.

    At x = \(show(x)):  s = \(show(s))
    """)
  let p = s.scalars
  var cases = [Double](repeating: 0, count: 9)
  for i in 0..<3 {
    for j in 0..<3 { cases[i * 3 + j] = i == j ? p[i] * (1 - p[i]) : -p[i] * p[j] }
  }
  let byCases = Tensor(shape: [3, 3], scalars: cases)
  let tape = jacobian(at: x, of: softmax)
  lesson.say("  J by the two cases:      \(show(byCases))")
  lesson.say("  J from the tape:         \(show(tape))")
  lesson.check(
    "the tape's Jacobian is diag(s) − s sᵀ to rounding",
    tape.maxAbsoluteDifference(from: byCases) <= 1e-16)
  let rowSums = tape.sum(alongAxes: 1).scalars
  lesson.check(
    "every row of J sums to 0 (adding c to every input changes nothing)",
    rowSums.allSatisfy { abs($0) <= 1e-16 })

  lesson.say(
    """

    Backpropagation never needs J itself, only gᵀJ for the adjoint g arriving from above.
    Since J is symmetric:  Jᵀg = s ⊙ g − s (sᵀg) = s ⊙ (g − ⟨g, s⟩).
    That is O(n) work and memory, where forming J is O(n²). It is the fused softmax's VJP.
    """)
  let g: Tensor = [0.5, -1, 2]
  let viaMatrix = matmul(g.reshaped(to: [1, 3]), byCases).reshaped(to: [3])
  let fused = pullback(at: x, of: softmax)(g)
  let formula = s * (g - (g * s).sum())
  lesson.say("  gᵀJ by the matrix: \(show(viaMatrix))   s ⊙ (g − ⟨g, s⟩): \(show(formula))")
  lesson.check(
    "the fused VJP equals gᵀJ to rounding", fused.maxAbsoluteDifference(from: viaMatrix) <= 1e-15)
  lesson.check("and equals s ⊙ (g − ⟨g, s⟩)", fused.maxAbsoluteDifference(from: formula) <= 1e-15)
  let n = 10_000
  let fusedTape = Tape()
  _ = softmax(fusedTape.variable(.zeros([n])))
  lesson.say(
    "  For n = \(n), J would hold \(n * n) numbers; the fused softmax's tape holds \(fusedTape.cost.savedScalars)."
  )
  lesson.check("the fused tape keeps O(n) numbers, not n²", fusedTape.cost.savedScalars == 2 * n)

  // A picture: s₁ of softmax([t, 0]) (the logistic sigmoid) and its derivative, by the tape.
  let ts = stride(from: -6.0, through: 6.0, by: 0.1).map { $0 }
  let values = ts.map { softmax(Tensor([$0, 0]))[[0]] }
  let slopes = ts.map { t in
    gradient(at: Tensor(t)) { t in softmax(Tensor([1, 0]) * t.broadcasted(to: [2]))[0] }.scalar!
  }
  lesson.check(
    "for two classes with logits [t, 0], s₁ = σ(t), the logistic sigmoid, and ds₁/dt = s₁(1 − s₁)",
    zip(values, slopes).allSatisfy { abs($1 - $0 * (1 - $0)) <= 1e-15 })
  lesson.write(
    SVG.linePlot(
      title: "softmax([t, 0])₁ and its derivative", xLabel: "t", yLabel: "",
      series: [
        .init(name: "s₁ = softmax([t, 0])₁", color: "#1f77b4", points: Array(zip(ts, values))),
        .init(name: "ds₁/dt, by the tape", color: "#d62728", points: Array(zip(ts, slopes))),
      ], legendAtLeft: true),
    to: "softmax-derivative.svg")
}
