import Backprop

/// Softmax whose recorded derivative is `jacobian` (a constant matrix) while its value is the
/// true softmax: how a hand-written backward pass with a bug behaves inside a larger program.
/// The term (x − x₀) is zero in value but carries the derivative.
func softmax(_ x: Variable, withDerivative jacobian: (Tensor) -> Tensor) -> Variable {
  let n = x.shape[0]
  let displacement = (x - Variable(x.value)).reshaped(to: [n, 1])
  let derivative = matmul(Variable(jacobian(x.value)), displacement).reshaped(to: [n])
  return Variable(softmax(x.value)) + derivative
}

/// A widely repeated answer: the diagonal sᵢ(1 − sᵢ) used as if it were the whole Jacobian.
func diagonalOnly(_ x: Tensor) -> Tensor {
  let s = softmax(x).scalars
  let n = s.count
  return Tensor(
    shape: [n, n], scalars: (0..<(n * n)).map { $0 / n == $0 % n ? s[$0 / n] * (1 - s[$0 / n]) : 0 }
  )
}

/// A backward pass that uses the input where the output belongs: diag(x) − x xᵀ.
func inputForOutput(_ x: Tensor) -> Tensor {
  let v = x.scalars
  let n = v.count
  return Tensor(
    shape: [n, n],
    scalars: (0..<(n * n)).map { ($0 / n == $0 % n ? v[$0 / n] : 0) - v[$0 / n] * v[$0 % n] })
}

func mistakes(_ lesson: inout Lesson) {
  lesson.say(
    """
    Each mistake below gives the right forward value and a wrong derivative, so nothing looks
    wrong until a gradient check compares the derivative with central differences.
    Loss: L = Σ wᵢ softmax(x)ᵢ with w = [1, −2, 0.5].
    """)
  let w: Tensor = [1, -2, 0.5]
  let x: Tensor = [0.2, -0.4, 0.3]
  let correct = checkGradient(at: x) { (softmax($0) * w).sum() }
  lesson.say("\n  The fused softmax:               \(correct)")
  lesson.check("the correct derivative passes", correct.passed)

  let diagonal = checkGradient(at: x) { (softmax($0, withDerivative: diagonalOnly) * w).sum() }
  lesson.say(
    """

    1. Only the diagonal, sᵢ(1 − sᵢ), dropping the −sᵢsⱼ terms. For one output in isolation
       the diagonal looks plausible; but changing xⱼ moves every sᵢ through the sum. How far
       off it is depends on how much the dropped terms matter: where one class dominates,
       sᵢsⱼ is small and the error can look like a rounding difference of about 1%; here it
       is much more.
       \(diagonal)
    """)
  lesson.check("the diagonal-only derivative fails the check", !diagonal.passed)
  lesson.check(
    "its relative error, \(show(diagonal.maxRelativeError * 100))%, is far above the 0.1% tolerance",
    diagonal.maxRelativeError > 0.01)

  let swapped = checkGradient(at: x) { (softmax($0, withDerivative: inputForOutput) * w).sum() }
  lesson.say(
    """

    2. diag(x) − x xᵀ: the formula right, with the input x where the output s belongs.
       \(swapped)
    """)
  lesson.check("the input-for-output derivative fails the check", !swapped.passed)

  let large: Tensor = [1000, 0, -1000]
  let naive: (Variable) -> Variable = { x in (exp(x) / exp(x).sum() * w).sum() }
  let naiveValue = naive(Variable(large)).value.scalar!
  let naiveCheck = checkGradient(at: large, of: naive)
  let stableCheck = checkGradient(at: large) { (softmax($0) * w).sum() }
  lesson.say(
    """

    3. e^x / Σ e^x without subtracting the max first. At x = [1000, 0, −1000], e^1000
       overflows to ∞ and ∞/∞ is NaN: the value is \(show(naiveValue)), and so is the gradient.
       \(naiveCheck)
       Subtracting the max first (as softmax does) keeps every exponent ≤ 0:
       \(stableCheck)
    """)
  lesson.check("the naive softmax's value is NaN at 1000", naiveValue.isNaN)
  lesson.check("its gradient check fails", !naiveCheck.passed)
  lesson.check("the stable softmax passes at the same point", stableCheck.passed)

  // The value of |x| with a hand-written derivative x / |x|: right everywhere but at 0.
  let kink: Tensor = [0, -2, 3]
  let handWritten: (Variable) -> Variable = { x in
    let slope = x.value / abs(x.value)
    return (Variable(abs(x.value)) + (x - Variable(x.value)) * slope).sum()
  }
  let handCheck = checkGradient(at: kink, of: handWritten)
  let libraryCheck = checkGradient(at: kink) { abs($0).sum() }
  lesson.say(
    """

    4. The derivative of |x| written as x / |x|. It is right wherever x ≠ 0, and 0/0 = NaN at
       the kink, which any input that lands exactly on 0 (a relu's output, a padded entry)
       will hit:
       \(handCheck)
       abs takes sign(x), which is 0 at 0, as PyTorch and JAX do; it is also what the central
       difference (|h| − |−h|) / 2h gives there:
       \(libraryCheck)
    """)
  lesson.check("the x / |x| derivative fails the check at 0", !handCheck.passed)
  lesson.check("abs, with derivative 0 at 0, passes", libraryCheck.passed)
}
