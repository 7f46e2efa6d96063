internal import BackpropKernels
import Foundation

// Transposes and the matrix product on tensors: the kernels behind matmul, its VJP's
// transposed operands, and the threads a large product may use.

extension Tensor {
  /// The tensor with its axes in reverse order (a matrix's transpose).
  func transposedKernel() -> Tensor {
    if rank < 2 { return self }
    if rank == 2 { return transposedMatrix() }
    let target = Array(shape.reversed())
    let strides = Array(Shape.contiguousStrides(shape).reversed())
    return withUnsafeScalars { source in
      Tensor(shape: target, count: scalarCount) { out in
        Shape.forEachPosition(in: target, strides: strides, strides) { linear, i, _ in
          out[linear] = source[i]
        }
      }
    }
  }

  /// A matrix's transpose in tiles of 8 × 8, each written as 8 runs of 8 contiguous scalars.
  /// Small square tiles matter because rows a power of two apart share cache sets: 16 rows of
  /// 512 scalars already overflow an 8-way set, and 8 × 8 tiles beat both the element-by-element
  /// walk and 16 × 16 tiles at 512 and 1024.
  func transposedMatrix() -> Tensor {
    let (rows, columns) = (shape[0], shape[1])
    let tile = 8
    return withUnsafeScalars { source in
      Tensor(shape: [columns, rows], count: scalarCount) { out in
        for i0 in stride(from: 0, to: rows, by: tile) {
          let i1 = Swift.min(i0 + tile, rows)
          for j0 in stride(from: 0, to: columns, by: tile) {
            for j in j0..<Swift.min(j0 + tile, columns) {
              for i in i0..<i1 { out[j * rows + i] = source[i * columns + j] }
            }
          }
        }
      }
    }
  }

  /// The matrix product of `[m, k]` and `[k, n]`, after transposing either operand where
  /// `transposing` asks (the matmul VJP's Ȳ Bᵀ and Aᵀ Ȳ), with the bits of transposing first.
  ///
  /// The loop order i-p-j walks both the right operand and the result along rows, which keeps
  /// the inner loop contiguous and vectorizable.
  static func matmulKernel(
    _ lhs: Tensor, _ rhs: Tensor, transposing: (left: Bool, right: Bool) = (false, false)
  ) -> Tensor {
    require(
      lhs.rank == 2 && rhs.rank == 2
        && lhs.shape[transposing.left ? 0 : 1] == rhs.shape[transposing.right ? 1 : 0],
      "matmul: shapes \(lhs.shape)\(transposing.left ? "ᵀ" : "") and "
        + "\(rhs.shape)\(transposing.right ? "ᵀ" : "") are not [m, k] and [k, n]")
    let (m, k) = transposing.left ? (lhs.shape[1], lhs.shape[0]) : (lhs.shape[0], lhs.shape[1])
    let n = rhs.shape[transposing.right ? 0 : 1]
    // A narrow result (few columns, such as class scores) makes the row-update loop below
    // short, and it reads and writes the output row once per term; dot products over a
    // transposed right-hand side keep each sum in registers instead.
    if n < 8 && k >= 8 {
      return dotProductKernel(
        transposing.left ? lhs.transposedKernel() : lhs,
        transposing.right ? rhs : rhs.transposedKernel(), m: m, k: k, n: n)
    }
    // Large products: the packed, register-tiled kernel in C (BackpropKernels), many times the
    // row-update loop below (W8 reports the ratio). A short k or a narrow result is no reason to
    // leave it: packing is m k + k n copies against m k n multiply-adds, so even the two-layer
    // step's [1024, 10] × [10, 256] and [1024, 256] × [256, 10] run faster here than in the loop
    // below or as dot products. Small ones stay below, where packing costs more than it saves.
    if m >= 16 && n >= 8,
      let product = blockedProduct(lhs, rhs, m: m, k: k, n: n, transposing: transposing)
    {
      return product
    }
    if transposing.left || transposing.right {
      return matmulKernel(
        transposing.left ? lhs.transposedKernel() : lhs,
        transposing.right ? rhs.transposedKernel() : rhs)
    }
    return lhs.withUnsafeScalars { a in
      rhs.withUnsafeScalars { b in
        Tensor(shape: [m, n], count: m * n) { out in
          out.initialize(repeating: 0)
          // The base addresses as constants: through the captured buffers the inner loop
          // reloaded them at every store and stayed scalar.
          guard let a = a.baseAddress, let b = b.baseAddress, let out = out.baseAddress else {
            return
          }
          for i in 0..<m {
            for p in 0..<k {
              let aip = a[i * k + p]
              let row = p * n
              let outRow = i * n
              for j in 0..<n { out[outRow + j] += aip * b[row + j] }
            }
          }
        }
      }
    }
  }

  /// C = op(A) op(B) by the blocked kernel on ``Parallelism/threads`` threads, a transposed
  /// operand read through its strides, or `nil` if it could not allocate a packing buffer.
  static func blockedProduct(
    _ lhs: Tensor, _ rhs: Tensor, m: Int, k: Int, n: Int,
    transposing: (left: Bool, right: Bool) = (false, false)
  ) -> Tensor? {
    // Row-major strides (row, column), swapped for an operand read transposed.
    let (aRows, aColumns) = transposing.left ? (1, m) : (k, 1)
    let (bRows, bColumns) = transposing.right ? (1, k) : (n, 1)
    var succeeded = false
    let product = lhs.withUnsafeScalars { a in
      rhs.withUnsafeScalars { b in
        Tensor(shape: [m, n], count: m * n) { out in
          succeeded =
            bp_matrix_product(
              Int32(Parallelism.threads), a.baseAddress!, aRows, aColumns, b.baseAddress!, bRows,
              bColumns, out.baseAddress!, m, k, n) != 0
          if !succeeded { out.initialize(repeating: 0) }
        }
      }
    }
    return succeeded ? product : nil
  }

  /// C = A B for A [m, k] and B given transposed, [n, k]: each entry a dot product of two
  /// contiguous rows, summed in eight lanes.
  static func dotProductKernel(
    _ lhs: Tensor, _ rhsTransposed: Tensor, m: Int, k: Int, n: Int
  ) -> Tensor {
    lhs.withUnsafeScalars { a in
      rhsTransposed.withUnsafeScalars { b in
        Tensor(shape: [m, n], count: m * n) { out in
          let (a, b) = (a.baseAddress!, b.baseAddress!)
          for i in 0..<m {
            for j in 0..<n {
              let (row, column) = (a + i * k, b + j * k)
              var (low, high) = (SIMD4<Double>(), SIMD4<Double>())
              var p = 0
              while p + 8 <= k {
                low +=
                  SIMD4(row[p], row[p + 1], row[p + 2], row[p + 3])
                  * SIMD4(column[p], column[p + 1], column[p + 2], column[p + 3])
                high +=
                  SIMD4(row[p + 4], row[p + 5], row[p + 6], row[p + 7])
                  * SIMD4(column[p + 4], column[p + 5], column[p + 6], column[p + 7])
                p += 8
              }
              var total = (low + high).sum()
              while p < k {
                total += row[p] * column[p]
                p += 1
              }
              out[i * n + j] = total
            }
          }
        }
      }
    }
  }
}

/// How many threads a large matrix product may use: the environment variable
/// `BACKPROP_THREADS` (a positive integer, at most 64), read once, when the first product runs;
/// 1 when it is unset or anything else. Each thread takes whole blocks of rows of the result,
/// and every entry is the same sum in the same order on any number of threads, so results are
/// the same to the bit (products below about 2²² multiply-adds stay on one thread). Immutable
/// once read: a setting of the process, like `OMP_NUM_THREADS`, not state a tape could race on.
enum Parallelism {
  static let threads: Int = {
    guard let text = getenv("BACKPROP_THREADS"), let count = Int(String(cString: text)),
      count > 0
    else { return 1 }
    return Swift.min(count, 64)
  }()
}
