// The logistic sigmoid and its pullback, two, four or eight lanes at a time (see
// BackpropKernels.h for why this is C).
//
//   σ(x) = 1/(1 + t) for x ≥ 0 and t/(1 + t) for x < 0, with t = e^(−|x|) ≤ 1,
// so neither side overflows or cancels, and the left tail keeps its relative accuracy where
// σ(x) ≈ eˣ. 1 + t is carried as an exact pair and the quotient corrected by its exact residual
// (a fused multiply-add), so the exponential's error and the last rounding are what remain:
// within 1.5 ulps, where rounding 1 + t and then dividing measured 2.03. Both sides run in every
// lane and a select keeps one, with no branch, and Backprop's scalar σ calls the same lanes: the
// same bits for a scalar and for a tensor holding it (SigmoidTests).
//
// The pullback is x̄ = ȳ (y σ(−x)), with σ(−x) evaluated the same way from −x rather than as
// 1 − y, which cancels where y is near 1 (σ′(40) ≈ 4·10⁻¹⁸, and 1 − σ(40) rounds to 0). It
// takes the cotangent, the input and the output in one pass, and may write over the cotangent or
// over the output (each lane reads before it writes); a null cotangent is `uniform` everywhere.

#include "BackpropKernels.h"

#include "Lanes.h"

#define DEFINE_SIGMOID(W)                                                                       \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W sigmoid##W(Lanes##W x) {               \
    Lanes##W t = exponential##W((Lanes##W)((Bits##W)x | 0x8000000000000000));                  \
    /* 1 + t as an exact pair (t ≤ 1), and the quotient corrected by its exact residual. */    \
    Lanes##W d = 1.0 + t;                                                                      \
    Lanes##W d_low = (1.0 - d) + t;                                                            \
    /* NaN compares false and takes t/(1 + t), which is NaN. */                                \
    Lanes##W n = select_lanes##W(x >= 0.0, (Lanes##W)1.0, t);                                  \
    /* One division: n/d as n · (1/d), then one Newton step with the exact residual, whose   \
       correction is a few ulps and so needs 1/d only roughly. */                               \
    Lanes##W inverse = 1.0 / d;                                                                \
    Lanes##W q = n * inverse;                                                                  \
    Lanes##W r = __builtin_elementwise_fma(-q, d, n);                                          \
    return q + (r - q * d_low) * inverse;                                                      \
  }                                                                                             \
                                                                                                \
  /* σ(x) and σ′(x) = σ(x) σ(−x) from one exponential: σ(−x) shares t and 1 + t and takes the \
     other numerator (1 where x ≤ 0, t where x > 0 or is NaN), which are the operations       \
     sigmoid##W(−x) does, so both results have the bits of σ(x) and σ(x) · σ(−x) computed    \
     apart. */                                                                                 \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W sigmoid_and_derivative##W(             \
      Lanes##W x, Lanes##W *derivative) {                                                       \
    Lanes##W t = exponential##W((Lanes##W)((Bits##W)x | 0x8000000000000000));                  \
    Lanes##W d = 1.0 + t;                                                                      \
    Lanes##W d_low = (1.0 - d) + t;                                                            \
    Lanes##W n = select_lanes##W(x >= 0.0, (Lanes##W)1.0, t);                                  \
    Lanes##W m = select_lanes##W(x <= 0.0, (Lanes##W)1.0, t);                                  \
    Lanes##W inverse = 1.0 / d;                                                                \
    Lanes##W q = n * inverse, p = m * inverse;                                                 \
    Lanes##W r = __builtin_elementwise_fma(-q, d, n);                                          \
    Lanes##W s = __builtin_elementwise_fma(-p, d, m);                                          \
    q = q + (r - q * d_low) * inverse;                                                         \
    p = p + (s - p * d_low) * inverse;                                                         \
    *derivative = q * p;                                                                       \
    return q;                                                                                  \
  }                                                                                             \
                                                                                                \
  static inline __attribute__((always_inline)) LANE_TARGET##W void sigmoid_pullbacks##W(                       \
      const double *cotangent, double uniform, const double *source, const double *output,     \
      double *destination, ptrdiff_t count) {                                                   \
    ptrdiff_t index = 0;                                                                       \
    for (; index + W <= count; index += W) {                                                   \
      Lanes##W g = (Lanes##W)uniform, x, y;                                                    \
      if (cotangent) memcpy(&g, cotangent + index, sizeof g);                                  \
      memcpy(&x, source + index, sizeof x);                                                    \
      memcpy(&y, output + index, sizeof y);                                                    \
      Lanes##W r = g * (y * sigmoid##W(-x));                                                   \
      memcpy(destination + index, &r, sizeof r);                                               \
    }                                                                                          \
    if (index < count) {                                                                       \
      Lanes##W g = (Lanes##W)0.0, x = (Lanes##W)0.0, y = (Lanes##W)0.0;                        \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) {                                 \
        g[lane] = cotangent ? cotangent[index + lane] : uniform;                               \
        x[lane] = source[index + lane];                                                        \
        y[lane] = output[index + lane];                                                        \
      }                                                                                        \
      Lanes##W r = g * (y * sigmoid##W(-x));                                                   \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) destination[index + lane] = r[lane]; \
    }                                                                                          \
  }

DEFINE_SIGMOID(2)
DEFINE_SIGMOID(4)
DEFINE_SIGMOID(8)
DEFINE_KERNEL_ENTRIES(sigmoids, sigmoid, 0.0)
DEFINE_PAIR_KERNEL_ENTRIES(sigmoids_and_derivatives, sigmoid_and_derivative, 0.0)

BP_REGISTER(
    sigmoid_pullbacks, BP_SIGNATURE_SIGMOID_PULLBACKS, sigmoid_pullbacks4, sigmoid_pullbacks8,
    sigmoid_pullbacks8)
