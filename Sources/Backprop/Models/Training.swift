import Foundation

// What every training loop writes by hand: a data set in shuffled mini-batches, a learning-rate
// schedule, AdamW, and accuracy.

/// The positions 0..<count shuffled by `generator` (Fisher–Yates), then cut into batches of
/// `batchSize` (the last may be shorter): one epoch's order, the same for the same seed.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// for batch in shuffledBatches(count: 1_000, batchSize: 32, using: &generator) {
///   let (x, y) = (images.gathering(atIndices: batch), labels.gathering(atIndices: batch))
///   …
/// }
/// ```
///
/// - Precondition: count ≥ 0 and batchSize > 0.
public func shuffledBatches(
  count: Int, batchSize: Int, using generator: inout some RandomNumberGenerator
) -> [[Int]] {
  require(
    count >= 0 && batchSize > 0,
    "shuffledBatches(count:batchSize:using:): count \(count) and batch size \(batchSize)")
  var order = Array(0..<count)
  if count > 1 {
    for i in stride(from: count - 1, to: 0, by: -1) {
      order.swapAt(i, Int(generator.next(upperBound: UInt64(i + 1))))
    }
  }
  return stride(from: 0, to: count, by: batchSize).map {
    Array(order[$0..<Swift.min($0 + batchSize, count)])
  }
}

/// A learning rate that changes with the step, as PyTorch's schedulers give it:
///
///     constant:              η_t = η
///     step(every: k, factor: γ):   η_t = η γ^⌊t/k⌋                     (StepLR)
///     cosine(steps: T, minimum: η_min):
///                            η_t = η_min + (η − η_min)(1 + cos(π t/T))/2,  t ≤ T   (CosineAnnealingLR)
///
/// and η_min after T for the cosine, where PyTorch's would rise again.
public enum LearningRateSchedule: Sendable, Equatable {
  case constant
  case step(every: Int, factor: Double)
  case cosine(steps: Int, minimum: Double = 0)

  /// η_t for the base rate η at step t (counted from 0).
  ///
  /// - Precondition: t ≥ 0; a step schedule's k and a cosine's T are positive.
  public func rate(_ base: Double, at step: Int) -> Double {
    require(step >= 0, "LearningRateSchedule.rate(_:at:): step \(step) is negative")
    switch self {
    case .constant:
      return base
    case .step(let every, let factor):
      require(every > 0, "LearningRateSchedule.step: every \(every) is not positive")
      return base * Foundation.pow(factor, Double(step / every))
    case .cosine(let steps, let minimum):
      require(steps > 0, "LearningRateSchedule.cosine: steps \(steps) is not positive")
      let t = Double(Swift.min(step, steps))
      return minimum + (base - minimum) * (1 + Foundation.cos(Double.pi * t / Double(steps))) / 2
    }
  }
}

/// AdamW, as PyTorch's `AdamW`: Adam with the weight decay decoupled from the gradient,
///
///     θ ← θ (1 − η λ)
///     then Adam's step on θ with the gradient as it is (no λ θ added to it),
///
/// so that the decay does not pass through the moment estimates. λ is 0.01 by default, as
/// PyTorch's.
public struct AdamW: Sendable {
  /// Adam's rule, with no L2 term of its own.
  public private(set) var adam: Adam
  /// λ, the decoupled weight decay.
  public var weightDecay: Double

  /// η, the step size.
  public var learningRate: Double {
    get { adam.learningRate }
    set { adam.learningRate = newValue }
  }

  /// - Precondition: as for ``Adam``'s, and λ ≥ 0.
  public init(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
    epsilon: Double = 1e-8, weightDecay: Double = 0.01
  ) {
    require(weightDecay >= 0, "AdamW: weight decay \(weightDecay) is negative")
    adam = Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon)
    self.weightDecay = weightDecay
  }

  /// Takes one step: the decay, then Adam's.
  ///
  /// - Precondition: one gradient per parameter, of its shape, and the same parameters on
  ///   every step, as for Adam.
  public mutating func update(_ parameters: inout [Tensor], along gradients: [Tensor]) {
    if weightDecay != 0 {
      let kept = 1 - learningRate * weightDecay
      for index in parameters.indices { parameters[index] = kept * parameters[index] }
    }
    adam.update(&parameters, along: gradients)
  }

  /// Takes one step on a model's trainable parameters, in place.
  public mutating func update(_ model: some Layer, along gradients: Gradients) {
    let parameters = model.trainable(for: gradients, optimizer: "AdamW")
    var values = parameters.map(\.value)
    update(&values, along: gradients.tensors)
    for (parameter, value) in zip(parameters, values) { parameter.value = value }
  }
}

/// The fraction of rows of `logits` ([N, C]) whose largest entry is at the row's label, the
/// first of ties counting: (1/N) Σₙ [argmax logitsₙ = labelₙ]; 0 for no rows.
///
/// - Precondition: logits is a matrix with one row per label.
public func accuracy(logits: Tensor, labels: [Int]) -> Double {
  require(
    logits.rank == 2 && logits.shape[0] == labels.count,
    "accuracy(logits:labels:): logits \(logits.shape) for \(labels.count) labels")
  guard !labels.isEmpty else { return 0 }
  let predicted = logits.argmax(alongAxis: 1).scalars
  let correct = zip(predicted, labels).filter { Int($0) == $1 }.count
  return Double(correct) / Double(labels.count)
}
