import Foundation

/// Small SVG pictures written by hand: a line plot and a map of decision regions.
enum SVG {
  struct Series {
    let name: String
    let color: String
    let points: [(Double, Double)]
  }

  static let classColors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
  static let regionColors = ["#c6dbef", "#fcbba1", "#c7e9c0", "#dadaeb", "#fdd0a2"]

  /// Lines on shared axes, with ticks, a title and a legend.
  static func linePlot(
    title: String, xLabel: String, yLabel: String, series: [Series], legendAtLeft: Bool = false,
    width: Double = 640, height: Double = 400
  ) -> String {
    let all = series.flatMap(\.points)
    let (xs, ys) = (all.map(\.0), all.map(\.1))
    var (yMin, yMax) = (ys.min() ?? 0, ys.max() ?? 1)
    if yMax - yMin < 1e-12 { (yMin, yMax) = (yMin - 1, yMax + 1) }
    let frame = Frame(
      x: (xs.min() ?? 0, xs.max() ?? 1), y: (yMin, yMax), width: width, height: height)
    var body = frame.axes(title: title, xLabel: xLabel, yLabel: yLabel)
    for (index, line) in series.enumerated() {
      let path = line.points.map { "\(fmt(frame.px($0.0))),\(fmt(frame.py($0.1)))" }.joined(
        separator: " ")
      body +=
        "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\" points=\"\(path)\"/>\n"
      let y = frame.top + 16 + Double(index) * 18
      let x = legendAtLeft ? frame.left + 12 : frame.right - 190
      body +=
        "<line x1=\"\(fmt(x))\" y1=\"\(fmt(y))\" x2=\"\(fmt(x + 24))\" y2=\"\(fmt(y))\" stroke=\"\(line.color)\" stroke-width=\"2\"/>\n"
      body += text(line.name, x: x + 30, y: y + 4, anchor: "start")
    }
    return document(width: width, height: height, body: body)
  }

  /// A grid of predicted classes as coloured cells, with the data points on top.
  static func decisionRegions(
    title: String, bounds: (Double, Double), grid: [[Int]], points: [(Double, Double, Int)],
    size: Double = 480
  ) -> String {
    let frame = Frame(x: bounds, y: bounds, width: size, height: size)
    var body = ""
    let cells = grid.count
    let cellWidth = (frame.right - frame.left) / Double(cells)
    let cellHeight = (frame.bottom - frame.top) / Double(cells)
    for (row, classes) in grid.enumerated() {
      // One rectangle per run of equal cells along the row keeps the file small.
      var start = 0
      while start < classes.count {
        var end = start
        while end + 1 < classes.count && classes[end + 1] == classes[start] { end += 1 }
        let x = frame.left + Double(start) * cellWidth
        let y = frame.bottom - Double(row + 1) * cellHeight
        let width = Double(end - start + 1) * cellWidth
        body +=
          "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(width + 0.5))\" height=\"\(fmt(cellHeight + 0.5))\" fill=\"\(regionColors[classes[start] % regionColors.count])\"/>\n"
        start = end + 1
      }
    }
    for (x, y, label) in points {
      body +=
        "<circle cx=\"\(fmt(frame.px(x)))\" cy=\"\(fmt(frame.py(y)))\" r=\"3\" fill=\"\(classColors[label % classColors.count])\" stroke=\"#333\" stroke-width=\"0.5\"/>\n"
    }
    body += frame.axes(title: title, xLabel: "x₁", yLabel: "x₂")
    return document(width: size, height: size, body: body)
  }

  /// The plotting area inside margins, and the map from data to pixels.
  struct Frame {
    let x: (Double, Double)
    let y: (Double, Double)
    let left = 64.0
    let top = 36.0
    let right: Double
    let bottom: Double

    init(x: (Double, Double), y: (Double, Double), width: Double, height: Double) {
      self.x = x
      self.y = y
      right = width - 16
      bottom = height - 48
    }

    func px(_ value: Double) -> Double { left + (value - x.0) / (x.1 - x.0) * (right - left) }
    func py(_ value: Double) -> Double { bottom - (value - y.0) / (y.1 - y.0) * (bottom - top) }

    func axes(title: String, xLabel: String, yLabel: String) -> String {
      var svg =
        "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(right - left))\" height=\"\(fmt(bottom - top))\" fill=\"none\" stroke=\"#333\"/>\n"
      for tick in ticks(x) {
        svg +=
          "<line x1=\"\(fmt(px(tick)))\" y1=\"\(fmt(bottom))\" x2=\"\(fmt(px(tick)))\" y2=\"\(fmt(bottom + 5))\" stroke=\"#333\"/>\n"
        svg += SVG.text(label(tick), x: px(tick), y: bottom + 18, anchor: "middle")
      }
      for tick in ticks(y) {
        svg +=
          "<line x1=\"\(fmt(left - 5))\" y1=\"\(fmt(py(tick)))\" x2=\"\(fmt(left))\" y2=\"\(fmt(py(tick)))\" stroke=\"#333\"/>\n"
        svg += SVG.text(label(tick), x: left - 8, y: py(tick) + 4, anchor: "end")
      }
      svg += SVG.text(title, x: (left + right) / 2, y: 22, anchor: "middle", size: 15)
      svg += SVG.text(xLabel, x: (left + right) / 2, y: bottom + 38, anchor: "middle")
      svg += SVG.text(yLabel, x: 14, y: (top + bottom) / 2, anchor: "middle")
      return svg
    }

    /// About five round tick values across a range.
    func ticks(_ range: (Double, Double)) -> [Double] {
      let span = range.1 - range.0
      let raw = span / 5
      let magnitude = pow(10, floor(log10(raw)))
      let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
      let first = ceil(range.0 / step) * step
      return stride(from: first, through: range.1 + step * 1e-9, by: step).map { $0 }
    }

    func label(_ value: Double) -> String {
      abs(value) < 1e-12 ? "0" : String(format: "%g", value)
    }
  }

  static func text(_ content: String, x: Double, y: Double, anchor: String, size: Int = 12)
    -> String
  {
    let escaped = content.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(
      of: "<", with: "&lt;")
    return
      "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"\(anchor)\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"\(size)\">\(escaped)</text>\n"
  }

  static func document(width: Double, height: Double, body: String) -> String {
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      + body + "</svg>\n"
  }

  static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
}
