// The natural logarithm, four or eight lanes at a time (see BackpropKernels.h for why this is C).
//
// The method is fdlibm's:
//   x = 2^k m with √2/2 <= m < √2 (a subnormal x is first scaled by 2^54), f = m - 1, exact;
//   ln(1 + f) = 2 atanh(s) with s = f / (2 + f), |s| <= 0.1716, that is
//   ln(1 + f) = f - (f²/2 - s (f²/2 + R)), R = Σₙ 2 s²ⁿ / (2n + 1) for n = 1…11, whose
//   truncation is below 10⁻¹⁹ of the result;
//   ln x = k ln2_high + (f - (f²/2 - (s (f²/2 + R) + k ln2_low))), k ln2_high exact.
// The small terms are added first, so that each rounding is of a quantity smaller than the
// result; the error is below 1 ulp (LogarithmTests measures both builds against 80-bit log).
// Special values are chosen at the end: ln 0 = -inf, ln of a negative = NaN, ln +inf = +inf.

#include "BackpropKernels.h"

#include "Lanes.h"

static const double sqrt2 = 0x1.6a09e667f3bcdp+0;

#define DEFINE_LOGARITHM(W)                                                                     \
  static inline __attribute__((always_inline)) Lanes##W logarithm##W(Lanes##W x) {              \
    /* A subnormal is scaled into the normal range, and its exponent corrected below. */      \
    Mask##W subnormal = x < 0x1p-1022;                                                         \
    Lanes##W scaled = select_lanes##W(subnormal, x * 0x1p54, x);                               \
    Bits##W bits = (Bits##W)scaled;                                                            \
    /* The biased exponent as a double: its bits under 2^52's, less 2^52. */                  \
    Lanes##W exponent = (Lanes##W)((bits >> 52) | 0x4330000000000000) - 0x1p52;               \
    Lanes##W m = (Lanes##W)((bits & 0x000fffffffffffff) | 0x3ff0000000000000);                \
    Mask##W high = m > sqrt2;                                                                  \
    m = select_lanes##W(high, m * 0.5, m);                                                     \
    Lanes##W k = exponent - 1023.0 + select_lanes##W(high, (Lanes##W)1.0, (Lanes##W)0.0) -     \
                 select_lanes##W(subnormal, (Lanes##W)54.0, (Lanes##W)0.0);                    \
    Lanes##W f = m - 1.0;                                                                      \
    Lanes##W s = f / (2.0 + f);                                                                \
    Lanes##W z = s * s;                                                                        \
    Lanes##W r = (Lanes##W)0x1.642c8590b2164p-4;                                               \
    r = r * z + 0x1.8618618618618p-4;                                                          \
    r = r * z + 0x1.af286bca1af28p-4;                                                          \
    r = r * z + 0x1.e1e1e1e1e1e1ep-4;                                                          \
    r = r * z + 0x1.1111111111111p-3;                                                          \
    r = r * z + 0x1.3b13b13b13b14p-3;                                                          \
    r = r * z + 0x1.745d1745d1746p-3;                                                          \
    r = r * z + 0x1.c71c71c71c71cp-3;                                                          \
    r = r * z + 0x1.2492492492492p-2;                                                          \
    r = r * z + 0x1.999999999999ap-2;                                                          \
    r = r * z + 0x1.5555555555555p-1;                                                          \
    r = r * z;                                                                                 \
    Lanes##W half_square = 0.5 * f * f;                                                        \
    Lanes##W result =                                                                          \
        k * ln2_high + (f - (half_square - (s * (half_square + r) + k * ln2_low)));            \
    result = select_lanes##W(x == 0.0, (Lanes##W)(-INFINITY), result);                         \
    result = select_lanes##W(x < 0.0, (Lanes##W)NAN, result);                                  \
    /* +inf and NaN give themselves. */                                                        \
    return select_lanes##W(x == INFINITY || x != x, x, result);                                \
  }

DEFINE_LOGARITHM(2)
DEFINE_LOGARITHM(4)
DEFINE_LANE_MAP(logarithms, logarithm, 4, 1.0)
DEFINE_LOGARITHM(8)
DEFINE_LANE_MAP(logarithms, logarithm, 8, 1.0)

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static double logarithm_fma(double x) {
  return logarithm2((Lanes2){x, 1})[0];
}

__attribute__((target("avx2,fma"))) static void logarithms_avx2(
    const double *source, double *destination, ptrdiff_t count) {
  logarithms4(source, destination, count);
}

__attribute__((target("avx512f,fma"))) static void logarithms_avx512(
    const double *source, double *destination, ptrdiff_t count) {
  logarithms8(source, destination, count);
}
#endif

void bp_logarithms_using(int width, const double *source, double *destination, ptrdiff_t count) {
#if defined(__x86_64__)
  if (width == 512 && bp_kernel_width() >= 512) {
    logarithms_avx512(source, destination, count);
    return;
  }
  if (width == 256 && bp_kernel_width() >= 256) {
    logarithms_avx2(source, destination, count);
    return;
  }
#endif
  logarithms4(source, destination, count);
}

void bp_logarithms(const double *source, double *destination, ptrdiff_t count) {
  bp_logarithms_using(bp_kernel_width(), source, destination, count);
}

double bp_logarithm(double x) {
#if defined(__x86_64__)
  if (bp_kernel_width() >= 256) return logarithm_fma(x);
#endif
  return logarithm2((Lanes2){x, 1})[0];
}
