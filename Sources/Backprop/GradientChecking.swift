// Gradient checking: automatic derivatives compared with central differences, and two
// functions compared by their Jacobians.

/// The Jacobian of `f` at `x` by central differences:
/// J[i…, j…] ≈ (f(x + h eⱼ) − f(x − h eⱼ))[i…] / 2h, of shape f(x).shape + x.shape.
///
/// `f` is evaluated on constants, so nothing is recorded. The error is O(h²) from truncation plus
/// O(ε/h) from rounding; h = 1e-6 balances them for smooth functions of moderate scale.
public func numericalJacobian(
  at x: Tensor, step: Double = 1e-6, of f: (Variable) -> Variable
) -> Tensor {
  precondition(step > 0, "numericalJacobian(at:step:of:): step \(step) is not positive")
  let outputShape = f(Variable(x)).shape
  let (rows, columns) = (outputShape.reduce(1, *), x.scalarCount)
  var scalars = [Double](repeating: 0, count: rows * columns)
  var point = x.scalars
  for column in 0..<columns {
    let original = point[column]
    point[column] = original + step
    let plus = f(Variable(Tensor(shape: x.shape, scalars: point))).value.scalars
    point[column] = original - step
    let minus = f(Variable(Tensor(shape: x.shape, scalars: point))).value.scalars
    point[column] = original
    for row in 0..<rows { scalars[row * columns + column] = (plus[row] - minus[row]) / (2 * step) }
  }
  return Tensor(shape: outputShape + x.shape, scalars: scalars)
}

/// The gradient of a scalar function by central differences: ∂f/∂xⱼ ≈ (f(x + h eⱼ) − f(x − h eⱼ)) / 2h.
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
  /// Whether every entry satisfied |a − n| ≤ absoluteTolerance + relativeTolerance · |n|.
  public let passed: Bool
  /// The gradient from the reverse sweep.
  public let analytic: Tensor
  /// The gradient from central differences.
  public let numerical: Tensor
  /// The largest |a − n| over all entries.
  public let maxAbsoluteError: Double
  /// The largest |a − n| / max(|a|, |n|) over all entries (0 where both are 0).
  public let maxRelativeError: Double
  /// The multi-index of the entry that came nearest to failing, or failed by the most:
  /// the largest |a − n| / (absoluteTolerance + relativeTolerance · |n|).
  public let worstIndex: [Int]

  /// One line: passed or FAILED, the errors, and the worst entry with both of its values.
  public var description: String {
    let worst = worstIndex.isEmpty ? [] : [worstIndex]
    let at =
      worst.map { index in
        let a = analytic[index]
        let n = numerical[index]
        return ", worst at \(index): analytic \(a), numerical \(n)"
      }.first ?? ""
    return "gradient check \(passed ? "passed" : "FAILED"): max absolute error "
      + "\(maxAbsoluteError), max relative error \(maxRelativeError)\(at)"
  }
}

/// Compares the reverse-mode gradient of `f` at `x` with central differences, entry by entry.
///
/// The defaults are PyTorch's `gradcheck`: an entry passes when
/// |analytic − numerical| ≤ 1e-5 + 1e-3 · |numerical|, with step 1e-6.
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
  let analytic = gradient(at: x, of: f)
  let numerical = numericalGradient(at: x, step: step, of: f)
  var (passed, maxAbsolute, maxRelative) = (true, 0.0, 0.0)
  var (worst, worstRatio) = (0, -1.0)
  for (index, (a, n)) in zip(analytic.scalars, numerical.scalars).enumerated() {
    let error = a == n ? 0 : abs(a - n)  // equal infinities are no error
    let allowed = absoluteTolerance + relativeTolerance * abs(n)
    let ratio = error.isNaN ? .infinity : error / allowed
    if !(error <= allowed) { passed = false }
    // A NaN anywhere makes both maxima NaN, and they stay NaN.
    let scale = Swift.max(abs(a), abs(n))
    let relative = error.isNaN ? .nan : scale > 0 ? error / scale : 0
    maxAbsolute = maxAbsolute.isNaN || error.isNaN ? .nan : Swift.max(maxAbsolute, error)
    maxRelative = maxRelative.isNaN || relative.isNaN ? .nan : Swift.max(maxRelative, relative)
    if ratio > worstRatio { (worst, worstRatio) = (index, ratio) }
  }
  return GradientCheckReport(
    passed: passed, analytic: analytic, numerical: numerical, maxAbsoluteError: maxAbsolute,
    maxRelativeError: maxRelative,
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
  precondition(
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
