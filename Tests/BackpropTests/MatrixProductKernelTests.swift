import BackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The blocked matrix product against the definition, on shapes that exercise every edge of
/// its blocking: 1, 7, 33 and 257 cut through the 4 × 8 and 8 × 16 tiles, the 96-row and
/// 256-deep blocks, in every version the machine can run (AVX-512, AVX2, the baseline).
@Suite("The blocked matrix product kernel")
struct MatrixProductKernelTests {
  static let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (1, 7, 33), (7, 1, 8), (33, 7, 1), (4, 8, 8), (5, 9, 9), (33, 33, 33),
    (97, 257, 41), (257, 33, 257), (16, 300, 40), (100, 513, 64), (8, 16, 16), (9, 300, 17),
    (193, 20, 100),
  ]

  @Test func noTableForAWidthItCannotRun() {
    #expect(bp_kernels(1024) == nil)
    #expect(bp_kernels(128) == nil)
    #expect(bp_kernels(bp_machine_kernel_width() + 256) == nil)
    var (a, b, c) = ([2.0], [3.0], [Double.nan])
    #expect(bp_matrix_product(1, &a, 1, 1, &b, 1, 1, &c, 1, 1, 1) == 1)
    #expect(c[0] == 6)
  }

  /// The row-major product of `width`'s build on `threads` threads.
  static func product(
    width: Int, threads: Int = 1, _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
    _ c: UnsafeMutablePointer<Double>, _ m: Int, _ k: Int, _ n: Int
  ) -> Int32 {
    kernel(\.matrix_product, width: width)(Int32(threads), a, k, 1, b, n, 1, c, m, k, n)
  }

  @Test(arguments: shapes.indices)
  func agreesWithTheDefinition(index: Int) {
    let (m, k, n) = Self.shapes[index]
    var generator = SeededGenerator(seed: UInt64(m * 1000 + k * 10 + n))
    let a = Tensor.random([m, k], in: -1...1, using: &generator).scalars
    let b = Tensor.random([k, n], in: -1...1, using: &generator).scalars
    // Every register width this machine can run, the portable build included.
    for width in kernelWidths {
      var c = [Double](repeating: .nan, count: m * n)
      let ok = a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
          c.withUnsafeMutableBufferPointer { c in
            Self.product(width: width, a.baseAddress!, b.baseAddress!, c.baseAddress!, m, k, n)
          }
        }
      }
      #expect(ok == 1, "width \(width)")
      var worst = 0.0
      for i in 0..<m {
        for j in 0..<n {
          var exact = 0.0
          var magnitude = 0.0
          for p in 0..<k {
            exact += a[i * k + p] * b[p * n + j]
            magnitude += abs(a[i * k + p] * b[p * n + j])
          }
          // The classical bound for a dot product of k terms, summed in another order.
          let error = abs(c[i * n + j] - exact)
          #expect(
            error <= 2 * Double(k) * Double.ulpOfOne * magnitude, "[\(i), \(j)] of \(m)×\(k)×\(n)")
          worst = max(worst, error)
        }
      }
      #expect(worst.isFinite)
    }
  }

  /// On 2, 3 and 7 threads, the one-thread product to the bit, at every width: shapes whose
  /// rows split into unequal runs of 96-row blocks, fewer blocks than threads, and one below
  /// the size at which threads start (which must run on one).
  @Test(arguments: [(193, 300, 257), (500, 64, 33), (97, 700, 70), (1000, 5, 1000), (30, 30, 30)])
  func threadsGiveTheOneThreadBits(m: Int, k: Int, n: Int) {
    var generator = SeededGenerator(seed: UInt64(m + k + n))
    let a = Tensor.random([m, k], in: -1...1, using: &generator).scalars
    let b = Tensor.random([k, n], in: -1...1, using: &generator).scalars
    func product(width: Int, threads: Int) -> [Double] {
      var c = [Double](repeating: .nan, count: m * n)
      let ok = a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
          c.withUnsafeMutableBufferPointer { c in
            Self.product(
              width: width, threads: threads, a.baseAddress!, b.baseAddress!, c.baseAddress!, m,
              k, n)
          }
        }
      }
      #expect(ok == 1)
      return c
    }
    for width in kernelWidths {
      let one = product(width: width, threads: 1).map(\.bitPattern)
      #expect(!one.contains(Double.nan.bitPattern))
      for threads in [2, 3, 7, 100] {
        #expect(
          product(width: width, threads: threads).map(\.bitPattern) == one,
          "\(m)×\(k)×\(n), width \(width), \(threads) threads")
      }
    }
  }

  @Test func matmulUsesItAndItsGradientsStillCheck() {
    var generator = SeededGenerator(seed: 77)
    let a = Tensor.random([40, 50], in: -1...1, using: &generator)
    let b = Tensor.random([50, 60], in: -1...1, using: &generator)
    let viaKernel = matmul(a, b)
    var naive = [Double](repeating: 0, count: 40 * 60)
    for i in 0..<40 {
      for p in 0..<50 { for j in 0..<60 { naive[i * 60 + j] += a[i, p] * b[p, j] } }
    }
    expectClose(viaKernel, Tensor(shape: [40, 60], scalars: naive), tolerance: 1e-13)
    expectGradientMatchesFiniteDifferences(at: a) { x in
      (matmul(x, Variable(b)) * matmul(x, Variable(b))).mean()
    }
  }

  /// Operands read through swapped strides give the bits of the same product with the
  /// transposes made first, in each of the four layouts, at every width and on 1 and 3
  /// threads (the last shape is large enough for threads to start): packing moves numbers and
  /// changes no sum.
  @Test(arguments: shapes + [(193, 300, 257)])
  func stridedOperandsGiveTheTransposedProductsBits(m: Int, k: Int, n: Int) {
    var generator = SeededGenerator(seed: UInt64(m * 7 + k * 5 + n))
    let a = Tensor.random([m, k], in: -1...1, using: &generator)
    let b = Tensor.random([k, n], in: -1...1, using: &generator)
    // Each operand stored as given or transposed; the strides read it back as A or B.
    let (aT, bT) = (a.transposed().scalars, b.transposed().scalars)
    for width in kernelWidths {
      for threads in [1, 3] {
        func product(_ x: [Double], _ xStrides: (Int, Int), _ y: [Double], _ yStrides: (Int, Int))
          -> [UInt64]
        {
          var c = [Double](repeating: .nan, count: m * n)
          let ok = x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
              c.withUnsafeMutableBufferPointer { c in
                kernel(\.matrix_product, width: width)(
                  Int32(threads), x.baseAddress!, xStrides.0, xStrides.1, y.baseAddress!,
                  yStrides.0, yStrides.1, c.baseAddress!, m, k, n)
              }
            }
          }
          #expect(ok == 1)
          return c.map(\.bitPattern)
        }
        let plain = product(a.scalars, (k, 1), b.scalars, (n, 1))
        #expect(!plain.contains(Double.nan.bitPattern))
        let context = "\(m)×\(k)×\(n), width \(width), \(threads) threads"
        // Counts of differing entries, so that a failure prints three numbers, not matrices.
        func differences(_ other: [UInt64]) -> Int { zip(other, plain).filter { $0 != $1 }.count }
        #expect(differences(product(aT, (1, m), b.scalars, (n, 1))) == 0, "Aᵀ, \(context)")
        #expect(differences(product(a.scalars, (k, 1), bT, (1, k))) == 0, "Bᵀ, \(context)")
        #expect(differences(product(aT, (1, m), bT, (1, k))) == 0, "both, \(context)")
      }
    }
  }

  /// The matmul VJP's products on tensors, op(A) op(B) with no transpose made, against the
  /// transposes made first, on shapes that take each path (dot products for a narrow result,
  /// the blocked kernel, the small loop) and each of the four layouts: the same bits, and
  /// the same as the recorded gradient.
  @Test(arguments: [
    (3, 4, 5), (40, 50, 60), (64, 100, 10), (20, 9, 31), (100, 17, 33), (1, 64, 64),
  ])
  func transposingProductsMatchTransposingFirst(m: Int, k: Int, n: Int) {
    var generator = SeededGenerator(seed: UInt64(m * k + n))
    // Large and subnormal entries, one per row at most, so no sum overflows.
    var aScalars = Tensor.random([m, k], in: -1...1, using: &generator).scalars
    for (row, edge) in [1e300, -1e300, 0x1p-1074, -0.0].enumerated() where row < m {
      aScalars[row * k + row % k] = edge
    }
    let a = Tensor(shape: [m, k], scalars: aScalars)
    let b = Tensor.random([k, n], in: -1...1, using: &generator)
    for left in [false, true] {
      for right in [false, true] {
        let x = left ? a.transposed() : a
        let y = right ? b.transposed() : b
        let direct = x.matrixProduct(y, transposing: (left, right))
        #expect(direct.shape == [m, n])
        let differing = zip(direct.scalars, matmul(a, b).scalars).filter {
          $0.bitPattern != $1.bitPattern
        }
        #expect(differing.isEmpty, "\(m)×\(k)×\(n), transposing (\(left), \(right))")
      }
    }
    let g = Tensor.random([m, n], in: -1...1, using: &generator)
    let (aBar, bBar) = gradient(at: a, b) { a, b in (matmul(a, b) * Variable(g)).sum() }
    #expect(zip(aBar.scalars, matmul(g, b.transposed()).scalars).allSatisfy { $0 == $1 })
    #expect(zip(bBar.scalars, matmul(a.transposed(), g).scalars).allSatisfy { $0 == $1 })
  }

  /// matmul on the shapes that reach the blocked kernel with a short k or a narrow result (the
  /// two-layer step's [1024, 10] × [10, 256] and [256, 1024] × [1024, 10], scaled down), and
  /// on the small loop, in each of the four layouts the VJP asks for: the definition, within
  /// the classical bound for k terms, and exactly 0 for k = 0.
  @Test(arguments: [
    (64, 10, 40), (40, 1, 50), (100, 3, 8), (33, 256, 10), (16, 2, 9), (17, 0, 12), (5, 3, 64),
  ])
  func shortAndNarrowProductsAgreeWithTheDefinition(m: Int, k: Int, n: Int) {
    var generator = SeededGenerator(seed: UInt64(m * 31 + k * 7 + n))
    let a = Tensor.random([m, k], in: -1...1, using: &generator)
    let b = Tensor.random([k, n], in: -1...1, using: &generator)
    let (x, y) = (a.scalars, b.scalars)
    for left in [false, true] {
      for right in [false, true] {
        let c = (left ? a.transposed() : a).matrixProduct(
          right ? b.transposed() : b, transposing: (left, right)
        ).scalars
        var failures = 0
        for i in 0..<m {
          for j in 0..<n {
            var (exact, magnitude) = (0.0, 0.0)
            for p in 0..<k {
              exact += x[i * k + p] * y[p * n + j]
              magnitude += abs(x[i * k + p] * y[p * n + j])
            }
            let bound = 2 * Double(k) * Double.ulpOfOne * magnitude
            if !(abs(c[i * n + j] - exact) <= bound) || (k == 0 && c[i * n + j] != 0) {
              failures += 1
            }
          }
        }
        #expect(failures == 0, "\(m)×\(k)×\(n), transposing (\(left), \(right))")
      }
    }
  }

  /// The tiled transpose against the definition, on shapes with partial tiles, one row or
  /// column, powers of two (whose rows share cache sets) and no scalars.
  @Test(arguments: [(1, 1), (1, 9), (9, 1), (7, 9), (8, 8), (17, 33), (64, 512), (0, 5), (5, 0)])
  func tiledTransposeMatchesTheDefinition(rows: Int, columns: Int) {
    let m = Tensor(shape: [rows, columns], scalars: (0..<(rows * columns)).map(Double.init))
    let t = m.transposed()
    #expect(t.shape == [columns, rows])
    let (ts, ms) = (t.scalars, m.scalars)
    var mismatches = 0
    for i in 0..<rows {
      for j in 0..<columns where ts[j * rows + i] != ms[i * columns + j] { mismatches += 1 }
    }
    #expect(mismatches == 0, "\(rows)×\(columns)")
  }
}
