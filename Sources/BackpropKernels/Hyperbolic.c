// The hyperbolic sine and cosine, two, four or eight lanes at a time (see BackpropKernels.h for
// why this is C). With a = |x|:
//
// - For a < 1, their Taylor series: sinh a = a + a z P(z) and cosh a = 1 + (z/2 + (e/2 + z² Q(z)))
//   with z = a² rounded and e its exact rounding error (a fused multiply-add), through a²¹ and
//   a²⁰ (truncation below 10⁻¹⁹ of the result). The last addition is the only rounding of the
//   result's size.
// - For a >= 1, from the exponential's reduction (Lanes.h): e^a = 2^k (1 + m), 1 + m carried as
//   an exact pair h + l, and e^−a = 2^−k / (h + l) as the quotient b and its residual, so
//     sinh a = 2^(k−1) ((h + l) − 2^−2k/(h + l)),   cosh a = 2^(k−1) ((h + l) + 2^−2k/(h + l)),
//   summed with the rounding error of h ∓ b kept, and scaled once. The subtraction cancels at
//   most by e^a / (2 sinh a) <= 1.16 (at a = 1), where the series takes over. m's own rounding
//   is a sixth of an ulp, so the result is within about 0.7 ulp. Scaling by 2^(k−1) rather than
//   2^k keeps both finite up to a = 710.4758…, past e^a's overflow at 709.78; beyond, and at ∞,
//   2^(k−1) overflows to +∞.
// NaN gives NaN; sinh is odd (±0 gives ±0), cosh even. NearZeroKernelTests measures every build
// against 80-bit results.

#include "BackpropKernels.h"

#include "Lanes.h"

#define DEFINE_HYPERBOLIC(W)                                                                     \
  /* 2^(k−1) (h + l ± 2^−2k/(h + l)) for a >= 1, a clamped to 711 (where 2^(k−1) overflows). */   \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W hyperbolic_large##W(      \
      Lanes##W a, double sign) {                                                                 \
    Lanes##W k;                                                                                  \
    Lanes##W m = exponential_reduced##W(select_lanes##W(a > 711.0, (Lanes##W)711.0, a), &k);     \
    Lanes##W h = 1.0 + m;                                                                        \
    Lanes##W l = (1.0 - h) + m;                                                                  \
    /* 2^−2k, its exponent kept normal: below 2^−1022 the term is far under an ulp of h. */      \
    Lanes##W power = power_of_two##W(select_lanes##W(k > 511.0, (Lanes##W)-1022.0, -2.0 * k));   \
    Lanes##W b = power / h;                                                                      \
    /* power/(h + l) − b, to first order: (power − b h)/h − b l/h. */                            \
    Lanes##W b_low = (__builtin_elementwise_fma(-b, h, power) - b * l) / h;                      \
    Lanes##W sb = sign * b;                                                                      \
    Lanes##W sum = h + sb;                                                                       \
    Lanes##W sum_error = (h - sum) + sb; /* exact: |h| >= |b| */                                 \
    Lanes##W v = sum + (sum_error + (l + sign * b_low));                                         \
    return scaled##W(v, k - 1.0);                                                                \
  }                                                                                              \
                                                                                                 \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W hyperbolic_sine##W(       \
      Lanes##W x) {                                                                              \
    Lanes##W a = __builtin_elementwise_abs(x);                                                   \
    Lanes##W z = a * a;                                                                          \
    /* P(z) = Σ z^(n−1) / (2n + 1)! for n = 1…10. */                                             \
    Lanes##W p = (Lanes##W)0x1.71b8ef6dcf572p-66;                                                \
    p = p * z + 0x1.2f49b46814157p-57;                                                           \
    p = p * z + 0x1.952c77030ad4ap-49;                                                           \
    p = p * z + 0x1.ae7f3e733b81fp-41;                                                           \
    p = p * z + 0x1.6124613a86d09p-33;                                                           \
    p = p * z + 0x1.ae64567f544e4p-26;                                                           \
    p = p * z + 0x1.71de3a556c734p-19;                                                           \
    p = p * z + 0x1.a01a01a01a01ap-13;                                                           \
    p = p * z + 0x1.1111111111111p-7;                                                            \
    p = p * z + 0x1.5555555555555p-3;                                                            \
    Lanes##W series = a + a * (z * p);                                                           \
    Lanes##W magnitude = select_lanes##W(a < 1.0, series, hyperbolic_large##W(a, -1.0));         \
    Lanes##W result = __builtin_elementwise_copysign(magnitude, x);                              \
    return select_lanes##W(x != x, x, result);                                                   \
  }                                                                                              \
                                                                                                 \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W hyperbolic_cosine##W(     \
      Lanes##W x) {                                                                              \
    Lanes##W a = __builtin_elementwise_abs(x);                                                   \
    Lanes##W z = a * a;                                                                          \
    Lanes##W e = __builtin_elementwise_fma(a, a, -z);                                            \
    /* Q(z) = Σ z^(n−2) / (2n)! for n = 2…10. */                                                 \
    Lanes##W q = (Lanes##W)0x1.e542ba4020225p-62;                                                \
    q = q * z + 0x1.6827863b97d97p-53;                                                           \
    q = q * z + 0x1.ae7f3e733b81fp-45;                                                           \
    q = q * z + 0x1.93974a8c07c9dp-37;                                                           \
    q = q * z + 0x1.1eed8eff8d898p-29;                                                           \
    q = q * z + 0x1.27e4fb7789f5cp-22;                                                           \
    q = q * z + 0x1.a01a01a01a01ap-16;                                                           \
    q = q * z + 0x1.6c16c16c16c17p-10;                                                           \
    q = q * z + 0x1.5555555555555p-5;                                                            \
    Lanes##W series = 1.0 + (0.5 * z + (0.5 * e + z * z * q));                                   \
    Lanes##W result = select_lanes##W(a < 1.0, series, hyperbolic_large##W(a, 1.0));             \
    return select_lanes##W(x != x, x, result);                                                   \
  }

DEFINE_HYPERBOLIC(2)
DEFINE_HYPERBOLIC(4)
DEFINE_HYPERBOLIC(8)
DEFINE_KERNEL_ENTRIES(hyperbolic_sines, hyperbolic_sine, 0.0)
DEFINE_KERNEL_ENTRIES(hyperbolic_cosines, hyperbolic_cosine, 0.0)
