internal import BackpropKernels
import Foundation

/// Softmax along the last axis, fused into one tape entry:
/// yᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m), with m = maxⱼ xⱼ.
///
/// Its Jacobian is J = diag(y) − y yᵀ: ∂yᵢ/∂xᵢ = yᵢ(1 − yᵢ) and ∂yᵢ/∂xⱼ = −yᵢ yⱼ for i ≠ j.
/// The VJP never forms that n × n matrix: x̄ = Jᵀȳ = y ⊙ (ȳ − ⟨ȳ, y⟩), O(n) per row.
///
/// Subtracting m changes nothing mathematically (softmax is invariant under adding a constant to
/// every entry) but keeps every exponent ≤ 0, so large logits cannot overflow.
enum Softmax {
  static func forward(_ x: Tensor) -> Tensor {
    x.mapRowsOfExponentials(op: "softmax") { _, out, row, _, total in
      // The quotient kernel, in place: the loop's divisions, four or eight at a time.
      let start = out.baseAddress.map { $0 + row.lowerBound }
      bp_rule(bp_rule_quotient, start, 0, nil, total, nil, start, row.count)
    }
  }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, y: T) -> T {
    T.self == Tensor.self ? kernel(cotangent.value, y: y.value) as! T : rule(cotangent, y: y)
  }

  /// The rule, in operations that are themselves recorded when T is Variable.
  static func rule<T: TensorAlgebra>(_ cotangent: T, y: T) -> T {
    let last = y.shape.count - 1
    return y * (cotangent - (cotangent * y).sum(alongAxes: [last]))
  }

  /// The same rule for plain tensors, with no temporaries.
  ///
  /// One entry is rewritten: where yₖ > ½ (one dominant logit), ȳₖ − ⟨ȳ, y⟩ cancels to a
  /// small number computed from rounded terms of size |ȳₖ|, 10⁵ ulps off at [700, 710, 720].
  /// Since Σⱼ yⱼ = 1 it equals Σⱼ≠ₖ yⱼ (ȳₖ − ȳⱼ), whose terms are small themselves.
  static func kernel(_ cotangent: Tensor, y: Tensor) -> Tensor {
    let classes = y.shape[y.rank - 1]
    let count = y.scalarCount
    return cotangent.withUnsafeScalars { g in
      y.withUnsafeScalars { y in
        Tensor(shape: cotangent.shape, count: count) { out in
          guard let gs = g.baseAddress, let ys = y.baseAddress else { return }
          var start = 0
          while start < count {
            // ⟨ȳ, y⟩ in Sum's order, the rule's sum of ȳ ⊙ y to the bit, with sixteen
            // independent chains where one chain of additions waited out each one's latency;
            // whether any yᵢ > ½ is noted on the way.
            let (pg, py) = (UnsafeRawPointer(gs + start), UnsafeRawPointer(ys + start))
            var over = SIMDMask<SIMD8<Int64>>()
            var overInTail = false
            let half = SIMD8<Double>(repeating: 0.5)
            let dot = Sum.total(count: classes) { i in
              let yi = py.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self)
              over .|= yi .> half
              return pg.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self) * yi
            } scalar: { i in
              overInTail = overInTail || ys[start + i] > 0.5
              return gs[start + i] * ys[start + i]
            }
            var dominant = -1
            if any(over) || overInTail {
              for index in start..<(start + classes) where y[index] > 0.5 { dominant = index }
            }
            for index in start..<(start + classes) { out[index] = y[index] * (g[index] - dot) }
            if dominant >= 0 {
              var difference = 0.0
              for index in start..<(start + classes) where index != dominant {
                difference += y[index] * (g[dominant] - g[index])
              }
              out[dominant] = y[dominant] * difference
            }
            start += classes
          }
        }
      }
    }
  }
}

extension Tensor {
  /// A tensor of this shape written one row at a time along the last axis, the softmax
  /// family's shared first step: each output row first holds e^(xᵢ − m), with m the row's
  /// maximum (NaN if the row holds one), subtracted so that no exponent is positive. `body`
  /// gets the source scalars, the output, the row's range of positions, m, and Σᵢ e^(xᵢ − m).
  /// With `storing` false the exponentials are only summed, and the output row holds nothing
  /// yet: for a body that needs only the sum, one write of the whole tensor fewer.
  ///
  /// - Precondition: the tensor has at least one axis; the message names `op`.
  func mapRowsOfExponentials(
    op: String, storing: Bool = true,
    _ body: (
      UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>, Range<Int>, Double, Double
    ) -> Void
  ) -> Tensor {
    require(rank >= 1, "\(op): needs at least one axis, got shape \(shape)")
    let classes = shape[rank - 1]
    let count = scalarCount
    return withUnsafeScalars { source in
      Tensor(shape: shape, count: count) { out in
        var start = 0
        while start < count {
          let row = start..<(start + classes)
          // Short rows keep the inline loop: a call costs more than it saves below ~64.
          var maximum = -Double.infinity
          if classes >= 64 {
            maximum = bp_maximum(source.baseAddress! + start, classes)
          } else {
            for index in row where source[index] > maximum || source[index].isNaN {
              maximum = source[index]
            }
          }
          let total = bp_exponentials(
            source.baseAddress! + start, maximum, storing ? out.baseAddress! + start : nil, classes)
          body(source, out, row, maximum, total)
          start += classes
        }
      }
    }
  }
}

/// Softmax along the last axis as one fused tape entry with a hand-written VJP:
/// yᵢ = e^(xᵢ − max x) / Σⱼ e^(xⱼ − max x), x̄ = y ⊙ (ȳ − ⟨ȳ, y⟩).
///
/// - Precondition: `x` has at least one axis.
public func softmax(_ x: Variable) -> Variable { .apply(.softmax, x, Softmax.forward) }

/// Softmax along the last axis: yᵢ = e^(xᵢ − max x) / Σⱼ e^(xⱼ − max x).
public func softmax(_ x: Tensor) -> Tensor { Softmax.forward(x) }

/// Softmax along the last axis composed of recorded primitives: max, subtract, exp, sum, divide.
///
/// The gradient flows through the max as well. It cancels: the max adds the same amount to
/// every input, and the softmax Jacobian sends the ones vector to zero (each row of
/// diag(s) − s sᵀ sums to sᵢ − sᵢ Σⱼ sⱼ = 0). So this agrees with ``softmax(_:)-(Variable)`` to
/// rounding, at ties too. It exists to be compared with the fused form, by Jacobian and by
/// tape cost (five entries, not one).
public func composedSoftmax(_ x: Variable) -> Variable {
  require(x.shape.count >= 1, "composedSoftmax: needs at least one axis, got shape []")
  let exponentials = exp(x - x.max(alongAxes: -1))
  return exponentials / exponentials.sum(alongAxes: -1)
}

/// The log of the sum of the exponentials of every scalar, rank 0:
/// y = m + ln Σᵢ e^(xᵢ − m); x̄ = ȳ ⊙ softmax(x) over all scalars.
///
/// See ``logSumExp(_:alongAxes:)-(Variable,[Int])`` for the shift m and the edges; an empty tensor
/// gives −∞, the log of an empty sum, as PyTorch and JAX do.
public func logSumExp(_ x: Variable) -> Variable {
  logSumExp(x, alongAxes: Array(x.shape.indices)).reshaped(to: [])
}

/// The log of the sum of exponentials along `axes`, which stay with size 1 as in
/// ``Variable/sum(alongAxes:)-([Int])``, so that `x - logSumExp(x, alongAxes: 1)` broadcasts
/// row by row: y = m + ln Σᵢ e^(xᵢ − m) over the axes; x̄ = ȳ ⊙ e^(x − y), the softmax over them.
///
/// The shift m is the maximum over the axes: it cancels in both value and gradient, so only
/// rounding depends on it, and it keeps the result finite for logits such as
/// [1e300, 0, −1e300]. Where the maximum is not finite, m = 0 instead: a row of all −∞ (every
/// entry masked) gives −∞, and a row with +∞ gives +∞, as the sum of exponentials does; their
/// gradient is undefined (softmax is 0/0 or ∞/∞ there) and is NaN. Reducing an axis of length
/// 0 gives −∞.
///
/// Over trailing axes (the last, or every axis) it is one fused tape entry (see ``LogSumExp``):
/// where one logit dominates it takes ln1p of the others' exponentials, accurate where ln of
/// the rounded sum keeps only ε absolute (log-sum-exp of [0, −40] is 4.25e−18, not 0). Over
/// other axes it is composed of primitives, with m held constant.
///
/// - Precondition: every axis is in range for the shape (negative axes count from the end).
public func logSumExp(_ x: Variable, alongAxes axes: [Int]) -> Variable {
  let rank = x.shape.count
  let axes = Shape.normalize(axes: axes, rank: rank, op: "logSumExp")
  if axes == Array((rank - axes.count)..<rank) {
    return .apply(.logSumExp, x, Variable(Tensor(Double(axes.count)))) { x, trailing in
      LogSumExp.forward(x, trailingAxes: Int(trailing.scalar!))
    }
  }
  // Folded directly rather than through max(alongAxes:), which refuses an empty axis: here an
  // empty axis has maximum −∞, so m = 0 and the sum of no exponentials is 0, whose log is −∞.
  let shift = x.value.reduce(alongAxes: axes, op: "logSumExp", initial: -.infinity, Maximum.self)
    .map { $0.isFinite ? $0 : 0 }
  return log(exp(x - shift).sum(alongAxes: axes)) + shift
}

/// Log-sum-exp over the trailing axes, fused into one tape entry: y = m + ln Σᵢ e^(xᵢ − m) for
/// each row of the trailing axes' scalars, m the row's maximum (0 where that is not finite).
///
/// VJP: x̄ = (ȳ / Σ) ⊙ e^(x − m), the softmax scaled, from the m and Σ the forward pass kept (two
/// numbers a row): one pass over x, where the composed form took five entries and as many
/// passes. The numbers are the composed form's rule, (ȳ / Σ) ⊙ exp(x − m); not e^(x − y), which
/// is the same mathematically but carries y's rounding, |y| ε, into every entry (10⁻¹¹ relative
/// at logits of 10⁶).
enum LogSumExp {
  /// The rows: how many, and the scalars in each, for `trailing` reduced axes of `shape`.
  static func layout(_ shape: [Int], trailing: Int) -> (rows: Int, classes: Int) {
    let split = shape.count - trailing
    return (shape[..<split].reduce(1, *), shape[split...].reduce(1, *))
  }

  /// The value, with the reduced axes kept with size 1, and what the VJP reads: each row's
  /// shift and sum, [m₀, Σ₀, m₁, Σ₁, …].
  static func forward(_ x: Tensor, trailingAxes trailing: Int) -> (Tensor, Tensor) {
    let (rows, classes) = layout(x.shape, trailing: trailing)
    let shape = x.shape.enumerated().map { $0.offset < x.rank - trailing ? $0.element : 1 }
    var kept = [Double](repeating: 0, count: 2 * rows)
    let value = x.withUnsafeScalars { source in
      Tensor(shape: shape, count: rows) { out in
        for row in 0..<rows {
          let start = source.baseAddress! + row * classes
          // As the softmax family's rows: a vectorized maximum from 64 scalars up, NaN if the
          // row holds one.
          var maximum = -Double.infinity
          if classes >= 64 {
            maximum = bp_maximum(start, classes)
          } else {
            for index in 0..<classes where start[index] > maximum || start[index].isNaN {
              maximum = start[index]
            }
          }
          let shift = maximum.isFinite ? maximum : 0
          let total = bp_exponentials(start, shift, nil, classes)
          out[row] = shift + logOfTotal(start, classes, maximum: maximum, total: total)
          (kept[2 * row], kept[2 * row + 1]) = (shift, total)
        }
      }
    }
    return (value, Tensor(kept))
  }

  /// ln Σ for a row whose exponentials (of x − m) sum to `total`, accurate when it is tiny:
  /// as ``logOfTotal(_:_:_:_:_:)`` for a row whose exponentials were not stored, so the
  /// others' sum, r, is a second pass (the one maximal entry skipped), taken only when Σ < 2.
  static func logOfTotal(
    _ row: UnsafePointer<Double>, _ count: Int, maximum: Double, total: Double
  ) -> Double {
    guard total < 2, maximum.isFinite,
      let top = (0..<count).first(where: { row[$0] == maximum })
    else { return Foundation.log(total) }
    let rest =
      bp_exponentials(row, maximum, nil, top)
      + bp_exponentials(row + top + 1, maximum, nil, count - top - 1)
    return rest < 1 ? Foundation.log1p(rest) : Foundation.log(total)
  }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T, y: T, saved: Tensor?) -> T {
    if T.self == Tensor.self, let saved {
      return kernel(cotangent.value, x: x.value, saved: saved) as! T
    }
    return rule(cotangent, x: x, y: y)
  }

  /// The rule in operations that are themselves recorded when T is Variable: ȳ ⊙ softmax over
  /// the rows, the fused softmax of x seen as a matrix of rows.
  static func rule<T: TensorAlgebra>(_ cotangent: T, x: T, y: T) -> T {
    let rows = y.value.scalarCount
    let classes = rows == 0 ? 0 : x.value.scalarCount / rows
    let shape = x.shape
    return cotangent * x.reshaped(to: [rows, classes]).softmaxAlongLastAxis().reshaped(to: shape)
  }

  /// The rule for plain tensors: (ȳ / Σ) e^(x − m), row by row, in one pass.
  static func kernel(_ cotangent: Tensor, x: Tensor, saved: Tensor) -> Tensor {
    let rows = cotangent.scalarCount
    let classes = rows == 0 ? 0 : x.scalarCount / rows
    let shape = x.shape
    return cotangent.withUnsafeScalars { g in
      saved.withUnsafeScalars { kept in
        x.withUnsafeScalars { x in
          Tensor(shape: shape, count: x.count) { out in
            for row in 0..<rows {
              let offset = row * classes
              bp_scaled_exponentials(
                x.baseAddress! + offset, kept[2 * row], g[row] / kept[2 * row + 1],
                out.baseAddress! + offset, classes)
            }
          }
        }
      }
    }
  }
}

/// The log of the sum of exponentials along `axes`, which stay with size 1.
public func logSumExp(_ x: Variable, alongAxes axes: Int...) -> Variable {
  logSumExp(x, alongAxes: axes)
}

/// The log of the sum of the exponentials of every scalar, rank 0 (−∞ for an empty tensor).
public func logSumExp(_ x: Tensor) -> Tensor { logSumExp(Variable(x)).value }

/// The log of the sum of exponentials along `axes`, which stay with size 1.
public func logSumExp(_ x: Tensor, alongAxes axes: [Int]) -> Tensor {
  logSumExp(Variable(x), alongAxes: axes).value
}

/// The log of the sum of exponentials along `axes`, which stay with size 1.
public func logSumExp(_ x: Tensor, alongAxes axes: Int...) -> Tensor {
  logSumExp(x, alongAxes: axes)
}

/// Log-softmax along the last axis, fused into one tape entry:
/// yᵢ = (xᵢ − m) − ln Σⱼ e^(xⱼ − m), with m = maxⱼ xⱼ, evaluated in that grouping.
///
/// VJP: x̄ = ȳ − softmax(x) Σⱼ ȳⱼ, where softmax(x) = eʸ is recovered from the output.
///
/// Computed directly rather than as ln(softmax(x)), it stays finite where a softmax entry
/// underflows to 0: for [1000, 0, −1000] it is [0, −1000, −2000], not [0, −∞, −∞].
enum LogSoftmax {
  static func forward(_ x: Tensor) -> Tensor {
    // The exponentials pass through the output row, which is then overwritten.
    // The exponentials are only summed; the rare row whose sum is below 2 (one logit
    // dominates) has them written after all, for logOfTotal's second sum.
    x.mapRowsOfExponentials(op: "logSoftmax", storing: false) { source, out, row, maximum, total in
      // (xᵢ − m) − ln Σ, in that order: xᵢ − m is exact for the row's largest entries, and
      // ln Σ ∈ [0, ln n] then survives. Grouped as xᵢ − (m + ln Σ), it is rounded away
      // whenever |m| ≫ ln Σ (at [1e17, 1e17] it gave 0, not −ln 2).
      if total < 2 {
        _ = bp_exponentials(
          source.baseAddress! + row.lowerBound, maximum, out.baseAddress! + row.lowerBound,
          row.count)
      }
      let logTotal = logOfTotal(source, out, row, maximum, total)
      for index in row { out[index] = (source[index] - maximum) - logTotal }
    }
  }

  static func pullback<T: TensorAlgebra>(_ cotangent: T, y: T) -> T {
    let last = y.shape.count - 1
    return cotangent - y.exponential() * cotangent.sum(alongAxes: [last])
  }

  /// The rule on tensors, with the same numbers, in two passes instead of four and no buffer
  /// of its own when the cotangent is free: the row sums of ȳ by the same reduction, then
  /// ȳ − eʸ · Σȳ in one vectorized pass (the exponential's lanes, the product and the
  /// difference each rounded), written over the cotangent when nothing else holds it. Takes the
  /// cotangent, leaving `nil`.
  static func fusedPullback(_ cotangent: inout Tensor?, y: Tensor) -> Tensor {
    var g = cotangent.take()!
    let shape = g.shape
    let classes = shape[shape.count - 1]
    guard classes > 0 else { return g }
    let sums = g.sum(alongAxes: [shape.count - 1])
    /// Every row, from `g` into `out` (which may be `g`'s own buffer).
    func rows(
      _ g: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>
    ) {
      sums.withUnsafeScalars { sums in
        for row in sums.indices {
          let start = row * classes
          bp_log_softmax_pullbacks(g + start, y + start, sums[row], out + start, classes)
        }
      }
    }
    return y.withUnsafeScalars { y in
      if g.holdsUniqueLargeBuffer() {
        g.withUnsafeMutableScalars { g in
          rows(g.baseAddress!, y.baseAddress!, g.baseAddress!)
        }
        return g
      }
      return g.withUnsafeScalars { g in
        Tensor(shape: shape, count: g.count) { out in
          rows(g.baseAddress!, y.baseAddress!, out.baseAddress!)
        }
      }
    }
  }
}

extension LogSoftmax {
  /// The VJP for a cotangent that is 0 but at one position p, where it is v: a pick,
  /// `logSoftmax(x)[k]`. x̄ = ȳ − eʸ Σⱼ ȳⱼ is then 0 − eʸ · 0 on every row but p's, and
  /// 0 − eʸ · S on p's, with S = 0 + v (a row of zeros and v sums to that, −0 to +0 included);
  /// at p itself, v − e^(yₚ) · S. One pass over y and no tensor of zeros, written over y's
  /// buffer when nothing else holds it; the bits of ``fusedPullback(_:y:)`` given the tensor.
  static func pullback(oneHot: (position: Int, value: Double), y: inout Tensor) -> Tensor {
    let (position, value) = oneHot
    let count = y.scalarCount
    let classes = y.shape[y.rank - 1]
    let start = position - position % classes
    let total = 0.0 + value
    func rows(_ y: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>) {
      // The picked scalar first: `out` may be y's own buffer.
      var picked = 0.0
      withUnsafePointer(to: value) { bp_log_softmax_pullbacks($0, y + position, total, &picked, 1) }
      bp_log_softmax_pullbacks(nil, y, 0, out, start)
      bp_log_softmax_pullbacks(nil, y + start, total, out + start, classes)
      let end = start + classes
      bp_log_softmax_pullbacks(nil, y + end, 0, out + end, count - end)
      out[position] = picked
    }
    if y.holdsUniqueLargeBuffer() {
      y.withUnsafeMutableScalars { y in rows(y.baseAddress!, y.baseAddress!) }
      return y.takenOut()
    }
    let shape = y.shape
    return y.withUnsafeScalars { y in
      Tensor(shape: shape, count: count) { out in rows(y.baseAddress!, out.baseAddress!) }
    }
  }
}

/// ln Σⱼ e^(xⱼ − m) for one row whose exponentials are in `out`, accurate when it is tiny.
///
/// Σ = 1 + r, where r sums every exponential but one maximal entry's e⁰. When r is small (one
/// logit dominates, as at [700, 710, 720]), ln Σ ≈ r, but ln of the rounded Σ keeps only its
/// absolute accuracy, ε, and so loses r's relative accuracy: 10⁴ ulps there. ln1p(r), with r
/// summed on its own, keeps it. It costs one more pass over the row.
func logOfTotal(
  _ source: UnsafeBufferPointer<Double>, _ out: UnsafeMutableBufferPointer<Double>,
  _ row: Range<Int>, _ maximum: Double, _ total: Double
) -> Double {
  // Σ ≥ 2 means no single exponential dominates (or a tie): ln Σ is accurate as it is, and
  // the extra pass (a quarter of a 10⁶-class cross-entropy's time) is not needed.
  guard total < 2, maximum.isFinite, let top = row.first(where: { source[$0] == maximum }) else {
    return Foundation.log(total)
  }
  var rest = 0.0
  for index in row where index != top { rest += out[index] }
  // With ties (r ≥ 1) Σ is not near 1 and ln Σ is as accurate as ln1p: an integer Σ = k gives
  // ln k correctly rounded.
  return rest < 1 ? Foundation.log1p(rest) : Foundation.log(total)
}

/// Log-softmax along the last axis as one fused tape entry:
/// yᵢ = xᵢ − m − ln Σⱼ e^(xⱼ − m), x̄ = ȳ − softmax(x) Σⱼ ȳⱼ.
///
/// - Precondition: `x` has at least one axis.
public func logSoftmax(_ x: Variable) -> Variable { .apply(.logSoftmax, x, LogSoftmax.forward) }

/// Log-softmax along the last axis: yᵢ = xᵢ − m − ln Σⱼ e^(xⱼ − m), with m = maxⱼ xⱼ.
public func logSoftmax(_ x: Tensor) -> Tensor { LogSoftmax.forward(x) }

/// Log-softmax along the last axis composed of recorded primitives, the twin that
/// ``logSoftmax(_:)-(Variable)`` is tested against: (x − m) − ln Σⱼ e^(xⱼ − m), with the max,
/// subtract, exp, sum, log and subtract each recorded.
public func composedLogSoftmax(_ x: Variable) -> Variable {
  require(x.shape.count >= 1, "composedLogSoftmax: needs at least one axis, got shape []")
  let shifted = x - x.max(alongAxes: -1)
  return shifted - log(exp(shifted).sum(alongAxes: -1))
}

/// Cross-entropy of logits `[N, C]` against class labels, averaged over the N rows, fused into
/// one tape entry: L = (1/N) Σₙ (mₙ + ln Σⱼ e^(xₙⱼ − mₙ) − xₙ,labelₙ), with mₙ = maxⱼ xₙⱼ.
///
/// VJP: x̄ = ȳ (P − Y) / N, with P = softmax(x) row by row and Y the one-hot labels. The forward
/// pass keeps P for the backward pass, which is then one subtraction: no exponential is
/// evaluated twice. The labels are recorded as a constant operand and receive no gradient.
enum CrossEntropy {
  /// The loss, and the softmax that its VJP needs.
  static func forward(_ logits: Tensor, _ labels: Tensor) -> (loss: Tensor, probabilities: Tensor) {
    let (rows, classes) = (logits.shape[0], logits.shape[1])
    var loss = 0.0
    let probabilities = labels.withUnsafeScalars { labels in
      logits.mapRowsOfExponentials(op: "crossEntropy") { x, p, row, maximum, total in
        // Before p is scaled: ln Σ reads the exponentials.
        let logTotal = logOfTotal(x, p, row, maximum, total)
        let scale = 1 / total
        for index in row { p[index] *= scale }
        // (m − x_label) + ln Σ: the difference first, for the reason given in LogSoftmax.
        loss += (maximum - x[row.lowerBound + Int(labels[row.lowerBound / classes])]) + logTotal
      }
    }
    return (Tensor(loss / Double(Swift.max(rows, 1))), probabilities)
  }

  /// The one-hot matrix of the labels, for logits of `shape`.
  static func oneHot(_ labels: Tensor, shape: [Int]) -> Tensor {
    Tensor(shape: shape, count: shape[0] * shape[1]) { y in
      y.initialize(repeating: 0)
      labels.withUnsafeScalars { labels in
        for row in 0..<shape[0] { y[row * shape[1] + Int(labels[row])] = 1 }
      }
    }
  }

  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, logits: T, labels: T, saved: inout Tensor?
  ) -> T {
    if T.self == Tensor.self, saved != nil {
      kernel(cotangent.value, labels: labels.value, overwriting: &saved!)
      return saved! as! T
    }
    return rule(cotangent, logits: logits, labels: labels)
  }

  /// The rule, differentiable again when T is Variable: P is recomputed as a recorded softmax.
  static func rule<T: TensorAlgebra>(_ cotangent: T, logits: T, labels: T) -> T {
    let shape = logits.shape
    let rows = Double(Swift.max(shape[0], 1))
    let difference = logits.softmaxAlongLastAxis() - T.constant(oneHot(labels.value, shape: shape))
    return difference * (cotangent / T.constant(Tensor(rows)))
  }

  /// The same rule for plain tensors, one pass over the saved softmax: ȳ (P − Y) / N, written
  /// over P. When the caller holds the only reference to P (a consuming sweep took it out of
  /// the tape) no buffer is allocated; otherwise copy-on-write gives the result its own.
  static func kernel(_ cotangent: Tensor, labels: Tensor, overwriting probabilities: inout Tensor) {
    let shape = probabilities.shape
    let factor = cotangent.scalar! / Double(Swift.max(shape[0], 1))
    probabilities.withUnsafeMutableScalars { p in
      for index in 0..<p.count { p[index] *= factor }
      labels.withUnsafeScalars { labels in
        for row in 0..<shape[0] { p[row * shape[1] + Int(labels[row])] -= factor }
      }
    }
  }
}

/// The mean cross-entropy of logits `[N, C]` against integer class labels, fused into one tape
/// entry: L = −(1/N) Σₙ log softmax(xₙ)[labelₙ].
///
/// Its gradient is (softmax(x) − Y) / N, with Y the one-hot labels. It stays finite for logits
/// such as [1e300, 0, −1e300]. An empty batch (N = 0) gives 0 with an empty gradient, where
/// PyTorch's mean gives 0/0 = NaN: a sum over no rows, divided by max(N, 1).
///
/// - Precondition: the logits are a matrix, there is one label per row, and each label is a
///   column index.
public func crossEntropy(logits: Variable, labels: [Int]) -> Variable {
  checkLabels(labels, shape: logits.shape, op: "crossEntropy")
  return .apply(
    .crossEntropy, logits, Variable(Tensor(labels.map(Double.init))), CrossEntropy.forward)
}

/// Cross-entropy composed entirely of recorded primitives (through ``composedLogSoftmax(_:)``),
/// the twin that ``crossEntropy(logits:labels:)`` is tested and benchmarked against.
public func composedCrossEntropy(logits: Variable, labels: [Int]) -> Variable {
  checkLabels(labels, shape: logits.shape, op: "composedCrossEntropy")
  let (rows, classes) = (logits.shape[0], logits.shape[1])
  // Pick the labels' entries of the flattened log-probabilities, a gather of N scalars whose VJP
  // adds each one's cotangent back at its place, rather than multiply by the one-hot matrix: a
  // masked logit gives a log-probability of −∞, and −∞ · 0 is NaN. (Selecting them with a
  // one-hot mask, as this did before, kept two more tensors the size of the logits: at 10⁶
  // classes the gradient's buffers then outgrew what glibc keeps mapped between calls.)
  let picked = composedLogSoftmax(logits).reshaped(to: [rows * classes]).gathering(
    atIndices: labels.enumerated().map { $0.offset * classes + $0.element })
  // 0 − Σ rather than −Σ: an empty batch then gives +0, as the fused form does, not −0.
  return (0 - picked.sum()) / Double(Swift.max(rows, 1))
}

/// Checks that `labels` has one class index per row of logits of `shape` [N, C].
func checkLabels(_ labels: [Int], shape: [Int], op: String) {
  require(
    shape.count == 2 && shape[0] == labels.count,
    "\(op): logits of shape \(shape) need rank 2 and one label per row (got \(labels.count))")
  for (row, label) in labels.enumerated() {
    require(
      (0..<shape[1]).contains(label),
      "\(op): label \(label) at row \(row) is not a class index in 0..<\(shape[1])")
  }
}
