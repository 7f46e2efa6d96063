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
    /// Every resolved entry agrees, but central differences could not resolve some entry
    /// (their quotients over h and h/2 disagree): the check can say nothing there.
    case inconclusive
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
  /// The multi-indices of entries outside the tolerance that central differences could not
  /// resolve: the check says nothing about them.
  public let unresolvedIndices: [[Int]]
  /// The largest |a − n| over all entries.
  public let maxAbsoluteError: Double
  /// The largest |a − n| / max(|a|, |n|) over all entries (0 where both are 0).
  public let maxRelativeError: Double
  /// The multi-index of the entry that came nearest to failing, or failed by the most:
  /// the largest |a − n| / (absoluteTolerance + relativeTolerance · |n|).
  public let worstIndex: [Int]

  /// One line: passed, FAILED or inconclusive, the errors, and the worst entry with both of
  /// its values and its step.
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
      unresolvedIndices.isEmpty
      ? ""
      : "; central differences cannot resolve \(unresolvedIndices.count) entries, "
        + "first \(unresolvedIndices[0]) (the step is too long for the function there)"
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
/// magnitude. Where central differences cannot resolve an entry (their quotients over hⱼ and
/// hⱼ/2 disagree, as where a softmax saturates within one step), the verdict is
/// ``GradientCheckReport/Verdict/inconclusive``, never passed.
///
/// ```swift
/// let report = checkGradient(at: [0.5, -1, 2]) { x in (softmax(x) * log(softmax(x))).sum() }
/// report.passed   // true
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
  var (failed, maxAbsolute, maxRelative) = (false, 0.0, 0.0)
  var (worst, worstRatio) = (0, -1.0)
  var unresolved: [[Int]] = []
  for (index, (a, n)) in zip(analytic.scalars, numerical.scalars).enumerated() {
    let error = a == n ? 0 : abs(a - n)  // equal infinities are no error
    let allowed = absoluteTolerance + relativeTolerance * abs(n)
    let ratio = error.isNaN ? .infinity : error / allowed
    // An entry within tolerance passes whatever the step. One outside it fails only if its
    // central difference is resolved and the disagreement is above the rounding floor (in
    // Σ xᵢ² at [1e10, 3e15] a step of x₀ moves f by less than f's own rounding); otherwise it
    // is inconclusive.
    if !(error <= allowed) {
      if differences.resolved[index] && !(error <= differences.noise[index]) {
        failed = true
      } else {
        unresolved.append(multiIndex(index, in: x.shape))
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
    verdict: failed ? .failed : unresolved.isEmpty ? .passed : .inconclusive,
    analytic: analytic, numerical: numerical,
    steps: Tensor(shape: x.shape, scalars: differences.steps), unresolvedIndices: unresolved,
    maxAbsoluteError: maxAbsolute, maxRelativeError: maxRelative,
    worstIndex: x.scalarCount == 0 ? [] : multiIndex(worst, in: x.shape))
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
