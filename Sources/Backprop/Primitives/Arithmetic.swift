internal import BackpropKernels

// The four arithmetic operations and negation. Binary ones broadcast as NumPy does, so each
// VJP sums its cotangent back to the operand's own shape (`unbroadcast`).

/// Addition: y = a + b. VJP: ā = ȳ, b̄ = ȳ, each summed back to its operand's shape.
enum Add: BinaryScalarFunction {
  static func scalar(_ a: Double, _ b: Double) -> Double { a + b }

  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
    .elementwise(a, b, op: "add", Self.self)
  }

  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    (
      wrt.0 ? cotangent.unbroadcast(to: a.shape) : nil,
      wrt.1 ? cotangent.unbroadcast(to: b.shape) : nil
    )
  }
}

/// Subtraction: y = a − b. VJP: ā = ȳ, b̄ = −ȳ, each summed back to its operand's shape.
enum Subtract: BinaryScalarFunction {
  static func scalar(_ a: Double, _ b: Double) -> Double { a - b }

  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
    .elementwise(a, b, op: "subtract", Self.self)
  }

  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    (
      wrt.0 ? cotangent.unbroadcast(to: a.shape) : nil,
      // Summed back first, then negated: the same numbers (negation is exact), and only the
      // summed cotangent, often one scalar, is negated rather than the whole broadcast one.
      wrt.1 ? -cotangent.unbroadcast(to: b.shape) : nil
    )
  }
}

/// Multiplication, elementwise: y = a ⊙ b. VJP: ā = ȳ ⊙ b, b̄ = ȳ ⊙ a, each summed back to its
/// operand's shape.
enum Multiply: BinaryScalarFunction {
  static func scalar(_ a: Double, _ b: Double) -> Double { a * b }

  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
    .elementwise(a, b, op: "multiply", Self.self)
  }

  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    (
      wrt.0 ? (cotangent * b).unbroadcast(to: a.shape) : nil,
      wrt.1 ? (cotangent * a).unbroadcast(to: b.shape) : nil
    )
  }
}

/// Division, elementwise: y = a ⊘ b. VJP: ā = ȳ ⊘ b, b̄ = −(ȳ ⊙ y) ⊘ b (that is −ȳ a / b²,
/// reusing the forward value), each summed back to its operand's shape.
///
/// Division by zero follows IEEE 754: ±∞ or NaN in the value, and in the gradient. b̄ divides
/// ȳ y by b, not ȳ/b by 1/y: at a = 0 with b subnormal, ȳ/b overflows and ∞ · 0 gave NaN
/// where the derivative is 0.
enum Divide: BinaryScalarFunction {
  static func scalar(_ a: Double, _ b: Double) -> Double { a / b }
  /// The vectorized kernel: division is correctly rounded, so the same bits as the loop's, at
  /// four or eight lanes where Swift's loop runs two (the dividing units are the bottleneck).
  static var rule: bp_rule_kind? { bp_rule_quotient }

  static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
    .elementwise(a, b, op: "divide", Self.self)
  }

  static func pullback<T: TensorAlgebra>(
    _ cotangent: T, a: T, b: T, y: T, wrt: (Bool, Bool)
  ) -> (T?, T?) {
    (
      wrt.0 ? (cotangent / b).unbroadcast(to: a.shape) : nil,
      wrt.1 ? -((cotangent * y) / b).unbroadcast(to: b.shape) : nil
    )
  }
}

/// Negation: y = −x. VJP: x̄ = −ȳ.
enum Negate: UnaryScalarFunction {
  static func scalar(_ x: Double) -> Double { -x }

  static func forward(_ x: Tensor) -> Tensor { x.map(Self.self) }

  static func pullback<T: TensorAlgebra>(_ cotangent: T) -> T { -cotangent }
}

// MARK: - Tensor operators (evaluate at once)

extension Tensor {
  /// Elementwise sum with NumPy broadcasting: (a + b)ᵢ = aᵢ + bᵢ.
  public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { Add.forward(lhs, rhs) }
  /// Elementwise difference with NumPy broadcasting: (a − b)ᵢ = aᵢ − bᵢ.
  public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { Subtract.forward(lhs, rhs) }
  /// Elementwise product with NumPy broadcasting: (a ⊙ b)ᵢ = aᵢ bᵢ.
  public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { Multiply.forward(lhs, rhs) }
  /// Elementwise quotient with NumPy broadcasting: (a ⊘ b)ᵢ = aᵢ / bᵢ.
  public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { Divide.forward(lhs, rhs) }
  /// Elementwise negation: (−x)ᵢ = −xᵢ.
  public static prefix func - (operand: Tensor) -> Tensor { Negate.forward(operand) }

  /// Adds a scalar to every element: (a + s)ᵢ = aᵢ + s.
  public static func + (lhs: Tensor, rhs: Double) -> Tensor { lhs + Tensor(rhs) }
  /// Adds every element to a scalar: (s + a)ᵢ = s + aᵢ.
  public static func + (lhs: Double, rhs: Tensor) -> Tensor { Tensor(lhs) + rhs }
  /// Subtracts a scalar from every element: (a − s)ᵢ = aᵢ − s.
  public static func - (lhs: Tensor, rhs: Double) -> Tensor { lhs - Tensor(rhs) }
  /// Subtracts every element from a scalar: (s − a)ᵢ = s − aᵢ.
  public static func - (lhs: Double, rhs: Tensor) -> Tensor { Tensor(lhs) - rhs }
  /// Multiplies every element by a scalar: (a s)ᵢ = aᵢ s.
  public static func * (lhs: Tensor, rhs: Double) -> Tensor { lhs * Tensor(rhs) }
  /// Multiplies a scalar by every element: (s a)ᵢ = s aᵢ.
  public static func * (lhs: Double, rhs: Tensor) -> Tensor { Tensor(lhs) * rhs }
  /// Divides every element by a scalar: (a / s)ᵢ = aᵢ / s.
  public static func / (lhs: Tensor, rhs: Double) -> Tensor { lhs / Tensor(rhs) }
  /// Divides a scalar by every element: (s / a)ᵢ = s / aᵢ.
  public static func / (lhs: Double, rhs: Tensor) -> Tensor { Tensor(lhs) / rhs }
}

// MARK: - Variable operators (record)

extension Variable {
  /// Elementwise sum with NumPy broadcasting: y = a + b; ā = ȳ, b̄ = ȳ (summed to shape).
  public static func + (lhs: Variable, rhs: Variable) -> Variable {
    apply(.add, lhs, rhs, Add.forward)
  }
  /// Elementwise difference with NumPy broadcasting: y = a − b; ā = ȳ, b̄ = −ȳ.
  public static func - (lhs: Variable, rhs: Variable) -> Variable {
    apply(.subtract, lhs, rhs, Subtract.forward)
  }
  /// Elementwise product with NumPy broadcasting: y = a ⊙ b; ā = ȳ ⊙ b, b̄ = ȳ ⊙ a.
  public static func * (lhs: Variable, rhs: Variable) -> Variable {
    apply(.multiply, lhs, rhs, Multiply.forward)
  }
  /// Elementwise quotient with NumPy broadcasting: y = a ⊘ b; ā = ȳ ⊘ b, b̄ = −ȳ ⊙ y ⊘ b.
  public static func / (lhs: Variable, rhs: Variable) -> Variable {
    apply(.divide, lhs, rhs, Divide.forward)
  }
  /// Elementwise negation: y = −x; x̄ = −ȳ.
  public static prefix func - (operand: Variable) -> Variable {
    apply(.negate, operand, Negate.forward)
  }

  /// Adds a constant scalar: y = a + s.
  public static func + (lhs: Variable, rhs: Double) -> Variable { lhs + Variable(rhs) }
  /// Adds to a constant scalar: y = s + a.
  public static func + (lhs: Double, rhs: Variable) -> Variable { Variable(lhs) + rhs }
  /// Subtracts a constant scalar: y = a − s.
  public static func - (lhs: Variable, rhs: Double) -> Variable { lhs - Variable(rhs) }
  /// Subtracts from a constant scalar: y = s − a.
  public static func - (lhs: Double, rhs: Variable) -> Variable { Variable(lhs) - rhs }
  /// Multiplies by a constant scalar: y = a s.
  public static func * (lhs: Variable, rhs: Double) -> Variable { lhs * Variable(rhs) }
  /// Multiplies a constant scalar: y = s a.
  public static func * (lhs: Double, rhs: Variable) -> Variable { Variable(lhs) * rhs }
  /// Divides by a constant scalar: y = a / s.
  public static func / (lhs: Variable, rhs: Double) -> Variable { lhs / Variable(rhs) }
  /// Divides a constant scalar: y = s / a.
  public static func / (lhs: Double, rhs: Variable) -> Variable { Variable(lhs) / rhs }

  /// Adds a constant tensor with broadcasting: y = a + c.
  public static func + (lhs: Variable, rhs: Tensor) -> Variable { lhs + Variable(rhs) }
  /// Adds to a constant tensor with broadcasting: y = c + a.
  public static func + (lhs: Tensor, rhs: Variable) -> Variable { Variable(lhs) + rhs }
  /// Subtracts a constant tensor with broadcasting: y = a − c.
  public static func - (lhs: Variable, rhs: Tensor) -> Variable { lhs - Variable(rhs) }
  /// Subtracts from a constant tensor with broadcasting: y = c − a.
  public static func - (lhs: Tensor, rhs: Variable) -> Variable { Variable(lhs) - rhs }
  /// Multiplies by a constant tensor with broadcasting: y = a ⊙ c.
  public static func * (lhs: Variable, rhs: Tensor) -> Variable { lhs * Variable(rhs) }
  /// Multiplies a constant tensor with broadcasting: y = c ⊙ a.
  public static func * (lhs: Tensor, rhs: Variable) -> Variable { Variable(lhs) * rhs }
  /// Divides by a constant tensor with broadcasting: y = a ⊘ c.
  public static func / (lhs: Variable, rhs: Tensor) -> Variable { lhs / Variable(rhs) }
  /// Divides a constant tensor with broadcasting: y = c ⊘ a.
  public static func / (lhs: Tensor, rhs: Variable) -> Variable { Variable(lhs) / rhs }
}
