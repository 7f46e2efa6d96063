import Backprop

/// A recursive-descent parser for the expression language.
///
/// ```
/// expression := term (('+' | '-') term)*
/// term       := unary (('*' | '/' | '@') unary)*
/// unary      := ('-' | '+') unary | power
/// power      := primary ('^' unary)?          right-associative; binds tighter than unary minus
/// primary    := number | name | name '(' arguments ')' | '(' expression ')' | literal
/// literal    := '[' (literal | signed number) (',' …)* ']'
/// ```
///
/// Both the nesting of the source and the depth of the tree are bounded, so no input, however
/// deep, can overflow the stack of the parser or of the passes that walk the tree.
struct Parser {
  /// The deepest tree the checker and evaluator will recurse through.
  static let maximumDepth = 500

  private let source: String
  private let characters: [Character]
  private var position = 0
  private var depth = 0

  init(_ source: String) {
    self.source = source
    self.characters = Array(source)
  }

  /// Parses the whole source as one expression.
  static func parse(_ source: String) throws(CommandError) -> Expression {
    var parser = Parser(source)
    parser.skipSpace()
    if parser.atEnd {
      throw CommandError("empty expression", in: source, at: 0)
    }
    let expression = try parser.parseExpression()
    parser.skipSpace()
    if !parser.atEnd {
      throw parser.error(
        "unexpected '\(parser.characters[parser.position])' after a complete expression")
    }
    return expression
  }

  /// Parses a bare value, as written after `--at name=`: a number, `1,2,3`, or a bracketed
  /// literal.
  static func parseValue(_ text: String) throws(CommandError) -> Tensor {
    var parser = Parser(text)
    parser.skipSpace()
    if parser.atEnd { throw CommandError("missing value", in: text, at: 0) }
    var value: Tensor
    if parser.peek == "[" {
      value = try parser.parseLiteral()
    } else {
      var scalars = [try parser.parseSignedNumber()]
      parser.skipSpace()
      while parser.peek == "," {
        parser.position += 1
        scalars.append(try parser.parseSignedNumber())
        parser.skipSpace()
      }
      value = scalars.count == 1 ? Tensor(scalars[0]) : Tensor(scalars)
    }
    parser.skipSpace()
    if !parser.atEnd {
      throw parser.error("unexpected '\(parser.characters[parser.position])' in a value")
    }
    return value
  }

  // MARK: - Grammar

  private mutating func parseExpression() throws(CommandError) -> Expression {
    var lhs = try parseTerm()
    while let symbol = nextSymbol(in: "+-") {
      let column = position - 1
      let rhs = try parseTerm()
      lhs = try node(.binary(symbol == "+" ? .add : .subtract, lhs, rhs), column: column)
    }
    return lhs
  }

  private mutating func parseTerm() throws(CommandError) -> Expression {
    var lhs = try parseUnary()
    while let symbol = nextSymbol(in: "*/@") {
      let column = position - 1
      let rhs = try parseUnary()
      let op: BinaryOperator = symbol == "*" ? .multiply : symbol == "/" ? .divide : .matmul
      lhs = try node(.binary(op, lhs, rhs), column: column)
    }
    return lhs
  }

  private mutating func parseUnary() throws(CommandError) -> Expression {
    if let symbol = nextSymbol(in: "-+") {
      // Only a sign counts as a level here: counting every call of this function counted each
      // parenthesis twice, so the documented 500 levels were 249.
      try descend()
      defer { depth -= 1 }
      let column = position - 1
      let operand = try parseUnary()
      return symbol == "-" ? try node(.negate(operand), column: column) : operand
    }
    return try parsePower()
  }

  private mutating func parsePower() throws(CommandError) -> Expression {
    let base = try parseSubscripts(of: try parsePrimary())
    guard nextSymbol(in: "^") != nil else { return base }
    // x^x^…^x recurses through the exponent: one level per '^'.
    try descend()
    defer { depth -= 1 }
    let column = position - 1
    let exponent = try parseUnary()
    return try node(.binary(.power, base, exponent), column: column)
  }

  /// `x[i]`, `x[a:b]`, `x[:b]`, `x[a:]`, any number of them in a row.
  private mutating func parseSubscripts(of base: Expression) throws(CommandError) -> Expression {
    var result = base
    while peek == "[" {
      let column = position
      try descend()
      defer { depth -= 1 }
      position += 1
      var lower: Int?
      var upper: Int?
      skipSpace()
      if peek != ":" { lower = try parseInteger() }
      skipSpace()
      let isIndex = nextSymbol(in: ":") == nil
      if !isIndex {
        skipSpace()
        if peek != "]" { upper = try parseInteger() }
      }
      try expect("]", "to close the subscript at column \(column + 1)")
      result = try node(
        .slice(result, Subscript(lower: lower, upper: upper, isIndex: isIndex)), column: column)
    }
    return result
  }

  /// An integer, possibly negative, as a subscript takes.
  private mutating func parseInteger() throws(CommandError) -> Int {
    skipSpace()
    let start = position
    let value = try parseSignedNumber()
    guard value == value.rounded(), Swift.abs(value) < 1e15 else {
      throw CommandError("a subscript must be an integer, not \(value)", in: source, at: start)
    }
    return Int(value)
  }

  private mutating func parsePrimary() throws(CommandError) -> Expression {
    skipSpace()
    guard let character = peek else { throw error("the expression ends where a value should be") }
    let column = position
    if character == "(" {
      try descend()
      defer { depth -= 1 }
      position += 1
      let inner = try parseExpression()
      try expect(")", "to close the '(' at column \(column + 1)")
      return inner
    }
    if character == "[" {
      return Expression(.literal(try parseLiteral()), column: column)
    }
    if character.isNumber || character == "." {
      return Expression(.number(try parseNumber()), column: column)
    }
    if character.isLetter || character == "_" {
      let name = parseIdentifier()
      skipSpace()
      if peek == "(" {
        return try parseCall(name, column: column)
      }
      if Function.isFunction(name) {
        throw CommandError(
          "'\(name)' is a function; call it as \(name)(…)", in: source, at: column)
      }
      return Expression(.name(name), column: column)
    }
    throw error("unexpected '\(character)' where a value should be")
  }

  private mutating func parseCall(_ name: String, column: Int) throws(CommandError) -> Expression {
    let elementwise = Elementwise.named(name)
    let function = Function.named(name)
    guard elementwise != nil || function != nil else {
      let suggestion = nearest(
        to: name, among: Elementwise.names + Function.allCases.map(\.rawValue))
      throw CommandError(
        "unknown function '\(abbreviated(name))'"
          + (suggestion.map { " — did you mean '\($0)'?" } ?? ""),
        in: source, at: column)
    }
    try descend()
    defer { depth -= 1 }
    position += 1  // "("
    var arguments: [Expression] = []
    skipSpace()
    if peek != ")" {
      arguments.append(try parseExpression())
      while nextSymbol(in: ",") != nil { arguments.append(try parseExpression()) }
    }
    try expect(")", "to close the call to \(name)")
    let range = function?.arities ?? 1...1
    guard range.contains(arguments.count) else {
      let expected =
        range.count == 1
        ? "\(range.lowerBound)"
        : range.count == 2 ? "\(range.lowerBound) or \(range.upperBound)" : "at least 1"
      let noun = range == 1...1 ? "argument" : "arguments"
      throw CommandError(
        "\(name) takes \(expected) \(noun), got \(arguments.count)", in: source, at: column)
    }
    if let elementwise {
      return try node(.elementwise(elementwise, arguments[0]), column: column)
    }
    return try node(.call(function!, arguments), column: column)
  }

  /// A bracketed literal of signed numbers, nested to any rank, every row the same length.
  private mutating func parseLiteral() throws(CommandError) -> Tensor {
    var scalars: [Double] = []
    let shape = try parseLiteralRows(into: &scalars)
    return Tensor(shape: shape, scalars: scalars)
  }

  private mutating func parseLiteralRows(into scalars: inout [Double]) throws(CommandError) -> [Int]
  {
    try descend()
    defer { depth -= 1 }
    let open = position
    position += 1  // "["
    skipSpace()
    if peek == "]" {
      throw CommandError("empty literal: a tensor needs at least one entry", in: source, at: open)
    }
    var rowShape: [Int]?
    var count = 0
    repeat {
      skipSpace()
      let column = position
      let shape: [Int]
      if peek == "[" {
        shape = try parseLiteralRows(into: &scalars)
      } else {
        scalars.append(try parseSignedNumber())
        shape = []
      }
      if let expected = rowShape, expected != shape {
        throw CommandError(
          "ragged literal: this entry has shape \(shape), the first has \(expected)",
          in: source, at: column)
      }
      rowShape = shape
      count += 1
      skipSpace()
    } while nextSymbol(in: ",") != nil
    try expect("]", "to close the '[' at column \(open + 1)")
    return [count] + (rowShape ?? [])
  }

  // MARK: - Tokens

  private mutating func parseSignedNumber() throws(CommandError) -> Double {
    skipSpace()
    var sign = 1.0
    while let symbol = nextSymbol(in: "-+") { if symbol == "-" { sign = -sign } }
    skipSpace()
    // A value may be non-finite: inf, infinity or nan, in any case, as C's strtod reads them.
    if let character = peek, character.isLetter {
      let start = position
      let word = parseIdentifier().lowercased()
      if word == "inf" || word == "infinity" { return sign * .infinity }
      if word == "nan" { return .nan }
      throw CommandError(
        "expected a number (or inf, -inf, nan), found '\(abbreviated(word))'", in: source,
        at: start)
    }
    guard let character = peek, character.isNumber || character == "." else {
      throw error("expected a number")
    }
    return sign * (try parseNumber())
  }

  /// digits [. digits] [e [+-] digits], or . digits …
  private mutating func parseNumber() throws(CommandError) -> Double {
    let start = position
    func digits() -> Int {
      let begin = position
      while let c = peek, c.isASCII, c.isNumber { position += 1 }
      return position - begin
    }
    var count = digits()
    if peek == "." {
      position += 1
      count += digits()
    }
    var malformed = count == 0
    if let c = peek, c == "e" || c == "E" {
      position += 1
      if let sign = peek, sign == "+" || sign == "-" { position += 1 }
      if digits() == 0 { malformed = true }
    }
    // A number runs into a following letter or dot: "1.2.3", "2x", "1e5e".
    while let c = peek, c.isLetter || c.isNumber || c == "." || c == "_" {
      position += 1
      malformed = true
    }
    let text = String(characters[start..<position])
    guard !malformed, let value = Double(text) else {
      throw CommandError("malformed number '\(abbreviated(text))'", in: source, at: start)
    }
    return value
  }

  private mutating func parseIdentifier() -> String {
    let start = position
    while let c = peek, c.isLetter || c.isNumber || c == "_" { position += 1 }
    return String(characters[start..<position])
  }

  // MARK: - Helpers

  private var atEnd: Bool { position >= characters.count }
  private var peek: Character? { atEnd ? nil : characters[position] }

  private mutating func skipSpace() {
    while let c = peek, c.isWhitespace { position += 1 }
  }

  /// Consumes the next non-space character if it is one of `symbols`.
  private mutating func nextSymbol(in symbols: String) -> Character? {
    skipSpace()
    guard let c = peek, symbols.contains(c) else { return nil }
    position += 1
    return c
  }

  private mutating func expect(_ symbol: Character, _ purpose: String) throws(CommandError) {
    guard nextSymbol(in: String(symbol)) != nil else {
      let found = peek.map { "'\($0)'" } ?? "the end"
      throw error("expected '\(symbol)' \(purpose), found \(found)")
    }
  }

  private mutating func descend() throws(CommandError) {
    depth += 1
    if depth > Self.maximumDepth {
      throw error("the expression is nested more than \(Self.maximumDepth) levels deep")
    }
  }

  /// Checks the depth of a new tree node: a chain such as 1+1+…+1 deepens the tree without
  /// nesting in the source.
  private func node(_ kind: Expression.Kind, column: Int) throws(CommandError) -> Expression {
    let expression = Expression(kind, column: column)
    if expression.depth > Self.maximumDepth {
      throw CommandError(
        "the expression is nested more than \(Self.maximumDepth) levels deep",
        in: source, at: expression.column)
    }
    return expression
  }

  private func error(_ message: String) -> CommandError {
    CommandError(message, in: source, at: Swift.min(position, characters.count))
  }
}

/// The candidate closest to `word` if it is close enough to be a likely typo: within one edit
/// per three characters, where swapping two neighbours counts as one edit (optimal string
/// alignment distance). Leading dashes are ignored, so `--jsno` finds `--json`.
func nearest(to word: String, among candidates: [String]) -> String? {
  func trimmed(_ text: String) -> [Character] { Array(text.drop { $0 == "-" }.lowercased()) }
  func distance(_ a: [Character], _ b: [Character]) -> Int {
    var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { table[i][0] = i }
    for j in 0...b.count { table[0][j] = j }
    for i in stride(from: 1, through: a.count, by: 1) {
      for j in stride(from: 1, through: b.count, by: 1) {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        table[i][j] = Swift.min(
          table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
        if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
          table[i][j] = Swift.min(table[i][j], table[i - 2][j - 2] + 1)
        }
      }
    }
    return table[a.count][b.count]
  }
  let target = trimmed(word)
  guard target.count <= 64 else { return nil }
  let scored = candidates.map { ($0, distance(target, trimmed($0))) }
  guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= Swift.max(1, target.count / 3) else {
    return nil
  }
  return best.0
}
