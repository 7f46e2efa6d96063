/// The operations a vector-Jacobian product is written in.
///
/// Every primitive writes its VJP once, generically over this protocol. The reverse sweep runs it
/// on ``Tensor`` for a plain gradient: each operation is evaluated at once. It runs it on
/// ``Variable`` when the gradient must itself be differentiable: each operation of the backward
/// pass is then recorded on the tape like any other, so a second sweep differentiates the first
/// (reverse over reverse), and a Hessian is exact to rounding rather than a finite difference.
protocol TensorAlgebra {
  /// The shape of the value.
  var shape: [Int] { get }
  /// The forward value, read to build constant masks (the ties of `max`).
  var value: Tensor { get }
  /// The tape entry at `index`, whose forward value is `value`, lifted into this algebra.
  static func entry(_ index: Int32, value: Tensor, on tape: Tape) -> Self
  /// A constant, which contributes no derivative.
  static func constant(_ value: Tensor) -> Self

  static func + (lhs: Self, rhs: Self) -> Self
  /// Adds a contribution of the same shape into an adjoint: the sweep's accumulation.
  mutating func accumulate(_ contribution: Self)
  static func - (lhs: Self, rhs: Self) -> Self
  static func * (lhs: Self, rhs: Self) -> Self
  static func / (lhs: Self, rhs: Self) -> Self
  static prefix func - (operand: Self) -> Self
  /// Multiplication by a constant, such as a mask: it contributes no derivative of its own.
  static func * (lhs: Self, rhs: Tensor) -> Self
  static func * (lhs: Double, rhs: Self) -> Self
  static func - (lhs: Double, rhs: Self) -> Self
  static func + (lhs: Double, rhs: Self) -> Self
  static func / (lhs: Double, rhs: Self) -> Self
  static func - (lhs: Self, rhs: Double) -> Self

  func raised(to exponent: Double) -> Self
  func exponential() -> Self
  func logarithm() -> Self
  func sigmoid() -> Self
  /// An elementwise function declared once (see ``ElementaryFunction``): evaluated on a
  /// tensor or a Double, recorded on a variable.
  func applying<F: ElementaryFunction>(_ function: F.Type) -> Self
  /// A two-operand elementwise function declared once, with broadcasting.
  func applying<F: BinaryElementaryFunction>(_ function: F.Type, _ other: Self) -> Self
  func softmaxAlongLastAxis() -> Self
  func masked(by mask: Tensor) -> Self
  func sum(alongAxes axes: [Int]) -> Self
  func broadcasted(to shape: [Int]) -> Self
  func reshaped(to shape: [Int]) -> Self
  func transposed() -> Self
  /// The box a slice specification names (see ``Box``), and its adjoint, zeros with this
  /// tensor written into the box.
  func sliced(_ box: Tensor) -> Self
  func padded(_ box: Tensor) -> Self
  /// Rows picked along an axis (see ``Picks``), and its adjoint, rows added back.
  func gathered(_ picks: Tensor) -> Self
  func scatteredAdding(_ picks: Tensor) -> Self
  func matrixProduct(_ rhs: Self) -> Self
  /// op(self) op(rhs), each op a transpose where asked: the matmul VJP's Ȳ Bᵀ and Aᵀ Ȳ. On
  /// tensors the kernel reads a transposed operand through its strides and makes no transpose;
  /// on variables it is the recorded transpose and product, whose derivatives follow.
  func matrixProduct(_ rhs: Self, transposing: (left: Bool, right: Bool)) -> Self
  /// ȳ Πⱼ≠ᵢ xⱼ along `axis`, the VJP of a product along it (see ``Product``), given the
  /// cotangent of the products: on tensors two passes, on variables a recorded composition.
  func exclusiveProducts(alongAxis axis: Int, scaledBy cotangent: Self) -> Self
}

extension TensorAlgebra {
  /// By default, a new sum: recorded on the tape when Self is Variable.
  mutating func accumulate(_ contribution: Self) {
    self = self + contribution
  }

  /// Sums a cotangent of a broadcast result back to the shape of the operand that was
  /// broadcast: the VJP of broadcasting.
  func unbroadcast(to target: [Int]) -> Self {
    if shape == target { return self }
    let axes = Shape.reducedAxes(from: shape, to: target)
    return sum(alongAxes: axes).reshaped(to: target)
  }

  func matrixProduct(_ rhs: Self, transposing: (left: Bool, right: Bool)) -> Self {
    (transposing.left ? transposed() : self).matrixProduct(
      transposing.right ? rhs.transposed() : rhs)
  }
}

extension Tensor: TensorAlgebra {
  var value: Tensor { self }

  /// Adds in place when this tensor holds the only reference to its buffer, which saves an
  /// allocation per accumulation (copy-on-write copies the buffer first otherwise).
  mutating func accumulate(_ contribution: Tensor) {
    if case .scalar(let a) = storage, case .scalar(let b) = contribution.storage {
      storage = .scalar(a + b)
      return
    }
    require(shape == contribution.shape, "accumulate: \(contribution.shape) into \(shape)")
    contribution.withUnsafeScalars { c in
      withUnsafeMutableScalars { a in
        for index in 0..<a.count { a[index] += c[index] }
      }
    }
  }

  static func entry(_ index: Int32, value: Tensor, on tape: Tape) -> Tensor { value }

  static func constant(_ value: Tensor) -> Tensor { value }

  func raised(to exponent: Double) -> Tensor { Backprop.pow(self, exponent) }

  func exponential() -> Tensor { Backprop.exp(self) }

  func logarithm() -> Tensor { Backprop.log(self) }

  func sigmoid() -> Tensor { Backprop.sigmoid(self) }

  func applying<F: ElementaryFunction>(_ function: F.Type) -> Tensor { F.forward(self) }

  func applying<F: BinaryElementaryFunction>(_ function: F.Type, _ other: Tensor) -> Tensor {
    F.forward(self, other)
  }

  func softmaxAlongLastAxis() -> Tensor { Backprop.softmax(self) }

  func matrixProduct(_ rhs: Tensor) -> Tensor { Backprop.matmul(self, rhs) }

  func matrixProduct(_ rhs: Tensor, transposing: (left: Bool, right: Bool)) -> Tensor {
    .matmulKernel(self, rhs, transposing: transposing)
  }

  func sliced(_ box: Tensor) -> Tensor { Box(box).slice(self) }

  func padded(_ box: Tensor) -> Tensor { Box(box).pad(self) }

  func gathered(_ picks: Tensor) -> Tensor { Picks(picks).gather(self) }

  func scatteredAdding(_ picks: Tensor) -> Tensor { Picks(picks).scatterAdd(self) }

  func exclusiveProducts(alongAxis axis: Int, scaledBy cotangent: Tensor) -> Tensor {
    Product.exclusiveProducts(self, alongAxis: axis, scaledBy: cotangent)
  }
}

extension Variable: TensorAlgebra {
  static func entry(_ index: Int32, value: Tensor, on tape: Tape) -> Variable {
    Variable(tape: tape, index: index)
  }

  static func constant(_ value: Tensor) -> Variable { Variable(value) }

  func raised(to exponent: Double) -> Variable { Backprop.pow(self, exponent) }

  func exponential() -> Variable { Backprop.exp(self) }

  func logarithm() -> Variable { Backprop.log(self) }

  func sigmoid() -> Variable { Backprop.sigmoid(self) }

  func applying<F: ElementaryFunction>(_ function: F.Type) -> Variable {
    Variable.apply(function, self)
  }

  func applying<F: BinaryElementaryFunction>(_ function: F.Type, _ other: Variable) -> Variable {
    Variable.apply(function, self, other)
  }

  func softmaxAlongLastAxis() -> Variable { Backprop.softmax(self) }

  func matrixProduct(_ rhs: Variable) -> Variable { Backprop.matmul(self, rhs) }

  func sliced(_ box: Tensor) -> Variable {
    .apply(.slice, self, Variable(box)) { x, box in Box(box).slice(x) }
  }

  func padded(_ box: Tensor) -> Variable {
    .apply(.pad, self, Variable(box)) { x, box in Box(box).pad(x) }
  }

  func gathered(_ picks: Tensor) -> Variable {
    .apply(.gather, self, Variable(picks)) { x, picks in Picks(picks).gather(x) }
  }

  func scatteredAdding(_ picks: Tensor) -> Variable {
    .apply(.scatterAdd, self, Variable(picks)) { x, picks in Picks(picks).scatterAdd(x) }
  }
}

/// The algebra on one scalar: what the sweep runs a rank-0 elementwise entry's rule on, so
/// that a chain of scalar operations pays for no tensor. Only rank-0 shapes occur there; the
/// shape operations accept exactly those.
extension Double: TensorAlgebra {
  var shape: [Int] { [] }

  var value: Tensor { Tensor(self) }

  static func entry(_ index: Int32, value: Tensor, on tape: Tape) -> Double { value.scalar! }

  static func constant(_ value: Tensor) -> Double { value.scalar! }

  mutating func accumulate(_ contribution: Double) { self += contribution }

  static func * (lhs: Double, rhs: Tensor) -> Double { lhs * rhs.scalar! }

  // Through the tensor primitives, so that a scalar and a rank-0 tensor agree to the bit.
  func raised(to exponent: Double) -> Double { Backprop.pow(Tensor(self), exponent).scalar! }

  func exponential() -> Double { Exp.scalar(self) }

  func logarithm() -> Double { Log.scalar(self) }

  func sigmoid() -> Double { Sigmoid.scalar(self) }

  func applying<F: ElementaryFunction>(_ function: F.Type) -> Double { F.value(self) }

  func applying<F: BinaryElementaryFunction>(_ function: F.Type, _ other: Double) -> Double {
    F.value(self, other)
  }

  func masked(by mask: Tensor) -> Double { Select.scalar(self, mask.scalar!) }

  func sum(alongAxes axes: [Int]) -> Double {
    require(axes.isEmpty, "sum: a scalar has no axis \(axes)")
    return self
  }

  func broadcasted(to shape: [Int]) -> Double {
    require(shape.isEmpty, "broadcast: a Double cannot take shape \(shape)")
    return self
  }

  func reshaped(to shape: [Int]) -> Double {
    require(shape.isEmpty, "reshape: a Double cannot take shape \(shape)")
    return self
  }

  func transposed() -> Double { fail("transpose: a scalar is not a matrix") }

  func softmaxAlongLastAxis() -> Double {
    fail("softmax: a scalar has no last axis")
  }

  func matrixProduct(_ rhs: Double) -> Double {
    fail("matmul: scalars are not matrices")
  }

  // A rank-0 value has no axes to slice or pick along; these never run on the scalar path,
  // which takes elementwise entries only.
  func sliced(_ box: Tensor) -> Double { fail("slice: a scalar has no axes") }

  func padded(_ box: Tensor) -> Double { fail("pad: a scalar has no axes") }

  func gathered(_ picks: Tensor) -> Double { fail("gather: a scalar has no axes") }

  func scatteredAdding(_ picks: Tensor) -> Double { fail("scatterAdd: a scalar has no axes") }

  func exclusiveProducts(alongAxis axis: Int, scaledBy cotangent: Double) -> Double {
    fail("prod: a scalar has no axes")
  }
}
