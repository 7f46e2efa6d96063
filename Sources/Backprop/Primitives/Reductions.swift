internal import BackpropKernels

// Reductions. `sum(alongAxes:)` and `max(alongAxes:)` keep the reduced axes with size 1, so
// the result broadcasts against the input; `sum()` and `max()` reduce to rank 0. Either way the
// VJP broadcasts the cotangent back over the input, because both output shapes broadcast to it.

/// Sum: y = Σᵢ xᵢ over the reduced axes. VJP: x̄ = ȳ broadcast to the shape of x.
enum Sum {
  /// Sums along trailing axes add each contiguous run as ``forward(_:)`` adds a whole tensor,
  /// sixteen partial sums at a time (a single chain of additions waits out each one's latency),
  /// so that a vector's sum along its axis is its sum to the bit; other
  /// axes fold in the general loop's order.
  static func forward(_ x: Tensor, alongAxes axes: [Int]) -> Tensor {
    let axes = Shape.normalize(axes: axes, rank: x.rank, op: "sum")
    if let rows = Shape.trailingRuns(x.shape, reduced: axes) {
      var shape = x.shape
      for axis in axes { shape[axis] = 1 }
      return x.withUnsafeScalars { source in
        Tensor(shape: shape, count: rows.count) { out in
          for o in 0..<rows.count {
            out[o] = total(
              UnsafeBufferPointer(rebasing: source[(o * rows.run)..<((o + 1) * rows.run)]))
          }
        }
      }
    }
    return x.reduce(alongAxes: axes, op: "sum", initial: 0, Add.self)
  }

  /// The sum of every scalar as a rank-0 tensor.
  static func forward(_ x: Tensor) -> Tensor { x.withUnsafeScalars { Tensor(total($0)) } }

  /// Σᵢ xᵢ as sixteen interleaved partial sums, the j-th adding the scalars at j, j + 16,
  /// j + 32, … in order, then added pairwise (j with j + 8, then j with j + 4, j + 2, j + 1).
  /// Sixteen independent chains, so that the additions' latency overlaps where four chains
  /// waited it out. Shorter chains also lower the error bound's constant.
  @inline(__always)
  static func total(_ source: UnsafeBufferPointer<Double>) -> Double {
    // The kernel (Reductions.c) adds in this order, eight lanes an instruction where Swift's
    // SIMD8 loop runs two.
    bp_total(source.baseAddress, source.count)
  }

  /// ``total(_:)``'s sum, in its order, of terms given eight at a time (`eight(i)` is terms i
  /// to i + 7) and one at a time (`scalar(i)`, for the last few): so that a fused reduction,
  /// such as the mean squared error's, adds its terms as the sum of their tensor would.
  @inline(__always)
  static func total(
    count: Int, eight: (Int) -> SIMD8<Double>, scalar: (Int) -> Double
  ) -> Double {
    var low = SIMD8<Double>()
    var high = SIMD8<Double>()
    var index = 0
    while index + 16 <= count {
      low += eight(index)
      high += eight(index + 8)
      index += 16
    }
    for j in 0..<(count - index) {
      if j < 8 { low[j] += scalar(index + j) } else { high[j - 8] += scalar(index + j) }
    }
    let eight = low + high
    let four = eight.lowHalf + eight.highHalf
    let two = four.lowHalf + four.highHalf
    return two[0] + two[1]
  }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T) -> T {
    cotangent.broadcasted(to: x.shape)
  }
}

/// Maximum: y = maxᵢ xᵢ over the reduced axes. VJP: x̄ = ȳ ⊙ [xᵢ = y] / k, where k is the number
/// of entries that attain the maximum.
///
/// **Ties** split the cotangent equally among the k maximal entries, as PyTorch's `amax` and
/// JAX's `max` do; this is what makes softmax composed with a max subtraction agree with the
/// fused softmax at ties. A NaN in the reduced entries makes the maximum NaN.
enum Max {
  static func forward(_ x: Tensor, alongAxes axes: [Int]) -> Tensor {
    let axes = Shape.normalize(axes: axes, rank: x.rank, op: "max")
    require(
      axes.allSatisfy { x.shape[$0] > 0 },
      "max: cannot reduce an axis of length 0 in shape \(x.shape)")
    if let rows = Shape.trailingRuns(x.shape, reduced: axes) {
      var shape = x.shape
      for axis in axes { shape[axis] = 1 }
      return x.withUnsafeScalars { source in
        Tensor(shape: shape, count: rows.count) { out in
          for o in 0..<rows.count {
            let row = source.baseAddress! + o * rows.run
            // The vectorized kernel, whose lanes fold in another order: the same maximum, except
            // that at a tie of −0 and +0, or with a NaN, it may return another of them. Those
            // rows take the general loop's fold, so every result keeps its bits.
            let maximum = bp_maximum(row, rows.run)
            if maximum == 0 || maximum != maximum {
              var total = -Double.infinity
              for i in 0..<rows.run { total = Maximum.scalar(total, row[i]) }
              out[o] = total
            } else {
              out[o] = maximum
            }
          }
        }
      }
    }
    return x.reduce(alongAxes: axes, op: "max", initial: -.infinity, Maximum.self)
  }

  /// The maximum of every scalar, as a rank-0 tensor.
  static func forward(_ x: Tensor) -> Tensor {
    require(x.scalarCount > 0, "max: cannot reduce an empty tensor of shape \(x.shape)")
    return forward(x, alongAxes: Array(x.shape.indices)).reshaped(to: [])
  }

  /// The weight each input entry receives: 1/k on the k entries equal to their maximum, 0
  /// elsewhere. A piecewise constant, so it contributes no second derivative.
  static func tieWeights(x: Tensor, y: Tensor) -> Tensor {
    let kept = y.rank == x.rank ? y.shape : [Int](repeating: 1, count: x.rank)
    let y = y.reshaped(to: kept)
    if let weights = trailingTieWeights(x: x, y: y, scaledBy: nil) { return weights }
    let attains = Tensor.elementwise(x, y, op: "max", Attains.self)
    let axes = kept.indices.filter { kept[$0] == 1 }
    return attains / Sum.forward(attains, alongAxes: axes)
  }

  /// ``tieWeights(x:y:)`` times the cotangent (of y's shape, or rank 0 for the same value
  /// everywhere) when the reduced axes are the trailing ones, each row in two passes with no
  /// intermediate tensor: k = Σ [xᵢ = y], counted in integers (a loop that vectorizes, where a
  /// floating-point sum is a chain of additions), then ȳ ⊙ ([xᵢ = y] / k), with no division
  /// when k = 1 (a/1 = a). The bits of the general rule, whose sum of 0s and 1s is exact in any
  /// order, and which gives NaN throughout a row whose maximum is NaN. Nil for other axes.
  static func trailingTieWeights(x: Tensor, y: Tensor, scaledBy cotangent: Tensor?) -> Tensor? {
    let kept = y.rank == x.rank ? y.shape : [Int](repeating: 1, count: x.rank)
    guard
      let rows = Shape.trailingRuns(
        x.shape, reduced: kept.indices.filter { kept[$0] != x.shape[$0] })
    else { return nil }
    let g = cotangent?.scalars ?? []
    return x.withUnsafeScalars { source in
      y.withUnsafeScalars { maxima in
        Tensor(shape: x.shape, count: source.count) { out in
          guard let from = source.baseAddress, let to = out.baseAddress, source.count > 0 else {
            return
          }
          for o in 0..<rows.count {
            let (row, weights, maximum) = (from + o * rows.run, to + o * rows.run, maxima[o])
            // The scale goes into the weights' own pass: ȳ · (attains / k), the general rule's
            // product, where a third pass over the row multiplied them afterwards.
            let scale: Double? = g.isEmpty ? nil : g.count == 1 ? g[0] : g[o]
            if maximum != maximum {
              weights.update(repeating: scale.map { $0 * .nan } ?? .nan, count: rows.run)
            } else {
              var ties = 0
              for i in 0..<rows.run { ties &+= row[i] == maximum ? 1 : 0 }
              // attains / k is 1/k or 0 (attains is exactly 1 or 0), so each weight is one of
              // two values fixed per row, ȳ · (1/k) or ȳ · 0 (NaN for an infinite ȳ, as the
              // product gives): a compare and a blend per entry, where a division per entry
              // held the loop at the divider's pace.
              let share = 1 / Double(ties)
              let (on, off) = scale.map { ($0 * share, $0 * 0) } ?? (share, 0)
              for i in 0..<rows.run { weights[i] = row[i] == maximum ? on : off }
            }
          }
        }
      }
    }
  }

  /// ȳ ⊙ the tie weights, for the sweep on tensors: the trailing rule's passes, where the
  /// general rule makes the weights and then multiplies (the same bits).
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: Tensor) -> Tensor? {
    guard let given = cotangent, given.rank == 0 || given.shape == y.shape,
      let result = trailingTieWeights(x: x, y: y, scaledBy: given)
    else { return nil }
    cotangent = nil
    return result
  }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T, y: T) -> T {
    // The cotangent has y's shape, with the reduced axes kept as 1s, or is a scalar, so it
    // broadcasts against the weights, which have x's: one pass and one buffer, where
    // broadcasting it to x's shape first took two.
    cotangent * tieWeights(x: x.value, y: y.value)
  }

  /// 1 where an entry equals its maximum, 0 elsewhere; NaN where the maximum is NaN.
  enum Attains: BinaryScalarFunction {
    @inline(__always)
    static func scalar(_ x: Double, _ maximum: Double) -> Double {
      // A selection then a NaN check, which vectorizes (as `Maximum.scalar`).
      let attains: Double = x == maximum ? 1 : 0
      return maximum != maximum ? .nan : attains
    }
  }
}

// MARK: - Public methods

extension Tensor {
  /// The sum of every scalar: Σᵢ xᵢ, rank 0.
  public func sum() -> Tensor { Sum.forward(self) }
  /// The sums along `axes`, which stay with size 1: yⱼ = Σᵢ xᵢⱼ. Negative axes count from the end.
  public func sum(alongAxes axes: [Int]) -> Tensor { Sum.forward(self, alongAxes: axes) }
  /// The sums along `axes`, which stay with size 1. Negative axes count from the end.
  public func sum(alongAxes axes: Int...) -> Tensor { sum(alongAxes: axes) }
  /// The mean of every scalar: Σᵢ xᵢ / n, rank 0.
  public func mean() -> Tensor { sum() / Double(scalarCount) }
  /// The means along `axes`, which stay with size 1.
  public func mean(alongAxes axes: Int...) -> Tensor { mean(alongAxes: axes) }
  /// The means along `axes`, which stay with size 1.
  public func mean(alongAxes axes: [Int]) -> Tensor {
    let axes = normalized(axes, "mean")
    return sum(alongAxes: axes) / Double(axes.reduce(1) { $0 * shape[$1] })
  }
  /// The largest scalar, rank 0.
  public func max() -> Tensor { Max.forward(self) }
  /// The largest scalars along `axes`, which stay with size 1.
  public func max(alongAxes axes: [Int]) -> Tensor { Max.forward(self, alongAxes: axes) }
  /// The largest scalars along `axes`, which stay with size 1.
  public func max(alongAxes axes: Int...) -> Tensor { max(alongAxes: axes) }

  func normalized(_ axes: [Int], _ op: String) -> [Int] {
    Shape.normalize(axes: axes, rank: rank, op: op)
  }
}

extension Variable {
  /// The sum of every scalar, recorded: y = Σᵢ xᵢ (rank 0); x̄ = ȳ everywhere.
  public func sum() -> Variable { .apply(.sum, self) { Sum.forward($0) } }
  /// The sums along `axes` (kept with size 1), recorded: x̄ = ȳ broadcast back over the axes.
  public func sum(alongAxes axes: [Int]) -> Variable {
    .apply(.sum, self) { Sum.forward($0, alongAxes: axes) }
  }
  /// The sums along `axes` (kept with size 1), recorded.
  public func sum(alongAxes axes: Int...) -> Variable { sum(alongAxes: axes) }

  /// The mean of every scalar, composed as Σᵢ xᵢ / n: x̄ = ȳ / n everywhere.
  public func mean() -> Variable { sum() / Double(value.scalarCount) }
  /// The means along `axes` (kept with size 1), composed as a sum over the axes divided by their
  /// combined length.
  public func mean(alongAxes axes: [Int]) -> Variable {
    let shape = self.shape
    let axes = value.normalized(axes, "mean")
    return sum(alongAxes: axes) / Double(axes.reduce(1) { $0 * shape[$1] })
  }
  /// The means along `axes` (kept with size 1).
  public func mean(alongAxes axes: Int...) -> Variable { mean(alongAxes: axes) }

  /// The largest scalar, recorded: y = maxᵢ xᵢ; x̄ = ȳ / k on the k tied maxima, 0 elsewhere.
  public func max() -> Variable { .apply(.max, self) { Max.forward($0) } }
  /// The largest scalars along `axes` (kept with size 1), recorded; ties split the gradient
  /// equally.
  public func max(alongAxes axes: [Int]) -> Variable {
    .apply(.max, self) { Max.forward($0, alongAxes: axes) }
  }
  /// The largest scalars along `axes` (kept with size 1), recorded.
  public func max(alongAxes axes: Int...) -> Variable { max(alongAxes: axes) }
}

// MARK: - Composed reductions

extension Variable {
  /// The smallest scalar, composed as −max(−x): ties split the gradient equally, as for max.
  public func min() -> Variable { -(-self).max() }
  /// The smallest scalars along `axes` (kept with size 1), composed as −max(−x).
  public func min(alongAxes axes: [Int]) -> Variable { -(-self).max(alongAxes: axes) }
  /// The smallest scalars along `axes` (kept with size 1).
  public func min(alongAxes axes: Int...) -> Variable { min(alongAxes: axes) }

  /// The population variance of every scalar, dividing by n (as JAX and Swift for
  /// TensorFlow): mean((x − mean x)²), rank 0, in two passes (the mean, then the squared
  /// deviations about it); x̄ = (2ȳ/n)(x − mean x).
  ///
  /// One entry, `variance`, whose passes read x and write nothing, with the composition's
  /// value and gradient to the bit (see ``Variance``).
  public func variance() -> Variable { applying(Variance()) }
  /// The population variance along `axes` (kept with size 1): mean((x − mean x)²) over them.
  public func variance(alongAxes axes: [Int]) -> Variable {
    let centered = self - mean(alongAxes: axes)
    return (centered * centered).mean(alongAxes: axes)
  }
  /// The population variance along `axes` (kept with size 1).
  public func variance(alongAxes axes: Int...) -> Variable { variance(alongAxes: axes) }

  /// The population standard deviation, √variance, rank 0. Its derivative is NaN where the
  /// variance is 0 (√ has an infinite slope there, times a zero deviation), as in PyTorch.
  public func standardDeviation() -> Variable { sqrt(variance()) }
  /// The population standard deviation along `axes` (kept with size 1).
  public func standardDeviation(alongAxes axes: [Int]) -> Variable {
    sqrt(variance(alongAxes: axes))
  }
  /// The population standard deviation along `axes` (kept with size 1).
  public func standardDeviation(alongAxes axes: Int...) -> Variable {
    standardDeviation(alongAxes: axes)
  }
}

extension Tensor {
  /// The smallest scalar, rank 0.
  public func min() -> Tensor { -(-self).max() }
  /// The smallest scalars along `axes`, kept with size 1.
  public func min(alongAxes axes: [Int]) -> Tensor { -(-self).max(alongAxes: axes) }
  /// The population variance of every scalar (dividing by n), rank 0.
  public func variance() -> Tensor { Variable(self).variance().value }
  /// The population variance along `axes`, kept with size 1.
  public func variance(alongAxes axes: [Int]) -> Tensor {
    Variable(self).variance(alongAxes: axes).value
  }
  /// The population standard deviation of every scalar, rank 0.
  public func standardDeviation() -> Tensor { Variable(self).standardDeviation().value }
  /// The index of the largest entry along `axis`, which stays with size 1, as a tensor of
  /// `Double` indices. The first of tied maxima wins, and a NaN counts as the largest (as in
  /// NumPy). No gradient: the result is piecewise constant.
  ///
  /// - Precondition: the axis is in range and not empty.
  public func argmax(alongAxis axis: Int) -> Tensor {
    indexOfExtreme(alongAxis: axis, op: "argmax", >)
  }

  /// The index of the smallest entry along `axis`, which stays with size 1 (the first of ties;
  /// a NaN counts as the smallest).
  ///
  /// - Precondition: the axis is in range and not empty.
  public func argmin(alongAxis axis: Int) -> Tensor {
    indexOfExtreme(alongAxis: axis, op: "argmin", <)
  }

  private func indexOfExtreme(
    alongAxis axis: Int, op: String, _ better: (Double, Double) -> Bool
  ) -> Tensor {
    let axis = Shape.normalize(axes: [axis], rank: rank, op: op)[0]
    var shape = self.shape
    let length = shape[axis]
    require(length > 0, "\(op): axis \(axis) of shape \(shape) is empty")
    let outer = shape[..<axis].reduce(1, *)
    let inner = shape[(axis + 1)...].reduce(1, *)
    shape[axis] = 1
    return withUnsafeScalars { source in
      Tensor(shape: shape, count: outer * inner) { out in
        for block in 0..<outer {
          for position in 0..<inner {
            var (best, bestIndex) = (source[block * length * inner + position], 0)
            for index in 1..<Swift.max(length, 1) where !best.isNaN {
              let value = source[(block * length + index) * inner + position]
              if value.isNaN || better(value, best) { (best, bestIndex) = (value, index) }
            }
            out[block * inner + position] = Double(bestIndex)
          }
        }
      }
    }
  }
}

/// The population variance of every scalar as one entry: the composition
/// `mean((x − mean x)²)`, with `centered = x − mean x` squared by a product, fused.
///
/// The forward pass reads x twice (Sum's order for the mean, then for the squared deviations)
/// and writes nothing. The VJP is the composition's rules in two passes: t = (ȳ / n)(x − m)
/// and x̄₁ = t + t (the product's, joined), m̄ = −Σ (t + t) in Sum's order (the difference's),
/// then x̄ = x̄₁ + m̄ / n (the mean's, accumulated). So value and gradient are the
/// composition's bits, where the composition made three tensors forward and four passes back.
/// Recordable, so that its Hessian is exact.
struct Variance: RecordableCustomOperation {
  let name = "variance"

  /// The mean, Σ xᵢ / n in Sum's order, as `mean()` computes it.
  static func mean(_ x: UnsafeBufferPointer<Double>) -> Double {
    Sum.total(x) / Double(x.count)
  }

  func forward(_ x: Tensor) -> Tensor {
    x.withUnsafeScalars { x in
      guard let base = x.baseAddress else { return Tensor(0 / Double(x.count)) }
      let raw = UnsafeRawPointer(base)
      let m = Self.mean(x)
      // The squared deviations about the mean, summed in Sum's order.
      let squares = Sum.total(count: x.count) { index in
        let d = raw.loadUnaligned(fromByteOffset: index * 8, as: SIMD8<Double>.self) - m
        return d * d
      } scalar: { index in
        let d = base[index] - m
        return d * d
      }
      return Tensor(squares / Double(x.count))
    }
  }

  func pullback(_ cotangent: Tensor, input x: Tensor, output y: Tensor) -> Tensor {
    let n = Double(x.scalarCount)
    let c = cotangent.scalar! / n
    return x.withUnsafeScalars { xs in
      let shape = x.shape
      guard let base = xs.baseAddress else { return Tensor(shape: shape, count: 0) { _ in } }
      let raw = UnsafeRawPointer(base)
      let m = Self.mean(xs)
      // m̄ = −Σ (t + t): summed, then negated, as the difference's VJP does (so that a sum
      // of −0s, +0, gives −0).
      let total = Sum.total(count: xs.count) { index in
        let t = c * (raw.loadUnaligned(fromByteOffset: index * 8, as: SIMD8<Double>.self) - m)
        return t + t
      } scalar: { index in
        let t = c * (base[index] - m)
        return t + t
      }
      let shift = -total / n
      return Tensor(shape: shape, count: xs.count) { out in
        for index in 0..<xs.count {
          let t = c * (base[index] - m)
          out[index] = (t + t) + shift
        }
      }
    }
  }

  func pullback(_ cotangent: Variable, input x: Variable, output y: Variable) -> Variable {
    let n = Double(x.value.scalarCount)
    let t = (cotangent / n) * (x - x.mean())
    let twice = t + t
    return twice + -twice.sum() / n
  }
}
