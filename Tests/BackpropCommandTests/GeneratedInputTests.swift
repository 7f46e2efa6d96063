import Backprop
import BackpropCommand
import Foundation
import Testing

/// Random expressions over variables of several shapes, most well-formed and some not (shapes
/// that don't broadcast, unknown names), and their character-level mutations.
struct ExpressionGenerator {
  var random: SeededGenerator
  static let bindings = [
    "--at", "x=0.5,-1,2", "--at", "W=[[1,2],[3,-1],[0.5,0.25]]", "--at", "s=1.5", "--at",
    "v=[0.3,0.7]",
  ]
  static let leaves = [
    "x", "W", "s", "v", "2", "0.5", "-1", "1e-3", "[1, 2, 3]", "[[1], [2]]", "y", "3.0",
  ]
  static let unary = [
    "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sum", "mean", "max", "softmax", "logsoftmax",
    "logsumexp", "softmax_composed", "expp", "sofmax",
  ]
  static let binary = ["+", "-", "*", "/", "@", "^"]

  mutating func expression(depth: Int) -> String {
    if depth == 0 || Int.random(in: 0..<4, using: &random) == 0 {
      return Self.leaves.randomElement(using: &random)!
    }
    switch Int.random(in: 0..<5, using: &random) {
    case 0: return "\(Self.unary.randomElement(using: &random)!)(\(expression(depth: depth - 1)))"
    case 1: return "-\(expression(depth: depth - 1))"
    case 2: return "(\(expression(depth: depth - 1)))"
    case 3:
      let name = ["max", "pow"].randomElement(using: &random)!
      return "\(name)(\(expression(depth: depth - 1)), \(expression(depth: depth - 1)))"
    default:
      let op = Self.binary.randomElement(using: &random)!
      return "\(expression(depth: depth - 1)) \(op) \(expression(depth: depth - 1))"
    }
  }

  mutating func mutate(_ source: String) -> String {
    var characters = Array(source)
    let alphabet = Array("()[],+-*/^@.e0123456789xWsv \t#_é∞")
    for _ in 0..<Int.random(in: 1...3, using: &random) {
      let position = characters.isEmpty ? 0 : Int.random(in: 0..<characters.count, using: &random)
      switch Int.random(in: 0..<5, using: &random) {
      case 0 where !characters.isEmpty: characters.remove(at: position)
      case 1: characters.insert(alphabet.randomElement(using: &random)!, at: position)
      case 2 where !characters.isEmpty:
        characters[position] = alphabet.randomElement(using: &random)!
      case 3: characters = Array(characters.prefix(position))
      default: characters += characters.prefix(position)
      }
    }
    return String(characters)
  }
}

@Suite("backprop: generated and mutated expressions never trap")
struct GeneratedInputTests {
  static let count = 1_200

  @Test func everyCaseAnswersOrErrorsCleanly() throws {
    var generator = ExpressionGenerator(random: SeededGenerator(seed: 2026))
    var (answered, refused) = (0, 0)
    for index in 0..<Self.count {
      var source = generator.expression(depth: 4)
      if index % 2 == 1 { source = generator.mutate(source) }
      let command = ["grad", "jacobian", "hessian", "check"][index % 4]
      let wrapped = command == "jacobian" ? source : "sum(\(source))"
      var arguments = [command, wrapped] + ExpressionGenerator.bindings + ["--json"]
      if index % 7 == 0 {
        arguments = generator.mutate(arguments.joined(separator: " ")).split(separator: " ").map(
          String.init)
      }
      let result = runCommand(arguments)
      switch result.status {
      case 0, 1:
        answered += 1
        if arguments.contains("--json") && result.status == 0 {
          let object = try? JSONSerialization.jsonObject(with: Data(result.output.utf8))
          #expect((object as? [String: Any])?["value"] != nil, "\(arguments): \(result.output)")
        }
        #expect(result.status == 0 || arguments.first == "check", "\(arguments)")
      case 2:
        refused += 1
        if arguments.prefix(while: { $0 != "--" }).contains("--json") {
          // With --json the error is one JSON object with an "error" member.
          let object = try? JSONSerialization.jsonObject(with: Data(result.errors.utf8))
          #expect((object as? [String: Any])?["error"] is String, "\(arguments): \(result.errors)")
          #expect(result.errors.split(separator: "\n").count == 1)
        } else {
          #expect(result.errors.hasPrefix("error: "), "\(arguments): \(result.errors)")
          #expect(
            result.errors.split(separator: "\n").count(where: { $0.hasPrefix("error:") }) == 1)
        }
        #expect(result.output.isEmpty)
      default:
        Issue.record("status \(result.status) for \(arguments)")
      }
    }
    // The generator must exercise both paths substantially, or this test proves little.
    #expect(
      answered > Self.count / 10 && refused > Self.count / 10,
      "answered \(answered), refused \(refused)")
    print("generated inputs: \(answered) answered, \(refused) refused with status 2")
  }
}
