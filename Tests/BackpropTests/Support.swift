import Backprop
import Testing

extension Tensor {
  /// Scalars drawn uniformly from −scale...scale.
  static func random(
    _ shape: [Int], scale: Double = 1, using generator: inout SeededGenerator
  ) -> Tensor {
    let count = shape.reduce(1, *)
    return Tensor(
      shape: shape, scalars: (0..<count).map { _ in .random(in: -scale...scale, using: &generator) }
    )
  }
}

/// Expects two tensors of the same shape to agree within `tolerance` in every scalar,
/// reporting the largest difference when they do not.
func expectClose(
  _ actual: Tensor, _ expected: Tensor, tolerance: Double, _ comment: Comment? = nil,
  sourceLocation: SourceLocation = #_sourceLocation
) {
  guard actual.shape == expected.shape else {
    Issue.record(
      "shapes differ: \(actual.shape) vs \(expected.shape). \(comment?.rawValue ?? "")",
      sourceLocation: sourceLocation)
    return
  }
  let difference = actual.maxAbsoluteDifference(from: expected)
  #expect(
    difference <= tolerance,
    "largest difference \(difference) > \(tolerance): \(actual) vs \(expected). \(comment?.rawValue ?? "")",
    sourceLocation: sourceLocation)
}

/// Expects the reverse-mode gradient of `f` at `x` to pass a central-difference check.
func expectGradientMatchesFiniteDifferences(
  at x: Tensor, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
  of f: (Variable) -> Variable
) {
  let report = checkGradient(at: x, of: f)
  #expect(report.passed, "\(report). \(comment?.rawValue ?? "")", sourceLocation: sourceLocation)
}
