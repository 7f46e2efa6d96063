import Backprop
import Foundation

/// Tensors as text for people and as JSON for programs.
enum Output {
  /// A scalar in ten significant digits: enough to compare by eye, short enough to align. NaN
  /// is `nan` and zero `0`, whatever their sign bits.
  static func number(_ value: Double) -> String {
    if value.isNaN { return "nan" }
    if value == 0 { return "0" }
    if value.isInfinite { return value < 0 ? "-inf" : "inf" }
    return String(format: "%.10g", value)
  }

  /// A scalar as it is, a vector on one line, a matrix with aligned columns, and a tensor of
  /// higher rank as one aligned matrix per index of its leading axes. Each line is indented.
  static func text(_ tensor: Tensor, indent: String = "  ") -> String {
    let cells = tensor.scalars.map(number)
    switch tensor.rank {
    case 0: return indent + cells[0]
    case 1: return indent + "[" + cells.joined(separator: ", ") + "]"
    default:
      let (rows, columns) = (tensor.shape[tensor.rank - 2], tensor.shape[tensor.rank - 1])
      let width = cells.map(\.count).max() ?? 0
      let block = rows * columns
      var lines: [String] = []
      for start in stride(from: 0, to: cells.count, by: Swift.max(block, 1)) {
        if tensor.rank > 2 {
          let lead = multiIndex(start / block, in: Array(tensor.shape.dropLast(2)))
          lines.append(indent + "[" + lead.map(String.init).joined(separator: ", ") + ", :, :]")
        }
        for row in 0..<rows {
          let entries = (0..<columns).map { column in
            let cell = cells[start + row * columns + column]
            return String(repeating: " ", count: width - cell.count) + cell
          }
          let open = row == 0 ? "[[" : " ["
          let close = row == rows - 1 ? "]]" : "],"
          lines.append(indent + open + entries.joined(separator: ", ") + close)
        }
      }
      return lines.joined(separator: "\n")
    }
  }

  /// JSON nested arrays following the shape; a rank-0 tensor is a bare number. NaN and
  /// infinities, which JSON cannot express, are `null`.
  static func json(_ tensor: Tensor) -> String {
    let scalars = tensor.scalars
    var text = ""
    text.reserveCapacity(scalars.count * 20)
    func write(axis: Int, offset: Int) -> Int {
      if axis == tensor.rank {
        let value = scalars[offset]
        text += value.isFinite ? "\(value)" : "null"
        return offset + 1
      }
      text += "["
      var next = offset
      for index in 0..<tensor.shape[axis] {
        if index > 0 { text += ", " }
        next = write(axis: axis + 1, offset: next)
      }
      text += "]"
      return next
    }
    _ = write(axis: 0, offset: 0)
    return text
  }

  /// A JSON string literal.
  static func json(_ string: String) -> String {
    var text = "\""
    for scalar in string.unicodeScalars {
      switch scalar {
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      case "\n": text += "\\n"
      case "\t": text += "\\t"
      case let c where c.value < 0x20: text += String(format: "\\u%04x", c.value)
      default: text.unicodeScalars.append(scalar)
      }
    }
    return text + "\""
  }

  /// A JSON object from keys and already-encoded values, in order.
  static func object(_ members: [(String, String)]) -> String {
    "{" + members.map { "\(json($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
  }

  /// A finite number as JSON, or `null`.
  static func json(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }

  /// The tape as a JSON array of entries: index, op, inputs (operand entries), constants
  /// (constant operands' values), shape, value, adjoint.
  static func json(_ tape: Tape) -> String {
    "["
      + tape.map { entry in
        let constants = entry.operands.compactMap { operand -> Tensor? in
          if case .constant(let value) = operand { value } else { nil }
        }
        return object([
          ("index", "\(entry.index)"), ("op", json(entry.op)),
          ("inputs", "[" + entry.inputs.map(String.init).joined(separator: ", ") + "]"),
          ("constants", "[" + constants.map(json).joined(separator: ", ") + "]"),
          ("shape", "[" + entry.value.shape.map(String.init).joined(separator: ", ") + "]"),
          ("value", json(entry.value)), ("adjoint", entry.adjoint.map(json) ?? "null"),
        ])
      }.joined(separator: ", ") + "]"
  }

  static func multiIndex(_ linear: Int, in shape: [Int]) -> [Int] {
    var remainder = linear
    var index = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() {
      index[axis] = remainder % shape[axis]
      remainder /= shape[axis]
    }
    return index
  }
}
