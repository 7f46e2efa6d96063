/// Shape arithmetic shared by every kernel: scalar counts, strides and NumPy broadcasting.
enum Shape {
  /// The product of the axes, checking that none is negative.
  static func scalarCount(_ shape: [Int], op: String) -> Int {
    var count = 1
    for axis in shape {
      require(axis >= 0, "\(op): shape \(shape) has a negative axis")
      let (product, overflow) = count.multipliedReportingOverflow(by: axis)
      // Eight bytes a scalar must also fit in an Int for the buffer to be allocated.
      require(
        !overflow && product <= Int.max / 8,
        "\(op): shape \(shape) has more scalars than memory can address")
      count = product
    }
    return count
  }

  /// Row-major strides: the distance in scalars between neighbours along each axis.
  static func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var stride = 1
    for axis in shape.indices.reversed() {
      strides[axis] = stride
      stride *= shape[axis]
    }
    return strides
  }

  /// The shape NumPy broadcasting gives two operands: axes aligned from the right, each pair
  /// equal or one of them 1.
  ///
  /// - Precondition: the shapes broadcast; the message names `op` and both shapes.
  static func broadcast(_ lhs: [Int], _ rhs: [Int], op: String) -> [Int] {
    if lhs == rhs { return lhs }
    let rank = Swift.max(lhs.count, rhs.count)
    var result = [Int](repeating: 1, count: rank)
    for axis in 0..<rank {
      let a = axis - (rank - lhs.count) >= 0 ? lhs[axis - (rank - lhs.count)] : 1
      let b = axis - (rank - rhs.count) >= 0 ? rhs[axis - (rank - rhs.count)] : 1
      require(a == b || a == 1 || b == 1, "\(op): shapes \(lhs) and \(rhs) do not broadcast")
      result[axis] = a == 1 ? b : a
    }
    return result
  }

  /// Whether `shape` broadcasts to exactly `target` (without changing `target`).
  static func broadcasts(_ shape: [Int], to target: [Int]) -> Bool {
    guard shape.count <= target.count else { return false }
    let lead = target.count - shape.count
    return shape.indices.allSatisfy { shape[$0] == 1 || shape[$0] == target[lead + $0] }
  }

  /// Strides that read a tensor of `shape` as if it had the shape `target` it broadcasts to:
  /// the row-major stride on matching axes and 0 on broadcast ones.
  static func broadcastStrides(of shape: [Int], to target: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    let lead = target.count - shape.count
    return target.indices.map { axis in
      axis < lead || shape[axis - lead] == 1 ? 0 : own[axis - lead]
    }
  }

  /// The axes a cotangent of shape `target` is summed along to give one of `shape`, the inverse
  /// of broadcasting: the leading axes `shape` lacks, and those where it has 1.
  static func reducedAxes(from target: [Int], to shape: [Int]) -> [Int] {
    let lead = target.count - shape.count
    return target.indices.filter { axis in
      axis < lead || (shape[axis - lead] == 1 && target[axis] != 1)
    }
  }

  /// The number of results and the run each folds, when the `reduced` axes of `shape` are its
  /// trailing ones and nothing is empty: each result is then one contiguous run of scalars (a
  /// sum or maximum along them reads rows, and so does the maximum's VJP).
  static func trailingRuns(_ shape: [Int], reduced: [Int]) -> (count: Int, run: Int)? {
    guard !reduced.isEmpty, reduced == Array((shape.count - reduced.count)..<shape.count),
      !shape.contains(0)
    else { return nil }
    let run = reduced.reduce(1) { $0 * shape[$1] }
    return (shape.reduce(1, *) / run, run)
  }

  /// Axes written as indices that may count from the end (−1 is the last), made non-negative,
  /// sorted and unique.
  static func normalize(axes: [Int], rank: Int, op: String) -> [Int] {
    let normalized = axes.map { axis in
      let resolved = axis < 0 ? axis + rank : axis
      require(
        (0..<rank).contains(resolved),
        "\(op): axis \(axis) is out of range for a tensor of rank \(rank)")
      return resolved
    }
    return Array(Set(normalized)).sorted()
  }

  /// Visits every position of `shape` in row-major order, passing its linear index and its
  /// offsets under two stride vectors.
  ///
  /// Broadcasting, reduction, broadcast-to and transposition all differ only in the strides
  /// they pass, so this one loop serves them all. It advances the innermost axis in a tight
  /// loop and carries into outer axes only at row ends.
  @inline(__always)
  static func forEachPosition(
    in shape: [Int], strides first: [Int], _ second: [Int],
    _ body: (_ linear: Int, _ first: Int, _ second: Int) -> Void
  ) {
    let rank = shape.count
    if rank == 0 {
      body(0, 0, 0)
      return
    }
    if shape.contains(0) { return }
    var index = [Int](repeating: 0, count: rank)
    var firstOffset = 0
    var secondOffset = 0
    var linear = 0
    let inner = shape[rank - 1]
    let firstInner = first[rank - 1]
    let secondInner = second[rank - 1]
    while true {
      var a = firstOffset
      var b = secondOffset
      for _ in 0..<inner {
        body(linear, a, b)
        linear += 1
        a += firstInner
        b += secondInner
      }
      var axis = rank - 2
      while axis >= 0 {
        index[axis] += 1
        firstOffset += first[axis]
        secondOffset += second[axis]
        if index[axis] < shape[axis] { break }
        firstOffset -= first[axis] * shape[axis]
        secondOffset -= second[axis] * shape[axis]
        index[axis] = 0
        axis -= 1
      }
      if axis < 0 { return }
    }
  }
}
