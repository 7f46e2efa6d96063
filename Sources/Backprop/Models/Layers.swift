// The layers a small network is built from: PyTorch's names, weight layout and initialization.

/// A fully connected layer, as PyTorch's `nn.Linear`: y = x Wᵀ + b, with W of shape
/// [outputSize, inputSize] and b of shape [outputSize]; x is [inputSize] or [batch, inputSize].
/// ∂y/∂W = ȳᵀ x and ∂y/∂b = Σ over the batch of ȳ, by the matrix product's and broadcasting's
/// VJPs.
///
/// Initialized as PyTorch initializes it: every entry of W and b uniform in ±1/√inputSize.
public final class Linear: Layer {
  /// W, of shape [outputSize, inputSize].
  public let weight: Parameter
  /// b, of shape [outputSize], or nil for a layer without bias.
  public let bias: Parameter?
  /// The size of the last axis of an input.
  public let inputSize: Int
  /// The size of the last axis of an output.
  public let outputSize: Int
  /// Where the layer sits in its model, for messages (`layers.2`), when a container set it.
  public internal(set) var name: String?

  /// A layer with weights drawn uniformly from ±1/√inputSize by `generator`, as PyTorch's.
  ///
  /// - Precondition: both sizes are positive.
  public init(
    inputSize: Int, outputSize: Int, bias: Bool = true,
    using generator: inout some RandomNumberGenerator
  ) {
    require(
      inputSize > 0 && outputSize > 0,
      "Linear: sizes \(inputSize) → \(outputSize) must be positive")
    let bound = 1 / Double(inputSize).squareRoot()
    (self.inputSize, self.outputSize) = (inputSize, outputSize)
    weight = Parameter(.random([outputSize, inputSize], in: -bound...bound, using: &generator))
    self.bias =
      bias ? Parameter(.random([outputSize], in: -bound...bound, using: &generator)) : nil
  }

  /// A layer with the given weight, [outputSize, inputSize], and bias, [outputSize] or nil.
  ///
  /// - Precondition: the weight is a matrix and the bias, if any, has its row count.
  public init(weight: Tensor, bias: Tensor?) {
    require(
      weight.rank == 2 && (bias == nil || bias!.shape == [weight.shape[0]]),
      "Linear: weight \(weight.shape) and bias \(bias?.shape.description ?? "nil") do not fit")
    (outputSize, inputSize) = (weight.shape[0], weight.shape[1])
    self.weight = Parameter(weight)
    self.bias = bias.map(Parameter.init)
  }

  /// x Wᵀ + b.
  ///
  /// - Precondition: x is [inputSize] or [batch, inputSize].
  public func callAsFunction(_ x: Variable) -> Variable {
    guard (1...2).contains(x.shape.count), x.shape.last == inputSize else {
      fail(
        "\(description): the input has shape \(x.shape), where [\(inputSize)] or "
          + "[batch, \(inputSize)] was expected")
    }
    let product = matmul(x, weight.variable.transposed())
    guard let bias else { return product }
    return product + bias.variable
  }

  /// `Linear(64 → 10)`, with its place in the model if a container named it.
  public var description: String {
    "Linear(\(inputSize) → \(outputSize))" + (name.map { " at \($0)" } ?? "")
  }
}

/// A function without parameters as a layer: relu, tanh, sigmoid, gelu, or any other.
public final class Activation: Layer {
  /// The function's name, for descriptions.
  public let name: String
  private let function: (Variable) -> Variable

  /// A layer that applies `function`, called `name`.
  public init(_ name: String, _ function: @escaping (Variable) -> Variable) {
    (self.name, self.function) = (name, function)
  }

  /// function(x).
  public func callAsFunction(_ x: Variable) -> Variable { function(x) }

  /// relu(x) = max(x, 0), with relu′(0) = 0.
  public static var relu: Activation { Activation("relu", Backprop.relu) }
  /// tanh(x).
  public static var tanh: Activation { Activation("tanh", Backprop.tanh) }
  /// σ(x) = 1/(1 + e⁻ˣ).
  public static var sigmoid: Activation { Activation("sigmoid", Backprop.sigmoid) }
  /// gelu(x) = x Φ(x).
  public static var gelu: Activation { Activation("gelu", Backprop.gelu) }
}

/// Layers applied in order, as PyTorch's `nn.Sequential`: y = fₙ(… f₂(f₁(x))). The parameters'
/// paths begin with the layer's position: `layers.0.weight`.
public final class Sequential: Layer {
  /// The layers, first to last.
  public let layers: [any Layer]

  /// The layers, first to last.
  public init(_ layers: [any Layer]) {
    self.layers = layers
    for (position, layer) in layers.enumerated() {
      if let linear = layer as? Linear, linear.name == nil { linear.name = "layers.\(position)" }
    }
  }

  /// The layers, first to last.
  public convenience init(_ layers: any Layer...) { self.init(layers) }

  /// fₙ(… f₁(x)).
  public func callAsFunction(_ x: Variable) -> Variable {
    layers.reduce(x) { input, layer in layer(input) }
  }
}

/// A multilayer perceptron: a ``Linear`` layer between each pair of consecutive sizes, with
/// `activation` between them (not after the last), as micrograd's `MLP` and a
/// `nn.Sequential` of `nn.Linear` and activations.
///
/// ```swift
/// var generator = SeededGenerator(seed: 0)
/// let model = MLP(sizes: [2, 16, 16, 1], activation: .relu, using: &generator)
/// model.namedParameters.map(\.path)   // layers.0.weight, layers.0.bias, layers.2.weight, …
/// ```
public final class MLP: Layer {
  /// The linear layers and activations, in order.
  public let layers: [any Layer]

  /// - Precondition: at least two sizes, each positive.
  public init(
    sizes: [Int], activation: @autoclosure () -> Activation = .relu,
    using generator: inout some RandomNumberGenerator
  ) {
    require(
      sizes.count >= 2 && sizes.allSatisfy { $0 > 0 },
      "MLP: sizes \(sizes) must be at least two positive sizes")
    var layers: [any Layer] = []
    for (input, output) in zip(sizes, sizes.dropFirst()) {
      if !layers.isEmpty { layers.append(activation()) }
      let linear = Linear(inputSize: input, outputSize: output, using: &generator)
      linear.name = "layers.\(layers.count)"
      layers.append(linear)
    }
    self.layers = layers
  }

  /// The layers in order: Linear, activation, …, Linear.
  public func callAsFunction(_ x: Variable) -> Variable {
    layers.reduce(x) { input, layer in layer(input) }
  }
}

// The library's layers list their parameters themselves, as reflection would find them.

extension Linear: ListsParameters {
  func listParameters(
    path: String, into found: inout [(path: String, parameter: Parameter)],
    seen: inout Set<ObjectIdentifier>
  ) {
    collectParameters(
      in: weight, path: path.isEmpty ? "weight" : path + ".weight", into: &found, seen: &seen)
    if let bias {
      collectParameters(
        in: bias, path: path.isEmpty ? "bias" : path + ".bias", into: &found, seen: &seen)
    }
  }
}

extension Activation: ListsParameters {
  func listParameters(
    path: String, into found: inout [(path: String, parameter: Parameter)],
    seen: inout Set<ObjectIdentifier>
  ) {}
}

extension Sequential: ListsParameters {
  func listParameters(
    path: String, into found: inout [(path: String, parameter: Parameter)],
    seen: inout Set<ObjectIdentifier>
  ) {
    collectParameters(
      in: layers, path: path.isEmpty ? "layers" : path + ".layers", into: &found, seen: &seen)
  }
}

extension MLP: ListsParameters {
  func listParameters(
    path: String, into found: inout [(path: String, parameter: Parameter)],
    seen: inout Set<ObjectIdentifier>
  ) {
    collectParameters(
      in: layers, path: path.isEmpty ? "layers" : path + ".layers", into: &found, seen: &seen)
  }
}
