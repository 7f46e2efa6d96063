#!/usr/bin/env python3
"""The peers of `swift run -c release Benchmarks`: the same workloads in NumPy (hand-written
gradients on OpenBLAS) and, when it is installed, PyTorch eager, one thread each.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install numpy torch   # torch optional
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \\
        /tmp/peers/bin/python Sources/Benchmarks/peers.py [W7 W8 W9 W11 W12]

Run it on the same machine, the same day as the Swift benchmark: the docs compare figures from
the two runs, never from elsewhere. Medians of 21 runs after 3 warm-ups, as the Swift harness.
Not needed by the tests or CI.
"""
import statistics
import sys
import time

import numpy as np

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # PyTorch is optional
    torch = None


def median(body, repeats=21, warmups=3):
    for _ in range(warmups):
        body()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def report(workload, peer, seconds, note=""):
    print(f"{workload:32} {peer:18} {seconds * 1e3:10.3f} ms  {note}")


rng = np.random.default_rng(0)

# W7: everyday gradients at n = 10⁶, value and gradient written by hand.
def w7():
    n = 10**6
    x7 = rng.uniform(0.1, 2, n)
    t7 = rng.uniform(-1, 1, n)
    everyday = {
        "sum(x * x)": lambda: ((x7 * x7).sum(), 2 * x7),
        "sum(exp(x))": lambda: (lambda e: (e.sum(), e))(np.exp(x7)),
        "sum(sigmoid(x))": lambda: (lambda y: (y.sum(), y * (1 - y)))(1 / (1 + np.exp(-x7))),
        "logSumExp(x)": lambda: (lambda e: e / e.sum())(np.exp(x7 - x7.max())),
        "meanSquaredError": lambda: (lambda d: ((d * d).mean(), 2 * d / n))(x7 - t7),
        "sum(relu(x - 1))": lambda: (lambda v: (np.maximum(v, 0).sum(), (v > 0) * 1.0))(x7 - 1),
    }
    for name, body in everyday.items():
        report(f"W7 {name}, n = 10^6", "NumPy (by hand)", median(body))
    if torch is not None:
        # Every W7 formula of the Swift benchmark, in the same order, as PyTorch users write it.
        tx7, tt7 = torch.tensor(x7, requires_grad=True), torch.tensor(t7)
        formulas = {
            "x[0]": lambda x: x[0],
            "sum(x)": lambda x: x.sum(),
            "sum(x * x)": lambda x: (x * x).sum(),
            "sum(exp(x))": lambda x: x.exp().sum(),
            "sum(log(x))": lambda x: x.log().sum(),
            "sum(tanh(x))": lambda x: x.tanh().sum(),
            "sum(sigmoid(x))": lambda x: torch.sigmoid(x).sum(),
            "sum(sin(x))": lambda x: x.sin().sum(),
            "logSumExp(x)": lambda x: torch.logsumexp(x, 0),
            "logSoftmax(x)[0]": lambda x: torch.log_softmax(x, 0)[0],
            "meanSquaredError": lambda x: torch.nn.functional.mse_loss(x, tt7),
            "sum(relu(x - 1))": lambda x: torch.relu(x - 1).sum(),
            "sum(max(x, t))": lambda x: torch.maximum(x, tt7).sum(),
        }
        for name, formula in formulas.items():

            def torch_gradient(formula=formula):
                tx7.grad = None
                formula(tx7).backward()

            report(f"W7 {name}, n = 10^6", "PyTorch eager", median(torch_gradient))


# W8: the gradient of mean((AB)²) with respect to A and B.
def w8():
    for n in (256, 512, 1024):
        a = rng.standard_normal((n, n))
        b = rng.standard_normal((n, n))

        def numpy_gradient():
            c = a @ b
            c_bar = c * (2 / c.size)
            return c_bar @ b.T, a.T @ c_bar

        seconds = median(numpy_gradient, repeats=5 if n == 1024 else 21)
        report(f"W8 mean((AB)^2) {n}x{n}", "NumPy (by hand)", seconds,
               f"{3 * 2 * n ** 3 / seconds / 1e9:.1f} GFLOP/s")
        if torch is not None:
            ta = torch.tensor(a, requires_grad=True)
            tb = torch.tensor(b, requires_grad=True)

            def torch_gradient():
                ta.grad = tb.grad = None
                c = ta @ tb
                (c * c).mean().backward()

            seconds = median(torch_gradient, repeats=5 if n == 1024 else 21)
            report(f"W8 mean((AB)^2) {n}x{n}", "PyTorch eager", seconds,
                   f"{3 * 2 * n ** 3 / seconds / 1e9:.1f} GFLOP/s")


# W9: a two-layer network step.
def w9():
    batch, width, classes = 1024, 256, 10
    x = rng.standard_normal((batch, width))
    w1 = rng.standard_normal((width, width)) / np.sqrt(width)
    w2 = rng.standard_normal((width, classes)) * 0.1
    labels = rng.integers(0, classes, batch)


    def numpy_step():
        h = np.tanh(x @ w1)
        z = h @ w2
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(batch), labels] -= 1
        p /= batch
        g2 = h.T @ p
        g1 = x.T @ ((p @ w2.T) * (1 - h * h))
        return g1, g2


    report("W9 two-layer step 1024x256", "NumPy (by hand)", median(numpy_step))
    if torch is not None:
        tx = torch.tensor(x)
        tw1 = torch.tensor(w1, requires_grad=True)
        tw2 = torch.tensor(w2, requires_grad=True)
        tl = torch.tensor(labels)

        def torch_step():
            tw1.grad = tw2.grad = None
            torch.nn.functional.cross_entropy(torch.tanh(tx @ tw1) @ tw2, tl).backward()

        report("W9 two-layer step 1024x256", "PyTorch eager", median(torch_step))


# W11: the breadth formulas of Breadth.swift, in the same order, as PyTorch users write them
def w11():
    # (1000 × 1000 matrices for the formulas with rows). Inputs are drawn alike, not the same draws.
    if torch is not None:
        F = torch.nn.functional
        n, side = 1_000_000, 1000
        x11 = torch.tensor(rng.uniform(0.1, 2, n), requires_grad=True)
        t11 = torch.tensor(rng.uniform(-1, 1, n))
        row11 = torch.tensor(rng.uniform(-1, 1, side))
        column11 = torch.tensor(rng.uniform(-1, 1, (side, 1)))
        tm11 = t11.reshape(side, side)

        labels11 = (t11 > 0).double()

        def m(v):
            return v.reshape(side, side)

        def layer_norm_rows(v):
            c = v - v.mean(1, keepdim=True)
            return (c / (c.var(1, unbiased=False, keepdim=True) + 1e-5).sqrt() * tm11).sum()

        breadth = {
            "sum(x / t)": lambda x: (x / t11).sum(),
            "sum(x - t)": lambda x: (x - t11).sum(),
            "sum(2 * x)": lambda x: (2 * x).sum(),
            "sum(x + 1)": lambda x: (x + 1).sum(),
            "mean(x)": lambda x: x.mean(),
            "sum(pow(x, 2))": lambda x: x.pow(2).sum(),
            "sum(pow(x, 2.5))": lambda x: x.pow(2.5).sum(),
            "sum(sqrt(x))": lambda x: x.sqrt().sum(),
            "sum(abs(x - t))": lambda x: (x - t11).abs().sum(),
            "sum(cos(x))": lambda x: x.cos().sum(),
            "sum(tan(x))": lambda x: x.tan().sum(),
            "sum(softplus(x))": lambda x: F.softplus(x).sum(),
            "sum(logSigmoid(x))": lambda x: F.logsigmoid(x).sum(),
            "sum(gelu(x))": lambda x: F.gelu(x).sum(),
            "sum(swish(x))": lambda x: F.silu(x).sum(),
            "sum(erf(x))": lambda x: torch.erf(x).sum(),
            "sum(log1p(x))": lambda x: torch.log1p(x).sum(),
            "sum(expm1(x))": lambda x: torch.expm1(x).sum(),
            "sum(leakyRelu(x))": lambda x: F.leaky_relu(x).sum(),
            "sum(elu(x - 1))": lambda x: F.elu(x - 1).sum(),
            "sum(clamp(x, 0.5, 1.5))": lambda x: x.clamp(0.5, 1.5).sum(),
            "variance(x)": lambda x: x.var(unbiased=False),
            "sum(tanh(x) * x)": lambda x: (x.tanh() * x).sum(),
            "sum(M + row)": lambda x: (m(x) + row11).sum(),
            "sum(M * row)": lambda x: (m(x) * row11).sum(),
            "sum(M * column)": lambda x: (m(x) * column11).sum(),
            "sum(sum(M, axis 1)²)": lambda x: (m(x).sum(1) ** 2).sum(),
            "sum(sum(M, axis 0)²)": lambda x: (m(x).sum(0) ** 2).sum(),
            "sum(max(M, axis 1))": lambda x: m(x).max(1).values.sum(),
            "sum(softmax(M) * T)": lambda x: (torch.softmax(m(x), 1) * tm11).sum(),
            "sum(Mᵀ * T)": lambda x: (m(x).T * tm11).sum(),
            "sum(x[1000...])": lambda x: x[1000:].sum(),
            "sum(pow(x, 3))": lambda x: x.pow(3).sum(),
            "sum(sin(x) * cos(x))": lambda x: (x.sin() * x.cos()).sum(),
            "sum(min(x, t))": lambda x: torch.minimum(x, t11).sum(),
            "sum(relu(1 - x * t))": lambda x: torch.relu(1 - x * t11).sum(),
            "huberLoss(x, t)": lambda x: F.huber_loss(x, t11),
            "binaryCrossEntropy(x, t > 0)": lambda x: F.binary_cross_entropy_with_logits(
                x, labels11
            ),
            "sum(layerNorm(M) * T)": lambda x: layer_norm_rows(m(x)),
            "sum(prod(M, axis 1))": lambda x: m(x).prod(1).sum(),
            "sum(prod(M, axis 0))": lambda x: m(x).prod(0).sum(),
            "sum(x * x * x)": lambda x: (x * x * x).sum(),
            "sum(concatenate(x, x))": lambda x: torch.cat([x, x]).sum(),
            "sum(M column)": lambda x: (m(x) @ column11).sum(),
            "sum(atan(x))": lambda x: x.atan().sum(),
            "entropy(softmax(x))": lambda x: -(torch.softmax(x, 0) * torch.log_softmax(x, 0)).sum(),
            "sum(sinh(x))": lambda x: x.sinh().sum(),
            "sum(cosh(x))": lambda x: x.cosh().sum(),
            "sum(asinh(x))": lambda x: x.asinh().sum(),
            "sum(acosh(x + 1))": lambda x: (x + 1).acosh().sum(),
            "sum(atanh(x / 2.5))": lambda x: (x / 2.5).atanh().sum(),
            "sum(asin(x / 2.5))": lambda x: (x / 2.5).asin().sum(),
            "sum(acos(x / 2.5))": lambda x: (x / 2.5).acos().sum(),
            "sum(exp2(x))": lambda x: torch.exp2(x).sum(),
            "sum(log2(x))": lambda x: x.log2().sum(),
            "sum(log10(x))": lambda x: x.log10().sum(),
            "sum(hypot(x, t))": lambda x: torch.hypot(x, t11).sum(),
            "sum(atan2(x, t))": lambda x: torch.atan2(x, t11).sum(),
            "sum(pow(x, t))": lambda x: torch.pow(x, t11).sum(),
            "sum(pow(x / 2.5, x))": lambda x: torch.pow(x / 2.5, x).sum(),
        }
        for name, formula in breadth.items():

            def torch_gradient(formula=formula):
                x11.grad = None
                formula(x11).backward()

            report(f"W11 {name}", "PyTorch eager", median(torch_gradient))


# W12: one Adam step of the digits MLP (64-32-10, relu, mean cross-entropy), as a PyTorch user
# writes it: zero_grad, forward, backward, step.
def w12():
    if torch is None:
        return
    for batch in (32, 256):
        torch.manual_seed(12)
        model = torch.nn.Sequential(
            torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)).double()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(batch, 64, dtype=torch.float64)
        labels = torch.randint(0, 10, (batch,))

        def torch_step():
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), labels).backward()
            optimizer.step()

        report(f"W12 digits MLP step, batch {batch}", "PyTorch eager", median(torch_step))


workloads = {"W7": w7, "W8": w8, "W9": w9, "W11": w11, "W12": w12}
selected = sys.argv[1:] or list(workloads)
for name in selected:
    if name not in workloads:
        sys.exit(f"error: unknown workload {name!r}; choose from {', '.join(workloads)}")
for name in selected:
    workloads[name]()
