import Backprop
import Foundation
import Testing
import _Differentiation

// Differential testing: functions nobody wrote by hand, generated at random from the primitives
// and the composed ops, each checked three ways. CI runs a fixed seed; set
// BACKPROP_DIFFERENTIAL_CASES (and BACKPROP_SEED) to run more locally.

enum DifferentialSettings {
  static var cases: Int {
    ProcessInfo.processInfo.environment["BACKPROP_DIFFERENTIAL_CASES"].flatMap(Int.init) ?? 300
  }
  static var seed: UInt64 {
    ProcessInfo.processInfo.environment["BACKPROP_SEED"].flatMap(UInt64.init) ?? 2026
  }
}

/// A generated function of one tensor: its text, the shape it returns, and how to build it with
/// the fused ops (softmax, logSoftmax, crossEntropy) or with their composed twins.
struct GeneratedFunction {
  let text: String
  let shape: [Int]
  let build: @Sendable (Variable, _ fused: Bool) -> Variable
}

/// Builds random, well-defined functions: log and sqrt only of u² + c, division only by
/// v² + 1, exp only of tanh(u), so every value and derivative is finite on the inputs used.
struct FunctionGenerator {
  var random: SeededGenerator

  mutating func pick<T>(_ options: [T]) -> T { options.randomElement(using: &random)! }

  mutating func constant(_ shape: [Int]) -> Tensor {
    .random(shape, scale: 1.5, using: &random)
  }

  /// A shape that broadcasts to `shape`: some leading axes dropped, some axes set to 1.
  mutating func broadcastable(to shape: [Int]) -> [Int] {
    let dropped = Int.random(in: 0...shape.count, using: &random)
    return shape.dropFirst(dropped).map { Bool.random(using: &random) ? 1 : $0 }
  }

  mutating func function(of input: [Int], depth: Int) -> GeneratedFunction {
    if depth == 0 || Int.random(in: 0..<5, using: &random) == 0 {
      return GeneratedFunction(text: "x", shape: input) { x, _ in x }
    }
    let child = function(of: input, depth: depth - 1)
    let s = child.shape
    let c = child.build
    let t = child.text
    var choices = ["unary", "unary", "constant", "binary", "reduce"]
    if !s.isEmpty { choices += ["softmax", "softmax", "reshape"] }
    if s.count == 2 { choices += ["matmul", "crossEntropy", "transpose"] }
    if s.count < 3 { choices.append("broadcast") }
    switch pick(choices) {
    case "unary":
      let f = pick(Unary.allCases)
      return GeneratedFunction(text: "\(f)(\(t))", shape: s) { x, fused in f(c(x, fused)) }
    case "constant":
      let k = constant(broadcastable(to: s))
      let f = pick(WithConstant.allCases)
      return GeneratedFunction(text: "\(f)(\(t), k\(k.shape))", shape: s) { x, fused in
        f(c(x, fused), k)
      }
    case "binary":
      let other = function(of: input, depth: depth - 1)
      guard let shape = broadcastShape(s, other.shape) else { return child }
      let d = other.build
      let f = pick(Binary.allCases)
      return GeneratedFunction(text: "\(f)(\(t), \(other.text))", shape: shape) { x, fused in
        f(c(x, fused), d(x, fused))
      }
    case "reduce":
      let f = pick(Reduction.allCases)
      if s.isEmpty || Bool.random(using: &random) {
        return GeneratedFunction(text: "\(f)(\(t))", shape: []) { x, fused in
          f(c(x, fused), axis: nil)
        }
      }
      let axis = Int.random(in: 0..<s.count, using: &random)
      var kept = s
      kept[axis] = 1
      return GeneratedFunction(text: "\(f)(\(t), axis \(axis))", shape: kept) { x, fused in
        f(c(x, fused), axis: axis)
      }
    case "softmax":
      let f = pick(SoftmaxFamily.allCases)
      let shape = f == .logSumExp ? Array(s.dropLast()) + [1] : s
      return GeneratedFunction(text: "\(f)(\(t))", shape: shape) { x, fused in
        f(c(x, fused), fused: fused)
      }
    case "crossEntropy":
      let labels = (0..<s[0]).map { _ in Int.random(in: 0..<s[1], using: &random) }
      return GeneratedFunction(text: "crossEntropy(\(t), \(labels))", shape: []) { x, fused in
        let logits = c(x, fused)
        return fused
          ? crossEntropy(logits: logits, labels: labels)
          : composedCrossEntropy(logits: logits, labels: labels)
      }
    case "matmul":
      let k = constant([s[1], Int.random(in: 1...3, using: &random)])
      return GeneratedFunction(text: "(\(t) @ k\(k.shape))", shape: [s[0], k.shape[1]]) {
        x, fused in
        matmul(c(x, fused), Variable(k))
      }
    case "transpose":
      return GeneratedFunction(text: "transpose(\(t))", shape: [s[1], s[0]]) { x, fused in
        c(x, fused).transposed()
      }
    case "reshape":
      let count = s.reduce(1, *)
      return GeneratedFunction(text: "flatten(\(t))", shape: [count]) { x, fused in
        c(x, fused).reshaped(to: [count])
      }
    default:  // broadcast
      return GeneratedFunction(text: "broadcast(\(t))", shape: [2] + s) { x, fused in
        c(x, fused).broadcasted(to: [2] + s)
      }
    }
  }

  /// A scalar function: a generated function, weighted by random constants and summed.
  mutating func scalarFunction(of input: [Int]) -> GeneratedFunction {
    let f = function(of: input, depth: Int.random(in: 1...4, using: &random))
    let weights = constant(f.shape)
    return GeneratedFunction(text: "Σ w ⊙ \(f.text)", shape: []) { x, fused in
      (f.build(x, fused) * weights).sum()
    }
  }
}

/// Elementwise functions whose values and derivatives are finite for every real input.
enum Unary: CaseIterable, Sendable {
  case tanh, sigmoid, relu, expOfTanh, logOfSquarePlusHalf, sqrtOfSquarePlusQuarter, square, cube,
    negate, sin, cos, atan, asinhOf, softplus, logSigmoid, erf, erfc, gelu, swish, elu, expm1OfTanh,
    log1pOfSquare, atan2WithOne, hypotWithHalf, powOfSquarePlusOne, sinhOfTanh, asinOfTanhHalf

  func callAsFunction(_ u: Variable) -> Variable {
    switch self {
    case .tanh: return Backprop.tanh(u)
    case .sigmoid: return Backprop.sigmoid(u)
    case .relu: return Backprop.relu(u)
    case .expOfTanh: return exp(Backprop.tanh(u))
    case .logOfSquarePlusHalf: return log(u * u + 0.5)
    case .sqrtOfSquarePlusQuarter: return sqrt(u * u + 0.25)
    case .square: return pow(u, 2)
    case .cube: return pow(u, 3)
    case .negate: return -u
    case .sin: return Backprop.sin(u)
    case .cos: return Backprop.cos(u)
    case .atan: return Backprop.atan(u)
    case .asinhOf: return asinh(u)
    case .softplus: return Backprop.softplus(u)
    case .logSigmoid: return Backprop.logSigmoid(u)
    case .erf: return Backprop.erf(u)
    case .erfc: return Backprop.erfc(u)
    case .gelu: return Backprop.gelu(u)
    case .swish: return Backprop.swish(u)
    case .elu: return Backprop.elu(u * u + 0.1)  // away from the kink at 0
    case .expm1OfTanh: return expm1(Backprop.tanh(u))
    case .log1pOfSquare: return log1p(u * u)
    case .atan2WithOne: return atan2(u, 1.5)
    case .hypotWithHalf: return hypot(u, 0.5)
    case .powOfSquarePlusOne: return pow(u * u + 1, Backprop.tanh(u))
    case .sinhOfTanh: return sinh(Backprop.tanh(u))
    case .asinOfTanhHalf: return asin(0.5 * Backprop.tanh(u))
    }
  }
}

/// A variable combined with a constant tensor that broadcasts to it.
enum WithConstant: CaseIterable, Sendable {
  case plus, subtractedFrom, times, dividedBySquarePlusOne, maximum

  func callAsFunction(_ u: Variable, _ k: Tensor) -> Variable {
    switch self {
    case .plus: return u + k
    case .subtractedFrom: return k - u
    case .times: return u * k
    case .dividedBySquarePlusOne: return u / (k * k + 1)
    case .maximum: return max(u, Variable(k))
    }
  }
}

/// Two variables combined with broadcasting; division only by v² + 1.
enum Binary: CaseIterable, Sendable {
  case plus, minus, times, dividedBySquarePlusOne, maximum

  func callAsFunction(_ u: Variable, _ v: Variable) -> Variable {
    switch self {
    case .plus: return u + v
    case .minus: return u - v
    case .times: return u * v
    case .dividedBySquarePlusOne: return u / (v * v + 1)
    case .maximum: return max(u, v)
    }
  }
}

/// Reductions over everything (axis nil, to rank 0) or along one axis (kept with size 1).
enum Reduction: CaseIterable, Sendable {
  case sum, mean, max

  func callAsFunction(_ u: Variable, axis: Int?) -> Variable {
    switch (self, axis) {
    case (.sum, nil): return u.sum()
    case (.mean, nil): return u.mean()
    case (.max, nil): return u.max()
    case (.sum, let axis?): return u.sum(alongAxes: axis)
    case (.mean, let axis?): return u.mean(alongAxes: axis)
    case (.max, let axis?): return u.max(alongAxes: axis)
    }
  }
}

/// The softmax family along the last axis (logSumExp keeping it with size 1), fused or composed.
enum SoftmaxFamily: CaseIterable, Sendable {
  case softmax, logSoftmax, logSumExp

  func callAsFunction(_ u: Variable, fused: Bool) -> Variable {
    switch self {
    case .softmax: return fused ? Backprop.softmax(u) : composedSoftmax(u)
    case .logSoftmax: return fused ? Backprop.logSoftmax(u) : composedLogSoftmax(u)
    case .logSumExp: return Backprop.logSumExp(u, alongAxes: -1)
    }
  }
}

func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
  let rank = Swift.max(a.count, b.count)
  let a = [Int](repeating: 1, count: rank - a.count) + a
  let b = [Int](repeating: 1, count: rank - b.count) + b
  var result: [Int] = []
  for (x, y) in zip(a, b) {
    guard x == y || x == 1 || y == 1 else { return nil }
    result.append(Swift.max(x, y))
  }
  return result
}

@Suite("Differential testing on generated functions")
struct DifferentialTests {
  static let inputShapes: [[Int]] = [[], [3], [2, 3], [3, 2], [2, 1, 3]]

  @Test(
    "Reverse mode against central differences, fused against composed, Hessians against differences of the gradient"
  )
  func generatedFunctions() {
    var generator = FunctionGenerator(random: SeededGenerator(seed: DifferentialSettings.seed))
    var (checked, hessians) = (0, 0)
    for _ in 0..<DifferentialSettings.cases {
      let shape = generator.pick(Self.inputShapes)
      let f = generator.scalarFunction(of: shape)
      let x = Tensor.random(shape, using: &generator.random)
      let fused: (Variable) -> Variable = { f.build($0, true) }
      let composed: (Variable) -> Variable = { f.build($0, false) }

      let report = checkGradient(at: x, of: fused)
      #expect(report.passed, "\(f.text) at \(x): \(report)")
      let g = gradient(at: x, of: fused)
      let twin = gradient(at: x, of: composed)
      let scale = Swift.max(1, g.scalars.map(abs).max() ?? 0)
      #expect(g.maxAbsoluteDifference(from: twin) <= 1e-10 * scale, "fused vs composed: \(f.text)")
      checked += 1

      if x.scalarCount <= 6 {
        let h = hessian(at: x, of: fused)
        let numerical = numericalJacobian(at: x) { x in Variable(gradient(at: x.value, of: fused)) }
        let hScale = Swift.max(1, h.scalars.map(abs).max() ?? 0)
        #expect(
          h.maxAbsoluteDifference(from: numerical) <= 1e-5 * hScale,
          "Hessian vs differences: \(f.text) at \(x)")
        let n = x.scalarCount
        let square = h.reshaped(to: [n, n])
        #expect(
          square.maxAbsoluteDifference(from: square.transposed()) <= 1e-12 * hScale,
          "symmetry: \(f.text)")
        hessians += 1
      }
    }
    print(
      "differential: \(checked) generated functions checked, \(hessians) Hessians (seed \(DifferentialSettings.seed))"
    )
  }

  @Test("Properties: ∇Σx = 1; softmax Jacobian rows sum to 0; pullbacks are linear in the seed")
  func properties() {
    var generator = FunctionGenerator(random: SeededGenerator(seed: DifferentialSettings.seed + 1))
    for _ in 0..<50 {
      let shape = generator.pick(Self.inputShapes)
      let x = Tensor.random(shape, using: &generator.random)
      #expect(gradient(at: x) { $0.sum() } == .ones(shape))

      let n = Int.random(in: 1...8, using: &generator.random)
      let logits = Tensor.random([2, n], scale: 5, using: &generator.random)
      let j = jacobian(at: logits, of: softmax).reshaped(to: [2 * n, 2 * n])
      #expect(j.sum(alongAxes: 1).scalars.allSatisfy { abs($0) <= 1e-15 })

      let f = generator.function(of: shape, depth: 3)
      let (_, vjp) = valueWithPullback(at: x) { f.build($0, true) }
      let u = Tensor.random(f.shape, using: &generator.random)
      let v = Tensor.random(f.shape, using: &generator.random)
      let combined = vjp(2 * u - 3 * v)
      let separate = 2 * vjp(u) - 3 * vjp(v)
      let scale = Swift.max(1, combined.scalars.map(abs).max() ?? 0)
      #expect(
        combined.maxAbsoluteDifference(from: separate) <= 1e-12 * scale, "linearity: \(f.text)")
    }
  }
}

// MARK: - Rank-0 programs against Swift's compiler AD

/// One instruction of a scalar program; operands are earlier registers.
enum ScalarInstruction: Sendable {
  case input
  case constant(Double)
  case add(Int, Int)
  case subtract(Int, Int)
  case multiply(Int, Int)
  case divideBySquarePlusOne(Int, Int)
  case exp(Int)
  case logOfSquarePlusHalf(Int)
  case sqrtOfSquarePlusQuarter(Int)
  case tanh(Int)
  case sigmoid(Int)
  case power(Int, Double)
  case maximum(Int, Int)
}

/// The program run by the compiler's AD: plain Swift on Double.
@differentiable(reverse)
func runWithCompiler(_ program: [ScalarInstruction], _ x: Double) -> Double {
  var r: [Double] = []
  for i in withoutDerivative(at: program.indices) {
    let value: Double
    switch program[i] {
    case .input: value = x
    case .constant(let c): value = c
    case .add(let a, let b): value = r[a] + r[b]
    case .subtract(let a, let b): value = r[a] - r[b]
    case .multiply(let a, let b): value = r[a] * r[b]
    case .divideBySquarePlusOne(let a, let b): value = r[a] / (r[b] * r[b] + 1)
    case .exp(let a): value = Foundation.exp(Foundation.tanh(r[a]))
    case .logOfSquarePlusHalf(let a): value = Foundation.log(r[a] * r[a] + 0.5)
    case .sqrtOfSquarePlusQuarter(let a): value = Foundation.sqrt(r[a] * r[a] + 0.25)
    case .tanh(let a): value = Foundation.tanh(r[a])
    case .sigmoid(let a): value = 1 / (1 + Foundation.exp(-r[a]))
    case .power(let a, let p): value = Foundation.pow(r[a], p)
    case .maximum(let a, let b): value = r[a] > r[b] ? r[a] : r[b]
    }
    r.append(value)
  }
  return r[withoutDerivative(at: r.count - 1)]
}

/// The same program on Backprop's tape.
func runOnTape(_ program: [ScalarInstruction], _ x: Variable) -> Variable {
  var r: [Variable] = []
  for instruction in program {
    switch instruction {
    case .input: r.append(x)
    case .constant(let c): r.append(Variable(c))
    case .add(let a, let b): r.append(r[a] + r[b])
    case .subtract(let a, let b): r.append(r[a] - r[b])
    case .multiply(let a, let b): r.append(r[a] * r[b])
    case .divideBySquarePlusOne(let a, let b): r.append(r[a] / (r[b] * r[b] + 1))
    case .exp(let a): r.append(exp(tanh(r[a])))
    case .logOfSquarePlusHalf(let a): r.append(log(r[a] * r[a] + 0.5))
    case .sqrtOfSquarePlusQuarter(let a): r.append(sqrt(r[a] * r[a] + 0.25))
    case .tanh(let a): r.append(tanh(r[a]))
    case .sigmoid(let a): r.append(sigmoid(r[a]))
    case .power(let a, let p): r.append(pow(r[a], p))
    case .maximum(let a, let b): r.append(max(r[a], r[b]))
    }
  }
  return r[r.count - 1]
}

@Suite("Generated rank-0 programs against Swift's _Differentiation")
struct CompilerOracleTests {
  static func program(_ random: inout SeededGenerator) -> [ScalarInstruction] {
    var program: [ScalarInstruction] = [
      .input, .constant(Double.random(in: -2...2, using: &random)),
    ]
    for _ in 0..<Int.random(in: 2...12, using: &random) {
      let a = Int.random(in: 0..<program.count, using: &random)
      let b = Int.random(in: 0..<program.count, using: &random)
      let choices: [ScalarInstruction] = [
        .add(a, b), .subtract(a, b), .multiply(a, b), .divideBySquarePlusOne(a, b), .exp(a),
        .logOfSquarePlusHalf(a), .sqrtOfSquarePlusQuarter(a), .tanh(a), .sigmoid(a),
        .power(a, 2), .power(a, 3), .maximum(a, b),
      ]
      program.append(choices.randomElement(using: &random)!)
    }
    return program
  }

  @Test func programsAgree() {
    var random = SeededGenerator(seed: DifferentialSettings.seed + 2)
    var checked = 0
    for _ in 0..<DifferentialSettings.cases {
      let program = Self.program(&random)
      let x = Double.random(in: -1.5...1.5, using: &random)
      let theirs = _Differentiation.valueWithGradient(at: x) { runWithCompiler(program, $0) }
      let ours = Backprop.valueWithGradient(at: Tensor(x)) { runOnTape(program, $0) }
      let scale = Swift.max(1, abs(theirs.gradient))
      #expect(
        abs(ours.value.scalar! - theirs.value) <= 1e-12 * Swift.max(1, abs(theirs.value)),
        "\(program)")
      #expect(abs(ours.gradient.scalar! - theirs.gradient) <= 1e-12 * scale, "\(program) at \(x)")
      checked += 1
    }
    print("compiler oracle: \(checked) generated programs agree with _Differentiation")
  }
}
