import Foundation

/// A model's parameters as data, as PyTorch's `state_dict`: each parameter's path, shape and
/// scalars, in the order of ``Layer/namedParameters``. `Codable`, so a trained model is saved
/// as JSON and loaded into a model of the same architecture, every scalar to the bit.
///
/// ```swift
/// let data = try model.state.jsonData()
/// try other.load(try ModelState(jsonData: data))
/// ```
public struct ModelState: Codable, Sendable, Equatable {
  /// One parameter: where it is, its shape and its scalars in row-major order.
  public struct Entry: Codable, Sendable, Equatable {
    /// The parameter's path in the model, such as `layers.0.weight`.
    public var path: String
    /// The parameter's shape.
    public var shape: [Int]
    /// The parameter's scalars, in row-major order.
    public var scalars: [Double]
  }

  /// The parameters, in the model's order.
  public var parameters: [Entry]

  /// The state as JSON; non-finite scalars as the strings "inf", "-inf" and "nan".
  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try encoder.encode(self)
  }

  /// A state read from ``jsonData()``'s form.
  public init(jsonData: Data) throws {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    self = try decoder.decode(ModelState.self, from: jsonData)
  }

  /// A state of the given parameters.
  public init(parameters: [Entry]) { self.parameters = parameters }
}

/// Why a saved state does not fit a model, naming the parameter and its layer.
public struct ModelStateMismatch: Error, CustomStringConvertible, Equatable {
  /// The message: which parameter, and what differs.
  public let description: String

  /// A mismatch described by `description`.
  public init(description: String) { self.description = description }
}

extension Layer {
  /// The model's parameters as data.
  public var state: ModelState {
    ModelState(
      parameters: namedParameters.map { path, parameter in
        .init(path: path, shape: parameter.value.shape, scalars: parameter.value.scalars)
      })
  }

  /// Sets every parameter from `state`, which must name the same paths with the same shapes;
  /// nothing is changed if it does not.
  ///
  /// - Throws: ``ModelStateMismatch`` naming the first parameter that is missing, extra, of
  ///   another shape, or holding the wrong number of scalars.
  public func load(_ state: ModelState) throws(ModelStateMismatch) {
    let named = namedParameters
    let saved = Dictionary(state.parameters.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
    for (path, parameter) in named {
      guard let entry = saved[path] else {
        throw ModelStateMismatch(
          description: "the saved state has no parameter \(path) (\(parameter.value.shape))")
      }
      guard entry.shape == parameter.value.shape,
        entry.scalars.count == entry.shape.reduce(1, *)
      else {
        throw ModelStateMismatch(
          description: "parameter \(path) is \(parameter.value.shape) in the model, but the "
            + "saved state has shape \(entry.shape) with \(entry.scalars.count) scalars")
      }
    }
    let paths = Set(named.map(\.path))
    if let extra = state.parameters.first(where: { !paths.contains($0.path) }) {
      throw ModelStateMismatch(
        description: "the saved state has a parameter \(extra.path) (\(extra.shape)) that the "
          + "model does not")
    }
    for (path, parameter) in named {
      let entry = saved[path]!
      parameter.value = Tensor(shape: entry.shape, scalars: entry.scalars)
    }
  }
}
