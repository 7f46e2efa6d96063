extension Tape: RandomAccessCollection {
  /// One entry of the Wengert list, as a learner or a tool reads it.
  public struct Entry: Sendable {
    /// The entry's position in the list.
    public let index: Int
    /// The primitive's name: `variable`, `constant`, `add`, `exp`, `softmax`, ….
    public let op: String
    /// The operands, in order: earlier entries, and constants such as the 1.01 of `1.01 * y`.
    /// Empty for a leaf.
    public let operands: [Operand]
    /// The indices of the operand entries, in order: the edges of the graph.
    public var inputs: [Int] {
      operands.compactMap { if case .entry(let index) = $0 { index } else { nil } }
    }
    /// The forward value.
    public let value: Tensor
    /// The adjoint ∂y/∂(this entry) from the last ``Variable/backward()``, or `nil` before
    /// one, or where y does not depend on this entry.
    public let adjoint: Tensor?
  }

  /// An operand of an entry: an earlier entry, or a constant. A constant that an operation on
  /// a variable takes (the 1.01 of `1.01 * y`, a mask, an exponent) is kept beside the list
  /// rather than as an entry of its own: it has no operands and never receives an adjoint.
  public enum Operand: Sendable, CustomStringConvertible {
    case entry(Int)
    case constant(Tensor)

    /// `#3` for an entry; for a constant, its abbreviated value, after the word `constant`
    /// unless it is a scalar (so that `constant [3]`, a vector, does not read as a shape).
    public var description: String {
      switch self {
      case .entry(let index): "#\(index)"
      case .constant(let value):
        value.rank == 0 ? Tape.abbreviate(value) : "constant " + Tape.abbreviate(value)
      }
    }
  }

  /// The name of entry `position`'s op: a custom operation's own name, or the primitive's.
  func name(of position: Int) -> String {
    entries[position].op == .custom
      ? customOperation(at: Int32(position)).name : entries[position].name
  }

  /// The index of the first entry: 0.
  public var startIndex: Int { 0 }

  /// One past the index of the last entry.
  public var endIndex: Int { entries.count }

  /// The entry at `position`.
  public subscript(position: Int) -> Entry {
    let record = entries[position]
    var operands: [Operand] = []
    for code in [record.lhs, record.rhs] where code != -1 {
      operands.append(code >= 0 ? .entry(Int(code)) : .constant(value(ofOperand: code)))
    }
    return Entry(
      index: position, op: name(of: position), operands: operands,
      value: record.value,
      adjoint: position < adjoints.count ? adjoints[position] : nil)
  }

  /// The tape as a Graphviz DOT digraph: one node per entry labelled with its index, op, value
  /// and (after a backward pass) gradient, and an edge from each operand to its result.
  ///
  /// Render it with `dot -Tsvg`. Leaves are drawn as ellipses, operations as records.
  public func graphviz() -> String {
    var lines = [
      "digraph tape {", "  rankdir=LR;", "  node [fontname=\"Helvetica\", fontsize=10];",
    ]
    for entry in self {
      var fields = ["#\(entry.index) \(entry.op)", "value \(Tape.abbreviate(entry.value))"]
      let constants = entry.operands.filter { if case .constant = $0 { true } else { false } }
      if !constants.isEmpty {
        fields.insert("with " + constants.map(\.description).joined(separator: ", "), at: 1)
      }
      if let adjoint = entry.adjoint { fields.append("grad \(Tape.abbreviate(adjoint))") }
      let label = fields.map(Tape.escapeRecordField).joined(separator: " | ")
      let shape = entry.inputs.isEmpty ? "Mrecord, style=filled, fillcolor=\"#eef3fb\"" : "record"
      lines.append("  n\(entry.index) [shape=\(shape), label=\"\(label)\"];")
      for input in entry.inputs { lines.append("  n\(input) -> n\(entry.index);") }
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  /// Escapes the characters that structure a DOT record label.
  static func escapeRecordField(_ text: String) -> String {
    var escaped = ""
    for character in text {
      if "{}|<>\"\\".contains(character) { escaped.append("\\") }
      escaped.append(character)
    }
    return escaped
  }
}

extension Tensor {
  /// Whether every scalar is finite (neither NaN nor ±∞).
  public var isFinite: Bool { withUnsafeScalars { $0.allSatisfy { $0.isFinite } } }
}

/// Where a computation first produced a NaN or an infinity, found by a tape with
/// ``Tape/detectsAnomalies`` on.
public struct Anomaly: Sendable, CustomStringConvertible {
  /// Whether the forward pass or the backward sweep went non-finite.
  public enum Phase: String, Sendable {
    /// A recorded value.
    case forward
    /// A contribution computed by an entry's vector-Jacobian product.
    case backward
    /// An adjoint that went non-finite when finite contributions were added into it
    /// (1e308 + 1e308).
    case accumulation
  }

  /// When it happened.
  public let phase: Phase
  /// The entry whose forward value, or whose VJP's result, was non-finite.
  public let entry: Int
  /// That entry's op.
  public let op: String
  /// Its operands that are entries: their indices and values.
  public let inputs: [(index: Int, value: Tensor)]
  /// Its operands that are constants (an infinite constant is often the cause).
  public let constants: [Tensor]
  /// The non-finite value itself: the entry's output, or the VJP's contribution.
  public let value: Tensor

  init(phase: Phase, entry: Int, value: Tensor, on tape: Tape) {
    let view = tape[entry]
    self.phase = phase
    self.entry = entry
    self.op = view.op
    self.inputs = view.inputs.map { ($0, tape.entries[$0].value) }
    self.constants = view.operands.compactMap { operand in
      if case .constant(let value) = operand { value } else { nil }
    }
    self.value = value
  }

  /// `entry #1 (log) produced the non-finite value [0, -inf] in the forward pass, from
  /// #0 [2] = [1, 0]`.
  public var description: String {
    if phase == .accumulation {
      return "the adjoint of entry #\(entry) (\(op)) became \(Tape.abbreviate(value)) in the "
        + "backward sweep when finite contributions to it were added (the sum overflowed)"
    }
    let what = phase == .forward ? "value" : "adjoint contribution"
    let pass = phase == .forward ? "forward pass" : "backward sweep"
    var text = "entry #\(entry) (\(op)) produced the non-finite \(what) \(Tape.abbreviate(value))"
    text += " in the \(pass)"
    let operands =
      inputs.map { "#\($0.index) \($0.value.shape) = \(Tape.abbreviate($0.value))" }
      + constants.map { "the constant \(Tape.abbreviate($0))" }
    if !operands.isEmpty { text += ", from " + operands.joined(separator: " and ") }
    return text
  }
}
