// xⁿ for an integer n from 1 to 64, and x^(n + ½) for n from 0 to 63, four or eight lanes at a
// time (see BackpropKernels.h for why this is C).
//
// Exponentiation by squaring in double-double arithmetic: every product is carried as a pair
// h + l with the low part from a fused multiply-add (the exact error of h = fl(a b)), so after
// at most twelve products the pair is within about 12 · 2⁻¹⁰⁴ of xⁿ relative, and the one
// rounding of h + l at the end is what remains: within 0.5 ulp and a hair, where the C
// library's pow is a call a scalar and x · x · x rounds twice (up to about 1.5 ulps). The
// squarings are of the base only while bits of n remain, so no intermediate is larger in
// magnitude than the result when |x| > 1, nor smaller when |x| < 1: nothing overflows or
// underflows before the result does. A result that is 0, infinite or NaN is the plain product
// h itself (the pair's low part is meaningless there), which also keeps the sign of −0.
//
// A half-integer power multiplies that pair by √x as a pair (s, correctly rounded, and
// (x − s²)/(2s) from the exact residual), so it too is rounded once: within 0.5 ulp and a hair,
// in vector lanes, where the C library's pow is a call a scalar (IntegerPowerTests measures it
// against 80-bit powl). Either kernel's low parts stop being exact where a product falls below 2⁵³ times the
// smallest normal (its rounding error is then subnormal): results there are within 1 ulp
// (0.80 measured for x^2.5 near 2⁻¹⁰¹⁹), not 0.5.

#include "BackpropKernels.h"

#include "Lanes.h"

#define DEFINE_INTEGER_POWER(W)                                                                  \
  /* (a_h + a_l)(b_h + b_l) as a pair, dropping a_l b_l (below 2⁻¹⁰⁴ of the product). */       \
  static inline __attribute__((always_inline)) LANE_TARGET##W void pair_product##W(                             \
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
  /* xⁿ as a pair *h + *l, for n ≥ 1. */                                                        \
  static inline __attribute__((always_inline)) LANE_TARGET##W void integer_power_pair##W(                       \
      Lanes##W x, int n, Lanes##W *h, Lanes##W *l) {                                             \
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
    *h = result_h;                                                                               \
    *l = result_l;                                                                               \
  }                                                                                              \
                                                                                                 \
  /* h + l rounded once, or h itself where it is 0, infinite or NaN. */                          \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W pair_rounded##W(Lanes##W h, Lanes##W l) { \
    Mask##W plain =                                                                              \
        (h == 0.0) | !((Lanes##W)((Bits##W)h & 0x7fffffffffffffff) <= 0x1.fffffffffffffp1023);  \
    return select_lanes##W(plain, h, h + l);                                                     \
  }                                                                                              \
                                                                                                 \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W integer_power##W(Lanes##W x, int n) {   \
    Lanes##W h, l;                                                                               \
    integer_power_pair##W(x, n, &h, &l);                                                         \
    return pair_rounded##W(h, l);                                                                \
  }                                                                                              \
                                                                                                 \
  /* x^(n + ½) = xⁿ √x for n ≥ 0: √x as a pair from its exact residual x − s², (s + s_l), */     \
  /* times xⁿ's pair, rounded once. IEEE's pow for a positive exponent that is not an odd */     \
  /* integer: +0 at ±0 (√−0 is −0), +∞ at −∞ (√−∞ is NaN), NaN below 0. */                        \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W half_integer_power##W(                   \
      Lanes##W x, int n) {                                                                       \
    Lanes##W s = __builtin_elementwise_sqrt(x);                                                  \
    Lanes##W h = s, l = __builtin_elementwise_fma(-s, s, x) / (2.0 * s);                         \
    if (n > 0) {                                                                                 \
      Lanes##W power_l;                                                                          \
      integer_power_pair##W(x, n, &h, &power_l);                                                 \
      pair_product##W(&h, &power_l, s, l);                                                       \
      l = power_l;                                                                               \
    }                                                                                            \
    /* n = 0 is √x itself, correctly rounded (the residual of a tiny x is not exact). */         \
    Lanes##W y = n > 0 ? pair_rounded##W(h, l) : s;                                              \
    y = select_lanes##W(x == 0.0, (Lanes##W)0.0, y);                                             \
    return select_lanes##W(x == -__builtin_inf(), (Lanes##W)__builtin_inf(), y);                \
  }                                                                                              \

DEFINE_INTEGER_POWER(2)
DEFINE_INTEGER_POWER(4)
DEFINE_INTEGER_POWER(8)

// A power kernel FUNCTION##W(x, n), n the integer part of the exponent: loops of 4 and (on
// x86-64) 8 lanes, the last scalars padded with 1, registered as MAP, and one scalar in two
// lanes, registered as FUNCTION, as DEFINE_KERNEL_ENTRIES in Lanes.h gives one-input kernels.
#define DEFINE_POWER_LOOP(MAP, FUNCTION, W)                                                      \
  static inline __attribute__((always_inline)) LANE_TARGET##W void MAP##W(                                      \
      const double *source, int n, double *destination, ptrdiff_t count) {                       \
    ptrdiff_t index = 0;                                                                         \
    for (; index + W <= count; index += W) {                                                     \
      Lanes##W x;                                                                                \
      memcpy(&x, source + index, sizeof x);                                                      \
      Lanes##W y = FUNCTION##W(x, n);                                                            \
      memcpy(destination + index, &y, sizeof y);                                                 \
    }                                                                                            \
    if (index < count) {                                                                         \
      Lanes##W x = (Lanes##W)1.0;                                                                \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) x[lane] = source[index + lane];     \
      Lanes##W y = FUNCTION##W(x, n);                                                            \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) destination[index + lane] = y[lane]; \
    }                                                                                            \
  }

#define DEFINE_POWER_ENTRIES(MAP, FUNCTION)                                                      \
  DEFINE_POWER_LOOP(MAP, FUNCTION, 4)                                                            \
  BP_ON_X86(DEFINE_POWER_LOOP(MAP, FUNCTION, 8))                                                 \
  static inline __attribute__((always_inline)) double FUNCTION##_scalar(double x, int n) {       \
    return FUNCTION##2((Lanes2){x, 1}, n)[0];                                                    \
  }                                                                                              \
  BP_REGISTER(MAP, BP_SIGNATURE_POWER_MAP, MAP##4, MAP##8, MAP##8)                               \
  BP_REGISTER(                                                                                   \
      FUNCTION, BP_SIGNATURE_POWER_SCALAR, FUNCTION##_scalar, FUNCTION##_scalar,                 \
      FUNCTION##_scalar)

DEFINE_POWER_ENTRIES(integer_powers, integer_power)
DEFINE_POWER_ENTRIES(half_integer_powers, half_integer_power)
