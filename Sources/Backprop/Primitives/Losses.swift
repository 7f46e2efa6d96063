internal import BackpropKernels

// Losses, composed of recorded primitives (the fused cross-entropy with integer labels lives
// with the softmax family). Each is a mean over the batch, as PyTorch's defaults are.

/// The mean squared error: mean((predicted − expected)²); ∂/∂predicted = 2 (p − e) / n.
///
/// Two entries, ``squaredDifference(_:_:)-(Variable,Variable)`` and the mean, with the numbers
/// of the difference squared by a product: one tensor and two passes fewer each way. Against
/// constant targets of the same shape, one entry (see
/// ``meanSquaredError(predicted:expected:)-(Variable,Tensor)``).
///
/// - Precondition: the shapes broadcast.
public func meanSquaredError(predicted: Variable, expected: Variable) -> Variable {
  if expected.tape == nil {
    return meanSquaredError(predicted: predicted, expected: expected.value)
  }
  return squaredDifference(predicted, expected).mean()
}

/// The mean squared error against constant targets: mean((predicted − expected)²);
/// ∂/∂predicted = 2 (p − e) / n.
///
/// Of the same shape, one entry, `meanSquaredError`, whose forward pass reads both tensors once
/// and writes nothing: the composition's value and gradient to the bit (it adds the same terms
/// in the same order and applies the same rule), in one pass each way where the composition
/// takes three and two (PyTorch's `mse_loss` is fused so too). Targets that broadcast take the
/// composition.
///
/// - Precondition: the shapes broadcast.
public func meanSquaredError(predicted: Variable, expected: Tensor) -> Variable {
  guard predicted.shape == expected.shape else {
    return squaredDifference(predicted, Variable(expected)).mean()
  }
  return predicted.applying(MeanSquaredError(expected: expected))
}

/// The mean squared error against constant targets of the predictions' shape, one entry:
/// y = Σᵢ (xᵢ − eᵢ)² / n, with Sum's order; x̄ = t + t with t = (ȳ / n) ⊙ (x − e), the rules of
/// the mean and of ``SquaredDifference``, so that the composition's bits come out. Recordable,
/// so that its second derivatives are exact.
struct MeanSquaredError: RecordableCustomOperation {
  let name = "meanSquaredError"
  let expected: Tensor

  func forward(_ x: Tensor) -> Tensor {
    let n = Double(x.scalarCount)
    return x.withUnsafeScalars { x in
      expected.withUnsafeScalars { e in
        guard let xs = x.baseAddress, let es = e.baseAddress else { return Tensor(0 / n) }
        let (rx, re) = (UnsafeRawPointer(xs), UnsafeRawPointer(es))
        let total = Sum.total(count: x.count) { index in
          let d =
            rx.loadUnaligned(fromByteOffset: index * 8, as: SIMD8<Double>.self)
            - re.loadUnaligned(fromByteOffset: index * 8, as: SIMD8<Double>.self)
          return d * d
        } scalar: { index in
          SquaredDifference.value(xs[index], es[index])
        }
        return Tensor(total / n)
      }
    }
  }

  /// One pass: the mean's cotangent ȳ / n, then ``SquaredDifference``'s rule.
  func pullback(_ cotangent: Tensor, input x: Tensor, output y: Tensor) -> Tensor {
    let c = cotangent.scalar! / Double(x.scalarCount)
    return Tensor.zipping(x, expected, x) { a, b, _ in
      let t = c * (a - b)
      return t + t
    }
  }

  func pullback(_ cotangent: Variable, input x: Variable, output y: Variable) -> Variable {
    let t = (cotangent / Double(x.value.scalarCount)) * (x - Variable(expected))
    return t + t
  }
}

/// The binary cross-entropy of logits x against labels y in [0, 1], averaged over every entry:
/// mean(−y ln σ(x) − (1 − y) ln(1 − σ(x))); ∂/∂x = (σ(x) − y) / n.
///
/// Computed as y·softplus(−x) + (1 − y)·softplus(x): two non-negative terms, so nothing cancels
/// and no tail overflows. At a logit of 40 with label 1 the loss is e⁻⁴⁰ ≈ 4.2e−18, not 0.
/// Two entries, the per-entry term (a primitive) and the mean; ∂/∂x is computed as
/// (1 − y)σ(x) − yσ(−x), so each tail keeps its relative accuracy.
///
/// - Precondition: the shapes broadcast, and every label is in [0, 1] (or NaN, which gives a
///   NaN loss): outside it the loss has no meaning, and its two terms cancel (a label of 1e300
///   at a logit of 0 would give 0 where the formula's value is ln 2).
public func binaryCrossEntropy(logits: Variable, labels: Tensor) -> Variable {
  labels.withUnsafeScalars { y in
    if let index = y.firstIndex(where: { $0 < 0 || $0 > 1 }) {
      fail(
        "binaryCrossEntropy(logits:labels:): label \(y[index]) at index \(index) of labels "
          + "\(labels.shape) is outside [0, 1]")
    }
  }
  return Variable.apply(BinaryCrossEntropy.self, logits, Variable(labels)).mean()
}

/// The cross-entropy of logits `[N, C]` against soft labels: rows of probabilities, averaged
/// over the N rows: −(1/N) Σₙ Σⱼ pₙⱼ log softmax(xₙ)ⱼ; ∂/∂x = (softmax(x) − P) / N where each
/// row of P sums to 1.
///
/// A class with probability 0 contributes 0 even where its logit is −∞ (masked): its
/// log-probability is selected away, not multiplied by 0.
///
/// - Precondition: the logits are a matrix and the probabilities have their shape.
public func crossEntropy(logits: Variable, probabilities: Tensor) -> Variable {
  require(
    logits.shape.count == 2 && probabilities.shape == logits.shape,
    "crossEntropy(logits:probabilities:): logits \(logits.shape) and probabilities "
      + "\(probabilities.shape) must be matrices of one shape")
  let present = probabilities.map { $0 != 0 ? 1 : 0 }
  let picked = logSoftmax(logits).masked(by: present) * probabilities
  return (0 - picked.sum()) / Double(Swift.max(logits.shape[0], 1))
}

/// The Huber loss, averaged: for d = predicted − expected, ½d² where |d| ≤ δ and
/// δ(|d| − ½δ) elsewhere, as PyTorch's `huber_loss`; ∂/∂predicted = d where |d| ≤ δ, δ sign(d)
/// elsewhere (continuous at |d| = δ).
///
/// Three entries, the difference, the Huber function of it and δ, and the mean: one pass each
/// way. The square is only taken where |d| ≤ δ, so an outlier's square never overflows.
/// Against constant targets of the same shape, one entry (see
/// ``huberLoss(predicted:expected:delta:)-(Variable,Tensor,_)``).
///
/// - Precondition: δ > 0 and the shapes broadcast.
public func huberLoss(predicted: Variable, expected: Variable, delta: Double = 1) -> Variable {
  if expected.tape == nil {
    return huberLoss(predicted: predicted, expected: expected.value, delta: delta)
  }
  require(delta > 0, "huberLoss: delta \(delta) is not positive")
  return Variable.apply(Huber.self, predicted - expected, Variable(delta)).mean()
}

/// The Huber loss against constant targets: for d = predicted − expected, the mean of ½d²
/// where |d| ≤ δ and δ(|d| − ½δ) elsewhere; ∂/∂predicted = d where |d| ≤ δ, δ sign(d)
/// elsewhere.
///
/// Of the same shape, one entry, `huberLoss`, whose forward pass reads both tensors once and
/// writes nothing, with the composition's value and gradient to the bit (the same terms in
/// Sum's order, the same rules); targets that broadcast take the composition.
///
/// - Precondition: δ > 0 and the shapes broadcast.
public func huberLoss(predicted: Variable, expected: Tensor, delta: Double = 1) -> Variable {
  require(delta > 0, "huberLoss: delta \(delta) is not positive")
  guard predicted.shape == expected.shape else {
    return Variable.apply(Huber.self, predicted - Variable(expected), Variable(delta)).mean()
  }
  return predicted.applying(HuberLoss(expected: expected, delta: delta))
}

/// The Huber loss against constant targets of the predictions' shape, one entry:
/// y = Σᵢ huber(xᵢ − eᵢ, δ) / n in Sum's order; x̄ = (ȳ / n) ⊙ slope(x − e, δ), the rules of the
/// mean, of ``Huber`` with a constant δ and of the difference, so that the composition's bits
/// come out. Recordable, so that its second derivative (the inside mask) is exact.
struct HuberLoss: RecordableCustomOperation {
  let name = "huberLoss"
  let expected: Tensor
  let delta: Double

  /// By the kernel (Huber.c), Huber.value's operations in eight lanes.
  func forward(_ x: Tensor) -> Tensor {
    x.withUnsafeScalars { x in
      expected.withUnsafeScalars { e in
        Tensor(bp_huber_total(x.baseAddress, e.baseAddress, delta, x.count) / Double(x.count))
      }
    }
  }

  /// One pass: the mean's cotangent ȳ / n times Huber's slope at the difference, by the kernel.
  func pullback(_ cotangent: Tensor, input x: Tensor, output y: Tensor) -> Tensor {
    let c = cotangent.scalar! / Double(x.scalarCount)
    return x.withUnsafeScalars { xs in
      expected.withUnsafeScalars { e in
        Tensor(shape: x.shape, count: xs.count) { out in
          bp_huber_pullbacks(c, xs.baseAddress, e.baseAddress, delta, out.baseAddress, xs.count)
        }
      }
    }
  }

  func pullback(_ cotangent: Variable, input x: Variable, output y: Variable) -> Variable {
    let d = x - Variable(expected)
    let c = cotangent / Double(x.value.scalarCount)
    return c * Huber.partialA(a: d, b: Variable(delta), y: d)
  }
}

// MARK: - The loss terms, primitives of two operands

/// The Huber function of d with threshold δ: y = ½d² where |d| ≤ δ, δ(|d| − ½δ) elsewhere;
/// ∂y/∂d = d inside, δ sign(d) outside (continuous at |d| = δ), ∂²y/∂d² = the inside mask;
/// ∂y/∂δ = 0 inside, |d| − δ outside. A primitive so that `huberLoss` is three entries with one
/// pass each way, where its composition from masks, squares and absolute values takes ten. The
/// square is only ever taken inside, so an outlier's never overflows; the formula is the
/// definition's, for any δ.
enum Huber: BinaryElementaryFunction {
  static let name = "huber"

  @inline(__always)
  static func value(_ d: Double, _ delta: Double) -> Double {
    let magnitude = Swift.abs(d)
    return magnitude <= delta ? 0.5 * d * d : delta * (magnitude - 0.5 * delta)
  }

  /// d masked to the inside plus the constant slopes ±δ outside: recorded, so that the second
  /// derivative in d is the inside mask.
  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    a.masked(by: .elementwise(a.value, b.value, op: name, Inside.self))
      + T.constant(.elementwise(a.value, b.value, op: name, OutsideSlope.self))
  }

  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    (a.applying(Magnitude.self) - b).masked(
      by: .elementwise(a.value, b.value, op: name, Outside.self))
  }

  /// The rules scalar by scalar: ∂y/∂d as the masked d plus the slope (d + 0 inside, so −0
  /// gives +0; ±δ outside; NaN at NaN), ∂y/∂δ as (|d| − δ) selected outside.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    var db: Tensor? = nil
    let byThreshold = { (g: Double, d: Double, delta: Double, _: Double) -> Double in
      g * Select.scalar(Swift.abs(d) - delta, Outside.scalar(d, delta))
    }
    if wrt.1 && wrt.0 {
      var (shared, kept) = (cotangent, y)
      db = .pulling(&shared, a, b, output: &kept, byThreshold)
    } else if wrt.1 {
      db = .pulling(&cotangent, a, b, output: &y, byThreshold)
    }
    let da: Tensor? =
      wrt.0
      ? .pulling(&cotangent, a, b, output: &y) { g, d, delta, _ in g * slope(d, delta) } : nil
    return (da, db)
  }

  static func pullback(_ cotangent: inout Tensor?, a: Tensor, constant b: Double, y: inout Tensor)
    -> Tensor?
  { .pulling(&cotangent, a, a, output: &y) { g, d, _, _ in g * slope(d, b) } }

  /// ∂y/∂d spelled out in selections (the helpers left a call a scalar in the loop); + 0 as the
  /// rule's sum of the masked d and the slope has it, so that ±0 gives +0.
  @inline(__always)
  static func slope(_ d: Double, _ delta: Double) -> Double {
    let signed = d > 0 ? delta : -delta
    let slope = Swift.abs(d) <= delta ? d : signed
    return d != d || delta != delta ? .nan : slope + 0
  }

  /// 1 where |d| ≤ δ, 0 elsewhere, NaN where d or δ is NaN: a selection, then the NaN check.
  enum Inside: BinaryScalarFunction {
    @inline(__always)
    static func scalar(_ d: Double, _ delta: Double) -> Double {
      let inside: Double = Swift.abs(d) <= delta ? 1 : 0
      return d != d || delta != delta ? .nan : inside
    }
  }

  /// 1 − Inside: 1 where |d| > δ.
  enum Outside: BinaryScalarFunction {
    @inline(__always)
    static func scalar(_ d: Double, _ delta: Double) -> Double {
      let outside: Double = Swift.abs(d) <= delta ? 0 : 1
      return d != d || delta != delta ? .nan : outside
    }
  }

  /// 0 where |d| ≤ δ, δ sign(d) elsewhere, NaN where d or δ is NaN.
  enum OutsideSlope: BinaryScalarFunction {
    @inline(__always)
    static func scalar(_ d: Double, _ delta: Double) -> Double {
      let signed = d > 0 ? delta : -delta
      let slope: Double = Swift.abs(d) <= delta ? 0 : signed
      return d != d || delta != delta ? .nan : slope
    }
  }
}

/// The binary cross-entropy of a logit x against a label y in [0, 1]:
/// y = y·softplus(−x) + (1 − y)·softplus(x), two non-negative terms, so nothing cancels and no
/// tail overflows; ∂/∂x = (1 − y)σ(x) − yσ(−x) (that is σ(x) − y, with each tail kept);
/// ∂/∂y = softplus(−x) − softplus(x). A primitive so that `binaryCrossEntropy` is two entries:
/// its composition from softplus, negations, products and a sum takes nine. Both softplus terms share one e^(−|x|) and one ln(1 + ·), so the value is
/// the composition's to the bit.
enum BinaryCrossEntropy: BinaryElementaryFunction {
  static let name = "binaryCrossEntropy"

  @inline(__always)
  static func value(_ x: Double, _ y: Double) -> Double {
    combine(x, y, bp_logarithm_one_plus(exponential(-Swift.abs(x))))
  }

  /// The value from l = ln(1 + e^(−|x|)): softplus(x) = x + l for x > 0 and l otherwise, and
  /// softplus(−x) likewise, as ``Softplus`` forms them.
  @inline(__always)
  static func combine(_ x: Double, _ y: Double, _ l: Double) -> Double {
    let positive = x > 0 ? x + l : l
    let negative = -x > 0 ? -x + l : l
    return y * negative + (1 - y) * positive
  }

  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    (1 - b) * a.sigmoid() - b * (-a).sigmoid()
  }

  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T {
    (-a).applying(Softplus.self) - a.applying(Softplus.self)
  }

  /// Operands of one shape in three vectorized passes (e^(−|x|), then ln(1 + ·) in place,
  /// then the two terms), with `value`'s bits; the broadcasting loop otherwise.
  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
    guard a.shape == b.shape, a.rank > 0 else {
      return .elementwise(a, b, op: name, Scalar<Self>.self)
    }
    return a.withUnsafeScalars { x in
      b.withUnsafeScalars { y in
        Tensor(shape: a.shape, count: x.count) { out in
          guard let base = out.baseAddress else { return }
          for index in x.indices { out[index] = -Swift.abs(x[index]) }
          _ = bp_exponentials(base, 0, base, x.count)
          bp_logarithms_one_plus(base, base, x.count)
          for index in x.indices { out[index] = combine(x[index], y[index], out[index]) }
        }
      }
    }
  }

  /// ∂/∂x with σ(x) and σ(−x) from the sigmoid kernel (the bits `partialA` has on Doubles),
  /// ȳ ⊙ ((1 − y)σ(x) − yσ(−x)) in one more pass; ∂/∂y scalar by scalar.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    var db: Tensor? = nil
    let byLabel = { (g: Double, x: Double, _: Double, _: Double) -> Double in
      g * (Softplus.value(-x) - Softplus.value(x))
    }
    if wrt.1 && wrt.0 {
      var (shared, kept) = (cotangent, y)
      db = .pulling(&shared, a, b, output: &kept, byLabel)
    } else if wrt.1 {
      db = .pulling(&cotangent, a, b, output: &y, byLabel)
    }
    guard wrt.0 else { return (nil, db) }
    let slopes = a.withUnsafeScalars { x in
      b.withUnsafeScalars { labels in
        Tensor(shape: a.shape, count: x.count) { out in
          guard let base = out.baseAddress, let source = x.baseAddress else { return }
          // σ(−x) in a tensor's storage (large ones fault in huge pages; see LargeBuffer).
          let negated = Tensor(shape: a.shape, count: x.count) { buffer in
            for index in x.indices { buffer[index] = -x[index] }
            bp_sigmoids(buffer.baseAddress, buffer.baseAddress, x.count)
          }
          bp_sigmoids(source, base, x.count)
          negated.withUnsafeScalars { negated in
            for index in x.indices {
              out[index] = (1 - labels[index]) * out[index] - labels[index] * negated[index]
            }
          }
        }
      }
    }
    let da: Tensor = .pulling(&cotangent, slopes, slopes, output: &y) { g, s, _, _ in g * s }
    return (da, db)
  }
}
