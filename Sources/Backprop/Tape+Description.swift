import Foundation

extension Tape: CustomStringConvertible {
  /// The Wengert list as a table: one row per entry with its index, op, operands (`#i` for
  /// entry i, a value for a constant), shape and forward value, and after
  /// ``Variable/backward()`` its adjoint.
  ///
  /// ```
  /// index  op        inputs    shape  value     adjoint
  ///     0  variable            []     0.3       0.862221
  ///     1  multiply  1.01, #0  []     0.303     0.853684
  ///     2  add       #1, 0.1   []     0.403     0.853684
  ///     3  tanh      #2        []     0.382513  1
  /// ```
  public var description: String {
    let swept = !adjoints.isEmpty
    var rows = [["index", "op", "inputs", "shape", "value"] + (swept ? ["adjoint"] : [])]
    for entry in self {
      var row = [
        String(entry.index), entry.op, entry.operands.map(\.description).joined(separator: ", "),
        entry.value.shape.description, Tape.abbreviate(entry.value),
      ]
      if swept { row.append(entry.adjoint.map(Tape.abbreviate) ?? "") }
      rows.append(row)
    }
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.indices.map { column in
        let cell = row[column]
        let padding = String(repeating: " ", count: widths[column] - cell.count)
        return column == 0 ? padding + cell : cell + padding
      }.joined(separator: "  ").trimmingTrailingSpaces()
    }.joined(separator: "\n")
  }

  /// A tensor in six significant digits, nested by its shape (`[[1, 2], [3, 5]]`) when it has at
  /// most six scalars, and otherwise its first six and the count.
  static func abbreviate(_ tensor: Tensor) -> String {
    let limit = 6
    if tensor.scalarCount <= limit { return tensor.formatted(number) }
    let shown = tensor.scalars.prefix(limit).map(number)
    return "[" + shown.joined(separator: ", ") + ", … (\(tensor.scalarCount) scalars)]"
  }

  /// A scalar in six significant digits, with NaN as `nan` whatever its sign bit (C's `%g`
  /// prints `-nan`) and zero as `0` whatever its sign.
  static func number(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value == 0 { return "0" }
    return String(format: "%.6g", value)
  }
}
