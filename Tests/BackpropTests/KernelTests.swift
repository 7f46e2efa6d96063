import Testing

@testable import Backprop

/// Each fast kernel against the rule it speeds up: the rule is the definition (and what runs
/// when the backward pass is itself recorded), the kernel the same arithmetic in fewer passes.
@Suite("Fast kernels agree with their rules")
struct KernelTests {
  @Test(arguments: [[1, 1], [1, 7], [4, 3], [3, 100]])
  func softmaxPullback(shape: [Int]) {
    var generator = SeededGenerator(seed: UInt64(shape.reduce(1, *)))
    let y = softmax(Tensor.random(shape, scale: 5, using: &generator))
    let g = Tensor.random(shape, using: &generator)
    expectClose(Softmax.kernel(g, y: y), Softmax.rule(g, y: y), tolerance: 1e-16)
  }

  @Test(arguments: [[1, 1], [1, 7], [4, 3], [3, 100]])
  func crossEntropyPullback(shape: [Int]) {
    var generator = SeededGenerator(seed: UInt64(shape.reduce(1, *)))
    let logits = Tensor.random(shape, scale: 5, using: &generator)
    let labels = Tensor(
      (0..<shape[0]).map { _ in Double(Int.random(in: 0..<shape[1], using: &generator)) })
    let (_, probabilities) = CrossEntropy.forward(logits, labels)
    let seed = Tensor(1.7)
    expectClose(
      CrossEntropy.kernel(seed, probabilities: probabilities, labels: labels),
      CrossEntropy.rule(seed, logits: logits, labels: labels), tolerance: 2.5e-16)
  }

  @Test func fusedCrossEntropyMatchesItsComposedTwin() {
    var generator = SeededGenerator(seed: 77)
    let logits = Tensor.random([5, 4], scale: 3, using: &generator)
    let labels = [3, 0, 1, 1, 2]
    let fused = valueWithGradient(at: logits) { crossEntropy(logits: $0, labels: labels) }
    let composed = valueWithGradient(at: logits) {
      composedCrossEntropy(logits: $0, labels: labels)
    }
    expectClose(fused.value, composed.value, tolerance: 1e-15)
    expectClose(fused.gradient, composed.gradient, tolerance: 1e-16)
    let h = hessian(at: logits.reshaped(to: [20])) {
      crossEntropy(logits: $0.reshaped(to: [5, 4]), labels: labels)
    }
    let twin = hessian(at: logits.reshaped(to: [20])) {
      composedCrossEntropy(logits: $0.reshaped(to: [5, 4]), labels: labels)
    }
    expectClose(h, twin, tolerance: 1e-15)
  }
}
