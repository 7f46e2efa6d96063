internal import BackpropKernels
import Foundation

// The elementwise functions beyond the core primitives, each one declaration: its name, its
// value on one Double, and its derivative written in the operations of `TensorAlgebra`. That one
// derivative runs on tensors (a gradient), on recorded variables (so that Hessians are exact)
// and on Doubles (the fast rank-0 path), like every other rule. This file holds the protocols
// and the registry; each family has a file of its own (Trigonometric.swift, Hyperbolic.swift,
// ExponentialsAndLogarithms.swift, Algebraic.swift, ErrorFunctions.swift, Activations.swift;
// the loss terms in Losses.swift). Adding a function is a type in its family's file, a line in
// `Elementary.unary` or `Elementary.binary`, and its public spelling beside the type; the
// command's parser, evaluator and help read the one-operand functions from `Elementary.unary`.
//
// Which are primitives, and why: a function is a primitive here when composing it from others would
// lose accuracy or speed: sin, cos, tan, their inverses, the hyperbolic functions, exp2, expm1,
// log2, log10, log1p, erf and erfc are each one function within about an ulp (sin, cos, tan, asin,
// acos, atan, sinh, cosh, atanh, exp2, log2, log10, expm1, log1p, erf and erfc vectorized kernels,
// asinh and acosh the C library's), where a composition rounds several times and can cancel;
// softplus and logSigmoid evaluate e^(−|x|) only, so no tail overflows or cancels; abs, sign,
// square, reciprocal and rsqrt are one operation; relu is one select with its own mask, a primitive
// so that its forward and backward passes are one pass each with no mask tensor; swish and gelu are
// one kernel pass and a product each way. Huber and the binary cross-entropy term are primitives of
// two operands for the same reason (their losses took nine and ten entries), and so are min, elu
// and leakyRelu (three to five). clamp and select are composed: each is an exact combination of the
// primitives, so a composition loses nothing, and their derivatives come from the chain rule.

/// A scalar function applied elementwise, declared once.
///
/// `derivative(x:y:)` gives f′(x) from the input and the output y = f(x), written with the
/// operations of ``TensorAlgebra`` (including other elementary functions), so that it can be
/// recorded and differentiated again.
protocol ElementaryFunction: SendableMetatype {
  /// The name a tape listing prints and the command reads.
  static var name: String { get }
  /// f(x) for one scalar.
  static func value(_ x: Double) -> Double
  /// f′(x), given x and y = f(x).
  static func derivative<T: TensorAlgebra>(x: T, y: T) -> T
  /// x̄ = ȳ ⊙ f′(x), by default; a requirement so that a function whose derivative is a
  /// selection (relu) can select instead of multiplying, which keeps 0 · ∞ out.
  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T, y: T) -> T
  /// ``pullback(_:x:y:)`` on tensors of one shape in one pass, into the cotangent's or the
  /// output's buffer when it may (see ``Tensor/pulling(_:_:_:output:_:)``). A requirement with
  /// a default, not only an extension method, so that each function's witness is specialized:
  /// the sweep calls it through the registry's existential, once a tensor, not once a scalar.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor
  /// f on every scalar of `source`, into `out` of the same count: a loop over ``value(_:)``
  /// unless the function has a vectorized kernel (whose `value` then gives the same bits).
  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>)
  /// f of each element of `x`, recorded as one entry when `x` is: the public function's body.
  /// A requirement with a default (`x.applying(Self.self)`), so that a function whose forward
  /// pass keeps its derivative records that way wherever it is called from.
  static func record(_ x: Variable) -> Variable
}

extension ElementaryFunction {
  static func record(_ x: Variable) -> Variable { x.applying(Self.self) }

  static func apply(
    _ source: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
  ) {
    for index in source.indices { out[index] = value(source[index]) }
  }

  static func forward(_ x: Tensor) -> Tensor {
    if case .scalar(let value) = x.storage { return Tensor(Self.value(value)) }
    return x.withUnsafeScalars { source in
      Tensor(shape: x.shape, count: source.count) { out in apply(source, into: out) }
    }
  }

  /// x̄ = ȳ ⊙ f′(x).
  static func pullback<T: TensorAlgebra>(_ cotangent: T, x: T, y: T) -> T {
    cotangent * derivative(x: x, y: y)
  }

  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    .pulling(&cotangent, x, x, output: &y) { g, x, _, y in pullback(g, x: x, y: y) }
  }
}

/// An elementary function whose forward pass keeps y′ beside y, from one pass of a kernel with
/// two results (swish's σ and σ′, gelu's erfc(u) and e^(−u²)), so that its VJP is one product
/// (none for a unit cotangent).
protocol DerivativeKeeping: ElementaryFunction {
  /// The two-result kernel: `kernel(source, first, second, count)`.
  static var parts: Tensor.PairKernel { get }
  /// y and y′ from x and the kernel's two results for it: `value`'s and `derivative`'s bits.
  static func valueAndSlope(x: Double, first: Double, second: Double) -> (Double, Double)
}

extension DerivativeKeeping {
  /// Recorded with y′ kept beside y, from the one pass of ``parts``.
  static func record(_ x: Variable) -> Variable {
    .apply(
      .elementary, x, function: Elementary.id(of: Self.self), value: forward,
      keeping: forwardKeepingDerivative)
  }

  /// y and y′ from one pass of the kernel, each over one of its two buffers. A rank-0 input
  /// keeps nothing (its VJP runs on Double).
  static func forwardKeepingDerivative(_ x: Tensor) -> (Tensor, Tensor?) {
    if case .scalar = x.storage { return (forward(x), nil) }
    let (y, derivative) = valuesAndSlopes(x)
    return (y, derivative)
  }

  /// Where nothing was kept (an input that needed no gradient when recorded, a tape replayed):
  /// the forward pass's kernel, then ȳ times y′: the rule's numbers.
  static func fusedPullback(_ cotangent: inout Tensor?, x: Tensor, y: inout Tensor) -> Tensor {
    var (_, slopes) = valuesAndSlopes(x)
    if let unit = Tensor.unitScaled(&cotangent, &slopes) { return unit }
    return .pulling(&cotangent, x, x, output: &slopes) { g, _, _, slope in g * slope }
  }

  /// y over the first result's buffer and y′ over the second's, each lane read before it is
  /// written.
  @inline(__always)
  static func valuesAndSlopes(_ x: Tensor) -> (Tensor, Tensor) {
    Tensor.pair(x, kernel: parts) { source, values, derivatives in
      for index in source.indices {
        (values[index], derivatives[index]) = valueAndSlope(
          x: source[index], first: values[index], second: derivatives[index])
      }
    }
  }
}

/// x f(x) for a factor f that vanishes faster than 1/x as x → −∞ (σ for swish, Φ for gelu):
/// its limit −0 at x = −∞, where the product is −∞ · 0 = NaN. A selection, so that loops over
/// it blend.
@inline(__always)
func productVanishingAtNegativeInfinity(_ x: Double, _ product: Double) -> Double {
  x == -.infinity ? -0.0 : product
}

/// y′ = f(x) + x f′(x) (swish's and gelu's) at x = ±∞, where x f′(x) is ±∞ · 0 = NaN: its limit
/// 0, leaving f(±∞) (1 or 0). A selection, so that loops over it blend.
@inline(__always)
func slopeAtInfinity(_ x: Double, factor: Double, slope: Double) -> Double {
  x.magnitude == .infinity ? factor : slope
}

extension TensorAlgebra {
  /// This value with 0 where it is ±∞, recorded as a selection by a constant mask: x̃ in the
  /// term x̃ f′(x) of swish's and gelu's derivatives, which is then 0 at ±∞ (its limit, where
  /// x f′(x) is ∞ · 0), and whose own derivatives meet no ∞ · 0 either (a zero cotangent times
  /// an infinite x in a product's VJP), so Hessians are 0 there too. Finite scalars keep their
  /// bits.
  func infinitiesZeroed() -> Self {
    masked(by: value.map { $0.magnitude == .infinity ? 0 : 1 })
  }
}

/// A scalar function of two operands, applied elementwise with broadcasting, declared once.
protocol BinaryElementaryFunction: SendableMetatype {
  /// The name a tape listing prints and the command reads.
  static var name: String { get }
  /// f(a, b) for one pair of scalars.
  static func value(_ a: Double, _ b: Double) -> Double
  /// ∂f/∂a, given a, b and y = f(a, b).
  static func partialA<T: TensorAlgebra>(a: T, b: T, y: T) -> T
  /// ∂f/∂b, given a, b and y = f(a, b).
  static func partialB<T: TensorAlgebra>(a: T, b: T, y: T) -> T
  /// ā = ȳ ⊙ ∂f/∂a and b̄ = ȳ ⊙ ∂f/∂b by default; a requirement so that a function can group
  /// the product otherwise (the squared difference forms ȳ ⊙ (a − b) before doubling it).
  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, y: T, wrt: (Bool, Bool)
  ) -> (T?, T?)
  /// ``pullback(_:a:b:y:wrt:)`` on operands of the cotangent's shape, in one pass per operand
  /// with the same numbers, the first operand's written over the cotangent when nothing else
  /// holds it. A requirement with a default so that each function's witness is specialized.
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?)
  /// The first operand's VJP where the second is the constant scalar `b` (δ, α, a bound), in
  /// one pass with ``fusedPullback(_:a:b:y:wrt:)``'s numbers, or nil (the default) where the
  /// function has no such pass: the caller then fills `b` to the first operand's shape. A
  /// requirement with a default so that the registry's existential reaches each function's own.
  static func pullback(_ cotangent: inout Tensor?, a: Tensor, constant b: Double, y: inout Tensor)
    -> Tensor?
  /// f of every pair, with broadcasting: the broadcasting loop over ``value(_:_:)`` unless the
  /// function has vectorized passes (whose results are then `value`'s bits). A requirement
  /// with a default, so that the registry's existential and `Variable.apply` reach the
  /// function's own.
  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor
  /// The C kernel rule (`bp_rule`) that computes ``value(_:_:)`` with the same bits, used by
  /// the default ``forward(_:_:)`` where the operands' shapes allow; nil (the default) if none.
  static var rule: bp_rule_kind? { get }
}

extension BinaryElementaryFunction {
  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
    .elementwise(a, b, op: name, Scalar<Self>.self)
  }

  static func pullback(_ cotangent: inout Tensor?, a: Tensor, constant b: Double, y: inout Tensor)
    -> Tensor?
  { nil }

  static var rule: bp_rule_kind? { nil }

  /// ā = ȳ ⊙ ∂f/∂a and b̄ = ȳ ⊙ ∂f/∂b, each summed back to its operand's shape.
  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, y: T, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    (
      wrt.0 ? (cotangent * partialA(a: a, b: b, y: y)).unbroadcast(to: a.shape) : nil,
      wrt.1 ? (cotangent * partialB(a: a, b: b, y: y)).unbroadcast(to: b.shape) : nil
    )
  }
}

extension BinaryElementaryFunction {
  static func fusedPullback(
    _ cotangent: inout Tensor?, a: Tensor, b: Tensor, y: inout Tensor, wrt: (Bool, Bool)
  ) -> (Tensor?, Tensor?) {
    // b̄ first, into a buffer of its own if ā needs the cotangent too; each scalar's rule is
    // the tensor rule's, ȳ ⊙ ∂f, evaluated on Double. (The sweep passes a rank-0 cotangent only
    // when one operand wants a gradient.)
    var db: Tensor? = nil
    if wrt.1 {
      if wrt.0 {
        var shared = cotangent
        var kept = y
        db = .pulling(&shared, a, b, output: &kept) { g, a, b, y in
          g * partialB(a: a, b: b, y: y)
        }
      } else {
        db = .pulling(&cotangent, a, b, output: &y) { g, a, b, y in
          g * partialB(a: a, b: b, y: y)
        }
      }
    }
    let da: Tensor? =
      wrt.0
      ? .pulling(&cotangent, a, b, output: &y) { g, a, b, y in g * partialA(a: a, b: b, y: y) }
      : nil
    return (da, db)
  }
}

/// A binary elementary function as the scalar function the broadcasting kernel takes.
enum Scalar<F: BinaryElementaryFunction>: BinaryScalarFunction {
  static func scalar(_ a: Double, _ b: Double) -> Double { F.value(a, b) }
  static var rule: bp_rule_kind? { F.rule }
}

/// An elementwise function of one operand as the command sees it: its name, whether its entry
/// keeps y′ beside y (memory the command's budget counts), and the function on a variable.
package struct ElementwiseFunction: Sendable {
  package let name: String
  package let keepsDerivative: Bool
  package let apply: @Sendable (Variable) -> Variable

  init(
    name: String, keepsDerivative: Bool = false,
    _ apply: @escaping @Sendable (Variable) -> Variable
  ) {
    (self.name, self.keepsDerivative, self.apply) = (name, keepsDerivative, apply)
  }
}

/// The registry: an entry of the tape names its function by its place here.
enum Elementary {
  static let unary: [any ElementaryFunction.Type] = [
    Sine.self, Cosine.self, Tangent.self, ArcSine.self, ArcCosine.self, ArcTangent.self,
    HyperbolicSine.self, HyperbolicCosine.self, InverseHyperbolicSine.self,
    InverseHyperbolicCosine.self, InverseHyperbolicTangent.self, BinaryExponential.self,
    ExponentialMinusOne.self, BinaryLogarithm.self, DecimalLogarithm.self, LogOnePlus.self,
    Magnitude.self, Sign.self, Square.self, Reciprocal.self, ReciprocalSquareRoot.self,
    ErrorFunction.self, ComplementaryErrorFunction.self, Softplus.self, LogSigmoid.self,
    RectifiedLinearUnit.self, Swish.self, Gelu.self,
  ]

  static let binary: [any BinaryElementaryFunction.Type] = [
    Power.self, ArcTangent2.self, Hypotenuse.self, SquaredDifference.self, Huber.self,
    BinaryCrossEntropy.self, ExponentialLinearUnit.self, LeakyRectifiedLinearUnit.self,
    Minimum.self,
  ]

  private static let unaryIDs = Dictionary(
    uniqueKeysWithValues: unary.enumerated().map { (ObjectIdentifier($1), UInt8($0)) })
  private static let binaryIDs = Dictionary(
    uniqueKeysWithValues: binary.enumerated().map { (ObjectIdentifier($1), UInt8($0)) })

  static func id(of function: any ElementaryFunction.Type) -> UInt8 {
    unaryIDs[ObjectIdentifier(function)]!
  }

  static func id(of function: any BinaryElementaryFunction.Type) -> UInt8 {
    binaryIDs[ObjectIdentifier(function)]!
  }
}

extension Variable {
  /// Every elementwise function of one operand by the name a listing prints: the core
  /// primitives, then the registry's functions in its order. The command's parser, evaluator
  /// and help read their names and functions from here, so a function added to the registry
  /// is a function of the command too.
  package static let elementwiseFunctions: [ElementwiseFunction] = {
    let primitives = [
      ElementwiseFunction(name: "exp") { x in Backprop.exp(x) },
      ElementwiseFunction(name: "log") { x in Backprop.log(x) },
      ElementwiseFunction(name: "sqrt") { x in Backprop.sqrt(x) },
      ElementwiseFunction(name: "tanh") { x in Backprop.tanh(x) },
      ElementwiseFunction(name: "sigmoid") { x in Backprop.sigmoid(x) },
    ]
    let registered = Elementary.unary.map { function in
      ElementwiseFunction(
        name: function.name, keepsDerivative: function is any DerivativeKeeping.Type
      ) { x in function.record(x) }
    }
    return primitives + registered
  }()

  /// Evaluates an elementary function: at once for a constant, or recorded on the tape.
  static func apply<F: ElementaryFunction>(_ function: F.Type, _ x: Variable) -> Variable {
    apply(.elementary, x, function: Elementary.id(of: function), F.forward)
  }

  /// Evaluates a binary elementary function with broadcasting, recorded when either operand is.
  static func apply<F: BinaryElementaryFunction>(
    _ function: F.Type, _ a: Variable, _ b: Variable
  ) -> Variable {
    apply(.binaryElementary, a, b, function: Elementary.id(of: function), F.forward)
  }
}
