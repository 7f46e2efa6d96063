// Operations that move scalars without changing them, and the matrix product.

/// Reshape: y = x with a new shape of the same scalar count. VJP: x̄ = ȳ reshaped to x's shape.
enum Reshape {
  static func forward(_ x: Tensor, to shape: [Int]) -> Tensor { x.reshaped(to: shape) }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T) -> T {
    cotangent.reshaped(to: x.shape)
  }
}

/// Transpose: y = xᵀ, the axes in reverse order. VJP: x̄ = ȳᵀ.
enum Transpose {
  static func forward(_ x: Tensor) -> Tensor { x.transposedKernel() }

  static func pullback<T: TensorAlgebra>(_ cotangent: T) -> T { cotangent.transposed() }
}

/// Broadcast: y = x repeated along new leading axes and axes of size 1 to fill a shape.
/// VJP: x̄ = ȳ summed over those axes (and reshaped to x's shape).
enum Broadcast {
  static func forward(_ x: Tensor, to shape: [Int]) -> Tensor { x.broadcasted(to: shape) }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T) -> T {
    cotangent.unbroadcast(to: x.shape)
  }
}

/// Matrix product of [m, k] and [k, n]: Y = A B. VJP: Ā = Ȳ Bᵀ, B̄ = Aᵀ Ȳ.
enum Matmul {
  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor { .matmulKernel(a, b) }

  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    (
      wrt.0 ? cotangent.matrixProduct(b, transposing: (false, true)) : nil,
      wrt.1 ? a.matrixProduct(cotangent, transposing: (true, false)) : nil
    )
  }
}

// MARK: - Public functions

extension Tensor {
  /// The tensor with its axes in reverse order; for a matrix, its transpose (Aᵀ)ᵢⱼ = Aⱼᵢ.
  public func transposed() -> Tensor { Transpose.forward(self) }
}

extension Variable {
  /// The variable with a new shape of the same scalar count, recorded; x̄ = ȳ reshaped back.
  ///
  /// - Precondition: the new shape has as many scalars as the old.
  public func reshaped(to shape: [Int]) -> Variable {
    .apply(.reshape, self) { Reshape.forward($0, to: shape) }
  }

  /// The variable with its axes reversed (a matrix's transpose), recorded; x̄ = ȳᵀ.
  public func transposed() -> Variable { .apply(.transpose, self, Transpose.forward) }

  /// The variable repeated to fill `shape` under NumPy broadcasting, recorded; x̄ = ȳ summed
  /// over the broadcast axes.
  ///
  /// - Precondition: the variable's shape broadcasts to `shape`.
  public func broadcasted(to shape: [Int]) -> Variable {
    .apply(.broadcast, self) { Broadcast.forward($0, to: shape) }
  }
}

/// The matrix product, with NumPy's `matmul` ranks: matrix × matrix, matrix × vector,
/// vector × matrix, vector · vector (rank 0), a batch of matrices × one matrix, and batch ×
/// batch. (AB)ᵢⱼ = Σₚ Aᵢₚ Bₚⱼ.
///
/// - Precondition: the ranks are among those, the inner dimensions agree, and two batches
///   have the same length.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
  a.rank == 2 && b.rank == 2 ? Matmul.forward(a, b) : matmul(Variable(a), Variable(b)).value
}

/// The matrix product, recorded: one `matmul` entry for two matrices (Ā = ȲBᵀ, B̄ = AᵀȲ);
/// the other ranks are reshapes around it, and batch × batch is one product per batch entry,
/// stacked.
///
/// - Precondition: as for ``matmul(_:_:)-(Tensor,Tensor)``.
public func matmul(_ a: Variable, _ b: Variable) -> Variable {
  let (sa, sb) = (a.shape, b.shape)
  let inner = sb.count == 1 ? sb.first : sb.count >= 2 ? sb[sb.count - 2] : nil
  require(
    (1...3).contains(sa.count) && (1...3).contains(sb.count) && sa.last == inner
      && !(sa.count < 3 && sb.count == 3),
    "matmul: shapes \(sa) and \(sb) are not matrices, vectors or batches with agreeing inner "
      + "dimensions")
  switch (sa.count, sb.count) {
  case (2, 2):
    return .apply(.matmul, a, b, Matmul.forward)
  case (1, 1):
    return matmul(a.reshaped(to: [1, sa[0]]), b.reshaped(to: [sb[0], 1])).reshaped(to: [])
  case (2, 1):
    return matmul(a, b.reshaped(to: [sb[0], 1])).reshaped(to: [sa[0]])
  case (1, 2):
    return matmul(a.reshaped(to: [1, sa[0]]), b).reshaped(to: [sb[1]])
  case (3, 1), (3, 2):
    let right = sb.count == 1 ? b.reshaped(to: [sb[0], 1]) : b
    let product = matmul(a.reshaped(to: [sa[0] * sa[1], sa[2]]), right)
    return product.reshaped(to: sb.count == 1 ? [sa[0], sa[1]] : [sa[0], sa[1], sb[1]])
  default:  // (3, 3)
    require(sa[0] == sb[0], "matmul: batches of \(sa[0]) and \(sb[0]) matrices differ")
    return stack((0..<sa[0]).map { matmul(a[$0], b[$0]) }, alongAxis: 0)
  }
}

extension Variable {
  /// The variable with axes of size 1 inserted at `axes` (positions in the result), recorded
  /// as a reshape.
  public func expandingShape(at axes: Int...) -> Variable {
    reshaped(to: Shape.expanding(shape, at: axes, op: "expandingShape(at:)"))
  }

  /// The variable without the axes of size 1 at `axes` (all of them when none is given),
  /// recorded as a reshape.
  ///
  /// - Precondition: each named axis has size 1.
  public func squeezingShape(at axes: Int...) -> Variable {
    reshaped(to: Shape.squeezing(shape, at: axes, op: "squeezingShape(at:)"))
  }

  /// The variable as a vector of all its scalars in row-major order, recorded as a reshape.
  public func flattened() -> Variable { reshaped(to: [value.scalarCount]) }
}

extension Tensor {
  /// The tensor with axes of size 1 inserted at `axes` (positions in the result).
  public func expandingShape(at axes: Int...) -> Tensor {
    reshaped(to: Shape.expanding(shape, at: axes, op: "expandingShape(at:)"))
  }

  /// The tensor without the axes of size 1 at `axes` (all of them when none is given).
  public func squeezingShape(at axes: Int...) -> Tensor {
    reshaped(to: Shape.squeezing(shape, at: axes, op: "squeezingShape(at:)"))
  }

  /// The tensor as a vector of all its scalars in row-major order.
  public func flattened() -> Tensor { reshaped(to: [scalarCount]) }
}

extension Shape {
  static func expanding(_ shape: [Int], at axes: [Int], op: String) -> [Int] {
    let rank = shape.count + axes.count
    let positions = Set(axes.map { $0 < 0 ? $0 + rank : $0 })
    require(
      positions.count == axes.count && positions.allSatisfy { (0..<rank).contains($0) },
      "\(op): axes \(axes) are not distinct positions in a result of rank \(rank)")
    var source = shape.makeIterator()
    return (0..<rank).map { positions.contains($0) ? 1 : source.next()! }
  }

  static func squeezing(_ shape: [Int], at axes: [Int], op: String) -> [Int] {
    let named = Set(Shape.normalize(axes: axes, rank: shape.count, op: op))
    for axis in named {
      require(
        shape[axis] == 1, "\(op): axis \(axis) of shape \(shape) has size \(shape[axis]), not 1")
    }
    return shape.indices.compactMap { axis in
      (named.isEmpty ? shape[axis] == 1 : named.contains(axis)) ? nil : shape[axis]
    }
  }
}

/// The variables joined along `axis`, recorded as `concatenate` entries of two operands each,
/// paired off as a balanced tree, so each scalar is copied about log₂ k times for k pieces;
/// x̄ᵢ is the slice of ȳ where xᵢ went.
///
/// - Precondition: at least one variable; the shapes agree except along `axis`.
public func concatenate(_ variables: [Variable], alongAxis axis: Int = 0) -> Variable {
  let (_, axis) = Shape.concatenation(variables.map(\.shape), alongAxis: axis)
  require(axis <= Int(UInt8.max), "concatenate: axis \(axis) is past the 255 a tape entry holds")
  var level = variables
  while level.count > 1 {
    level = stride(from: 0, to: level.count, by: 2).map { start in
      guard start + 1 < level.count else { return level[start] }
      return .apply(.concatenate, level[start], level[start + 1], function: UInt8(axis)) {
        Concatenation.forward([$0, $1], alongAxis: axis)
      }
    }
  }
  return level[0]
}

/// The tensors joined along `axis`.
///
/// - Precondition: at least one tensor; the shapes agree except along `axis`.
public func concatenate(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
  Concatenation.forward(tensors, alongAxis: axis)
}

/// Tensors joined along an axis: y = [a, b, …]. VJP (of two, as recorded): ā and b̄ are the
/// parts of ȳ where each went, slices, so that on variables they are recorded again.
enum Concatenation {
  /// Copied run by run: for each step of the axes before `axis`, each piece's run of
  /// extent × inner scalars. The composition it replaced (a pad per piece, and their sum) made
  /// three result-sized tensors for two pieces, and turned −0 into +0 by adding a pad's zeros.
  static func forward(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
    let (shape, axis) = Shape.concatenation(tensors.map(\.shape), alongAxis: axis)
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    let stride = shape[axis] * inner  // scalars of the result per step of the outer axes
    return Tensor(shape: shape, count: outer * stride) { out in
      var start = 0
      for tensor in tensors {
        let run = tensor.shape[axis] * inner
        if run > 0 {
          tensor.withUnsafeScalars { source in
            for step in 0..<outer {
              (out.baseAddress! + step * stride + start).update(
                from: source.baseAddress! + step * run, count: run)
            }
          }
        }
        start += run
      }
    }
  }

  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, axis: Int, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    let shape = cotangent.shape
    let split = a.shape[axis]
    func part(_ lower: Int, _ upper: Int) -> T {
      var (low, high) = ([Int](repeating: 0, count: shape.count), shape)
      (low[axis], high[axis]) = (lower, upper)
      return cotangent.sliced(Box(lower: low, upper: high, shape: shape).encoded)
    }
    return (wrt.0 ? part(0, split) : nil, wrt.1 ? part(split, shape[axis]) : nil)
  }
}

/// The variables stacked along a new axis at `axis`, recorded: each gains an axis of size 1,
/// then they are concatenated.
///
/// - Precondition: at least one variable; all have the same shape.
public func stack(_ variables: [Variable], alongAxis axis: Int = 0) -> Variable {
  require(!variables.isEmpty, "stack: no variables to stack")
  let shape = variables[0].shape
  require(
    variables.allSatisfy { $0.shape == shape },
    "stack: the shapes \(variables.map(\.shape)) are not all the same")
  return concatenate(variables.map { $0.expandingShape(at: axis) }, alongAxis: axis)
}

/// The tensors stacked along a new axis at `axis`.
public func stack(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
  stack(tensors.map { Variable($0) }, alongAxis: axis).value
}

extension Shape {
  /// The shape of the concatenation of `shapes` along `axis`, and the axis normalized.
  static func concatenation(_ shapes: [[Int]], alongAxis axis: Int) -> ([Int], Int) {
    require(!shapes.isEmpty, "concatenate: no tensors to join")
    let first = shapes[0]
    let axis = Shape.normalize(axes: [axis], rank: first.count, op: "concatenate")[0]
    var length = 0
    for shape in shapes {
      require(
        shape.count == first.count
          && shape.indices.allSatisfy { $0 == axis || shape[$0] == first[$0] },
        "concatenate: shapes \(shapes) differ other than along axis \(axis)")
      length += shape[axis]
    }
    var shape = first
    shape[axis] = length
    return (shape, axis)
  }
}

extension Variable {
  /// The slice at `index` along the first axis, which is dropped: `x[i]` of a vector is a
  /// rank-0 variable, of a matrix its row i.
  ///
  /// Recorded as a `slice` then a `reshape`: O(size of the slice), not of x; x̄ is ȳ at `index`
  /// and zero elsewhere, and it differentiates to any order.
  ///
  /// - Precondition: the variable has at least one axis and `index` is within the first.
  public subscript(index: Int) -> Variable {
    let shape = self.shape
    require(
      !shape.isEmpty && (0..<shape[0]).contains(index),
      "subscript: index \(index) is out of range for shape \(shape)")
    return self[index..<(index + 1)].reshaped(to: Array(shape.dropFirst()))
  }

  /// The entry at a multi-index of two or more integers, or the slice at their leading axes:
  /// `m[i, j]` is `m[i][j]`, recorded.
  public subscript(first: Int, second: Int, rest: Int...) -> Variable {
    ([second] + rest).reduce(self[first]) { $0[$1] }
  }
}
