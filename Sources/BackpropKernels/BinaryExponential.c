// 2^x, two, four or eight lanes at a time (see BackpropKernels.h for why this is C).
//
//   x = k + f with k = round(x), so f = x − k is exact and |f| <= 1/2;
//   2^f = e^r with r = f ln 2, carried as r + r_low (ln 2 as a pair, f times its high part
//   split exactly by a fused multiply-add), so |r| <= ln 2 / 2 and the exponential's
//   polynomial (Lanes.h) applies: e^(r + r_low) = 1 + r + r² q(r) + r_low (1 + r) to first
//   order. 1 + r is a two-sum, and the small terms join its error, so the one rounding of the
//   result's size is the last addition: within 1 ulp (BinaryExponentialTests measures every build
//   against 80-bit exp2l). 2^k scales it once, as the exponential does, a subnormal or
//   overflowing result included; integers give exact powers of two. x is clamped to
//   [−1076, 1025], beyond which 2^x rounds to 0 or overflows anyway; NaN gives NaN.

#include "BackpropKernels.h"

#include "Lanes.h"

static const double ln2 = 0x1.62e42fefa39efp-1;
static const double ln2_tail = 0x1.abc9e3b39803fp-56;

#define DEFINE_BINARY_EXPONENTIAL(W)                                                             \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W binary_exponential##W(    \
      Lanes##W x) {                                                                              \
    Lanes##W clamped = select_lanes##W(x < -1076.0, (Lanes##W)-1076.0, x);                       \
    clamped = select_lanes##W(clamped > 1025.0, (Lanes##W)1025.0, clamped);                      \
    Lanes##W k = (clamped + shifter) - shifter;                                                  \
    Lanes##W f = clamped - k;                                                                    \
    Lanes##W r = f * ln2;                                                                        \
    Lanes##W r_low = __builtin_elementwise_fma(f, (Lanes##W)ln2, -r) + f * ln2_tail;             \
    /* q(r) = q3(r) r + 1/2, the sum of r^(n−2) / n! for n = 2…13. */                            \
    Lanes##W q = exponential_cubic##W(r) * r + 0x1p-1;                                           \
    Lanes##W s = 1.0 + r;                                                                        \
    Lanes##W s_error = (1.0 - s) + r; /* exact: |r| < 1 */                                       \
    Lanes##W y = s + (s_error + (r * r * q + r_low * (1.0 + r)));                                \
    Lanes##W result = scaled##W(y, k);                                                           \
    return select_lanes##W(x != x, x, result);                                                   \
  }

DEFINE_BINARY_EXPONENTIAL(2)
DEFINE_BINARY_EXPONENTIAL(4)
DEFINE_BINARY_EXPONENTIAL(8)
DEFINE_KERNEL_ENTRIES(binary_exponentials, binary_exponential, 0.0)
