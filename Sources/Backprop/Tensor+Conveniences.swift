import Foundation

// Conveniences for making, updating, saving and printing tensors.

extension Tensor {
  /// Creates a rank-3 tensor from matrices of equal shape.
  ///
  /// - Precondition: every matrix has the same number of rows, and every row the same length.
  public init(_ matrices: [[[Double]]]) {
    let rows = matrices.first?.count ?? 0
    let columns = matrices.first?.first?.count ?? 0
    for (index, matrix) in matrices.enumerated() {
      require(
        matrix.count == rows && matrix.allSatisfy { $0.count == columns },
        "Tensor(_:): matrix \(index) is not \(rows) × \(columns) like matrix 0")
    }
    self.init(
      shape: [matrices.count, rows, columns], scalars: matrices.flatMap { $0.flatMap { $0 } })
  }

  /// A vector from `start` up to but not including `end`, in steps of `stride`, as NumPy's
  /// `arange`: start, start + stride, …; each entry is start + k·stride, not a running sum.
  ///
  /// - Precondition: `stride` is finite and not 0, and the bounds are finite.
  public init(rangeFrom start: Double, to end: Double, stride: Double) {
    require(
      stride.isFinite && stride != 0 && start.isFinite && end.isFinite,
      "Tensor(rangeFrom:to:stride:): \(start), \(end) and \(stride) do not make a range")
    let steps = ((end - start) / stride).rounded(.up)
    require(
      steps < 1e15,
      "Tensor(rangeFrom:to:stride:): \(start) to \(end) by \(stride) is \(steps) entries")
    let count = Swift.max(0, Int(steps))
    self.init((0..<count).map { start + Double($0) * stride })
  }

  /// A vector of `count` evenly spaced entries from `start` to `end`, both included, as
  /// NumPy's `linspace`: the last entry is exactly `end`.
  ///
  /// - Precondition: `count` ≥ 0.
  public init(linearSpaceFrom start: Double, to end: Double, count: Int) {
    require(count >= 0, "Tensor(linearSpaceFrom:to:count:): count \(count) is negative")
    let step = count > 1 ? (end - start) / Double(count - 1) : 0
    self.init((0..<count).map { $0 == count - 1 && count > 1 ? end : start + Double($0) * step })
  }

  /// Adds `rhs` into `lhs`, with broadcasting (the result has lhs's shape).
  public static func += (lhs: inout Tensor, rhs: Tensor) { lhs = lhs + rhs }
  /// Subtracts `rhs` from `lhs`, with broadcasting.
  public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
  /// Multiplies `lhs` by `rhs`, with broadcasting.
  public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs * rhs }
  /// Divides `lhs` by `rhs`, with broadcasting.
  public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs / rhs }
  /// Adds a scalar to every entry.
  public static func += (lhs: inout Tensor, rhs: Double) { lhs = lhs + rhs }
  /// Subtracts a scalar from every entry.
  public static func -= (lhs: inout Tensor, rhs: Double) { lhs = lhs - rhs }
  /// Multiplies every entry by a scalar.
  public static func *= (lhs: inout Tensor, rhs: Double) { lhs = lhs * rhs }
  /// Divides every entry by a scalar.
  public static func /= (lhs: inout Tensor, rhs: Double) { lhs = lhs / rhs }
}

extension Tensor: Codable {
  private enum CodingKeys: String, CodingKey { case shape, scalars }

  /// Encodes the shape and the scalars in row-major order: `{"shape": [2], "scalars": [1, 2]}`.
  /// A non-finite scalar needs an encoder that allows it (JSONEncoder's
  /// `nonConformingFloatEncodingStrategy`).
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(shape, forKey: .shape)
    try container.encode(scalars, forKey: .scalars)
  }

  /// Decodes what ``encode(to:)`` wrote; a shape and scalar count that disagree are a
  /// decoding error, not a trap.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let shape = try container.decode([Int].self, forKey: .shape)
    let scalars = try container.decode([Double].self, forKey: .scalars)
    var count = 1
    for axis in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: axis)
      guard axis >= 0, !overflow else {
        throw DecodingError.dataCorruptedError(
          forKey: .shape, in: container, debugDescription: "shape \(shape) is not a shape")
      }
      count = product
    }
    guard count == scalars.count else {
      throw DecodingError.dataCorruptedError(
        forKey: .scalars, in: container,
        debugDescription: "shape \(shape) needs \(count) scalars, got \(scalars.count)")
    }
    self.init(shape: shape, scalars: scalars)
  }
}

extension Tensor {
  /// Nested brackets, summarized as NumPy does above `limit` scalars: along each axis longer
  /// than 6, the first three and the last three entries, with `…` between.
  func summarized(_ format: (Double) -> String, above limit: Int = 1_000) -> String {
    let scalars = self.scalars
    if shape.isEmpty { return format(scalars[0]) }
    let summarize = scalarCount > limit
    var text = ""
    func write(axis: Int, offset: Int) {
      text += "["
      let stride = shape[(axis + 1)...].reduce(1, *)
      let length = shape[axis]
      let shown: [Int?] =
        summarize && length > 6
        ? [0, 1, 2, nil, length - 3, length - 2, length - 1] : Array(0..<length)
      for (position, index) in shown.enumerated() {
        if position > 0 { text += ", " }
        guard let index else {
          text += "…"
          continue
        }
        if axis == shape.count - 1 {
          text += format(scalars[offset + index])
        } else {
          write(axis: axis + 1, offset: offset + index * stride)
        }
      }
      text += "]"
    }
    write(axis: 0, offset: 0)
    return text
  }
}
