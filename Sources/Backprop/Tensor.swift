internal import BackpropKernels
import Foundation

/// A multidimensional array of `Double`s stored in row-major order.
///
/// A tensor of rank 0 is a scalar; its shape is `[]`. Rank-0 tensors keep their one scalar
/// inline rather than on the heap, because a chain of scalar operations is the workload where
/// an automatic-differentiation tape pays most for allocation.
///
/// ```swift
/// let x: Tensor = [1, 2, 3]                                  // shape [3]
/// let m = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]) // shape [2, 3]
/// let s = Tensor(2.5)                                        // shape []
/// ```
///
/// Tensors are values: copying one is cheap (the buffer is shared and copied on write).
public struct Tensor: Sendable {
  /// Where the scalars live: inline for rank 0, in a copy-on-write array otherwise, and in a
  /// ``LargeBuffer`` from 2 MiB up.
  ///
  /// The shape lives inside the buffer cases, so a rank-0 tensor is one `Double` and a tag:
  /// copying it touches no reference count.
  enum Storage: Sendable {
    case scalar(Double)
    case buffer(shape: [Int], scalars: [Double])
    case large(shape: [Int], LargeBuffer)
  }

  var storage: Storage

  /// The size of each axis, outermost first; `[]` for a scalar.
  public var shape: [Int] {
    switch storage {
    case .scalar: return []
    case .buffer(let shape, _), .large(let shape, _): return shape
    }
  }

  /// Wraps scalars whose count the caller has already checked against a non-empty `shape`.
  init(shape: [Int], buffer: [Double]) {
    storage = .buffer(shape: shape, scalars: buffer)
  }

  /// Creates a rank-0 tensor holding `scalar`.
  public init(_ scalar: Double) {
    storage = .scalar(scalar)
  }

  /// Creates a rank-1 tensor holding `scalars`.
  public init(_ scalars: [Double]) {
    self.init(shape: [scalars.count], buffer: scalars)
  }

  /// Creates a rank-2 tensor from rows of equal length.
  ///
  /// - Precondition: every row has the same number of scalars.
  public init(_ rows: [[Double]]) {
    let columns = rows.first?.count ?? 0
    for (index, row) in rows.enumerated() {
      require(
        row.count == columns,
        "Tensor(_:): row \(index) has \(row.count) scalars, but row 0 has \(columns)")
    }
    self.init(shape: [rows.count, columns], buffer: rows.flatMap { $0 })
  }

  /// Creates a tensor of the given shape from scalars in row-major order.
  ///
  /// - Precondition: no axis is negative and `scalars.count` is the product of `shape`.
  public init(shape: [Int], scalars: [Double]) {
    let count = Shape.scalarCount(shape, op: "Tensor(shape:scalars:)")
    require(
      count == scalars.count,
      "Tensor(shape:scalars:): shape \(shape) needs \(count) scalars, got \(scalars.count)")
    if shape.isEmpty {
      self.init(scalars[0])
    } else {
      self.init(shape: shape, buffer: scalars)
    }
  }

  /// Creates a tensor of the given shape with every scalar equal to `value`.
  public init(repeating value: Double, shape: [Int]) {
    let count = Shape.scalarCount(shape, op: "Tensor(repeating:shape:)")
    if shape.isEmpty {
      self.init(value)
    } else {
      self.init(shape: shape, count: count) { $0.initialize(repeating: value) }
    }
  }

  /// A tensor of zeros with the given shape.
  public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }

  /// A tensor of ones with the given shape.
  public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

  /// A tensor of zeros except for a one at `index`, the row-major position of one scalar.
  ///
  /// This is the seed e_k a Jacobian is built from, one row per output scalar.
  public static func oneHot(_ shape: [Int], at index: Int) -> Tensor {
    let count = Shape.scalarCount(shape, op: "Tensor.oneHot(_:at:)")
    require(
      (0..<count).contains(index),
      "Tensor.oneHot(_:at:): index \(index) is out of range for shape \(shape)")
    return Tensor(shape: shape, count: count) { buffer in
      buffer.initialize(repeating: 0)
      buffer[index] = 1
    }
  }

  /// The number of axes: 0 for a scalar, 1 for a vector, 2 for a matrix.
  public var rank: Int {
    switch storage {
    case .scalar: return 0
    case .buffer(let shape, _), .large(let shape, _): return shape.count
    }
  }

  /// The number of scalars: the product of the shape (1 for rank 0).
  public var scalarCount: Int {
    switch storage {
    case .scalar: return 1
    case .buffer(_, let buffer): return buffer.count
    case .large(_, let buffer): return buffer.count
    }
  }

  /// The scalars in row-major order.
  public var scalars: [Double] {
    switch storage {
    case .scalar(let value): return [value]
    case .buffer(_, let buffer): return buffer
    case .large(_, let buffer): return Array(buffer.scalars)
    }
  }

  /// The only scalar of a tensor that holds exactly one, whatever its rank; otherwise `nil`.
  public var scalar: Double? {
    switch storage {
    case .scalar(let value): return value
    case .buffer(_, let buffer): return buffer.count == 1 ? buffer[0] : nil
    case .large: return nil
    }
  }

  /// The slice at `index` along the first axis, which is dropped: `t[i]` of a vector is a
  /// rank-0 tensor, of a matrix its row i. The same meaning as ``Variable/subscript(_:)-(Int)``.
  ///
  /// - Precondition: the tensor has at least one axis and `index` is within the first.
  public subscript(index: Int) -> Tensor {
    let shape = self.shape
    require(
      !shape.isEmpty && (0..<shape[0]).contains(index),
      "subscript: index \(index) is out of range for shape \(shape)")
    let inner = Array(shape.dropFirst())
    let count = inner.reduce(1, *)
    return withUnsafeScalars { source in
      Tensor(shape: inner, count: count) { out in
        for offset in 0..<count { out[offset] = source[index * count + offset] }
      }
    }
  }

  /// The scalar at a multi-index of two or more integers, one per axis: `m[i, j]`.
  ///
  /// - Precondition: one index per axis, each within its axis.
  public subscript(first: Int, second: Int, rest: Int...) -> Double {
    self[[first, second] + rest]
  }

  /// The scalar at a multi-index given as an array, one integer per axis.
  ///
  /// - Precondition: one index per axis, each within its axis.
  public subscript(indices: [Int]) -> Double {
    require(
      indices.count == rank,
      "Tensor subscript: \(indices.count) indices for a tensor of shape \(shape)")
    var offset = 0
    for (axis, index) in indices.enumerated() {
      require(
        (0..<shape[axis]).contains(index),
        "Tensor subscript: index \(indices) is out of range for shape \(shape)")
      offset = offset * shape[axis] + index
    }
    return withUnsafeScalars { $0[offset] }
  }

  /// A tensor with the same scalars and a new shape of the same scalar count.
  ///
  /// - Precondition: the new shape has as many scalars as this one.
  public func reshaped(to newShape: [Int]) -> Tensor {
    let count = Shape.scalarCount(newShape, op: "reshape")
    require(
      count == scalarCount,
      "reshape: shape \(shape) (\(scalarCount) scalars) cannot become \(newShape) (\(count))")
    if newShape == shape { return self }
    switch storage {
    case .scalar(let value): return Tensor(shape: newShape, buffer: [value])
    case .buffer(_, let buffer):
      return newShape.isEmpty
        ? Tensor(buffer[0]) : Tensor(shape: newShape, buffer: buffer)
    case .large(_, let buffer): return Tensor(storage: .large(shape: newShape, buffer))
    }
  }
}

// MARK: - Raw access for kernels

extension Tensor {
  /// Calls `body` with the scalars to change them in place: without a copy when this tensor
  /// holds the only reference to its buffer, as after `var t = consume saved`.
  @inline(__always)
  mutating func withUnsafeMutableScalars<Result>(
    _ body: (inout UnsafeMutableBufferPointer<Double>) throws -> Result
  ) rethrows -> Result {
    // Move the storage out, leaving a placeholder: the switch then owns the only reference to
    // the buffer (a switch over `storage` itself would hold a second one for its duration).
    var taken = Storage.scalar(0)
    swap(&taken, &storage)
    switch consume taken {
    case .scalar(var value):
      defer { storage = .scalar(value) }
      return try withUnsafeMutablePointer(to: &value) {
        var buffer = UnsafeMutableBufferPointer(start: $0, count: 1)
        return try body(&buffer)
      }
    case .buffer(let shape, var scalars):
      defer { storage = .buffer(shape: shape, scalars: scalars) }
      return try scalars.withUnsafeMutableBufferPointer(body)
    case .large(let shape, var buffer):
      if !isKnownUniquelyReferenced(&buffer) { buffer = buffer.copy() }
      defer { storage = .large(shape: shape, buffer) }
      var scalars = buffer.mutableScalars
      return try body(&scalars)
    }
  }

  /// Calls `body` with the scalars in row-major order.
  @inline(__always)
  func withUnsafeScalars<Result>(
    _ body: (UnsafeBufferPointer<Double>) throws -> Result
  ) rethrows -> Result {
    switch storage {
    case .scalar(let value):
      var copy = value
      return try withUnsafePointer(to: &copy) {
        try body(UnsafeBufferPointer(start: $0, count: 1))
      }
    case .buffer(_, let buffer):
      return try buffer.withUnsafeBufferPointer(body)
    case .large(_, let buffer):
      return try withExtendedLifetime(buffer) { try body(buffer.scalars) }
    }
  }

  /// Creates a tensor of `shape` whose `count` scalars `initialize` writes, every one of them.
  ///
  /// A rank-0 result is written to the stack, not the heap.
  @inline(__always)
  init(shape: [Int], count: Int, _ initialize: (UnsafeMutableBufferPointer<Double>) -> Void) {
    if shape.isEmpty {
      var value = 0.0
      withUnsafeMutablePointer(to: &value) {
        initialize(UnsafeMutableBufferPointer(start: $0, count: 1))
      }
      self.init(value)
    } else if count >= LargeBuffer.threshold {
      let buffer = LargeBuffer(uninitializedCount: count, op: "Tensor")
      initialize(buffer.mutableScalars)
      self.init(storage: .large(shape: shape, buffer))
    } else {
      if count >= LargeBuffer.firstMappedCount { LargeBuffer.prepareHeap() }
      let buffer = [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
        initialize(buffer)
        initialized = count
      }
      self.init(shape: shape, buffer: buffer)
    }
  }

  init(storage: Storage) {
    self.storage = storage
  }
}

/// The scalars of a tensor of 2 MiB or more, in memory aligned to a huge page.
///
/// Why not an array: a fresh multi-megabyte block reaches the program a 4 KiB page at a time,
/// each page a fault that the kernel zero-fills on first touch, and glibc hands such blocks back
/// to the kernel when they are freed unless at most one or two are live, so a gradient at
/// n = 10⁶ paid those faults again for every buffer of every call. Aligned to 2 MiB inside a
/// block 2 MiB longer, and marked for transparent huge pages, a fresh 8 MB buffer takes 4 faults
/// instead of 2,048, while a block glibc does reuse stays as cheap as before
/// (Sources/Benchmarks/allocation.c times the four cases). Where huge pages are off, or not
/// Linux, only the alignment changes. Fresh buffers are also made rare: glibc's thresholds are raised before
/// the first one (`heapPrepared`), so that it keeps freed blocks for the next call rather than
/// handing them back.
///
/// Immutable once initialized, except through a tensor that holds the only reference
/// (``Tensor/withUnsafeMutableScalars(_:)`` copies otherwise): that makes sharing it across
/// threads safe.
final class LargeBuffer: @unchecked Sendable {
  /// The smallest count stored here: one huge page of scalars.
  static let threshold = hugePageBytes / MemoryLayout<Double>.stride
  static let hugePageBytes = 2 << 20

  /// The block from `malloc`, which `base` lies inside.
  private let block: UnsafeMutableRawPointer
  let base: UnsafeMutablePointer<Double>
  let count: Int

  /// glibc's thresholds raised once, before the first buffer: a gradient at n = 10⁶ that frees
  /// two or three of these at once otherwise handed the heap back at every call and faulted it
  /// in again, 10 huge pages a call (BackpropKernels' Heap.c). A `static let`, so it runs once
  /// per process, on whichever thread first gets here, and is immutable after.
  private static let heapPrepared: Void = bp_raise_heap_thresholds()

  /// The smallest count whose array glibc maps afresh at its default thresholds (128 KiB) and
  /// unmaps when it is freed, so that every gradient faulted the same pages in again: from this
  /// size on, arrays too are made after the thresholds are raised.
  static let firstMappedCount = (128 << 10) / MemoryLayout<Double>.stride

  /// Raises glibc's thresholds, once per process (see `heapPrepared`).
  static func prepareHeap() { heapPrepared }

  /// Memory for `count` scalars, not yet initialized; `op` names the caller in the failure.
  init(uninitializedCount count: Int, op: String) {
    Self.heapPrepared
    // The marked range is rounded up to whole huge pages: 10⁶ scalars are 8,000,000 bytes, and
    // marking only those left the last 1.6 MB of each buffer to 391 faults of 4 KiB, which were
    // 320,000 of the 323,000 faults of a W7 run (perf record -e page-faults).
    let mask = Self.hugePageBytes - 1
    let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Double>.stride)
    let pages = overflow || bytes > Int.max - 2 * Self.hugePageBytes ? 0 : (bytes + mask) & ~mask
    let block = pages == 0 ? nil : malloc(pages + Self.hugePageBytes)
    require(block != nil, "\(op): could not allocate \(count) scalars")
    self.block = block!
    let start = (Int(bitPattern: block) + mask) & ~mask
    let aligned = UnsafeMutableRawPointer(bitPattern: start)!
    #if os(Linux)
      _ = madvise(aligned, pages, MADV_HUGEPAGE)
    #endif
    base = aligned.bindMemory(to: Double.self, capacity: count)
    self.count = count
  }

  deinit { free(block) }

  var scalars: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: base, count: count) }
  var mutableScalars: UnsafeMutableBufferPointer<Double> {
    UnsafeMutableBufferPointer(start: base, count: count)
  }

  /// A buffer of its own with the same scalars.
  func copy() -> LargeBuffer {
    let copy = LargeBuffer(uninitializedCount: count, op: "Tensor")
    copy.base.initialize(from: base, count: count)
    return copy
  }
}

// MARK: - Literals, equality, printing

extension Tensor: ExpressibleByArrayLiteral {
  /// Creates a rank-1 tensor from an array literal: `let x: Tensor = [1, 2, 3]`.
  public init(arrayLiteral elements: Double...) {
    self.init(elements)
  }
}

extension Tensor: Equatable {
  /// Two tensors are equal when their shapes are equal and their scalars are equal in order
  /// (so, as for `Double`, a tensor holding NaN is not equal to itself).
  public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
    lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
  }
}

extension Tensor {
  /// Whether every scalar is within `absoluteTolerance + relativeTolerance · |other|` of the
  /// matching scalar of `other`, and the shapes are equal.
  ///
  /// Infinities of the same sign compare equal; NaN equals nothing.
  public func isApproximatelyEqual(
    to other: Tensor, absoluteTolerance: Double = 1e-12, relativeTolerance: Double = 0
  ) -> Bool {
    guard shape == other.shape else { return false }
    return zip(scalars, other.scalars).allSatisfy { a, b in
      a == b || abs(a - b) <= absoluteTolerance + relativeTolerance * abs(b)
    }
  }

  /// The largest |self − other| over all scalars, for tensors of the same shape.
  ///
  /// - Precondition: the shapes are equal.
  public func maxAbsoluteDifference(from other: Tensor) -> Double {
    require(
      shape == other.shape,
      "maxAbsoluteDifference(from:): shapes \(shape) and \(other.shape) differ")
    var worst = 0.0
    for (a, b) in zip(scalars, other.scalars) where a != b {
      let difference = abs(a - b)
      worst = difference.isNaN ? .nan : Swift.max(worst, difference)
      if worst.isNaN { break }
    }
    return worst
  }
}

extension Tensor: CustomStringConvertible {
  /// Nested brackets following the shape, each scalar in Swift's shortest round-trip form:
  /// `2.5`, `[1.0, 2.0]`, `[[1.0, 2.0], [3.0, 4.0]]`. Above 1,000 scalars, each long axis shows
  /// its first and last three entries around `…`, as NumPy prints; ``formatted(_:)`` prints all.
  public var description: String { summarized { $0.description } }

  /// The tensor as nested brackets with each scalar written by `format`, every scalar shown.
  public func formatted(_ format: (Double) -> String) -> String {
    summarized(format, above: .max)
  }
}
