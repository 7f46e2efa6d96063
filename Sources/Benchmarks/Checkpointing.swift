import Backprop
import Foundation

// MARK: - W10: checkpointing, memory for time

/// The gradient of a long scalar chain and of a deep tanh network, with and without
/// checkpoints: time as a ratio against no checkpoints, and the bytes the tape holds after the
/// forward pass (the recorded entries, which is what checkpointing saves) in the note.
func checkpointing(_ settings: Settings) -> [Row] {
  var rows: [Row] = []
  var once = settings
  once.repeatsOverride = settings.quick ? 1 : 3

  // A chain of n steps y ← tanh(1.01 y + 0.1), as √n segments of √n steps.
  let steps = settings.quick ? 10_000 : 10_000_000
  let segmentLength = Int(Double(steps).squareRoot())
  let step: (Variable) -> Variable = { y in tanh(1.01 * y + 0.1) }
  let segment = checkpointed { y in (0..<segmentLength).reduce(y) { y, _ in step(y) } }
  var bytes = (plain: 0, checkpointed: 0)
  func chain(_ checkpoints: Bool) -> Double {
    let tape = Tape()
    let x = tape.variable(Tensor(0.3))
    let y =
      checkpoints
      ? (0..<(steps / segmentLength)).reduce(x) { y, _ in segment(y) }
      : (0..<steps).reduce(x) { y, _ in step(y) }
    if checkpoints { bytes.checkpointed = tape.cost.bytes } else { bytes.plain = tape.cost.bytes }
    return tape.gradient(of: y, wrt: x).scalar!
  }
  let (plain, withCheckpoints) = (chain(false), chain(true))
  let times = medians(once, [{ consume(chain(false)) }, { consume(chain(true)) }])
  rows.append(
    Row(
      workload: "W10 chain of \(steps) tanh", variant: "√n checkpoints", seconds: times[1],
      baseline: "no checkpoints", baselineSeconds: times[0], target: "", met: nil,
      note: String(
        format: "tape %.1f MB → %.3f MB after the forward pass; gradients %@",
        Double(bytes.plain) / 1e6,
        Double(bytes.checkpointed) / 1e6,
        plain.bitPattern == withCheckpoints.bitPattern ? "bit-identical" : "DIFFER")))

  // A deep network: L layers x ← tanh(x W) over [n, n], each layer checkpointed.
  let (layers, width) = settings.quick ? (4, 16) : (100, 256)
  var generator = SeededGenerator(seed: 10)
  let weights = Tensor.normal(
    [width, width], standardDeviation: 1 / Double(width).squareRoot(), using: &generator)
  let x0 = Tensor.normal([width, width], using: &generator)
  let layer: (Variable) -> Variable = { x in tanh(matmul(x, Variable(weights))) }
  let checkpointedLayer = checkpointed(layer)
  var networkBytes = (plain: 0, checkpointed: 0)
  func network(_ checkpoints: Bool) -> Tensor {
    let tape = Tape()
    let x = tape.variable(x0)
    let y = (0..<layers).reduce(x) { y, _ in checkpoints ? checkpointedLayer(y) : layer(y) }
    let loss = (y * y).mean()
    if checkpoints {
      networkBytes.checkpointed = tape.cost.bytes
    } else {
      networkBytes.plain = tape.cost.bytes
    }
    return tape.gradient(of: loss, wrt: x)
  }
  let (plainGradient, checkpointedGradient) = (network(false), network(true))
  let networkTimes = medians(once, [{ consume(network(false)) }, { consume(network(true)) }])
  rows.append(
    Row(
      workload: "W10 \(layers)-layer tanh [\(width), \(width)]", variant: "a checkpoint a layer",
      seconds: networkTimes[1], baseline: "no checkpoints", baselineSeconds: networkTimes[0],
      target: "", met: nil,
      note: String(
        format: "tape %.1f MB → %.1f MB; gradients %@", Double(networkBytes.plain) / 1e6,
        Double(networkBytes.checkpointed) / 1e6,
        plainGradient == checkpointedGradient ? "bit-identical" : "DIFFER")))
  return rows
}
