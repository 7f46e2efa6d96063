import Foundation

// Optimizers over parameters held as tensors, with the update rules of PyTorch's `torch.optim`
// (its documentation gives them as pseudocode; the tests check each against steps computed by
// hand from it). A training step is then: one tape (a `gradient(at:of:)` call), the loss, the
// gradients, and `optimizer.update(&parameters, along: gradients)`.

/// Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay, as
/// PyTorch's `SGD`:
///
///     g ← ∇ + λ θ                        (weight decay λ)
///     b ← μ b + g   (b = g on the first step)   (momentum μ)
///     g ← g + μ b  with Nesterov, else  g ← b
///     θ ← θ − η g                        (learning rate η)
///
/// ```swift
/// var optimizer = SGD(learningRate: 0.1, momentum: 0.9)
/// for _ in 0..<100 {
///   let gradients = gradient(at: parameters) { p in loss(p) }
///   optimizer.update(&parameters, along: gradients)
/// }
/// ```
public struct SGD: Sendable {
  /// η, the step size.
  public var learningRate: Double
  /// μ, the momentum coefficient; 0 for plain gradient descent.
  public var momentum: Double
  /// Whether to use Nesterov momentum (which needs μ > 0).
  public var nesterov: Bool
  /// λ, the L2 penalty added to each gradient as λ θ.
  public var weightDecay: Double
  /// The momentum buffers, one per parameter, empty until the first step.
  public private(set) var velocities: [Tensor] = []

  /// - Precondition: η > 0, μ ≥ 0, λ ≥ 0, and μ > 0 if Nesterov.
  public init(
    learningRate: Double, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0
  ) {
    require(
      learningRate > 0 && momentum >= 0 && weightDecay >= 0 && (!nesterov || momentum > 0),
      "SGD: learning rate \(learningRate), momentum \(momentum), weight decay \(weightDecay) "
        + "and Nesterov \(nesterov) are not a valid configuration")
    (self.learningRate, self.momentum, self.nesterov, self.weightDecay) =
      (learningRate, momentum, nesterov, weightDecay)
  }

  /// Takes one step: moves each parameter against its gradient.
  ///
  /// - Precondition: one gradient per parameter, of its shape, and the same parameters
  ///   (by count and shape) on every step.
  public mutating func update(_ parameters: inout [Tensor], along gradients: [Tensor]) {
    checkStep(parameters, gradients, optimizer: "SGD")
    require(
      velocities.isEmpty || momentum == 0 || velocities.count == parameters.count,
      "SGD: \(parameters.count) parameters, but \(velocities.count) on earlier steps")
    let firstStep = velocities.isEmpty
    for index in parameters.indices {
      var g = gradients[index]
      if weightDecay != 0 { g = g + weightDecay * parameters[index] }
      if momentum != 0 {
        if firstStep {
          velocities.append(g)
        } else {
          requireSameShape(velocities[index], parameters[index], optimizer: "SGD")
          velocities[index] = momentum * velocities[index] + g
        }
        g = nesterov ? g + momentum * velocities[index] : velocities[index]
      }
      parameters[index] = parameters[index] - learningRate * g
    }
  }
}

/// Adam, as PyTorch's `Adam` (with its L2 weight decay added to the gradient):
///
///     g ← ∇ + λ θ
///     m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
///     m̂ ← m / (1 − β₁ᵗ),       v̂ ← v / (1 − β₂ᵗ)
///     θ ← θ − η m̂ / (√v̂ + ε)
public struct Adam: Sendable {
  /// η, the step size.
  public var learningRate: Double
  /// β₁, the decay of the first-moment estimate.
  public var beta1: Double
  /// β₂, the decay of the second-moment estimate.
  public var beta2: Double
  /// ε, added to √v̂ so that a zero second moment does not divide by zero.
  public var epsilon: Double
  /// λ, the L2 penalty added to each gradient as λ θ.
  public var weightDecay: Double
  /// The step count t, 0 before the first step.
  public private(set) var step = 0
  /// The first- and second-moment estimates, one per parameter, empty until the first step.
  public private(set) var firstMoments: [Tensor] = []
  /// The second-moment estimates.
  public private(set) var secondMoments: [Tensor] = []

  /// - Precondition: η > 0, 0 ≤ β₁, β₂ < 1, ε > 0, λ ≥ 0.
  public init(
    learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
    epsilon: Double = 1e-8, weightDecay: Double = 0
  ) {
    require(
      learningRate > 0 && (0..<1).contains(beta1) && (0..<1).contains(beta2) && epsilon > 0
        && weightDecay >= 0,
      "Adam: learning rate \(learningRate), betas \(beta1) and \(beta2), epsilon \(epsilon) "
        + "and weight decay \(weightDecay) are not a valid configuration")
    (self.learningRate, self.beta1, self.beta2, self.epsilon, self.weightDecay) =
      (learningRate, beta1, beta2, epsilon, weightDecay)
  }

  /// Takes one step.
  ///
  /// - Precondition: one gradient per parameter, of its shape, and the same parameters on
  ///   every step.
  public mutating func update(_ parameters: inout [Tensor], along gradients: [Tensor]) {
    checkStep(parameters, gradients, optimizer: "Adam")
    require(
      firstMoments.isEmpty || firstMoments.count == parameters.count,
      "Adam: \(parameters.count) parameters, but \(firstMoments.count) on earlier steps")
    if firstMoments.isEmpty {
      firstMoments = parameters.map { .zeros($0.shape) }
      secondMoments = parameters.map { .zeros($0.shape) }
    }
    step += 1
    let correction1 = 1 - Foundation.pow(beta1, Double(step))
    let correction2 = 1 - Foundation.pow(beta2, Double(step))
    let (beta1, beta2, epsilon, learningRate, weightDecay) = (
      self.beta1, self.beta2, self.epsilon, self.learningRate, self.weightDecay
    )
    for index in parameters.indices {
      requireSameShape(firstMoments[index], parameters[index], optimizer: "Adam")
      // The rule above, scalar by scalar in one pass over the four tensors, in place: the same
      // operations in the same order as the tensor expressions, so the same bits, without a
      // temporary tensor per operation (they were most of a small model's step).
      gradients[index].withUnsafeScalars { g in
        firstMoments[index].withUnsafeMutableScalars { m in
          secondMoments[index].withUnsafeMutableScalars { v in
            parameters[index].withUnsafeMutableScalars { theta in
              for i in 0..<theta.count {
                let gi = weightDecay != 0 ? g[i] + weightDecay * theta[i] : g[i]
                m[i] = beta1 * m[i] + (1 - beta1) * gi
                v[i] = beta2 * v[i] + (1 - beta2) * (gi * gi)
                let corrected = m[i] / correction1
                let scale = (v[i] / correction2).squareRoot() + epsilon
                theta[i] = theta[i] - learningRate * (corrected / scale)
              }
            }
          }
        }
      }
    }
  }
}

/// Checks one gradient per parameter, each of its parameter's shape.
private func checkStep(_ parameters: [Tensor], _ gradients: [Tensor], optimizer: String) {
  require(
    parameters.count == gradients.count,
    "\(optimizer): \(parameters.count) parameters but \(gradients.count) gradients")
  for (index, (p, g)) in zip(parameters, gradients).enumerated() {
    require(
      p.shape == g.shape,
      "\(optimizer): parameter \(index) has shape \(p.shape), its gradient \(g.shape)")
  }
}

/// Checks that a parameter kept its shape between steps.
private func requireSameShape(_ state: Tensor, _ parameter: Tensor, optimizer: String) {
  require(
    state.shape == parameter.shape,
    "\(optimizer): a parameter changed shape from \(state.shape) to \(parameter.shape) "
      + "between steps")
}
