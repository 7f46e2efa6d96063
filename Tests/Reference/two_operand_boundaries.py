#!/usr/bin/env python3
"""Writes Tests/BackpropTests/TwoOperandReferences.swift: the value and both partials of every
function of two operands, from PyTorch and from JAX, over a grid of boundary values in each
operand (±0, subnormals, ±1, ±2, ±2.5, 3, ±1e300, ±∞, NaN), and the Hessian of pow in both
operands at bases 0, 1, 2 and ½ and exponents from −1 to 3, so that `swift test` checks
Backprop against both frameworks with nothing but the toolchain.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch "jax[cpu]"
    /tmp/peers/bin/python Tests/Reference/two_operand_boundaries.py

Both run in float64 on the CPU. JAX's results are absent where an operand is subnormal: XLA's
CPU backend flushes subnormals to zero. Where an operand is a constant in one framework's API (Huber's
δ and binary cross-entropy's labels in PyTorch), its partial there is written as absent ("-").
Each framework's own formula is used, not a composition of ours: torch.pow, torch.atan2,
torch.hypot, torch.minimum, torch.maximum, F.mse_loss, F.huber_loss,
F.binary_cross_entropy_with_logits, F.elu, F.leaky_relu; jnp.power, jnp.arctan2, jnp.hypot,
jnp.minimum, jnp.maximum, jax.nn.elu, jax.nn.leaky_relu, and for the losses that JAX has no
primitive for, their definitions as optax writes them.
"""
import math
import os

import jax
import jax.numpy as jnp
import torch
import torch.nn.functional as F

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")
torch.set_num_threads(1)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "BackpropTests", "TwoOperandReferences.swift")

INF, NAN = math.inf, math.nan
GRID = [
    0.0, -0.0, 5e-324, -5e-324, 0.5, 1.0, -1.0, 2.0, -2.0, 2.5, -2.5, 3.0, 1e300, -1e300,
    INF, -INF, NAN,
]
# Operands that the library requires positive (Huber's δ), in [0, 1] (labels), or that are
# slopes of a rectifier.
POSITIVE = [5e-324, 0.5, 1.0, 2.0, 1e300, INF]
LABELS = [0.0, -0.0, 5e-324, 0.25, 0.5, 1.0, NAN]
SLOPES = [0.0, 0.01, 0.5, 1.0, 2.0, -1.0]


def jax_huber(d, delta):
    magnitude = jnp.abs(d)
    return jnp.where(magnitude <= delta, 0.5 * d * d, delta * (magnitude - 0.5 * delta))


def jax_bce(x, y):
    return -y * jax.nn.log_sigmoid(x) - (1 - y) * jax.nn.log_sigmoid(-x)


# name: (PyTorch's function, whether its second operand is differentiable there, JAX's, grid of
# the second operand)
FUNCTIONS = {
    "add": (lambda a, b: a + b, True, lambda a, b: a + b, GRID),
    "subtract": (lambda a, b: a - b, True, lambda a, b: a - b, GRID),
    "multiply": (lambda a, b: a * b, True, lambda a, b: a * b, GRID),
    "divide": (lambda a, b: a / b, True, lambda a, b: a / b, GRID),
    "pow": (torch.pow, True, jnp.power, GRID),
    "atan2": (torch.atan2, True, jnp.arctan2, GRID),
    "hypot": (torch.hypot, True, jnp.hypot, GRID),
    "min": (torch.minimum, True, jnp.minimum, GRID),
    "max": (torch.maximum, True, jnp.maximum, GRID),
    "squaredDifference": (
        lambda a, b: F.mse_loss(a, b, reduction="none"), True,
        lambda a, b: jnp.square(a - b), GRID),
    "huber": (
        lambda d, delta: F.huber_loss(d, torch.zeros_like(d), reduction="none",
                                      delta=float(delta)), False,
        jax_huber, POSITIVE),
    "binaryCrossEntropy": (
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"), True,
        jax_bce, LABELS),
    "elu": (lambda x, a: F.elu(x, alpha=float(a)), False,
            lambda x, a: jax.nn.elu(x, alpha=a), SLOPES),
    "leakyRelu": (lambda x, a: F.leaky_relu(x, negative_slope=float(a)), False,
                  lambda x, a: jax.nn.leaky_relu(x, negative_slope=a), SLOPES),
}


def literal(x):
    """A Double as text Swift's Double(_:) reads back exactly: hex, or nan, inf, -inf; '-' for
    an absent partial."""
    if x is None:
        return "-"
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x.hex().replace("+", "")


def torch_case(f, differentiable, a, b):
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=differentiable)
    y = f(ta, tb)
    inputs = [ta, tb] if differentiable else [ta]
    grads = torch.autograd.grad(y, inputs, allow_unused=True)
    da = grads[0].item() if grads[0] is not None else 0.0
    db = (grads[1].item() if grads[1] is not None else 0.0) if differentiable else None
    return y.item(), da, db


def subnormal(x):
    return x != 0 and abs(x) < 2.0**-1022


def jax_case(f, a, b):
    """JAX's value and partials; absent where an operand is subnormal, since XLA's CPU backend
    flushes subnormals to zero (5e-324 · 1e300 is 0 there, 0 / 5e-324 NaN)."""
    if subnormal(a) or subnormal(b):
        return None, None, None
    y, (da, db) = jax.value_and_grad(f, argnums=(0, 1))(jnp.float64(a), jnp.float64(b))
    return float(y), float(da), float(db)


def hessians():
    """The Hessian of aᵇ in (a, b): PyTorch's and JAX's, each a 2 × 2 matrix."""
    rows = []
    for a in [0.0, 1.0, 2.0, 0.5]:
        for b in [-1.0, 0.0, 0.5, 1.0, 2.0, 3.0]:
            def tf(v):
                return torch.pow(v[0], v[1])
            th = torch.autograd.functional.hessian(
                tf, torch.tensor([a, b], dtype=torch.float64))
            jh = jax.hessian(lambda v: jnp.power(v[0], v[1]))(jnp.array([a, b], jnp.float64))
            rows.append((a, b, [float(x) for x in th.flatten()],
                         [float(x) for x in jnp.ravel(jh)]))
    return rows


def main():
    lines = []
    for name, (tf, differentiable, jf, second) in FUNCTIONS.items():
        for a in GRID:
            for b in second:
                t = torch_case(tf, differentiable, a, b)
                j = jax_case(jf, a, b)
                lines.append(" ".join(
                    [name, literal(a), literal(b)] + [literal(x) for x in t]
                    + [literal(x) for x in j]))
    hessian_lines = []
    for a, b, th, jh in hessians():
        hessian_lines.append(" ".join(
            [literal(a), literal(b)] + [literal(x) for x in th] + [literal(x) for x in jh]))
    with open(OUT, "w") as out:
        out.write(
            "// Generated by Tests/Reference/two_operand_boundaries.py with PyTorch "
            f"{torch.__version__.split('+')[0]}\n// and JAX {jax.__version__} (float64, CPU); "
            "do not edit.\n\n")
        out.write(
            "/// One line a case: the function, a, b, then PyTorch's value, ∂/∂a and ∂/∂b,"
            " then JAX's;\n/// \"-\" where the framework holds the operand constant.\n")
        # Indented as swift format wants; Swift strips the closing delimiter's indentation.
        out.write("let twoOperandReferences = \"\"\"\n")
        out.write("".join(f"  {line}\n" for line in lines))
        out.write("  \"\"\"\n\n")
        out.write(
            "/// One line a point: a, b, then PyTorch's Hessian of aᵇ in (a, b) by rows, then"
            " JAX's.\n")
        out.write("let powerHessianReferences = \"\"\"\n")
        out.write("".join(f"  {line}\n" for line in hessian_lines))
        out.write("  \"\"\"\n")
    print(f"wrote {len(lines)} cases and {len(hessian_lines)} Hessians to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
