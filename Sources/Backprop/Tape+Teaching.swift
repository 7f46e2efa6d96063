/// The reverse sweep replayed one entry at a time: after each VJP, every adjoint so far.
///
/// ```swift
/// let tape = Tape()
/// let x = tape.variable([1, 2])
/// print((x * x).sum().backwardReplay())
/// ```
///
/// Reading the table top to bottom shows the gradient flowing from the result back to the
/// inputs: each step applies one entry's vector-Jacobian product and adds into the adjoints
/// of its operands.
public struct BackwardReplay: Sendable, CustomStringConvertible {
  /// One step of the sweep.
  public struct Step: Sendable {
    /// The entry whose VJP this step applied.
    public let entry: Int
    /// That entry's op.
    public let op: String
    /// The adjoints this step changed: its operands', with their values after it.
    public let changes: [(entry: Int, adjoint: Tensor)]
    /// Every step's changes, to rebuild ``adjoints`` from: shared, so a replay of n entries
    /// keeps O(n) tensors rather than n copies of every adjoint.
    let history: History
    /// This step's position in the replay.
    let number: Int

    /// The adjoint of every entry after this step, `nil` where nothing has arrived yet:
    /// rebuilt from the seed and the changes up to this step, in O(entries + steps).
    public var adjoints: [Tensor?] { history.adjoints(after: number) }
  }

  /// The seed and every step's changes.
  final class History: Sendable {
    let seed: [Tensor?]
    let changes: [[(entry: Int, adjoint: Tensor)]]

    init(seed: [Tensor?], changes: [[(entry: Int, adjoint: Tensor)]]) {
      self.seed = seed
      self.changes = changes
    }

    func adjoints(after step: Int) -> [Tensor?] {
      var adjoints = seed
      for changes in self.changes[...step] {
        for (entry, adjoint) in changes { adjoints[entry] = adjoint }
      }
      return adjoints
    }
  }

  /// The ops of the tape's entries, by index, for labelling the columns.
  public let ops: [String]
  /// The adjoints before any VJP: only the seed, at the result.
  public let seed: [Tensor?]
  /// The steps, in the order the sweep took them (from the last entry to the first).
  public let steps: [Step]

  /// A table: one row per step, one column per entry, `·` where no adjoint has arrived.
  public var description: String {
    let header = ["step", "applied"] + ops.indices.map { "#\($0) \(ops[$0])" }
    var rows = [header, ["seed", ""] + seed.map { $0.map(Tape.abbreviate) ?? "·" }]
    var cells = rows[1].dropFirst(2).map { $0 }
    for (number, step) in steps.enumerated() {
      for (entry, adjoint) in step.changes { cells[entry] = Tape.abbreviate(adjoint) }
      rows.append(["\(number + 1)", "#\(step.entry) \(step.op)"] + cells)
    }
    let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.indices.map { column in
        row[column] + String(repeating: " ", count: widths[column] - row[column].count)
      }.joined(separator: "  ").trimmingTrailingSpaces()
    }.joined(separator: "\n")
  }
}

extension Variable {
  /// Runs the reverse sweep from this scalar and records the adjoints after every step, for
  /// learning how the gradient flows. The gradients themselves are those of ``backward()``.
  ///
  /// - Precondition: the variable is on a tape and holds exactly one scalar.
  public func backwardReplay() -> BackwardReplay {
    Self.requireScalar(shape, op: "backwardReplay()")
    guard case .recorded(let tape, let index, let generation) = node else {
      fail("backwardReplay(): a constant is on no tape; nothing to differentiate")
    }
    tape.requireCurrent(generation, op: "backwardReplay()")
    var applied: [(entry: Int, changes: [(entry: Int, adjoint: Tensor)])] = []
    let ops = (0...Int(index)).map { tape.name(of: $0) }
    var seed = [Tensor?](repeating: nil, count: ops.count)
    seed[Int(index)] = .ones(shape)
    _ = tape.reverseSweep(from: index, seed: Tensor.ones(shape)) { position, changed in
      applied.append((position, changed.map { (entry: $0.0, adjoint: $0.1) }))
    }
    let history = BackwardReplay.History(seed: seed, changes: applied.map(\.changes))
    let steps = applied.enumerated().map { number, step in
      BackwardReplay.Step(
        entry: step.entry, op: ops[step.entry], changes: step.changes, history: history,
        number: number)
    }
    return BackwardReplay(ops: ops, seed: seed, steps: steps)
  }
}

/// What a tape holds: how many entries, how many scalars their values and saved tensors keep,
/// and the bytes that takes.
public struct TapeCost: Sendable, Equatable, CustomStringConvertible {
  /// The number of entries.
  public let entries: Int
  /// Scalars held: every entry's value, the constant operands, and what fused primitives saved
  /// for their VJPs.
  public let savedScalars: Int
  /// Bytes held: the entries and constants themselves plus the buffers of values, constants
  /// and saved tensors (a rank-0 value lives inside its entry or constant).
  public let bytes: Int
  /// How many entries each operation recorded, by the name a listing prints (a custom
  /// operation's own name included).
  public var operations: [String: Int] = [:]

  /// `5 entries, 12 saved scalars, 256 bytes`.
  public var description: String {
    "\(entries) entries, \(savedScalars) saved scalars, \(bytes) bytes"
  }
}

extension Tape {
  /// What this tape holds: entries, saved scalars and bytes.
  ///
  /// Fused softmax records one entry where the composed form records five, and keeps one
  /// vector where the composed form keeps several.
  public var cost: TapeCost {
    var scalars = 0
    var bufferBytes = 0
    for record in entries {
      scalars += record.value.scalarCount
      if record.value.rank > 0 { bufferBytes += record.value.scalarCount * 8 }
    }
    for tensor in saved.compactMap(\.tensor) + constants {
      scalars += tensor.scalarCount
      if tensor.rank > 0 { bufferBytes += tensor.scalarCount * 8 }
    }
    var operations: [String: Int] = [:]
    for position in entries.indices { operations[name(of: position), default: 0] += 1 }
    return TapeCost(
      entries: entries.count, savedScalars: scalars,
      bytes: entries.count * MemoryLayout<Record>.stride + constants.count
        * MemoryLayout<Tensor>.stride + bufferBytes, operations: operations)
  }
}

extension String {
  func trimmingTrailingSpaces() -> String {
    var text = self
    while text.last == " " { text.removeLast() }
    return text
  }
}
