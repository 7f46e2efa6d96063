// The natural logarithm, ln(1 + x), atanh, log₂ and log₁₀, four or eight lanes at a time (see
// BackpropKernels.h for why this is C).
//
// The method is fdlibm's:
//   x = 2^k m with √2/2 <= m < √2 (a subnormal x is first scaled by 2^54), f = m - 1, exact;
//   ln(1 + f) = 2 atanh(s) with s = f / (2 + f), |s| <= 0.1716, that is
//   ln(1 + f) = f - (f²/2 - s (f²/2 + R)), R = Σₙ 2 s²ⁿ / (2n + 1) for n = 1…11, whose
//   truncation is below 10⁻¹⁹ of the result;
//   ln x = k ln2_high + (f - (f²/2 - (s (f²/2 + R) + (k ln2_low + c)))), k ln2_high exact,
//   where c = 0 for ln x. For ln(1 + x), u = 1 + x is rounded, and c = (1 + x - u) / u, the
//   rounding recovered exactly, is the first-order term of ln((1 + x) / u); where u is within
//   [√2/2, √2) (-0.29 < x < 0.41) there is no rounding to recover: k = 0 and f = x itself.
// The small terms are added first, so that each rounding is of a quantity smaller than the
// result; the error is below 1 ulp (LogarithmTests measures every build against 80-bit log
// and log1p). Special values are chosen at the end: ln 0 = -inf, ln of a negative = NaN,
// ln +inf = +inf, and likewise at x = -1, below it and at +inf for ln(1 + x).

#include "BackpropKernels.h"

#include "Lanes.h"

static const double sqrt2 = 0x1.6a09e667f3bcdp+0;

// The coefficients 2/(2n + 1) of the series R, n = 1…11.
static const double logarithm_coefficients[11] = {
    0x1.5555555555555p-1, 0x1.999999999999ap-2, 0x1.2492492492492p-2, 0x1.c71c71c71c71cp-3,
    0x1.745d1745d1746p-3, 0x1.3b13b13b13b14p-3, 0x1.1111111111111p-3, 0x1.e1e1e1e1e1e1ep-4,
    0x1.af286bca1af28p-4, 0x1.8618618618618p-4, 0x1.642c8590b2164p-4,
};

#define DEFINE_LOGARITHM(W)                                                                     \
  /* k ln 2 + ln(1 + f) + c, for |f| <= √2 - 1 and c a correction below an ulp of the sum. */  \
  /* R = Σₙ 2 s²ⁿ / (2n + 1) for n = 1…11, from z = s² (Estrin's scheme, Lanes.h). */         \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W logarithm_series##W(Lanes##W z) {       \
    return polynomial11_##W(z, logarithm_coefficients) * z;                                    \
  }                                                                                            \
                                                                                               \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W logarithm_reduced##W(                  \
      Lanes##W k, Lanes##W f, Lanes##W c) {                                                    \
    Lanes##W s = f / (2.0 + f);                                                                \
    Lanes##W r = logarithm_series##W(s * s);                                                   \
    Lanes##W half_square = 0.5 * f * f;                                                        \
    return k * ln2_high + (f - (half_square - (s * (half_square + r) + (k * ln2_low + c))));   \
  }                                                                                            \
                                                                                               \
  /* y = 2^k m with √2/2 <= m < √2, for y positive and normal: sets k and returns m - 1. */   \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W logarithm_split##W(                    \
      Lanes##W y, Lanes##W *k_out) {                                                           \
    Bits##W bits = (Bits##W)y;                                                                 \
    /* The biased exponent as a double: its bits under 2^52's, less 2^52. */                  \
    Lanes##W exponent = (Lanes##W)((bits >> 52) | 0x4330000000000000) - 0x1p52;               \
    Lanes##W m = (Lanes##W)((bits & 0x000fffffffffffff) | 0x3ff0000000000000);                \
    Mask##W high = m > sqrt2;                                                                  \
    *k_out = exponent - 1023.0 + select_lanes##W(high, (Lanes##W)1.0, (Lanes##W)0.0);         \
    return select_lanes##W(high, m * 0.5, m) - 1.0;                                            \
  }                                                                                            \
                                                                                               \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W logarithm##W(Lanes##W x) {              \
    /* A subnormal is scaled into the normal range, and its exponent corrected below. */      \
    Mask##W subnormal = x < 0x1p-1022;                                                         \
    Lanes##W k;                                                                                \
    Lanes##W f = logarithm_split##W(select_lanes##W(subnormal, x * 0x1p54, x), &k);            \
    k = k - select_lanes##W(subnormal, (Lanes##W)54.0, (Lanes##W)0.0);                         \
    Lanes##W result = logarithm_reduced##W(k, f, (Lanes##W)0.0);                               \
    result = select_lanes##W(x == 0.0, (Lanes##W)(-INFINITY), result);                         \
    result = select_lanes##W(x < 0.0, (Lanes##W)NAN, result);                                  \
    /* +inf and NaN give themselves. */                                                        \
    return select_lanes##W(x == INFINITY || x != x, x, result);                                \
  }                                                                                            \
                                                                                               \
  /* ln(1 + x + x_low) for a finite x_low far below an ulp of x (0 for ln(1 + x) itself): the */ \
  /* low part joins the rounding c recovered, as x_low/(1 + x) to first order. */               \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W logarithm_one_plus_pair##W(             \
      Lanes##W x, Lanes##W x_low) {                                                            \
    Lanes##W u = 1.0 + x;                                                                      \
    Lanes##W k;                                                                                \
    Lanes##W f = logarithm_split##W(u, &k);                                                    \
    /* 1 + x - u, exactly: u - x is exact where u >= 2 (x >= 1), and u - 1 where u < 2. */    \
    Lanes##W c = (select_lanes##W(u >= 2.0, 1.0 - (u - x), x - (u - 1.0)) + x_low) / u;       \
    Mask##W near = (x > -0x1.2bec333018866p-2) & (x < 0x1.a827999fcef34p-2);                   \
    k = select_lanes##W(near, (Lanes##W)0.0, k);                                               \
    f = select_lanes##W(near, x, f);                                                           \
    c = select_lanes##W(near, x_low / u, c);                                                   \
    Lanes##W result = logarithm_reduced##W(k, f, c);                                           \
    result = select_lanes##W(x == -1.0, (Lanes##W)(-INFINITY), result);                        \
    result = select_lanes##W(x < -1.0, (Lanes##W)NAN, result);                                 \
    /* ±0 gives itself (the sum above would make -0 +0), +inf and NaN give themselves. */     \
    return select_lanes##W(x == 0.0 || x == INFINITY || x != x, x, result);                    \
  }                                                                                            \
                                                                                               \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W logarithm_one_plus##W(Lanes##W x) {     \
    return logarithm_one_plus_pair##W(x, (Lanes##W)0.0);                                       \
  }                                                                                            \
                                                                                               \
  /* log_b x = k log_b 2 + ln(1 + f)/ln b for log₂ and log₁₀, with ln(1 + f) as head + tail:    */ \
  /* head = f − f²/2 rounded, the tail its rounding error (a two-sum, exact since f²/2 < |f|),  */ \
  /* less f²/2's own (a fused multiply-add), plus s (f²/2 + R). The products by the constants, */ \
  /* each a pair, keep their rounding errors by fused multiply-adds, and the large terms are    */ \
  /* added by a two-sum: one rounding of the result's size, the last. So log₂ 2ᵏ = k and       */ \
  /* log₁₀ 10ⁿ = n exactly, and within 0.7 ulp (LogarithmTests: 0.69 and 0.65). */             \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W logarithm_base##W(       \
      Lanes##W x, double scale_high, double scale_low, double two_high, double two_low) {      \
    Mask##W subnormal = x < 0x1p-1022;                                                         \
    Lanes##W k;                                                                                \
    Lanes##W f = logarithm_split##W(select_lanes##W(subnormal, x * 0x1p54, x), &k);            \
    k = k - select_lanes##W(subnormal, (Lanes##W)54.0, (Lanes##W)0.0);                         \
    Lanes##W s = f / (2.0 + f);                                                                \
    Lanes##W half_f = 0.5 * f;                                                                 \
    Lanes##W half_square = half_f * f;                                                         \
    Lanes##W square_error = __builtin_elementwise_fma(half_f, f, -half_square);                \
    Lanes##W head = f - half_square;                                                           \
    Lanes##W tail = (((f - head) - half_square) - square_error)                                \
                    + s * (half_square + logarithm_series##W(s * s));                          \
    /* (head + tail)(scale_high + scale_low) and k (two_high + two_low), each as a pair. */    \
    Lanes##W product = head * scale_high;                                                      \
    Lanes##W product_error = __builtin_elementwise_fma(head, (Lanes##W)scale_high, -product);  \
    Lanes##W multiple = k * two_high;                                                          \
    Lanes##W multiple_error = __builtin_elementwise_fma(k, (Lanes##W)two_high, -multiple);     \
    Lanes##W sum = multiple + product;                                                         \
    Lanes##W virtual_product = sum - multiple;                                                 \
    Lanes##W sum_error = (multiple - (sum - virtual_product)) + (product - virtual_product);    \
    Lanes##W rest = ((sum_error + product_error) + multiple_error)                             \
                    + ((head * scale_low + tail * scale_high) + k * two_low);                  \
    Lanes##W result = sum + rest;                                                              \
    result = select_lanes##W(x == 0.0, (Lanes##W)(-INFINITY), result);                         \
    result = select_lanes##W(x < 0.0, (Lanes##W)NAN, result);                                  \
    return select_lanes##W(x == INFINITY || x != x, x, result);                                \
  }                                                                                            \
                                                                                               \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W binary_logarithm##W(Lanes##W x) {       \
    return logarithm_base##W(x, 0x1.71547652b82fep+0, 0x1.777d0ffda0d24p-56, 1.0, 0.0);       \
  }                                                                                            \
                                                                                               \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W decimal_logarithm##W(Lanes##W x) {      \
    return logarithm_base##W(                                                                  \
        x, 0x1.bcb7b1526e50ep-2, 0x1.95355baaafad3p-57, 0x1.34413509f79ffp-2,                  \
        -0x1.9dc1da994fd21p-59);                                                               \
  }                                                                                            \
                                                                                               \
  /* atanh x = ln((1 + a)/(1 − a))/2 = ln(1 + u)/2 with u = 2a/(1 − a), a = |x|, and x's sign. */ \
  /* 1 − a is exact from a = 1/2 up (Sterbenz); below, its rounding d is recovered exactly, and */ \
  /* u carries its residual, so that ln(1 + u) sees u to twice a Double's precision: within the */ \
  /* logarithm's 0.8 ulp. a = 1 gives ∞, a > 1 and NaN give NaN, ±0 and tiny x give x. */       \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W inverse_hyperbolic_tangent##W(Lanes##W x) { \
    Lanes##W a = __builtin_elementwise_abs(x);                                                 \
    Lanes##W numerator = 2.0 * a;                                                              \
    Lanes##W denominator = 1.0 - a;                                                            \
    Lanes##W d = (1.0 - denominator) - a; /* 1 − a = denominator + d, both steps exact */      \
    Lanes##W u = numerator / denominator;                                                      \
    Lanes##W u_low =                                                                           \
        (__builtin_elementwise_fma(-u, denominator, numerator) - u * d) / denominator;         \
    u_low = select_lanes##W((denominator > 0.0) & (u < INFINITY), u_low, (Lanes##W)0.0);       \
    Lanes##W result = 0.5 * logarithm_one_plus_pair##W(u, u_low);                              \
    return __builtin_elementwise_copysign(result, x);                                          \
  }

DEFINE_LOGARITHM(2)
DEFINE_LOGARITHM(4)
DEFINE_LOGARITHM(8)
DEFINE_KERNEL_ENTRIES(logarithms, logarithm, 1.0)
DEFINE_KERNEL_ENTRIES(logarithms_one_plus, logarithm_one_plus, 0.0)
DEFINE_KERNEL_ENTRIES(inverse_hyperbolic_tangents, inverse_hyperbolic_tangent, 0.0)
DEFINE_KERNEL_ENTRIES(binary_logarithms, binary_logarithm, 1.0)
DEFINE_KERNEL_ENTRIES(decimal_logarithms, decimal_logarithm, 1.0)
