internal import BackpropKernels

// The product along axes: a primitive whose VJP is the product of the others, with no division.

/// Product: y = Πᵢ xᵢ along one axis, which stays with size 1. VJP: x̄ᵢ = ȳ Πⱼ≠ᵢ xⱼ, the
/// product of the others, as an exclusive prefix product times an exclusive suffix product:
/// exact where entries are 0, where ȳ y / xᵢ would give 0/0, with no division anywhere.
///
/// On tensors the VJP is two passes over each run along the axis (suffix products written
/// right to left, then prefix products carried left to right). On variables (a Hessian, forward
/// mode) it is composed of recorded products by halving (``Variable/exclusiveProducts(alongAxis:scaledBy:)``),
/// so it is differentiable again, to any order.
enum Product {
  /// The layout of a tensor of `shape` around `axis`: the blocks before the axis, its length,
  /// and the scalars of one position along it (the contiguous block after it).
  static func layout(_ shape: [Int], axis: Int) -> (outer: Int, length: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
  }

  /// The products along `axis`, which stays with size 1. Along the last axis each run is
  /// multiplied in four interleaved partial products (one chain of multiplications waits out
  /// each one's latency), combined as (p₀ p₁)(p₂ p₃); along another axis, position by position
  /// down the axis, a loop over contiguous scalars that vectorizes.
  static func forward(_ x: Tensor, alongAxis axis: Int) -> Tensor {
    var shape = x.shape
    let (outer, length, inner) = layout(shape, axis: axis)
    shape[axis] = 1
    return x.withUnsafeScalars { source in
      Tensor(shape: shape, count: outer * inner) { out in
        guard let to = out.baseAddress else { return }
        // An empty axis: every product is the empty one.
        guard length > 0, let from = source.baseAddress else {
          return out.update(repeating: 1)
        }
        if inner == 1 {
          for o in 0..<outer { to[o] = product(from + o * length, length) }
          return
        }
        for o in 0..<outer {
          let (block, result) = (from + o * length * inner, to + o * inner)
          result.update(repeating: 1, count: inner)
          for k in 0..<length {
            let position = block + k * inner
            for j in 0..<inner { result[j] *= position[j] }
          }
        }
      }
    }
  }

  /// Πᵢ xᵢ over `count` contiguous scalars, in four interleaved partial products.
  @inline(__always)
  static func product(_ x: UnsafePointer<Double>, _ count: Int) -> Double {
    var partial = (1.0, 1.0, 1.0, 1.0)
    var index = 0
    while index + 4 <= count {
      partial.0 *= x[index]
      partial.1 *= x[index + 1]
      partial.2 *= x[index + 2]
      partial.3 *= x[index + 3]
      index += 4
    }
    while index < count {
      partial.0 *= x[index]
      index += 1
    }
    return (partial.0 * partial.1) * (partial.2 * partial.3)
  }

  /// ȳ Πⱼ≠ᵢ xⱼ along `axis`, where the cotangent `g` has the shape of the products (the axis
  /// kept with size 1) or is rank 0.
  ///
  /// Along the last axis, a run of n ≥ 16 is cut into four segments whose passes interleave
  /// (four independent chains of multiplications, where one run is a single chain): each
  /// scalar's exclusive product is the product of the other segments' totals times its
  /// segment's exclusive prefix and suffix. Along another axis, the prefix and suffix are
  /// carried position by position in a loop over contiguous scalars.
  static func exclusiveProducts(_ x: Tensor, alongAxis axis: Int, scaledBy g: Tensor) -> Tensor {
    let (outer, length, inner) = layout(x.shape, axis: axis)
    require(
      g.rank == 0 || g.scalarCount == outer * inner,
      "prod: a cotangent of shape \(g.shape) for products of shape \(x.shape) along axis \(axis)")
    return x.withUnsafeScalars { source in
      g.withUnsafeScalars { scales in
        Tensor(shape: x.shape, count: source.count) { out in
          let (from, to) = (source.baseAddress!, out.baseAddress!)
          let uniform = scales.count == 1
          if inner == 1 {
            for o in 0..<outer {
              exclusiveRun(
                from + o * length, to + o * length, length, uniform ? scales[0] : scales[o])
            }
            return
          }
          // The running suffix and prefix of each contiguous position.
          var carried = [Double](repeating: 1, count: inner)
          carried.withUnsafeMutableBufferPointer { running in
            let running = running.baseAddress!
            for o in 0..<outer {
              let (block, result) = (from + o * length * inner, to + o * length * inner)
              running.update(repeating: 1, count: inner)
              for k in stride(from: length - 1, through: 0, by: -1) {
                let (position, written) = (block + k * inner, result + k * inner)
                for j in 0..<inner {
                  written[j] = running[j]
                  running[j] *= position[j]
                }
              }
              running.update(repeating: 1, count: inner)
              if uniform {
                let scale = scales[0]
                for k in 0..<length {
                  let (position, written) = (block + k * inner, result + k * inner)
                  for j in 0..<inner {
                    written[j] = scale * (running[j] * written[j])
                    running[j] *= position[j]
                  }
                }
              } else {
                let scale = scales.baseAddress! + o * inner
                for k in 0..<length {
                  let (position, written) = (block + k * inner, result + k * inner)
                  for j in 0..<inner {
                    written[j] = scale[j] * (running[j] * written[j])
                    running[j] *= position[j]
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// One contiguous run's g Πⱼ≠ᵢ xⱼ into `out`.
  @inline(__always)
  static func exclusiveRun(
    _ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ n: Int, _ g: Double
  ) {
    guard n >= 16 else {
      var suffix = 1.0
      for i in stride(from: n - 1, through: 0, by: -1) {
        out[i] = suffix
        suffix *= x[i]
      }
      var prefix = 1.0
      for i in 0..<n {
        out[i] = g * (prefix * out[i])
        prefix *= x[i]
      }
      return
    }
    // Segments [0, m), [m, 2m), [2m, 3m) and [3m, n); the last takes the remainder, whose
    // scalars its own suffix pass visits first and its prefix pass last.
    let m = n / 4
    var s = (1.0, 1.0, 1.0, 1.0)
    for i in stride(from: n - 1, through: 4 * m, by: -1) {
      out[i] = s.3
      s.3 *= x[i]
    }
    for t in stride(from: m - 1, through: 0, by: -1) {
      out[t] = s.0
      s.0 *= x[t]
      out[m + t] = s.1
      s.1 *= x[m + t]
      out[2 * m + t] = s.2
      s.2 *= x[2 * m + t]
      out[3 * m + t] = s.3
      s.3 *= x[3 * m + t]
    }
    // Each segment's prefix starts at the product of the other segments' totals, before and
    // after it.
    var p = (s.1 * (s.2 * s.3), s.0 * (s.2 * s.3), (s.0 * s.1) * s.3, (s.0 * s.1) * s.2)
    for t in 0..<m {
      out[t] = g * (p.0 * out[t])
      p.0 *= x[t]
      out[m + t] = g * (p.1 * out[m + t])
      p.1 *= x[m + t]
      out[2 * m + t] = g * (p.2 * out[2 * m + t])
      p.2 *= x[2 * m + t]
      out[3 * m + t] = g * (p.3 * out[3 * m + t])
      p.3 *= x[3 * m + t]
    }
    for i in (4 * m)..<n {
      out[i] = g * (p.3 * out[i])
      p.3 *= x[i]
    }
  }

  /// The one axis a recorded product reduced: where the output's length (1) differs from the
  /// input's.
  static func reducedAxis(x: [Int], y: [Int]) -> Int {
    guard x.count == y.count, let axis = x.indices.first(where: { x[$0] != y[$0] }) else {
      fail("prod: no reduced axis between shapes \(x) and \(y)")
    }
    return axis
  }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T, y: T) -> T {
    x.exclusiveProducts(alongAxis: reducedAxis(x: x.shape, y: y.shape), scaledBy: cotangent)
  }
}

extension Variable {
  /// The product of every scalar, rank 0 (1 for an empty tensor), recorded as a product along
  /// one axis: ∂/∂xᵢ = Πⱼ≠ᵢ xⱼ exactly, correct where entries are 0 (where dividing y by xᵢ
  /// would give 0/0), and to any order.
  public func prod() -> Variable {
    let count = value.scalarCount
    return reshaped(to: [count]).prod(alongAxes: [0]).reshaped(to: [])
  }

  /// The products along `axes` (kept with size 1), recorded, one entry per axis longer than 1:
  /// y = Πᵢ xᵢ; x̄ᵢ = ȳ Πⱼ≠ᵢ xⱼ, by prefix and suffix products (see ``Product``). An axis of
  /// length 1 is its own product, and records nothing.
  public func prod(alongAxes axes: [Int]) -> Variable {
    let axes = value.normalized(axes, "prod")
    var result = self
    for axis in axes where result.shape[axis] != 1 {
      result = .apply(.prod, result) { Product.forward($0, alongAxis: axis) }
    }
    return result
  }
  /// The products along `axes` (kept with size 1).
  public func prod(alongAxes axes: Int...) -> Variable { prod(alongAxes: axes) }

  /// ȳ Πⱼ≠ᵢ xⱼ along `axis`, the VJP of a product on variables, composed so that it is
  /// recorded and differentiable again: the scalars of each half take their own half's
  /// exclusive products times the other half's product, and the halves are padded back into
  /// place. O(n log n) recorded scalars for a run of n, exact where entries are 0.
  func exclusiveProducts(alongAxis axis: Int, scaledBy cotangent: Variable) -> Variable {
    cotangent * productsOfOthers(alongAxis: axis)
  }

  /// Πⱼ≠ᵢ xⱼ along `axis`, composed by halving.
  private func productsOfOthers(alongAxis axis: Int) -> Variable {
    let shape = self.shape
    let n = shape[axis]
    guard n > 1 else { return Variable(.ones(shape)) }
    func box(_ range: Range<Int>) -> Box {
      var (lower, upper) = ([Int](repeating: 0, count: shape.count), shape)
      (lower[axis], upper[axis]) = (range.lowerBound, range.upperBound)
      return Box(lower: lower, upper: upper, shape: shape)
    }
    let (first, second) = (box(0..<(n / 2)), box((n / 2)..<n))
    let (left, right) = (sliced(first.encoded), sliced(second.encoded))
    let leftOthers = left.productsOfOthers(alongAxis: axis) * right.prod(alongAxes: [axis])
    let rightOthers = right.productsOfOthers(alongAxis: axis) * left.prod(alongAxes: [axis])
    return leftOthers.padded(first.encoded) + rightOthers.padded(second.encoded)
  }
}

extension Tensor {
  /// The product of every scalar, rank 0 (1 for an empty tensor), with the bits of
  /// ``Variable/prod()``.
  public func prod() -> Tensor {
    Product.forward(reshaped(to: [scalarCount]), alongAxis: 0).reshaped(to: [])
  }
  /// The products along `axes`, kept with size 1: y = Πᵢ xᵢ over them.
  public func prod(alongAxes axes: [Int]) -> Tensor {
    var result = self
    for axis in normalized(axes, "prod") where shape[axis] != 1 {
      result = Product.forward(result, alongAxis: axis)
    }
    return result
  }
  /// The products along `axes`, kept with size 1.
  public func prod(alongAxes axes: Int...) -> Tensor { prod(alongAxes: axes) }
}
