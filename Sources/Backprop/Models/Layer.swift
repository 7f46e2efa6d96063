// Models: layers with parameters that are found without being listed, gradients keyed by the
// parameters' paths, and optimizers that update a model in place.

/// A trainable tensor of a layer, as PyTorch's `nn.Parameter`: its value, whether it is frozen,
/// and, while ``Layer/valueWithGradient(of:)`` runs, the tape variable standing for it.
///
/// A reference: a layer's parameter is the same object wherever the layer is reached from, so
/// that an optimizer updates it in place, as PyTorch's and MLX's modules do.
public final class Parameter {
  /// The current value.
  public var value: Tensor
  /// A frozen parameter is held constant: it gets no gradient and no update.
  public var isFrozen = false
  /// The tape variable bound to this parameter while a gradient is taken.
  var bound: Variable?

  /// A parameter holding `value`.
  public init(_ value: Tensor) { self.value = value }

  /// The parameter as a layer computes with it: its tape variable while a gradient is taken,
  /// otherwise a constant.
  public var variable: Variable { bound ?? Variable(value) }
}

/// A layer or a model: a function of a ``Variable`` whose parameters are the ``Parameter``s
/// in its stored properties, found by reflection, as MLX's `Module` finds them.
///
/// A stored property is searched when it is a `Parameter`, a `Layer`, an optional of one, or
/// an array of layers or of parameters; each parameter's path joins the property names and
/// array positions that lead to it (`layers.2.weight`), as PyTorch's `named_parameters()` does.
///
/// ```swift
/// final class Classifier: Layer {
///   let hidden = Linear(inputSize: 64, outputSize: 32, using: &generator)
///   let output = Linear(inputSize: 32, outputSize: 10, using: &generator)
///   func callAsFunction(_ x: Variable) -> Variable { output(relu(hidden(x))) }
/// }
/// Classifier().namedParameters.map(\.path)   // hidden.weight, hidden.bias, output.weight, …
/// ```
public protocol Layer: AnyObject {
  /// The layer's output for `input`.
  func callAsFunction(_ input: Variable) -> Variable
}

extension Layer {
  /// Every parameter reachable from this layer, each once, with its path, in the order of the
  /// stored properties.
  public var namedParameters: [(path: String, parameter: Parameter)] {
    var found: [(path: String, parameter: Parameter)] = []
    var seen: Set<ObjectIdentifier> = []
    collectParameters(in: self, path: "", into: &found, seen: &seen)
    return found
  }

  /// Every parameter, in the order of ``namedParameters``.
  public var parameters: [Parameter] { namedParameters.map(\.parameter) }

  /// The number of scalars in all the parameters.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.scalarCount } }

  /// Freezes every parameter of this layer: they get no gradient and no update.
  public func freeze() { for parameter in parameters { parameter.isFrozen = true } }

  /// Makes every parameter of this layer trainable again.
  public func unfreeze() { for parameter in parameters { parameter.isFrozen = false } }
}

/// A layer of the library that lists its own parameters, with the paths reflection would give
/// them: a mirror costs about a microsecond a property, half of a small model's training step.
protocol ListsParameters {
  func listParameters(
    path: String, into found: inout [(path: String, parameter: Parameter)],
    seen: inout Set<ObjectIdentifier>)
}

/// Adds the parameters reachable from `value` to `found`, each path prefixed with `path`: a
/// parameter itself, a layer's stored properties (its superclasses' first), or an array of
/// layers or of parameters; an optional is unwrapped by the casts. Nothing else is reflected,
/// so that a layer's sizes and names cost a failed cast each, not a mirror.
func collectParameters(
  in value: Any, path: String, into found: inout [(path: String, parameter: Parameter)],
  seen: inout Set<ObjectIdentifier>
) {
  func joined(_ label: String) -> String { path.isEmpty ? label : path + "." + label }
  if let parameter = value as? Parameter {
    if seen.insert(ObjectIdentifier(parameter)).inserted { found.append((path, parameter)) }
  } else if let layer = value as? any Layer {
    // A layer reached twice (shared weights) contributes its parameters once.
    guard seen.insert(ObjectIdentifier(layer)).inserted else { return }
    if let listing = layer as? any ListsParameters {
      listing.listParameters(path: path, into: &found, seen: &seen)
      return
    }
    var mirrors: [Mirror] = []
    var current: Mirror? = Mirror(reflecting: layer)
    while let level = current {
      mirrors.insert(level, at: 0)
      current = level.superclassMirror
    }
    for level in mirrors {
      for child in level.children {
        guard let label = child.label else { continue }
        collectParameters(in: child.value, path: joined(label), into: &found, seen: &seen)
      }
    }
  } else if let layers = value as? [any Layer] {
    for (position, layer) in layers.enumerated() {
      collectParameters(in: layer, path: joined("\(position)"), into: &found, seen: &seen)
    }
  } else if let parameters = value as? [Parameter] {
    for (position, parameter) in parameters.enumerated() {
      collectParameters(in: parameter, path: joined("\(position)"), into: &found, seen: &seen)
    }
  }
}

/// The gradients of a loss with respect to a model's trainable parameters, keyed by their
/// paths, in the order of ``Layer/namedParameters``.
///
/// Not `Sendable`: gradients that a model made hold its parameters, references that the model
/// shares, so that an optimizer steps them without searching the model again; they belong to
/// the model's task, as the model does. Their `paths` and `tensors` are `Sendable`, and
/// ``init(paths:tensors:)`` makes gradients from them on the other side.
public struct Gradients: CustomStringConvertible {
  /// The paths of the trainable parameters, in order.
  public let paths: [String]
  /// The gradient of each, of its parameter's shape, at the same position.
  public var tensors: [Tensor]
  /// The parameters themselves, and the model they were found in, when a model's
  /// `valueWithGradient` made these gradients: an optimizer then updates them without
  /// searching the model again.
  let parameters: [Parameter]?
  let model: ObjectIdentifier?

  /// Gradients of the parameters at `paths`, one tensor each.
  ///
  /// - Precondition: as many tensors as paths.
  public init(paths: [String], tensors: [Tensor]) {
    require(
      paths.count == tensors.count,
      "Gradients: \(paths.count) paths and \(tensors.count) tensors")
    (self.paths, self.tensors, self.parameters, self.model) = (paths, tensors, nil, nil)
  }

  init(paths: [String], tensors: [Tensor], parameters: [Parameter], model: ObjectIdentifier) {
    (self.paths, self.tensors, self.parameters, self.model) = (paths, tensors, parameters, model)
  }

  /// The gradient of the parameter at `path`, or nil if it has none (frozen, or no such path).
  public subscript(path: String) -> Tensor? {
    paths.firstIndex(of: path).map { tensors[$0] }
  }

  /// The Euclidean norm of all the gradients together: √(Σ g²).
  public var norm: Double {
    tensors.reduce(0.0) { total, g in total + g.scalars.reduce(0) { $0 + $1 * $1 } }
      .squareRoot()
  }

  /// The gradients scaled so that their norm is at most `maximum`, as PyTorch's
  /// `clip_grad_norm_`: g ← g · min(1, maximum / (‖g‖ + 10⁻⁶)).
  ///
  /// - Precondition: `maximum` > 0.
  public func clipped(toNorm maximum: Double) -> Gradients {
    require(maximum > 0, "Gradients.clipped(toNorm:): the norm \(maximum) is not positive")
    let scale = Swift.min(1, maximum / (norm + 1e-6))
    var result = self
    if scale < 1 { result.tensors = tensors.map { scale * $0 } }
    return result
  }

  /// One line per parameter: its path, shape and norm.
  public var description: String {
    zip(paths, tensors).map { path, g in
      "\(path) \(g.shape) ‖g‖ = \(g.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot())"
    }.joined(separator: "\n")
  }
}

extension Layer {
  /// The loss of this model and its gradients with respect to every trainable parameter,
  /// from one sweep of a private tape: each parameter is bound to a tape variable while
  /// `loss` runs, and is a constant again after.
  ///
  /// ```swift
  /// let (value, gradients) = model.valueWithGradient { m in meanSquaredError(m(x), y) }
  /// optimizer.update(model, along: gradients)
  /// ```
  ///
  /// A method rather than another `valueWithGradient(at:of:)`, so that the type checker has
  /// no more overloads to weigh where tensors are differentiated.
  ///
  /// - Precondition: `loss(self)` holds one scalar.
  public func valueWithGradient(of loss: (Self) -> Variable) -> (
    value: Tensor, gradients: Gradients
  ) {
    let trainable = namedParameters.filter { !$0.parameter.isFrozen }
    let (value, tensors) = valueWithGradients(
      at: trainable.map(\.parameter.value), op: "valueWithGradient(of:) of a model"
    ) { variables in
      for (entry, variable) in zip(trainable, variables) { entry.parameter.bound = variable }
      defer { for entry in trainable { entry.parameter.bound = nil } }
      return loss(self)
    }
    return (
      value,
      Gradients(
        paths: trainable.map(\.path), tensors: tensors, parameters: trainable.map(\.parameter),
        model: ObjectIdentifier(self))
    )
  }

  /// The gradients of this model's loss, as ``valueWithGradient(of:)`` gives them.
  public func gradient(of loss: (Self) -> Variable) -> Gradients {
    valueWithGradient(of: loss).gradients
  }

  /// Checks the gradient of `loss` in each trainable parameter, the others held at their
  /// values, against central differences (L(p + h eᵢ) − L(p − h eᵢ)) / 2h, entry by entry, as
  /// ``checkGradient(at:step:absoluteTolerance:relativeTolerance:of:)`` checks one tensor.
  ///
  /// ```swift
  /// let reports = model.checkGradient { m in crossEntropy(logits: m(x), labels: labels) }
  /// reports.allSatisfy { $0.report.passed }
  /// ```
  ///
  /// - Returns: a report per trainable parameter, with its path, in the order of
  ///   ``namedParameters``.
  /// - Precondition: `loss(self)` holds one scalar.
  public func checkGradient(
    step: Double = 1e-6, absoluteTolerance: Double = 1e-5, relativeTolerance: Double = 1e-3,
    of loss: (Self) -> Variable
  ) -> [(path: String, report: GradientCheckReport)] {
    namedParameters.filter { !$0.parameter.isFrozen }.map { path, parameter in
      let report = Backprop.checkGradient(
        at: parameter.value, step: step, absoluteTolerance: absoluteTolerance,
        relativeTolerance: relativeTolerance
      ) { variable in
        parameter.bound = variable
        defer { parameter.bound = nil }
        return loss(self)
      }
      return (path, report)
    }
  }
}

extension Layer {
  /// The trainable parameters in the order gradients list them, checked against `gradients`.
  func trainable(for gradients: Gradients, optimizer: String) -> [Parameter] {
    // Gradients this model made hold its parameters; others are matched by path.
    if gradients.model == ObjectIdentifier(self), let parameters = gradients.parameters {
      return parameters
    }
    let named = namedParameters.filter { !$0.parameter.isFrozen }
    require(
      named.map(\.path) == gradients.paths,
      "\(optimizer): the gradients are of \(gradients.paths.count) parameters "
        + "(\(gradients.paths.prefix(3).joined(separator: ", "))…), the model's trainable ones "
        + "\(named.count) (\(named.prefix(3).map(\.path).joined(separator: ", "))…)")
    return named.map(\.parameter)
  }
}

extension SGD {
  /// Takes one step on a model's trainable parameters, in place.
  ///
  /// - Precondition: `gradients` are of this model's trainable parameters.
  public mutating func update(_ model: some Layer, along gradients: Gradients) {
    let parameters = model.trainable(for: gradients, optimizer: "SGD")
    var values = parameters.map(\.value)
    update(&values, along: gradients.tensors)
    for (parameter, value) in zip(parameters, values) { parameter.value = value }
  }
}

extension Adam {
  /// Takes one step on a model's trainable parameters, in place.
  ///
  /// - Precondition: `gradients` are of this model's trainable parameters.
  public mutating func update(_ model: some Layer, along gradients: Gradients) {
    let parameters = model.trainable(for: gradients, optimizer: "Adam")
    var values = parameters.map(\.value)
    update(&values, along: gradients.tensors)
    for (parameter, value) in zip(parameters, values) { parameter.value = value }
  }
}
