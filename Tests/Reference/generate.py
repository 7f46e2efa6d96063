#!/usr/bin/env python3
"""Writes Tests/BackpropTests/ReferenceValues.swift: values, first and second derivatives of
every elementwise function, and values and gradients of the softmax family, computed with
mpmath at 80 significant digits and rounded once to the nearest Double.

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install mpmath
    /tmp/ref/bin/python Tests/Reference/generate.py

The output is committed, so `swift test` needs nothing but the toolchain. The points cover the
whole Double range: zero, subnormals, 1e-300, ordinary values, the edges where exp overflows
and underflows (±700…750), 1e17, 1e300, ties, and vectors that mix huge and tiny entries.
"""
import os
import struct
import mpmath as mp

# Enough digits that 1e308 + 1e-308 loses nothing: the softmax family adds and subtracts
# numbers of every magnitude.
mp.mp.dps = 700
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "BackpropTests", "ReferenceValues.swift")


def d(x):
    """An mpf rounded to the nearest Double, as a Swift literal (hex, so exact)."""
    if mp.isnan(x):
        return ".nan"
    if mp.isinf(x):
        return ".infinity" if x > 0 else "-.infinity"
    if abs(x) < mp.ldexp(1, -1022):
        # Subnormal: round once, to a multiple of 2⁻¹⁰⁷⁴ (float() would round twice).
        f = float(mp.nint(mp.ldexp(x, 1074))) * 2.0**-1074
    else:
        f = float(x)  # mpmath rounds to nearest
    if f == float("inf"):
        return ".infinity"
    if f == float("-inf"):
        return "-.infinity"
    if f != 0 and abs(f) < 2.0**-1022:
        # Swift warns on a subnormal literal even when it is exact: give its bits instead.
        bits = struct.unpack("<Q", struct.pack("<d", f))[0]
        return f"Double(bitPattern: 0x{bits:016x})"
    return f.hex().replace("+", "")


def swift_double(f):
    return d(mp.mpf(f))


MAGNITUDES = [
    0.0, 5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-17, 1e-8, 1e-3, 0.1, 0.5, 1.0,
    1.5, 2.0, 3.0, 5.0, 10.0, 19.0, 20.0, 30.0, 37.0, 40.0, 100.0, 700.0, 709.0, 709.78,
    710.0, 740.0, 745.0, 745.2, 750.0, 1e17, 1e300, 1.7976931348623157e308,
]
SIGNED = sorted(set([m for m in MAGNITUDES] + [-m for m in MAGNITUDES if m != 0]))
POSITIVE = [m for m in MAGNITUDES if m > 0]
NONZERO = [x for x in SIGNED if x != 0]
# tan grows without bound near odd multiples of π/2 and is ill-conditioned for large x (its
# derivative times |x| is huge): the audit keeps to |x| ≤ 100 and to points away from the poles.
TRIG = [x for x in SIGNED if abs(x) <= 100]
# mpmath's erfc cannot evaluate beyond about 1e150 (where erfc underflows to 0 long before).
MODERATE = [x for x in SIGNED if abs(x) <= 1e17]
EDGES = [0.0, 5e-324, 1e-300, 1e-17, 1e-8, 1e-3, 0.1, 0.5, 0.75, 0.9, 0.99, 0.999999,
         1 - 2.0**-52, 1 - 2.0**-53]
UNIT = sorted(set(EDGES + [-e for e in EDGES if e != 0] + [1.0, -1.0]))
OPEN_UNIT = [x for x in UNIT if abs(x) < 1]
ABOVE_ONE = [1.0, 1 + 2.0**-52, 1.000001, 1.5, 2.0, 10.0, 1e3, 1e17, 1e150, 1e300,
             1.7976931348623157e308]
ABOVE_MINUS_ONE = sorted(set([x for x in SIGNED if x > -1] + [-0.5, -0.9, -0.999999, -1 + 2.0**-53]))


def sigmoid(x):
    return 1 / (1 + mp.exp(-x))


# name, domain, f, f', f''
FUNCTIONS = [
    ("exp", SIGNED, mp.exp, mp.exp, mp.exp),
    ("log", POSITIVE, mp.log, lambda x: 1 / x, lambda x: -1 / x**2),
    ("sqrt", POSITIVE, mp.sqrt, lambda x: 1 / (2 * mp.sqrt(x)), lambda x: -1 / (4 * x * mp.sqrt(x))),
    ("tanh", SIGNED, mp.tanh, lambda x: mp.sech(x) ** 2,
     lambda x: -2 * mp.tanh(x) * mp.sech(x) ** 2),
    ("sigmoid", SIGNED, sigmoid, lambda x: sigmoid(x) * sigmoid(-x),
     lambda x: sigmoid(x) * sigmoid(-x) * (1 - 2 * sigmoid(x))),
    ("square", SIGNED, lambda x: x**2, lambda x: 2 * x, lambda x: mp.mpf(2)),
    ("cube", SIGNED, lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x),
    ("pow0.5", POSITIVE, lambda x: x**0.5, lambda x: 0.5 * x**-0.5, lambda x: -0.25 * x**-1.5),
    ("pow2.5", POSITIVE, lambda x: x**2.5, lambda x: 2.5 * x**1.5, lambda x: 3.75 * x**0.5),
    ("pow-1", POSITIVE, lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3),
    ("reciprocal", SIGNED, lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3),
    ("sin", SIGNED, mp.sin, mp.cos, lambda x: -mp.sin(x)),
    ("cos", SIGNED, mp.cos, lambda x: -mp.sin(x), lambda x: -mp.cos(x)),
    ("tan", TRIG, mp.tan, lambda x: 1 + mp.tan(x) ** 2,
     lambda x: 2 * mp.tan(x) * (1 + mp.tan(x) ** 2)),
    ("asin", UNIT, mp.asin, lambda x: 1 / mp.sqrt(1 - x**2), lambda x: x / (1 - x**2) ** 1.5),
    ("acos", UNIT, mp.acos, lambda x: -1 / mp.sqrt(1 - x**2), lambda x: -x / (1 - x**2) ** 1.5),
    ("atan", SIGNED, mp.atan, lambda x: 1 / (1 + x**2), lambda x: -2 * x / (1 + x**2) ** 2),
    ("sinh", SIGNED, mp.sinh, mp.cosh, mp.sinh),
    ("cosh", SIGNED, mp.cosh, mp.sinh, mp.cosh),
    ("asinh", SIGNED, mp.asinh, lambda x: 1 / mp.sqrt(x**2 + 1), lambda x: -x / (x**2 + 1) ** 1.5),
    ("acosh", ABOVE_ONE, mp.acosh, lambda x: 1 / mp.sqrt(x**2 - 1),
     lambda x: -x / (x**2 - 1) ** 1.5),
    ("atanh", OPEN_UNIT, mp.atanh, lambda x: 1 / (1 - x**2), lambda x: 2 * x / (1 - x**2) ** 2),
    ("exp2", SIGNED, lambda x: mp.mpf(2) ** x, lambda x: mp.log(2) * mp.mpf(2) ** x,
     lambda x: mp.log(2) ** 2 * mp.mpf(2) ** x),
    ("expm1", SIGNED, mp.expm1, mp.exp, mp.exp),
    ("log2", POSITIVE, lambda x: mp.log(x, 2), lambda x: 1 / (x * mp.log(2)),
     lambda x: -1 / (x**2 * mp.log(2))),
    ("log10", POSITIVE, mp.log10, lambda x: 1 / (x * mp.log(10)),
     lambda x: -1 / (x**2 * mp.log(10))),
    ("log1p", ABOVE_MINUS_ONE, mp.log1p, lambda x: 1 / (1 + x), lambda x: -1 / (1 + x) ** 2),
    ("abs", NONZERO, abs, mp.sign, lambda x: mp.mpf(0)),
    ("sign", NONZERO, mp.sign, lambda x: mp.mpf(0), lambda x: mp.mpf(0)),
    ("rsqrt", POSITIVE, lambda x: 1 / mp.sqrt(x), lambda x: -0.5 * x**-1.5,
     lambda x: 0.75 * x**-2.5),
    ("erf", MODERATE, mp.erf, lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-x**2),
     lambda x: -4 * x / mp.sqrt(mp.pi) * mp.exp(-x**2)),
    ("erfc", MODERATE, mp.erfc, lambda x: -2 / mp.sqrt(mp.pi) * mp.exp(-x**2),
     lambda x: 4 * x / mp.sqrt(mp.pi) * mp.exp(-x**2)),
    ("softplus", SIGNED, lambda x: mp.log1p(mp.exp(x)), sigmoid,
     lambda x: sigmoid(x) * sigmoid(-x)),
    ("logSigmoid", SIGNED, lambda x: -mp.log1p(mp.exp(-x)), lambda x: sigmoid(-x),
     lambda x: -sigmoid(x) * sigmoid(-x)),
    ("gelu", MODERATE, lambda x: x * mp.ncdf(x), lambda x: mp.ncdf(x) + x * mp.npdf(x),
     lambda x: 2 * mp.npdf(x) - x**2 * mp.npdf(x)),
    ("swish", SIGNED, lambda x: x * sigmoid(x),
     lambda x: sigmoid(x) + x * sigmoid(x) * sigmoid(-x),
     lambda x: sigmoid(x) * sigmoid(-x) * (2 + x * (1 - 2 * sigmoid(x)))),
    ("leakyRelu", NONZERO, lambda x: x if x > 0 else 0.01 * x,
     lambda x: mp.mpf(1) if x > 0 else mp.mpf("0.01"), lambda x: mp.mpf(0)),
    ("elu", NONZERO, lambda x: x if x > 0 else mp.expm1(x),
     lambda x: mp.mpf(1) if x > 0 else mp.exp(x), lambda x: mp.mpf(0) if x > 0 else mp.exp(x)),
]

# Vectors for the softmax family: ties at every magnitude, huge and tiny mixed, exp's edges.
VECTORS = [
    [1.0, 2.0, 3.0],
    [0.5, -1.0, 2.0, 0.25],
    [0.0, 0.0],
    [1e17, 1e17],
    [1e300, 1e300, 0.0],
    [1e300, 0.0, -1e300],
    [1e6, 1e6, 1e6],
    [-1e300, -1e300],
    [700.0, 710.0, 720.0],
    [-745.0, 0.0, 745.0],
    [1e-300, -1e-300, 0.0],
    [5e-324, 0.0, -5e-324],
    [30.0, -30.0, 37.0, -37.0],
    [1e17, 1e17 + 16, 1e17 - 16],
    [-1e17, -1e17, 0.0],
    [1.7976931348623157e308, 0.0],
    [3.0, 3.0, 3.0, 3.0, 3.0],
    [0.1 * k for k in range(-8, 9)],
]
# Log-sum-exp where one logit dominates, so that ln Σ is small: its value is then mostly the
# maximum's, or (with the maximum near 0) mostly ln Σ, which ln of the rounded sum gets wrong.
LSE_VECTORS = [
    [0.0, -40.0],
    [-0.0, -37.0],
    [0.0, -0.5],
    [0.0, -3.0, -20.0, -700.0],
    [1e-10, -30.0],
    [-1e-300, -50.0, -60.0],
    [5e-324, -745.0],
    [2.5, -40.0, -40.0, -40.0],
    [700.0, 660.0],
    [-745.0, -790.0],
    [0.0, 0.0],
    [1e17, 1e17 - 64],
    [-1e300, -1e300],
    [1e300, 0.0, -1e300],
    [0.0] + [-30.0 - k for k in range(99)],
    [-20.0 - 0.25 * k for k in range(70)] + [3.0],
]
WEIGHTS_OF = lambda n: [mp.mpf(k + 1) / 2 if k % 2 == 0 else -mp.mpf(k) for k in range(n)]


def softmax(x):
    m = max(x)
    e = [mp.exp(v - m) for v in x]
    s = mp.fsum(e)
    return [v / s for v in e]


def logsumexp(x):
    m = max(x)
    return m + mp.log(mp.fsum(mp.exp(v - m) for v in x))


def at(f, x):
    """f(x), or the infinity it tends to where it has a pole at x (asin′ at ±1)."""
    try:
        return f(x)
    except ZeroDivisionError:
        for nudged in (x * (1 - mp.mpf(10) ** -600), x * (1 + mp.mpf(10) ** -600)):
            try:
                value = f(nudged)
            except (ZeroDivisionError, ValueError):
                continue
            if isinstance(value, mp.mpf):  # outside the domain the value is complex
                return mp.inf * mp.sign(value)
        raise


def main():
    lines = [
        "// swift-format-ignore-file",
        "// Generated by Tests/Reference/generate.py with mpmath at 700 digits, each value rounded",
        "// once to the nearest Double. Do not edit; regenerate.",
        "",
        "/// f(x), f′(x) and f″(x) at high precision, for each elementwise function.",
        "let elementwiseReference: [(function: String, x: Double, value: Double, first: Double, second: Double)] = [",
    ]
    for name, domain, f, f1, f2 in FUNCTIONS:
        for x in domain:
            X = mp.mpf(x)
            if name in ("reciprocal",) and x == 0:
                continue
            lines.append(
                f'  ("{name}", {swift_double(x)}, {d(at(f, X))}, {d(at(f1, X))}, {d(at(f2, X))}),')
    lines.append("]")
    lines.append("")
    lines.append("/// f(a, b), ∂f/∂a and ∂f/∂b at high precision, for each elementwise function of two operands.")
    lines.append("let binaryReference: [(function: String, a: Double, b: Double, value: Double, da: Double, db: Double)] = [")
    grid = [-1e300, -1e17, -700.0, -3.0, -1.0, -0.5, -1e-8, -1e-300, 0.0, 5e-324, 1e-300, 1e-8, 0.5,
            1.0, 3.0, 700.0, 1e17, 1e300]
    positive = [v for v in grid if v > 0]
    for name, As, Bs, f, fa, fb in [
        ("pow", positive, [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0, 10.0],
         lambda a, b: a**b, lambda a, b: b * a**(b - 1), lambda a, b: a**b * mp.log(a)),
        ("atan2", grid, grid, mp.atan2,
         lambda a, b: b / (a**2 + b**2), lambda a, b: -a / (a**2 + b**2)),
        ("hypot", grid, grid, mp.hypot,
         lambda a, b: a / mp.hypot(a, b), lambda a, b: b / mp.hypot(a, b)),
    ]:
        for a in As:
            for b in Bs:
                A, B = mp.mpf(a), mp.mpf(b)
                if name in ("atan2", "hypot") and a == 0 and b == 0:
                    continue
                lines.append(f'  ("{name}", {swift_double(a)}, {swift_double(b)}, {d(f(A, B))}, {d(fa(A, B))}, {d(fb(A, B))}),')
    lines.append("]")
    lines.append("")
    lines.append("/// For each vector x: softmax(x), logSoftmax(x), logSumExp(x), the cross-entropy of x as")
    lines.append("/// one row against label 0, and the gradients of ⟨w, softmax(x)⟩, ⟨w, logSoftmax(x)⟩ and")
    lines.append("/// the cross-entropy, with w the fixed weights (1/2, −1, 3/2, −3, …).")
    lines.append("let softmaxFamilyReference: [(x: [Double], weights: [Double], softmax: [Double], logSoftmax: [Double], logSumExp: Double, crossEntropy: Double, softmaxGradient: [Double], logSoftmaxGradient: [Double], crossEntropyGradient: [Double])] = [")
    for x in VECTORS:
        X = [mp.mpf(v) for v in x]
        n = len(X)
        w = WEIGHTS_OF(n)
        s = softmax(X)
        lse = logsumexp(X)
        ls = [v - lse for v in X]
        ce = lse - X[0]
        ws = mp.fsum(a * b for a, b in zip(w, s))
        g_soft = [si * (wi - ws) for si, wi in zip(s, w)]
        wsum = mp.fsum(w)
        g_log = [wi - si * wsum for si, wi in zip(s, w)]
        g_ce = [si - (1 if i == 0 else 0) for i, si in enumerate(s)]
        arr = lambda vs: "[" + ", ".join(d(v) for v in vs) + "]"
        lines.append(
            f"  ({arr(X)}, {arr(w)}, {arr(s)}, {arr(ls)}, {d(lse)}, {d(ce)}, {arr(g_soft)},"
            f" {arr(g_log)}, {arr(g_ce)}),")
    lines.append("]")
    lines.append("")
    lines.append("/// For each vector x: logSumExp(x) and its gradient softmax(x), where one entry dominates")
    lines.append("/// and ln Σ is tiny, at every magnitude, and in rows long enough for the vectorized maximum.")
    lines.append("let logSumExpReference: [(x: [Double], value: Double, gradient: [Double])] = [")
    for x in LSE_VECTORS:
        X = [mp.mpf(v) for v in x]
        arr = lambda vs: "[" + ", ".join(d(v) for v in vs) + "]"
        lines.append(f"  ({arr(X)}, {d(logsumexp(X))}, {arr(softmax(X))}),")
    lines.append("]")
    with open(OUT, "w") as out:
        out.write("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
