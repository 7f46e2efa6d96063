// Slicing and picking: four primitives in two pairs, each the other's VJP. Slicing a box out of
// a tensor and padding a tensor into a box of zeros are adjoint; so are gathering rows along an
// axis and adding rows back into zeros (the scatter-add of an embedding lookup's gradient).
// What each needs to know, the box or the picks, travels as a constant operand, so the tape
// records it and a second-order sweep can replay it.

/// A box inside a tensor of `shape`: along each axis, the positions lower..<upper.
///
/// Slice: y = x[box]. VJP: x̄ = ȳ padded with zeros into `shape`. Pad is the reverse.
struct Box {
  var lower: [Int]
  var upper: [Int]
  var shape: [Int]

  init(lower: [Int], upper: [Int], shape: [Int]) {
    (self.lower, self.upper, self.shape) = (lower, upper, shape)
  }

  /// Decodes a box from its constant operand: [rank, lower…, upper…, shape…].
  init(_ encoded: Tensor) {
    let values = encoded.scalars.map { Int($0) }
    let rank = values[0]
    lower = Array(values[1...rank])
    upper = Array(values[(rank + 1)...(2 * rank)])
    shape = Array(values[(2 * rank + 1)...(3 * rank)])
  }

  /// The constant operand that records this box.
  var encoded: Tensor { Tensor([Double(shape.count)] + (lower + upper + shape).map(Double.init)) }

  /// The shape of what the box holds.
  var extent: [Int] { zip(lower, upper).map { $1 - $0 } }

  /// Calls `body(inside, outside, run)` for each contiguous run along the last axis: the
  /// offset of its start within the box, within the whole, and its length.
  func forEachRun(_ body: (Int, Int, Int) -> Void) {
    let extent = self.extent
    guard !extent.isEmpty else { return body(0, 0, 1) }
    guard !extent.contains(0) else { return }
    let run = extent[extent.count - 1]
    let strides = Shape.contiguousStrides(shape)
    var index = [Int](repeating: 0, count: extent.count)
    var inside = 0
    while true {
      var outside = 0
      for axis in index.indices { outside += (lower[axis] + index[axis]) * strides[axis] }
      body(inside, outside, run)
      inside += run
      // Advance the index over every axis but the last.
      var axis = extent.count - 2
      while axis >= 0 {
        index[axis] += 1
        if index[axis] < extent[axis] { break }
        index[axis] = 0
        axis -= 1
      }
      if axis < 0 { return }
    }
  }

  /// The box's scalars out of `x`, which has `shape`: each run one block copy.
  func slice(_ x: Tensor) -> Tensor {
    let extent = self.extent
    let count = extent.reduce(1, *)
    return x.withUnsafeScalars { source in
      Tensor(shape: extent, count: count) { out in
        guard count > 0, let from = source.baseAddress, let to = out.baseAddress else { return }
        forEachRun { inside, outside, run in
          (to + inside).update(from: from + outside, count: run)
        }
      }
    }
  }

  /// A tensor of `shape`, zero outside the box and `x` (of the box's extent) inside it.
  func pad(_ x: Tensor) -> Tensor {
    x.withUnsafeScalars { source in
      padded { box, inside, run in box.update(from: source.baseAddress! + inside, count: run) }
    }
  }

  /// A tensor of `shape`, zero outside the box and `value` inside it: the pad of a uniform
  /// cotangent, with no tensor of the box's extent made to hold it.
  func pad(repeating value: Double) -> Tensor {
    padded { box, _, run in box.update(repeating: value, count: run) }
  }

  /// A tensor of `shape` whose runs inside the box `fill` writes (given where the run starts,
  /// its offset within the box and its length), zero elsewhere: each scalar written once, the
  /// gaps between runs (which come in increasing order) zeroed as they are passed, where
  /// zeroing everything first wrote the box twice.
  private func padded(_ fill: (UnsafeMutablePointer<Double>, Int, Int) -> Void) -> Tensor {
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, count: count) { out in
      guard let base = out.baseAddress else { return }
      var written = 0
      forEachRun { inside, outside, run in
        (base + written).update(repeating: 0, count: outside - written)
        fill(base + outside, inside, run)
        written = outside + run
      }
      (base + written).update(repeating: 0, count: count - written)
    }
  }

  /// The VJP of a slice on tensors, from a uniform cotangent (a rank-0 one standing for its
  /// value everywhere, as a full sum passes on) or one of the box's extent: one pass writing
  /// each scalar once. Takes the cotangent; nil, leaving it, for any other shape.
  static func fusedPullback(_ cotangent: inout Tensor?, box: Tensor) -> Tensor? {
    guard let given = cotangent else { return nil }
    let box = Box(box)
    if case .scalar(let c) = given.storage {
      cotangent = nil
      return box.pad(repeating: c)
    }
    guard given.shape == box.extent else { return nil }
    cotangent = nil
    return box.pad(given)
  }
}

/// Rows picked along `axis` of a tensor whose axis has `length` entries, by `indices` (which
/// may repeat).
///
/// Gather: y = x with the axis replaced by the picks. VJP: x̄ = ȳ's rows added into zeros at
/// their indices, so a row picked twice receives both cotangents. Scatter-add is the reverse.
struct Picks {
  var axis: Int
  var length: Int
  var indices: [Int]

  init(axis: Int, length: Int, indices: [Int]) {
    (self.axis, self.length, self.indices) = (axis, length, indices)
  }

  /// Decodes picks from their constant operand: [axis, length, indices…].
  init(_ encoded: Tensor) {
    let values = encoded.scalars.map { Int($0) }
    (axis, length, indices) = (values[0], values[1], Array(values[2...]))
  }

  /// The constant operand that records these picks.
  var encoded: Tensor { Tensor(([axis, length] + indices).map(Double.init)) }

  /// For a tensor of `shape`: how many blocks precede the axis, and the scalars in one
  /// position of it (the block after the axis).
  private func layout(_ shape: [Int]) -> (outer: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[(axis + 1)...].reduce(1, *))
  }

  func gather(_ x: Tensor) -> Tensor {
    var shape = x.shape
    let (outer, inner) = layout(shape)
    shape[axis] = indices.count
    let count = shape.reduce(1, *)
    return x.withUnsafeScalars { source in
      Tensor(shape: shape, count: count) { out in
        var position = 0
        for block in 0..<outer {
          for index in indices {
            let start = (block * length + index) * inner
            for k in 0..<inner { out[position + k] = source[start + k] }
            position += inner
          }
        }
      }
    }
  }

  func scatterAdd(_ x: Tensor) -> Tensor {
    var shape = x.shape
    let (outer, inner) = layout(shape)
    shape[axis] = length
    let count = shape.reduce(1, *)
    return x.withUnsafeScalars { source in
      Tensor(shape: shape, count: count) { out in
        out.initialize(repeating: 0)
        var position = 0
        for block in 0..<outer {
          for index in indices {
            let start = (block * length + index) * inner
            for k in 0..<inner { out[start + k] += source[position + k] }
            position += inner
          }
        }
      }
    }
  }
}

// MARK: - Checking

extension Box {
  /// The bounds of `range` along the first axis of `shape`, whole along the others.
  static func bounds(of range: Range<Int>, alongFirstAxisOf shape: [Int]) -> ([Int], [Int]) {
    require(!shape.isEmpty, "subscript: a scalar has no axis to slice")
    return (
      [range.lowerBound] + Array(repeating: 0, count: shape.count - 1),
      [range.upperBound] + shape.dropFirst()
    )
  }
}

/// The box for `lowerBounds..<upperBounds` in a tensor of `shape`, checked.
func checkedBox(_ lower: [Int], _ upper: [Int], in shape: [Int], op: String) -> Box {
  require(
    lower.count == shape.count && upper.count == shape.count,
    "\(op): bounds \(lower) and \(upper) need one entry per axis of shape \(shape)")
  for axis in shape.indices {
    require(
      0 <= lower[axis] && lower[axis] <= upper[axis] && upper[axis] <= shape[axis],
      "\(op): bounds \(lower)..<\(upper) are not within shape \(shape)")
  }
  return Box(lower: lower, upper: upper, shape: shape)
}

/// The picks of `indices` along `axis` of a tensor of `shape`, checked.
func checkedPicks(_ indices: [Int], axis: Int, in shape: [Int], op: String) -> Picks {
  let axis = Shape.normalize(axes: [axis], rank: shape.count, op: op)[0]
  for index in indices {
    require(
      (0..<shape[axis]).contains(index),
      "\(op): index \(index) is out of range for axis \(axis) of shape \(shape)")
  }
  return Picks(axis: axis, length: shape[axis], indices: indices)
}

// MARK: - Public API

extension Tensor {
  /// The sub-tensor lowerBounds[i]..<upperBounds[i] along every axis i.
  ///
  /// - Precondition: one bound per axis, 0 ≤ lower ≤ upper ≤ the axis's length.
  public func slice(lowerBounds: [Int], upperBounds: [Int]) -> Tensor {
    checkedBox(lowerBounds, upperBounds, in: shape, op: "slice").slice(self)
  }

  /// The entries `range` along the first axis: `t[1..<3]` of a matrix is its rows 1 and 2.
  public subscript(range: Range<Int>) -> Tensor {
    let (lower, upper) = Box.bounds(of: range, alongFirstAxisOf: shape)
    return slice(lowerBounds: lower, upperBounds: upper)
  }

  /// The entries at `indices` along `axis`, in that order, repeats allowed (an embedding
  /// lookup): the axis's length becomes `indices.count`.
  public func gathering(atIndices indices: [Int], alongAxis axis: Int = 0) -> Tensor {
    checkedPicks(indices, axis: axis, in: shape, op: "gathering(atIndices:alongAxis:)").gather(self)
  }
}

extension Variable {
  /// The sub-tensor lowerBounds[i]..<upperBounds[i] along every axis i, recorded: one `slice`
  /// entry; x̄ = ȳ padded with zeros to x's shape. O(size of the slice).
  ///
  /// - Precondition: one bound per axis, 0 ≤ lower ≤ upper ≤ the axis's length.
  public func slice(lowerBounds: [Int], upperBounds: [Int]) -> Variable {
    sliced(checkedBox(lowerBounds, upperBounds, in: shape, op: "slice").encoded)
  }

  /// The entries `range` along the first axis, recorded as a slice: `x[1..<3]`.
  ///
  /// - Precondition: the variable has at least one axis and the range is within it.
  public subscript(range: Range<Int>) -> Variable {
    let (lower, upper) = Box.bounds(of: range, alongFirstAxisOf: shape)
    return slice(lowerBounds: lower, upperBounds: upper)
  }

  /// The entries at `indices` along `axis`, recorded: an embedding lookup. x̄ adds each
  /// picked row's cotangent back at its index, so a row picked twice receives both.
  ///
  /// - Precondition: every index is within the axis.
  public func gathering(atIndices indices: [Int], alongAxis axis: Int = 0) -> Variable {
    gathered(
      checkedPicks(indices, axis: axis, in: shape, op: "gathering(atIndices:alongAxis:)").encoded)
  }
}
