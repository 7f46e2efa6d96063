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
      wrt.0 ? cotangent.matrixProduct(b.transposed()) : nil,
      wrt.1 ? a.transposed().matrixProduct(cotangent) : nil
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

/// The matrix product of `[m, k]` and `[k, n]` tensors: (AB)ᵢⱼ = Σₚ Aᵢₚ Bₚⱼ.
///
/// - Precondition: both are matrices and the inner dimensions agree.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor { Matmul.forward(a, b) }

/// The matrix product of `[m, k]` and `[k, n]` variables, recorded: Y = AB, Ā = ȲBᵀ, B̄ = AᵀȲ.
///
/// - Precondition: both are matrices and the inner dimensions agree.
public func matmul(_ a: Variable, _ b: Variable) -> Variable {
  .apply(.matmul, a, b, Matmul.forward)
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
