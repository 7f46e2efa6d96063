// xⁿ for an integer n from 1 to 64, four or eight lanes at a time (see BackpropKernels.h for why
// this is C).
//
// Exponentiation by squaring in double-double arithmetic: every product is carried as a pair
// h + l with the low part from a fused multiply-add (the exact error of h = fl(a b)), so after
// at most twelve products the pair is within about 12 · 2⁻¹⁰⁴ of xⁿ relative, and the one
// rounding of h + l at the end is what remains: within 0.5 ulp and a hair, where the C
// library's pow takes ~10 ns a scalar and x · x · x rounds twice (up to about 1.5 ulps). The
// squarings are of the base only while bits of n remain, so no intermediate is larger in
// magnitude than the result when |x| > 1, nor smaller when |x| < 1: nothing overflows or
// underflows before the result does. A result that is 0, infinite or NaN is the plain product
// h itself (the pair's low part is meaningless there), which also keeps the sign of −0.

#include "BackpropKernels.h"

#include "Lanes.h"

#define DEFINE_INTEGER_POWER(W)                                                                  \
  /* (a_h + a_l)(b_h + b_l) as a pair, dropping a_l b_l (below 2⁻¹⁰⁴ of the product). */       \
  static inline __attribute__((always_inline)) void pair_product##W(                             \
      Lanes##W *h, Lanes##W *l, Lanes##W b_h, Lanes##W b_l) {                                    \
    Lanes##W p = *h * b_h;                                                                       \
    Lanes##W e = __builtin_elementwise_fma(*h, b_h, -p) + (*h * b_l + *l * b_h);                 \
    Lanes##W sum = p + e;                                                                        \
    /* A product that is 0, infinite or NaN stays the plain product, its low part 0. */          \
    Mask##W plain = (p == 0.0) |                                                                 \
                    !((Lanes##W)((Bits##W)p & 0x7fffffffffffffff) <= 0x1.fffffffffffffp1023);   \
    *h = select_lanes##W(plain, p, sum);                                                         \
    *l = select_lanes##W(plain, (Lanes##W)0.0, (p - sum) + e);                                   \
  }                                                                                              \
                                                                                                 \
  static inline __attribute__((always_inline)) Lanes##W integer_power##W(Lanes##W x, int n) {   \
    Lanes##W base_h = x, base_l = 0.0, result_h = x, result_l = 0.0;                             \
    int started = 0;                                                                             \
    while (n) {                                                                                  \
      if (n & 1) {                                                                               \
        if (started) {                                                                           \
          pair_product##W(&result_h, &result_l, base_h, base_l);                                 \
        } else {                                                                                 \
          result_h = base_h;                                                                     \
          result_l = base_l;                                                                     \
          started = 1;                                                                           \
        }                                                                                        \
      }                                                                                          \
      n >>= 1;                                                                                   \
      if (n) pair_product##W(&base_h, &base_l, base_h, base_l);                                  \
    }                                                                                            \
    Lanes##W y = result_h + result_l;                                                            \
    Mask##W plain = (result_h == 0.0) |                                                          \
                    !((Lanes##W)((Bits##W)result_h & 0x7fffffffffffffff) <= 0x1.fffffffffffffp1023); \
    return select_lanes##W(plain, result_h, y);                                                  \
  }                                                                                              \
                                                                                                 \
  static inline __attribute__((always_inline)) void integer_powers##W(                           \
      const double *source, int n, double *destination, ptrdiff_t count) {                       \
    ptrdiff_t index = 0;                                                                         \
    for (; index + W <= count; index += W) {                                                     \
      Lanes##W x;                                                                                \
      memcpy(&x, source + index, sizeof x);                                                      \
      Lanes##W y = integer_power##W(x, n);                                                       \
      memcpy(destination + index, &y, sizeof y);                                                 \
    }                                                                                            \
    if (index < count) {                                                                         \
      Lanes##W x = (Lanes##W)1.0;                                                                \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) x[lane] = source[index + lane];     \
      Lanes##W y = integer_power##W(x, n);                                                       \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) destination[index + lane] = y[lane]; \
    }                                                                                            \
  }

DEFINE_INTEGER_POWER(2)
DEFINE_INTEGER_POWER(4)
DEFINE_INTEGER_POWER(8)

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static double integer_power_fma(double x, int n) {
  return integer_power2((Lanes2){x, 1}, n)[0];
}

__attribute__((target("avx2,fma"))) static void integer_powers_avx2(
    const double *source, int n, double *destination, ptrdiff_t count) {
  integer_powers4(source, n, destination, count);
}

__attribute__((target("avx512f,fma"))) static void integer_powers_avx512(
    const double *source, int n, double *destination, ptrdiff_t count) {
  integer_powers8(source, n, destination, count);
}
#endif

double bp_integer_power(double x, int n) {
#if defined(__x86_64__)
  if (bp_kernel_width() >= 256) return integer_power_fma(x, n);
#endif
  return integer_power2((Lanes2){x, 1}, n)[0];
}

void bp_integer_powers_using(
    int width, const double *source, int n, double *destination, ptrdiff_t count) {
#if defined(__x86_64__)
  if (width == 512 && bp_kernel_width() >= 512) {
    integer_powers_avx512(source, n, destination, count);
    return;
  }
  if (width == 256 && bp_kernel_width() >= 256) {
    integer_powers_avx2(source, n, destination, count);
    return;
  }
#endif
  integer_powers4(source, n, destination, count);
}

void bp_integer_powers(const double *source, int n, double *destination, ptrdiff_t count) {
  bp_integer_powers_using(bp_kernel_width(), source, n, destination, count);
}
