import Backprop
import Foundation

// MARK: - W8: the gradient of mean((A B)²); W9: a two-layer network step

/// The gradient of L = mean((A B)²) with respect to both A and B, for square matrices: three
/// matrix products (C = AB, Ā = C̄ Bᵀ, B̄ = Aᵀ C̄), reported in GFLOP/s (2n³ flops each) and as
/// a ratio against the same products done by the textbook row-update loop in this run.
func matrixProductGradient(_ settings: Settings) -> [Row] {
  var rows: [Row] = []
  for n in settings.quick ? [64] : [256, 512, 1024] {
    var generator = SeededGenerator(seed: UInt64(n))
    let a = Tensor.normal([n, n], using: &generator)
    let b = Tensor.normal([n, n], using: &generator)
    func backprop() -> (Tensor, Tensor) {
      gradient(at: a, b) { a, b in
        let c = matmul(a, b)
        return (c * c).mean()
      }
    }
    func loop() -> [Double] {
      // The same three products and the same elementwise work, by the i-p-j loop.
      let (x, y) = (a.scalars, b.scalars)
      func product(_ p: [Double], _ q: [Double], transposeP: Bool, transposeQ: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
          for k in 0..<n {
            let pik = transposeP ? p[k * n + i] : p[i * n + k]
            for j in 0..<n { out[i * n + j] += pik * (transposeQ ? q[j * n + k] : q[k * n + j]) }
          }
        }
        return out
      }
      let c = product(x, y, transposeP: false, transposeQ: false)
      let scale = 2 / Double(n * n)
      let cBar = c.map { $0 * scale }
      return product(cBar, y, transposeP: false, transposeQ: true)
        + product(x, cBar, transposeP: true, transposeQ: false)
    }
    let times = medians(settings, [{ consume(backprop()) }, { consume(loop()) }])
    let flops = 3 * 2 * pow(Double(n), 3)
    rows.append(
      Row(
        workload: "W8 ∇ mean((AB)²) \(n)×\(n)", variant: "both gradients", seconds: times[0],
        baseline: "row-update loop", baselineSeconds: times[1], target: "", met: nil,
        note: String(
          format: "%.1f GFLOP/s (loop %.1f); NumPy and PyTorch in Sources/Benchmarks/peers.py",
          flops / times[0] / 1e9, flops / times[1] / 1e9)))
  }
  return rows
}

/// One training step of a two-layer network: X [1024, 256], W₁ [256, 256], tanh, W₂ [256, 10],
/// cross-entropy, gradients with respect to both weights.
func twoLayerStep(_ settings: Settings) -> [Row] {
  let (batch, width, classes) = settings.quick ? (64, 32, 10) : (1024, 256, 10)
  var generator = SeededGenerator(seed: 9)
  let x = Tensor.normal([batch, width], using: &generator)
  let w1 = Tensor.normal(
    [width, width], standardDeviation: 1 / Double(width).squareRoot(), using: &generator)
  let w2 = Tensor.normal([width, classes], standardDeviation: 0.1, using: &generator)
  let labels = (0..<batch).map { _ in Int.random(in: 0..<classes, using: &generator) }
  func step() -> [Tensor] {
    gradient(at: [w1, w2]) { p in
      crossEntropy(logits: matmul(tanh(matmul(Variable(x), p[0])), p[1]), labels: labels)
    }
  }
  func forward() -> Tensor {
    crossEntropy(
      logits: matmul(tanh(matmul(Variable(x), Variable(w1))), Variable(w2)), labels: labels
    ).value
  }
  let times = medians(settings, [{ consume(step()) }, { consume(forward()) }])
  return [
    Row(
      workload: "W9 two-layer step \(batch)×\(width)", variant: "loss + both gradients",
      seconds: times[0], baseline: "forward alone", baselineSeconds: times[1], target: "",
      met: nil, note: "PyTorch in Sources/Benchmarks/peers.py")
  ]
}
