"""What the table scripts share: Chebyshev interpolation at full working precision, and the
literals a C header takes. Imported by error_function_table.py and
inverse_trigonometric_tables.py; mpmath's precision is the caller's."""
import mpmath as mp


def chebyshev_monomials(f, lo, hi, degree):
    """Coefficients of t^0...t^degree of the polynomial interpolating f at the Chebyshev
    nodes of [lo, hi], solved at full working precision."""
    n = degree + 1
    nodes = [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n)
             for k in range(n)]
    matrix = mp.matrix([[t ** j for j in range(n)] for t in nodes])
    solution = mp.lu_solve(matrix, mp.matrix([f(t) for t in nodes]))
    return [float(solution[j]) for j in range(n)]


def pair(value):
    """value as high + low, each a Double, their sum within 2⁻¹⁰⁶ of it."""
    high = float(value)
    return [high, float(value - high)]


def literal(values):
    """Doubles as C's exact hexadecimal literals."""
    return ", ".join(v.hex() for v in values)
