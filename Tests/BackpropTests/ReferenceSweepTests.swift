import Testing

@testable import Backprop

/// The optimized sweep against the reference sweep (Tape+ReferenceSweep.swift), which is the
/// algorithm and nothing else: over the random programs of every family that
/// ``DifferentialTests`` generates, first and second order, the same bits.
@Suite("The optimized sweep gives the reference sweep's bits")
struct ReferenceSweepTests {
  /// The bits of a tensor's scalars, so that −0 and NaN payloads count.
  static func bits(_ t: Tensor?) -> [UInt64]? { t?.scalars.map(\.bitPattern) }

  /// A variable's entry on its tape, or nil for a constant. Out of line: the same read inlined
  /// into the loops below made the optimizer of Swift 6.3.1 crash in a release build
  /// (CopyPropagation: "Found outside of lifetime use").
  @inline(never)
  static func entry(of variable: Variable) -> Int32? { variable.index.map(Int32.init) }

  @Test("Gradients and Hessians of 300 generated functions, with their fused and composed forms")
  func generatedPrograms() {
    var generator = FunctionGenerator(random: SeededGenerator(seed: DifferentialSettings.seed))
    var (gradients, hessians) = (0, 0)
    for _ in 0..<DifferentialSettings.cases {
      let shape = generator.pick(DifferentialTests.inputShapes)
      let f = generator.scalarFunction(of: shape)
      let x = Tensor.random(shape, using: &generator.random)
      for fused in [true, false] {
        let function: (Variable) -> Variable = { f.build($0, fused) }
        let tape = Tape()
        let input = tape.variable(x)
        let y = function(input)
        guard let output = Self.entry(of: y) else { continue }
        let reference: [Tensor?] = tape.referenceSweep(from: output, seed: Tensor.ones(y.shape))
        let referenceGradient = reference[input.index!] ?? .zeros(x.shape)
        // The sweep that keeps the tape, then the consuming one of gradient(at:of:).
        let kept: [Tensor?] = tape.reverseSweep(from: output, seed: Tensor.ones(y.shape))
        #expect(
          kept.map(Self.bits) == reference.map(Self.bits),
          "every adjoint of \(f.text), fused \(fused)")
        #expect(
          Self.bits(gradient(at: x, of: function)) == Self.bits(referenceGradient),
          "gradient(at:of:) of \(f.text), fused \(fused)")
        gradients += 1

        guard x.scalarCount <= 6 else { continue }
        // Second order: the gradient recorded by each sweep, then its rows swept by the same.
        let recorded: [Variable?] = tape.referenceSweep(
          from: output, seed: Variable(.ones(y.shape)))
        let g = (recorded[input.index!] ?? Variable(.zeros(x.shape))).reshaped(to: [x.scalarCount])
        var rows: [UInt64] = []
        for row in 0..<x.scalarCount {
          let entry = g[row]
          guard let index = Self.entry(of: entry) else {
            rows += [UInt64](repeating: 0, count: x.scalarCount)
            continue
          }
          let adjoints: [Tensor?] = tape.referenceSweep(from: index, seed: Tensor(1))
          rows += Self.bits(adjoints[input.index!] ?? .zeros(x.shape))!
        }
        #expect(
          Self.bits(hessian(at: x, of: function)) == rows,
          "hessian(at:of:) of \(f.text), fused \(fused)")
        hessians += 1
      }
    }
    #expect(gradients > 500 && hessians > 100)
  }

  /// The consuming sweep's layers act on large tensors only (a uniform cotangent for a full
  /// sum, a one-hot one for a pick, values overwritten in place): 2.4 MB operands here.
  @Test("Large operands: uniform and one-hot cotangents and reused buffers, the same bits")
  func largeOperands() {
    var random = SeededGenerator(seed: 17)
    let x = Tensor.random([300_000], using: &random)
    let functions: [(String, (Variable) -> Variable)] = [
      ("logSoftmax(x)[7]", { logSoftmax($0)[7] }),
      ("3 Σx", { $0.sum() * 3 }),
      ("Σ exp(tanh x) + x[5]", { exp(tanh($0)).sum() + $0[5] }),
      ("Σ σ(x)", { sigmoid($0).sum() }),
      ("Σ swish(x) ⊙ x", { (swish($0) * $0).sum() }),
      ("logSumExp(x)", { logSumExp($0) }),
      ("Σ x[2..<100000]", { $0[2..<100_000].sum() }),
      ("Σ x ⊙ x", { ($0 * $0).sum() }),
      ("Σ relu(x − 0.5) + x[9] · x[9]", { (relu($0 - 0.5)).sum() + $0[9] * $0[9] }),
    ]
    var generator = FunctionGenerator(random: SeededGenerator(seed: 23))
    let generated = (0..<20).map { _ in generator.scalarFunction(of: [512, 512]) }
    let matrix = Tensor.random([512, 512], using: &generator.random)
    let cases: [(String, Tensor, (Variable) -> Variable)] =
      functions.map { ($0.0, x, $0.1) }
      + generated.flatMap { f in
        [
          (f.text, matrix, { f.build($0, true) }),
          (f.text + " composed", matrix, { f.build($0, false) }),
        ]
      }
    for (text, point, function) in cases {
      let tape = Tape()
      let input = tape.variable(point)
      let y = function(input)
      guard let output = Self.entry(of: y) else { continue }
      let reference: [Tensor?] = tape.referenceSweep(from: output, seed: Tensor.ones(y.shape))
      let expected = reference[input.index!] ?? .zeros(point.shape)
      #expect(Self.bits(gradient(at: point, of: function)) == Self.bits(expected), "\(text)")
    }
  }
}
