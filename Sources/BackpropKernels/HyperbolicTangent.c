// The hyperbolic tangent, two, four or eight lanes at a time (see BackpropKernels.h for why this
// is C). tanh is odd, so the kernel works on a = |x| and puts the sign back.
//
//   a < 0.55: tanh a = a + a³ P(a²), P the Taylor series of (tanh a − a)/a³ through a³⁹, whose
//   truncation is below 5·10⁻¹⁹ of the result; the correction a³ P(a²) is under a tenth of a,
//   so its rounding costs little.
//   a ≥ 0.55: tanh a = 1 − 2/(E + 1) with E = e^(2a) carried as a double-double (the
//   exponential's own reduction, with 1 + p split exactly into high and low parts), E + 1 and
//   2/(E + 1) corrected by their exact residuals (fused multiply-adds), and 1 − d by an exact
//   two-sum: the only rounding left that matters is the last one. Above 20 the result rounds
//   to 1, and a is clamped there so that E stays finite.
// Both branches run in every lane and a select keeps one: no branches, and so the same bits for
// a scalar and for a tensor holding it (HyperbolicTangentTests measures the error against
// 80-bit tanh).

#include "BackpropKernels.h"

#include "Lanes.h"

#define DEFINE_TANH(W)                                                                          \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W hyperbolic_tangent##W(Lanes##W x) {    \
    Bits##W sign = (Bits##W)x & 0x8000000000000000;                                            \
    Lanes##W a = (Lanes##W)((Bits##W)x & 0x7fffffffffffffff);                                  \
    /* Near 0: a + a³ P(a²). */                                                                \
    Lanes##W z = a * a;                                                                        \
    Lanes##W p = (Lanes##W)-0x1.eb3229047434cp-26;                                             \
    p = p * z + 0x1.2efe8db3aff1fp-24;                                                         \
    p = p * z - 0x1.75cde6563fed9p-23;                                                         \
    p = p * z + 0x1.cd299de4ae6bbp-22;                                                         \
    p = p * z - 0x1.1c77df95c1c0dp-20;                                                         \
    p = p * z + 0x1.5ef2da474e5b7p-19;                                                         \
    p = p * z - 0x1.b0f72d3ee24e9p-18;                                                         \
    p = p * z + 0x1.0b132d39a6050p-16;                                                         \
    p = p * z - 0x1.497d8eea25259p-15;                                                         \
    p = p * z + 0x1.967e18afcafadp-14;                                                         \
    p = p * z - 0x1.f57d7734d1664p-13;                                                         \
    p = p * z + 0x1.3558248036744p-11;                                                         \
    p = p * z - 0x1.7da36452b75e3p-10;                                                         \
    p = p * z + 0x1.d6d3d0e157de0p-9;                                                          \
    p = p * z - 0x1.226e355e6c23dp-7;                                                          \
    p = p * z + 0x1.664f4882c10fap-6;                                                          \
    p = p * z - 0x1.ba1ba1ba1ba1cp-5;                                                          \
    p = p * z + 0x1.1111111111111p-3;                                                          \
    p = p * z - 0x1.5555555555555p-2;                                                          \
    Lanes##W near = a + a * (z * p);                                                           \
    /* Away from 0: E = e^(2a) = 2^k (e_high + e_low), as the exponential reduces it. */       \
    Lanes##W twice = select_lanes##W(a > 20.0, (Lanes##W)40.0, a + a);                         \
    Lanes##W k;                                                                                \
    Lanes##W small = exponential_reduced##W(twice, &k);                                        \
    Lanes##W e_high = 1.0 + small;                                                             \
    Lanes##W e_low = (1.0 - e_high) + small; /* exact: |small| < 1 */                          \
    Lanes##W scale = power_of_two##W(k);                                                       \
    e_high = e_high * scale;                                                                   \
    e_low = e_low * scale;                                                                     \
    /* D = E + 1, exactly as a pair: E ≥ 1. */                                                 \
    Lanes##W d_high = e_high + 1.0;                                                            \
    Lanes##W d_low = ((e_high - d_high) + 1.0) + e_low;                                        \
    /* 2/D: the quotient, corrected by its exact residual 2 − q D_high and by D_low. */        \
    Lanes##W quotient = 2.0 / d_high;                                                          \
    Lanes##W residual = __builtin_elementwise_fma(-quotient, d_high, (Lanes##W)2.0);           \
    Lanes##W correction = (residual - quotient * d_low) / d_high;                              \
    /* 1 − (quotient + correction): 1 − quotient by an exact two-sum, quotient ≤ 1. */         \
    Lanes##W t = 1.0 - quotient;                                                               \
    Lanes##W t_error = (1.0 - t) - quotient;                                                   \
    Lanes##W far = t + (t_error - correction);                                                 \
    Lanes##W result = select_lanes##W(a < 0.55, near, far);                                    \
    /* NaN gives NaN; the sign goes back on. */                                                \
    result = select_lanes##W(x != x, x, result);                                               \
    return (Lanes##W)((Bits##W)result | sign);                                                 \
  }

DEFINE_TANH(2)
DEFINE_TANH(4)
DEFINE_TANH(8)
DEFINE_KERNEL_ENTRIES(hyperbolic_tangents, hyperbolic_tangent, 0.0)
