import Backprop

// MARK: - W12: one training step of a model of layers

/// One Adam step of the digits MLP (64-32-10, relu, mean cross-entropy) through the model API:
/// the loss and gradients by `model.valueWithGradient`, then `optimizer.update(model, …)`, at
/// batch 32 and 256, against the forward pass alone. PyTorch's step (forward, backward,
/// `optimizer.step()`) is timed by Sources/Benchmarks/peers.py W12; the targets are at most
/// 0.5× its time at batch 32 and 1.0× at 256.
func trainingStep(_ settings: Settings) -> [Row] {
  [32, 256].map { batch in
    var generator = SeededGenerator(seed: 12)
    let model = MLP(sizes: [64, 32, 10], activation: .relu, using: &generator)
    let x = Variable(Tensor.random([batch, 64], in: 0...1, using: &generator))
    let labels = (0..<batch).map { _ in Int.random(in: 0..<10, using: &generator) }
    var optimizer = Adam(learningRate: 1e-3)
    func step() {
      let (_, gradients) = model.valueWithGradient { m in crossEntropy(logits: m(x), labels: labels)
      }
      optimizer.update(model, along: gradients)
    }
    func forward() -> Tensor { crossEntropy(logits: model(x), labels: labels).value }
    let times = medians(settings, [{ step() }, { consume(forward()) }])
    return Row(
      workload: "W12 digits MLP step, batch \(batch)", variant: "Adam step on the model",
      seconds: times[0], baseline: "forward alone", baselineSeconds: times[1],
      target: batch == 32 ? "≤ 0.5× PyTorch" : "≤ 1.0× PyTorch", met: nil,
      note: "PyTorch in Sources/Benchmarks/peers.py W12")
  }
}
