// Checkpointing: memory for time (JAX's `checkpoint`, PyTorch's `torch.utils.checkpoint`).
// A checkpointed region is one custom entry on the tape: its forward pass runs on constants,
// so none of its intermediate values are kept, and its VJP runs it again on a private tape
// and sweeps that. The gradient is the same arithmetic as without the checkpoint.

/// A function that records `region` as one entry and recomputes it in the backward sweep,
/// instead of keeping its intermediate entries on the tape.
///
/// Splitting a chain of n steps into √n checkpointed segments keeps O(√n) entries instead of
/// O(n), for one extra forward pass of each segment. The gradient is bit for bit the one
/// without checkpoints when the region's input is used only by the region (as in a chain); when
/// the input is used elsewhere too, its contributions are added in another grouping, so the
/// gradient agrees to rounding. Hessians through a checkpoint are exact: its VJP recomputes the
/// region on the caller's tape when the sweep is recorded.
///
/// ```swift
/// let layer = checkpointed { x in tanh(matmul(x, Variable(w))) }
/// let g = gradient(at: x0) { x in (0..<100).reduce(x) { y, _ in layer(y) }.sum() }
/// ```
public func checkpointed(
  _ region: @escaping (Variable) -> Variable
) -> (Variable) -> Variable {
  { x in x.applying(Checkpoint(region: region)) }
}

/// A checkpointed region as a custom operation.
struct Checkpoint: RecordableCustomOperation {
  let name = "checkpoint"
  let region: (Variable) -> Variable

  /// The region on a constant: evaluated at once, nothing recorded.
  func forward(_ x: Tensor) -> Tensor { region(Variable(x)).value }

  /// The region again, on a private tape, swept with the cotangent.
  func pullback(_ cotangent: Tensor, input x: Tensor, output y: Tensor) -> Tensor {
    let tape = Tape()
    let input = tape.variable(x)
    let output = region(input)
    return tape.pullback(
      of: output, seed: cotangent, wrt: input, op: "checkpoint", consuming: true)
  }

  /// The region again, on the caller's tape, and its pullback recorded there: differentiable.
  func pullback(_ cotangent: Variable, input x: Variable, output y: Variable) -> Variable {
    let output = region(x)
    guard let tape = x.tape, let index = output.index, let input = x.index else {
      return Variable(.zeros(x.shape))
    }
    // Down to the entry above x only: what lies below x is the outer sweep's to do.
    let adjoints: [Variable?] = tape.reverseSweep(
      from: Int32(index), seed: cotangent, downTo: input + 1)
    return input < adjoints.count
      ? adjoints[input] ?? Variable(.zeros(x.shape)) : Variable(.zeros(x.shape))
  }
}
