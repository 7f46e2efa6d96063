import Foundation

/// A small, fast, seedable random number generator (SplitMix64), so that random tensors are
/// the same on every run and every platform.
///
/// ```swift
/// var generator = SeededGenerator(seed: 42)
/// let w = Tensor.normal([64, 10], standardDeviation: 0.01, using: &generator)
/// ```
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: UInt64

  /// A generator whose sequence is determined by `seed`.
  public init(seed: UInt64) { state = seed }

  /// The next 64 random bits: the state advances by the golden-ratio increment and is mixed.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

extension Tensor {
  /// A tensor of scalars drawn uniformly from `range`.
  public static func random(
    _ shape: [Int], in range: ClosedRange<Double>, using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let count = Shape.scalarCount(shape, op: "Tensor.random(_:in:using:)")
    return Tensor(
      shape: shape, scalars: (0..<count).map { _ in .random(in: range, using: &generator) })
  }

  /// A tensor of scalars drawn from a normal distribution with the given mean and standard
  /// deviation (Box–Muller: √(−2 ln u) cos 2πv for uniform u and v).
  public static func normal(
    _ shape: [Int], mean: Double = 0, standardDeviation: Double = 1,
    using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let count = Shape.scalarCount(shape, op: "Tensor.normal(_:mean:standardDeviation:using:)")
    return Tensor(
      shape: shape,
      scalars: (0..<count).map { _ in
        let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
        let v = Double.random(in: 0..<1, using: &generator)
        return mean + standardDeviation * (-2 * Foundation.log(u)).squareRoot()
          * Foundation.cos(2 * .pi * v)
      })
  }
}
