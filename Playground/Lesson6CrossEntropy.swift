import Backprop

func crossEntropyLesson(_ lesson: inout Lesson) {
  let z: Tensor = [2, 1, 0.1]
  let p = softmax(z)
  let y: Tensor = [1, 0, 0]
  lesson.say(
    """
    Cross-entropy of softmax: L = −Σ yᵢ log pᵢ with p = softmax(z) and one-hot labels y.
    Chain the two derivatives: ∂L/∂p = −y ⊘ p, then softmax's VJP p ⊙ (g − ⟨g, p⟩):
      p ⊙ (−y ⊘ p) = −y   and   ⟨−y ⊘ p, p⟩ = −Σ y = −1,   so   ∂L/∂z = −y + p = p − y.
    The division by p cancels, which is why frameworks fuse the two.

    z = \(show(z)), label 0:  p = \(show(p)),  p − y = \(show(p - y))
    """)
  let chained = pullback(at: z, of: softmax)(-y / p)
  let tape = gradient(at: z.reshaped(to: [1, 3])) { crossEntropy(logits: $0, labels: [0]) }
    .reshaped(to: [3])
  lesson.check(
    "softmax's VJP applied to −y ⊘ p is p − y", chained.maxAbsoluteDifference(from: p - y) <= 1e-15)
  lesson.check(
    "the tape's gradient of crossEntropy is p − y", tape.maxAbsoluteDifference(from: p - y) <= 1e-16
  )

  let logits = Tensor([[2, 1, 0.1], [0.5, 2.5, -1], [0, 0, 0], [-1, 3, 1]])
  let labels = [0, 1, 2, 1]
  let rows = Double(labels.count)
  let oneHot = Tensor(
    shape: [4, 3], scalars: labels.flatMap { label in (0..<3).map { $0 == label ? 1.0 : 0 } })
  let batched = gradient(at: logits) { crossEntropy(logits: $0, labels: labels) }
  let composed = gradient(at: logits) { composedCrossEntropy(logits: $0, labels: labels) }
  lesson.say(
    """

    Batched: for N rows the loss is the mean, so the gradient is (P − Y) / N, one row per
    example. With N = 4:
      (P − Y) / N = \(show((softmax(logits) - oneHot) / rows))
    """)
  lesson.check(
    "the batched gradient is (P − Y) / N",
    batched.maxAbsoluteDifference(from: (softmax(logits) - oneHot) / rows) <= 1e-16)
  lesson.check(
    "the composed cross-entropy agrees with the fused one",
    batched.maxAbsoluteDifference(from: composed) <= 1e-15)
  lesson.check(
    "each row of the gradient sums to 0 (Σ p = Σ y = 1)",
    batched.sum(alongAxes: 1).scalars.allSatisfy { abs($0) <= 1e-16 })
}
