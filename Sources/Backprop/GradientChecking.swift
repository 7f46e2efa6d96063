// Gradient checking: automatic derivatives compared with central differences, and two
// functions compared by their Jacobians.

/// Central differences of `f` at `x`, one column per input scalar, with what is needed to
/// tell whether each column means anything: the Jacobian that ``numericalJacobian(at:step:of:)``
/// returns, the step of each column, and whether the column is resolved.
///
/// ```swift
/// let estimate = CentralDifferences(at: [1e300, 1e300, 0], of: softmax)
/// estimate.resolved   // [false, false, true]: softmax saturates within one step of 1e300
/// ```
public struct CentralDifferences: Sendable {
  /// The estimate, of shape f(x).shape + x.shape.
  public var jacobian: Tensor
  /// The step taken for each input scalar: ((xⱼ + hⱼ) − (xⱼ − hⱼ)) / 2.
  public var steps: [Double]
  /// For each input scalar, whether the estimate is resolved: the difference quotients over
  /// the step and over half of it agree to `relativeTolerance`, or within rounding.
  public var resolved: [Bool]
  /// For each input scalar, the rounding floor of its quotients: f's values rounded to within
  /// 10⁴ ε |f| each make a quotient uncertain by about 10⁴ ε max|f| / hⱼ, so a derivative that
  /// differs from the estimate by less than this cannot be told apart from it.
  public var noise: [Double]

  /// Evaluates `f` on constants (nothing is recorded) at x ± hⱼ eⱼ and x ± hⱼ/2 eⱼ.
  ///
  /// The step is relative, hⱼ = step · max(1, |xⱼ|): a fixed 1e-6 is below the spacing of
  /// Doubles once |xⱼ| > 2⁵³ · 1e-6 ≈ 9e9, where x + h rounds back to x and the quotient is 0/0
  /// or noise. The quotient divides by the step actually taken, (x + h) − (x − h), so that
  /// rounding of x ± h costs nothing.
  ///
  /// A quotient can also be wrong because the step is too long: at x = [1e300, 1e300, 0]
  /// every representable step moves softmax from one saturated end to the other, and the
  /// quotient is about 0 where the derivative is ¼. A smooth function's quotients over h and
  /// h/2 agree to O(h²); a column where they differ by more than the tolerance (and more than
  /// rounding) is marked unresolved rather than trusted.
  public init(
    at x: Tensor, step: Double = 1e-6, relativeTolerance: Double = 1e-3,
    of f: (Variable) -> Variable
  ) {
    require(
      step > 0 && step.isFinite, "CentralDifferences(at:step:of:): step \(step) is not positive")
    let center = f(Variable(x)).value
    let outputShape = center.shape
    let (rows, columns) = (center.scalarCount, x.scalarCount)
    var scalars = [Double](repeating: 0, count: rows * columns)
    steps = []
    resolved = []
    noise = []
    var point = x.scalars
    for column in 0..<columns {
      let h = step * Swift.max(1, abs(point[column]))
      let (full, size, taken) = centralQuotient(of: f, at: &point, shape: x.shape, column, h)
      let (half, halfSize, _) = centralQuotient(of: f, at: &point, shape: x.shape, column, h / 2)
      // Rounding in f's values, |f| ε each, becomes |f| ε / h in a quotient; f computed with
      // cancellation rounds worse than that, hence the wide margin. (A saturated step moves f
      // by about |f| itself, far above it.)
      let noise = 1e4 * Double.ulpOfOne * Swift.max(size, halfSize) / taken
      var agree = true
      for row in 0..<rows {
        scalars[row * columns + column] = full[row]
        let gap = abs(full[row] - half[row])
        if gap > relativeTolerance * Swift.max(abs(full[row]), abs(half[row])) && gap > noise {
          agree = false
        }
      }
      steps.append(taken)
      // At a non-finite xⱼ there is no step to take.
      resolved.append(agree && taken.isFinite && taken > 0)
      self.noise.append(noise)
    }
    jacobian = Tensor(shape: outputShape + x.shape, scalars: scalars)
  }
}

/// The Jacobian of `f` at `x` by central differences:
/// J[i…, j…] ≈ (f(x + hⱼ eⱼ) − f(x − hⱼ eⱼ))[i…] / 2hⱼ, of shape f(x).shape + x.shape.
///
/// The step is relative to each input, hⱼ = step · max(1, |xⱼ|), so that x ± hⱼ differ from x
/// at any magnitude (a fixed 1e-6 vanishes below the spacing of Doubles above about 9e9).
/// `f` is evaluated on constants, so nothing is recorded. The error is O(h²) from truncation
/// plus O(ε/h) from rounding; 1e-6 balances them for smooth functions.
public func numericalJacobian(
  at x: Tensor, step: Double = 1e-6, of f: (Variable) -> Variable
) -> Tensor {
  require(
    step > 0 && step.isFinite, "numericalJacobian(at:step:of:): step \(step) is not positive")
  let outputShape = f(Variable(x)).shape
  let (rows, columns) = (outputShape.reduce(1, *), x.scalarCount)
  var scalars = [Double](repeating: 0, count: rows * columns)
  var point = x.scalars
  for column in 0..<columns {
    let h = step * Swift.max(1, abs(point[column]))
    let slope = centralQuotient(of: f, at: &point, shape: x.shape, column, h).slope
    for row in 0..<rows { scalars[row * columns + column] = slope[row] }
  }
  return Tensor(shape: outputShape + x.shape, scalars: scalars)
}

/// One column of central differences: (f(x + h eⱼ) − f(x − h eⱼ)) / ((xⱼ + h) − (xⱼ − h)),
/// dividing by the step actually taken, with the largest |f| met (for the rounding floor) and
/// the half-step taken. `point` is x, and is left as it was.
private func centralQuotient(
  of f: (Variable) -> Variable, at point: inout [Double], shape: [Int], _ column: Int,
  _ h: Double
) -> (slope: [Double], size: Double, taken: Double) {
  let original = point[column]
  let (up, down) = (original + h, original - h)
  point[column] = up
  let plus = f(Variable(Tensor(shape: shape, scalars: point))).value.scalars
  point[column] = down
  let minus = f(Variable(Tensor(shape: shape, scalars: point))).value.scalars
  point[column] = original
  let taken = up - down
  let size = zip(plus, minus).reduce(0.0) { Swift.max($0, abs($1.0), abs($1.1)) }
  return (zip(plus, minus).map { ($0 - $1) / taken }, size, taken / 2)
}

/// The gradient of a scalar function by central differences:
/// ∂f/∂xⱼ ≈ (f(x + hⱼ eⱼ) − f(x − hⱼ eⱼ)) / 2hⱼ, with hⱼ = step · max(1, |xⱼ|).
///
/// - Precondition: `f(x)` holds exactly one scalar.
public func numericalGradient(
  at x: Tensor, step: Double = 1e-6, of f: (Variable) -> Variable
) -> Tensor {
  Variable.requireScalar(f(Variable(x)).shape, op: "numericalGradient(at:step:of:)")
  return numericalJacobian(at: x, step: step, of: f).reshaped(to: x.shape)
}

/// What ``checkGradient(at:step:absoluteTolerance:relativeTolerance:of:)`` found.
public struct GradientCheckReport: Sendable, CustomStringConvertible {
  /// The outcome of a gradient check.
  public enum Verdict: String, Sendable {
    /// Every entry is within tolerance of a resolved central difference.
    case passed
    /// Some resolved central difference disagrees with the gradient.
    case failed
    /// Every decided entry agrees, but central differences cannot decide some entry (see
    /// ``Cause``): the check says nothing there.
    case inconclusive
  }

  /// Why central differences cannot decide an entry.
  public enum Cause: String, Sendable, CaseIterable {
    /// xⱼ is NaN or ±∞: there is no step to take.
    case nonFiniteInput
    /// x ± hⱼ is not finite (hⱼ = step · |xⱼ| overflows next to the largest Doubles).
    case nonFiniteStep
    /// f is NaN or ±∞ at x ± hⱼ: the quotient is not a number to compare.
    case nonFiniteValue
    /// Rounding: f's value swamps the change a step makes (in Σ eˣ at [700, 1], e¹'s change
    /// is below e⁷⁰⁰'s rounding), so the quotient is noise, below the rounding floor.
    case rounding
    /// A kink at xⱼ: the one-sided slopes differ (relu at 0: 0 and 1), each agreeing with its
    /// half step, and the gradient lies between them, a subgradient.
    case kink
    /// The step is too long for the function there: the quotients over hⱼ and hⱼ/2 disagree
    /// (softmax saturates within one step of 1e300).
    case stepTooLong

    /// The cause in words, for a report.
    public var explanation: String {
      switch self {
      case .nonFiniteInput: "the input is not finite, so no step can be taken"
      case .nonFiniteStep: "x ± h is not finite: the step overflows"
      case .nonFiniteValue: "the function is not finite within a step"
      case .rounding: "rounding: the function's value swamps the change a step makes"
      case .kink: "a kink: the one-sided slopes differ, and the gradient lies between them"
      case .stepTooLong: "the step is too long for the function there"
      }
    }
  }

  /// An entry the check cannot decide, and why.
  public struct Undecided: Sendable, Equatable {
    /// The entry's multi-index.
    public let index: [Int]
    /// Why central differences cannot decide it.
    public let cause: Cause

    /// An undecided entry at `index`, for `cause`.
    public init(index: [Int], cause: Cause) {
      self.index = index
      self.cause = cause
    }
  }

  /// The outcome: passed, failed, or inconclusive.
  public let verdict: Verdict
  /// Whether the verdict is ``Verdict/passed``.
  public var passed: Bool { verdict == .passed }
  /// The gradient from the reverse sweep.
  public let analytic: Tensor
  /// The gradient from central differences.
  public let numerical: Tensor
  /// The step taken for each entry, hⱼ = step · max(1, |xⱼ|) (as rounded by x ± hⱼ).
  public let steps: Tensor
  /// The entries outside the tolerance that central differences cannot decide, each with its
  /// cause: the check says nothing about them.
  public let undecided: [Undecided]
  /// The multi-indices of ``undecided``.
  public var unresolvedIndices: [[Int]] { undecided.map(\.index) }
  /// The largest |a − n| over all entries.
  public let maxAbsoluteError: Double
  /// The largest |a − n| / max(|a|, |n|) over all entries (0 where both are 0).
  public let maxRelativeError: Double
  /// The multi-index of the entry that came nearest to failing, or failed by the most:
  /// the largest |a − n| / (absoluteTolerance + relativeTolerance · |n|).
  public let worstIndex: [Int]

  /// The undecided entries grouped by cause, in ``Cause``'s order: "entry [1]: rounding: …;
  /// entries [0], [2]: a kink: …", or "the scalar: …" for a rank-0 input.
  public var undecidedSummary: String {
    Cause.allCases.compactMap { cause in
      let indices = undecided.filter { $0.cause == cause }.map(\.index)
      guard !indices.isEmpty else { return nil }
      let named =
        indices == [[]]
        ? "the scalar"
        : (indices.count == 1 ? "entry " : "entries ")
          + indices.map { "\($0)" }.joined(separator: ", ")
      return "\(named): \(cause.explanation)"
    }.joined(separator: "; ")
  }

  /// One line: passed, FAILED or inconclusive, the errors, the worst entry with both of its
  /// values and its step, and why any entry is undecided.
  public var description: String {
    let worst = worstIndex.isEmpty ? [] : [worstIndex]
    let at =
      worst.map { index in
        let a = analytic[index]
        let n = numerical[index]
        // NaN prints as "nan" whatever its sign bit (Swift would print "-nan").
        func show(_ value: Double) -> String { value.isNaN ? "nan" : "\(value)" }
        return
          ", worst at \(index): analytic \(show(a)), numerical \(show(n)), step \(steps[index])"
      }.first ?? ""
    let word = verdict == .failed ? "FAILED" : verdict.rawValue
    let unresolved =
      undecided.isEmpty ? "" : "; central differences cannot decide \(undecidedSummary)"
    let absolute = maxAbsoluteError.isNaN ? "nan" : "\(maxAbsoluteError)"
    let relative = maxRelativeError.isNaN ? "nan" : "\(maxRelativeError)"
    return "gradient check \(word): max absolute error \(absolute), max relative error "
      + "\(relative)\(at)\(unresolved)"
  }
}

/// Compares the reverse-mode gradient of `f` at `x` with central differences, entry by entry.
///
/// The tolerances are PyTorch's `gradcheck`'s: an entry passes when
/// |analytic − numerical| ≤ 1e-5 + 1e-3 · |numerical|. The step is relative to each entry,
/// hⱼ = step · max(1, |xⱼ|) with step 1e-6, so that the check means something at any
/// magnitude. An entry outside the tolerance fails only where central differences can decide
/// it; otherwise the verdict is ``GradientCheckReport/Verdict/inconclusive``, never passed,
/// and the report names the cause (``GradientCheckReport/Cause``): a non-finite input, step or
/// value; rounding, where the change is below f's rounding floor; a kink, where the one-sided
/// slopes differ and the gradient lies between them; or a step too long for the function.
///
/// ```swift
/// let report = checkGradient(at: [0.5, -1, 2]) { x in (softmax(x) * log(softmax(x))).sum() }
/// report.passed   // true
/// checkGradient(at: [0]) { relu($0).sum() }.undecided   // [[0]]: a kink
/// ```
///
/// - Precondition: `f(x)` holds exactly one scalar.
public func checkGradient(
  at x: Tensor, step: Double = 1e-6, absoluteTolerance: Double = 1e-5,
  relativeTolerance: Double = 1e-3, of f: (Variable) -> Variable
) -> GradientCheckReport {
  let analytic = valueWithGradient(at: x, of: f, op: "checkGradient(at:of:)").gradient
  let differences = CentralDifferences(
    at: x, step: step, relativeTolerance: relativeTolerance, of: f)
  let numerical = differences.jacobian.reshaped(to: x.shape)
  let within = { (a: Double, b: Double) -> Bool in
    abs(a - b) <= absoluteTolerance + relativeTolerance * Swift.max(abs(a), abs(b))
  }
  var (failed, maxAbsolute, maxRelative) = (false, 0.0, 0.0)
  var (worst, worstRatio) = (0, -1.0)
  var undecided: [GradientCheckReport.Undecided] = []
  let point = x.scalars
  for (index, (a, n)) in zip(analytic.scalars, numerical.scalars).enumerated() {
    let error = a == n ? 0 : abs(a - n)  // equal infinities are no error
    let allowed = absoluteTolerance + relativeTolerance * abs(n)
    let ratio = error.isNaN ? .infinity : error / allowed
    // An entry within tolerance passes whatever the step. One outside it fails only where
    // central differences can decide it; otherwise it is undecided, with its cause.
    if !(error <= allowed) {
      let taken = differences.steps[index]
      let cause: GradientCheckReport.Cause?
      if !point[index].isFinite {
        cause = .nonFiniteInput
      } else if !taken.isFinite || taken == 0 {
        cause = .nonFiniteStep
      } else if !n.isFinite {
        cause = .nonFiniteValue
      } else if error <= differences.noise[index] {
        cause = .rounding
      } else {
        let slopes = OneSidedSlopes(of: f, at: x, index, step: taken)
        let low = Swift.min(slopes.left, slopes.right)
        let high = Swift.max(slopes.left, slopes.right)
        let kink =
          !within(slopes.left, slopes.right)
          && (within(slopes.right, slopes.halfRight) || within(slopes.left, slopes.halfLeft))
          && (low - allowed...high + allowed).contains(a)
        cause = kink ? .kink : differences.resolved[index] ? nil : .stepTooLong
      }
      if let cause {
        undecided.append(.init(index: multiIndex(index, in: x.shape), cause: cause))
      } else {
        failed = true
      }
    }
    // A NaN anywhere makes both maxima NaN, and they stay NaN.
    let scale = Swift.max(abs(a), abs(n))
    let relative = error.isNaN ? .nan : scale > 0 ? error / scale : 0
    maxAbsolute = maxAbsolute.isNaN || error.isNaN ? .nan : Swift.max(maxAbsolute, error)
    maxRelative = maxRelative.isNaN || relative.isNaN ? .nan : Swift.max(maxRelative, relative)
    if ratio > worstRatio { (worst, worstRatio) = (index, ratio) }
  }
  return GradientCheckReport(
    verdict: failed ? .failed : undecided.isEmpty ? .passed : .inconclusive,
    analytic: analytic, numerical: numerical,
    steps: Tensor(shape: x.shape, scalars: differences.steps), undecided: undecided,
    maxAbsoluteError: maxAbsolute, maxRelativeError: maxRelative,
    worstIndex: x.scalarCount == 0 ? [] : multiIndex(worst, in: x.shape))
}

/// The one-sided difference quotients of a scalar f at x in entry j, over the step h and h/2:
/// (f(x + h eⱼ) − f(x))/h and (f(x) − f(x − h eⱼ))/h. A kink at xⱼ shows as right and left
/// slopes that differ while each agrees with its half step.
struct OneSidedSlopes {
  var left: Double
  var right: Double
  var halfLeft: Double
  var halfRight: Double

  init(of f: (Variable) -> Variable, at x: Tensor, _ j: Int, step h: Double) {
    var point = x.scalars
    let center = point[j]
    func value(at offset: Double) -> Double {
      point[j] = center + offset
      defer { point[j] = center }
      return f(Variable(Tensor(shape: x.shape, scalars: point))).value.scalars[0]
    }
    let middle = value(at: 0)
    // Each quotient divides by the step actually taken.
    func slope(_ offset: Double) -> Double {
      let taken = (center + offset) - center
      return offset > 0
        ? (value(at: offset) - middle) / taken : (middle - value(at: offset)) / -taken
    }
    (right, left, halfRight, halfLeft) = (slope(h), slope(-h), slope(h / 2), slope(-h / 2))
  }
}

/// Two functions' Jacobians at the same point, and how far apart they are.
public struct JacobianComparison: Sendable, CustomStringConvertible {
  /// The Jacobian of the first function.
  public let first: Tensor
  /// The Jacobian of the second function.
  public let second: Tensor
  /// first − second, entry by entry.
  public let difference: Tensor
  /// The largest |first − second| over all entries.
  public let maxAbsoluteDifference: Double
  /// The multi-index into the Jacobian of the largest difference.
  public let worstIndex: [Int]

  /// One line: the largest difference and where it is.
  public var description: String {
    "Jacobians differ by at most \(maxAbsoluteDifference) (at \(worstIndex))"
  }
}

/// The Jacobians of `f` and `g` at `x`, both by reverse-mode sweeps, and their difference.
///
/// ```swift
/// compareJacobians(at: [1, 2], softmax, composedSoftmax).maxAbsoluteDifference  // ~1e-17
/// ```
///
/// - Precondition: `f(x)` and `g(x)` have the same shape.
public func compareJacobians(
  at x: Tensor, _ f: (Variable) -> Variable, _ g: (Variable) -> Variable
) -> JacobianComparison {
  let first = jacobian(at: x, of: f)
  let second = jacobian(at: x, of: g)
  require(
    first.shape == second.shape,
    "compareJacobians(at:_:_:): the Jacobians have shapes \(first.shape) and \(second.shape)")
  let difference = first - second
  var (worst, largest) = (0, 0.0)
  for (index, value) in difference.scalars.enumerated() where !(abs(value) <= largest) {
    (worst, largest) = (index, abs(value))
    if value.isNaN { break }
  }
  return JacobianComparison(
    first: first, second: second, difference: difference, maxAbsoluteDifference: largest,
    worstIndex: difference.scalarCount == 0 ? [] : multiIndex(worst, in: first.shape))
}

/// The analytic Jacobian of softmax along the last axis: diag(s) − s sᵀ for each row s.
///
/// For a vector of n entries the result is n × n; for a batch [N, C] it is [N, C, N, C], zero
/// between different rows (each row's softmax depends on that row alone).
public func softmaxJacobian(at x: Tensor) -> Tensor {
  let s = softmax(x)
  let classes = x.shape.last ?? 1
  let count = x.scalarCount
  var scalars = [Double](repeating: 0, count: count * count)
  let p = s.scalars
  for i in 0..<count {
    let rowStart = i / classes * classes
    for j in rowStart..<(rowStart + classes) {
      scalars[i * count + j] = (i == j ? p[i] : 0) - p[i] * p[j]
    }
  }
  return Tensor(shape: x.shape + x.shape, scalars: scalars)
}

/// The multi-index of a row-major linear position.
func multiIndex(_ linear: Int, in shape: [Int]) -> [Int] {
  var remainder = linear
  var index = [Int](repeating: 0, count: shape.count)
  for axis in shape.indices.reversed() where shape[axis] > 0 {
    index[axis] = remainder % shape[axis]
    remainder /= shape[axis]
  }
  return index
}
