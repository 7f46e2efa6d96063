import Backprop
import Testing

/// Each decided edge case: its value and its gradient, as the op's doc comment and
/// docs/conventions.md state them.
@Suite("Edge cases, decided")
struct EdgeCaseTests {
  static let inf = Double.infinity

  @Test("log at 0 and below: −∞ with derivative +∞; NaN with derivative 1/x, as PyTorch")
  func logarithm() {
    #expect(log(Tensor([0])) == [-Self.inf])
    #expect(gradient(at: [0]) { log($0).sum() } == [Self.inf])
    #expect(log(Tensor(-1)).scalar!.isNaN)
    #expect(gradient(at: [-1]) { log($0).sum() } == [-1])
  }

  @Test("Division by zero follows IEEE 754, in value and gradient")
  func divisionByZero() {
    #expect(Tensor(1) / Tensor(0) == Tensor(Self.inf))
    #expect((Tensor(0) / Tensor(0)).scalar!.isNaN)
    let (ga, gb) = gradient(at: Tensor(1), Tensor(0)) { $0 / $1 }
    #expect(ga == Tensor(Self.inf) && gb == Tensor(-Self.inf))
  }

  @Test("sqrt at 0 has derivative +∞; exp overflows to +∞ and underflows to 0")
  func squareRootAndExponential() {
    #expect(gradient(at: [0]) { sqrt($0).sum() } == [Self.inf])
    #expect(exp(Tensor([1000, -1000])) == [Self.inf, 0])
    #expect(gradient(at: [1000, -1000]) { exp($0).sum() } == [Self.inf, 0])
  }

  @Test("relu: derivative 0 at 0, and relu(−∞) = 0 with gradient 0 (a selection, not 0 · ∞)")
  func rectifier() {
    let x: Tensor = [-Self.inf, -1, 0, 2, Self.inf]
    #expect(relu(Variable(x)).value == [0, 0, 0, 2, Self.inf])
    #expect(gradient(at: x) { relu($0).sum() } == [0, 0, 0, 1, 1])
    // One entry named relu; an infinite cotangent where x ≤ 0 is selected away, not 0 · ∞;
    // no second derivative; −0 in gives +0 out.
    let tape = Tape()
    let v = tape.variable(x)
    _ = relu(v)
    #expect(tape.count == 2 && tape.description.contains("relu"))
    #expect(
      pullback(at: x) { relu($0) }(Tensor([Self.inf, Self.inf, 1, 1, 1])) == [0, 0, 0, 1, 1])
    #expect(
      hessian(at: [-2, 0.5, 3]) { relu($0 * $0 - 1).sum() }.isApproximatelyEqual(
        to: Tensor([[2, 0, 0], [0, 0, 0], [0, 0, 2]]), absoluteTolerance: 0))
    #expect(relu(Variable(Tensor([-0.0]))).value.scalars[0].sign == .plus)
  }

  @Test("Masking selects: masked-out ±∞ and NaN become 0")
  func masking() {
    let x: Tensor = [-Self.inf, .nan, 3, Self.inf]
    let mask: Tensor = [0, 0, 1, 0]
    #expect(x.masked(by: mask) == [0, 0, 3, 0])
    #expect(gradient(at: x) { $0.masked(by: mask).sum() } == mask)
    // Broadcast masks select whole rows or columns.
    let m = Tensor([[1, 2], [3, 4]])
    #expect(m.masked(by: Tensor(shape: [2, 1], scalars: [0, 1])) == Tensor([[0, 0], [3, 4]]))
  }

  @Test("Masked logits (−∞): finite values, zero gradient on the masked entries, no NaN")
  func maskedLogits() {
    let x: Tensor = [-Self.inf, 0, 1]
    let w: Tensor = [1, 2, 3]
    let functions: [(String, (Variable) -> Variable)] = [
      ("softmax", { (softmax($0) * w).sum() }),
      ("composedSoftmax", { (composedSoftmax($0) * w).sum() }),
      ("logSumExp", { logSumExp($0) }),
      ("logSoftmax", { logSoftmax($0).masked(by: [0, 1, 1]).sum() }),
      ("composedLogSoftmax", { composedLogSoftmax($0).masked(by: [0, 1, 1]).sum() }),
      ("crossEntropy", { crossEntropy(logits: $0.reshaped(to: [1, 3]), labels: [2]) }),
      (
        "composedCrossEntropy",
        { composedCrossEntropy(logits: $0.reshaped(to: [1, 3]), labels: [2]) }
      ),
    ]
    let unmasked: Tensor = [0, 1]
    for (name, f) in functions {
      let (value, g) = valueWithGradient(at: x, of: f)
      #expect(value.isFinite && g.isFinite, "\(name): \(value), \(g)")
      #expect(g[[0]] == 0, "\(name): the masked entry gets no gradient")
    }
    #expect(softmax(x) == Tensor([0] + softmax(unmasked).scalars))
    #expect(logSumExp(Variable(x)).value == logSumExp(Variable(unmasked)).value)
  }

  @Test("A row with every logit masked: logSumExp is −∞, softmax is 0/0 = NaN")
  func fullyMaskedRow() {
    let x: Tensor = [-Self.inf, -Self.inf]
    #expect(logSumExp(Variable(x)).value == Tensor(-Self.inf))
    #expect(softmax(x).scalars.allSatisfy { $0.isNaN })
    #expect(logSumExp(Variable([Self.inf, 0])).value == Tensor(Self.inf))
  }

  /// The fused entry's gradient at the edges, where softmax is undefined: NaN, as the composed
  /// form gives; in a row past 64 scalars (the vectorized maximum) too; a rank-0 input, for
  /// which log-sum-exp is the identity; and one variable used twice.
  @Test("logSumExp's gradient at ±∞, NaN, a scalar and x + x")
  func logSumExpGradientAtTheEdges() {
    func nanOrEqual(_ got: Tensor, _ expected: [Double]) -> Bool {
      zip(got.scalars, expected).allSatisfy { $0.isNaN ? $1.isNaN : $0 == $1 }
    }
    #expect(nanOrEqual(gradient(at: [-Self.inf, -Self.inf]) { logSumExp($0) }, [.nan, .nan]))
    #expect(nanOrEqual(gradient(at: [Self.inf, 0]) { logSumExp($0) }, [.nan, 0]))
    #expect(nanOrEqual(gradient(at: [.nan, 1]) { logSumExp($0) }, [.nan, .nan]))
    var long = [Double](repeating: -3, count: 70)
    long[69] = .nan
    #expect(gradient(at: Tensor(long)) { logSumExp($0) }.scalars.allSatisfy { $0.isNaN })
    #expect(logSumExp(Tensor(long)).scalar!.isNaN)
    let (value, g) = valueWithGradient(at: Tensor(-1e300)) { logSumExp($0) }
    #expect(value == Tensor(-1e300) && g == Tensor(1))
    let twice = gradient(at: [0.5, -2]) { x in logSumExp(x + x) }
    expectClose(twice, 2 * softmax(Tensor([1, -4])), tolerance: 1e-16)
  }

  @Test("Tensors with a zero-length axis")
  func zeroLengthAxes() {
    let empty = Tensor(shape: [0], scalars: [])
    #expect(empty.sum() == Tensor(0))
    #expect(gradient(at: empty) { $0.sum() } == empty)
    #expect(empty.mean().scalar!.isNaN, "the mean of nothing is 0/0")
    let rows = Tensor(shape: [2, 0], scalars: [])
    #expect(softmax(rows).shape == [2, 0])
    #expect((Tensor(shape: [0, 3], scalars: []) + Tensor([1, 2, 3])).shape == [0, 3])
    let (ga, gb) = gradient(
      at: Tensor(shape: [2, 0], scalars: []), Tensor(shape: [0, 3], scalars: [])
    ) {
      matmul($0, $1).sum()
    }
    #expect(matmul(rows, Tensor(shape: [0, 3], scalars: [])) == .zeros([2, 3]))
    #expect(ga.shape == [2, 0] && gb.shape == [0, 3])
  }

  @Test("Rank 0 throughout")
  func rankZero() {
    let x = Tensor(1.5)
    #expect(
      gradient(at: x) { ($0 * $0 + exp($0)).sum().mean() } == Tensor(3 + exp(Tensor(1.5)).scalar!))
    #expect(jacobian(at: x) { tanh($0) }.shape == [])
    #expect(hessian(at: x) { pow($0, 3) } == Tensor(9))
  }

  @Test("Rank-4 broadcasting: values and gradients")
  func rankFourBroadcasting() {
    var generator = SeededGenerator(seed: 4)
    let a = Tensor.random([2, 1, 3, 1], using: &generator)
    let b = Tensor.random([4, 1, 5], using: &generator)
    #expect((a * b).shape == [2, 4, 3, 5])
    let (ga, gb) = gradient(at: a, b) { a, b in (a * b).sum() }
    // ∂/∂a of Σ a·b is b summed over everything a was broadcast along, and vice versa.
    expectClose(ga, Tensor(repeating: b.sum().scalar!, shape: [2, 1, 3, 1]), tolerance: 1e-14)
    expectClose(gb, Tensor(repeating: a.sum().scalar!, shape: [4, 1, 5]), tolerance: 1e-14)
    expectGradientMatchesFiniteDifferences(at: a) { a in (tanh(a * Variable(b)) * a).sum() }
  }
}

@Suite("Anomaly detection")
struct AnomalyTests {
  @Test func offByDefault() {
    let tape = Tape()
    _ = log(tape.variable([0]))
    #expect(tape.anomaly == nil)
  }

  @Test("The first non-finite forward value names its entry, op and inputs")
  func forward() throws {
    let tape = Tape(detectsAnomalies: true)
    let x = tape.variable([1, 0])
    let y = (log(x) * 2).sum()
    let anomaly = try #require(tape.anomaly)
    #expect(anomaly.phase == .forward && anomaly.entry == 1 && anomaly.op == "log")
    #expect(anomaly.inputs.map(\.index) == [0] && anomaly.inputs[0].value == [1, 0])
    #expect(anomaly.value == [0, -.infinity])
    // Later non-finite values (the product, the sum) do not replace the first.
    #expect(!y.value.isFinite && tape.anomaly?.entry == 1)
  }

  /// A custom entry's name is looked up among the tape's custom operations, so the operation
  /// must be known to the tape before its entry can be reported (a fuzzed `variance` of
  /// ±1e300 once trapped here).
  @Test("A custom operation's non-finite value is named by the operation")
  func customOperations() throws {
    let edges: Tensor = [1e300, -1e300]
    let cases: [(name: String, function: (Variable) -> Variable)] = [
      ("variance", { $0.variance() }),
      ("meanSquaredError", { meanSquaredError(predicted: $0, expected: [1, 2]) }),
      ("huberLoss", { huberLoss(predicted: $0, expected: [1, 2], delta: 1e300) }),
      ("cube", { $0.applying(Cube()) }),
    ]
    for (name, function) in cases {
      let tape = Tape(detectsAnomalies: true)
      let y = function(tape.variable(edges))
      let anomaly = try #require(tape.anomaly, "\(name)")
      #expect(anomaly.phase == .forward && anomaly.op == name, "\(name)")
      #expect(anomaly.entry == 1 && anomaly.value == y.value && !y.value.isFinite, "\(name)")
    }
    // The backward phase names it too: the cube's VJP, 1e308 · 3x², overflows where 1e308 · x³
    // did not.
    let tape = Tape(detectsAnomalies: true)
    let x = tape.variable([1])
    (x.applying(Cube()) * 1e308).sum().backward()
    #expect(tape.anomaly?.phase == .backward)
    let anomaly = try #require(tape.anomaly)
    #expect(anomaly.phase == .backward && anomaly.op == "cube" && anomaly.value == [.infinity])
  }

  @Test("A VJP that first goes non-finite in the backward sweep is named")
  func backward() throws {
    let tape = Tape(detectsAnomalies: true)
    let x = tape.variable([4, 0])
    let y = sqrt(x).sum()
    #expect(tape.anomaly == nil, "every forward value is finite")
    y.backward()
    let anomaly = try #require(tape.anomaly)
    #expect(
      anomaly.phase == .backward && anomaly.op == "sqrt" && anomaly.value == [0.25, .infinity])
    #expect(
      anomaly.description.hasPrefix("entry #1 (sqrt) produced the non-finite adjoint contribution"))
  }
}
