import Backprop
import Foundation
import Testing

/// Training the digits MLP gives PyTorch's numbers: the setup of
/// Tests/Reference/digits_training.py, whose PyTorch losses are DigitsTrainingReference.swift.
@Suite("The digits MLP trains as in PyTorch")
struct DigitsTrainingTests {
  /// Entry i is ((i · 7919 + seed) mod 1000 − 500) / scale: exact in both languages.
  static func initial(_ shape: [Int], seed: Int, scale: Double) -> Tensor {
    let count = shape.reduce(1, *)
    return Tensor(
      shape: shape, scalars: (0..<count).map { Double(($0 * 7919 + seed) % 1000 - 500) / scale })
  }

  @Test("The first 20 Adam steps' losses are PyTorch's to 1e-12, relative")
  func lossesMatchPyTorch() {
    let lines = digitsTrainingImages.split(separator: "\n").map(Array.init)
    let images = lines.flatMap { $0[0..<64].map { Double(Int(String($0), radix: 17)!) / 16 } }
    let labels = lines.map { Int(String($0[64]))! }
    #expect(labels.count == 640)
    let model = Sequential(
      Linear(
        weight: Self.initial([32, 64], seed: 1, scale: 4000),
        bias: Self.initial([32], seed: 2, scale: 4000)),
      Activation.relu,
      Linear(
        weight: Self.initial([10, 32], seed: 3, scale: 2000),
        bias: Self.initial([10], seed: 4, scale: 2000)))
    var optimizer = Adam(learningRate: 0.01)
    var losses: [Double] = []
    for step in 0..<20 {
      let rows = (32 * step)..<(32 * step + 32)
      let x = Variable(
        Tensor(
          shape: [32, 64], scalars: Array(images[(64 * rows.lowerBound)..<(64 * rows.upperBound)])))
      let y = Array(labels[rows])
      let (loss, gradients) = model.valueWithGradient { m in crossEntropy(logits: m(x), labels: y) }
      optimizer.update(model, along: gradients)
      losses.append(loss.scalar!)
    }
    #expect(pyTorchDigitsLosses.count == 20)
    for (step, (ours, theirs)) in zip(losses, pyTorchDigitsLosses).enumerated() {
      #expect(abs(ours - theirs) <= 1e-12 * abs(theirs), "step \(step): \(ours) against \(theirs)")
    }
    let worst = zip(losses, pyTorchDigitsLosses).map { abs($0 - $1) / abs($1) }.max()!
    print("digits: the largest relative difference from PyTorch over 20 steps is \(worst)")
  }
}
