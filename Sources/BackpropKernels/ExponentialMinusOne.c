// e^x − 1, four or eight lanes at a time (see BackpropKernels.h for why this is C).
//
// The exponential's reduction (Exponential.c): x = k ln 2 + r, |r| <= ln 2 / 2, r = high − low
// with high exact. Then
//   e^x − 1 = 2^k (e^r − 1) + (2^k − 1) = 2^k ((1 − 2^−k) + high − low + r²/2 + r³ q3(r)),
// where 1 − 2^−k is carried as an exact pair (for k > 53 it rounds to 1, and its low part is
// −2^−k), r² as an exact pair (a fused multiply-add), and the two sums of the large terms, which
// do not cancel (|1 − 2^−k| >= 1/2 > |high| > r²/2, or 1 − 2^−k = 0), keep their rounding errors
// by fast two-sums; r's own rounding is carried to first order. So the only rounding of the size
// of the result is the last addition: within 1 ulp everywhere, where summing 2^k e^r − 1 in
// plain arithmetic measured 1.16 ulps just above ln 2 / 2 (NearZeroKernelTests measures every
// build against 80-bit expm1). Tiny and subnormal x give x, ±0 gives itself. Below −40 the
// result rounds to −1 and the input is clamped there; above 710 it overflows, as e^x does, by
// the same two factors of 2^k.

#include "BackpropKernels.h"

#include "Lanes.h"

#define DEFINE_EXPONENTIAL_MINUS_ONE(W)                                                           \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W exponential_minus_one##W(Lanes##W x) {    \
    Lanes##W clamped = select_lanes##W(x < -40.0, (Lanes##W)-40.0, x);                            \
    clamped = select_lanes##W(clamped > highest, (Lanes##W)highest, clamped);                     \
    Lanes##W k = (clamped * log2e + shifter) - shifter;                                           \
    Lanes##W high = clamped - k * ln2_high;                                                       \
    Lanes##W low = k * ln2_low;                                                                   \
    /* r = high − low, rounded, and what the rounding lost. */                                    \
    Lanes##W r = high - low;                                                                      \
    Lanes##W r_error = (high - r) - low;                                                          \
    /* r², exactly as square + square_error. */                                                   \
    Lanes##W square = r * r;                                                                      \
    Lanes##W square_error = __builtin_elementwise_fma(r, r, -square);                             \
    Lanes##W half = 0.5 * square;                                                                 \
    /* 2^−k, its exponent kept in the normal range: beyond 2^−1022 it is far below an ulp. */     \
    Lanes##W inverse = power_of_two##W(select_lanes##W(k > 1022.0, (Lanes##W)-1022.0, -k));       \
    Lanes##W t_high = 1.0 - inverse;                                                              \
    Lanes##W t_low = (1.0 - t_high) - inverse;                                                    \
    /* (t_high + high) + r²/2, each sum with its rounding error; neither cancels. */              \
    Lanes##W sum = t_high + high;                                                                 \
    Lanes##W sum_error = (t_high - sum) + high;                                                   \
    Lanes##W total = sum + half;                                                                  \
    Lanes##W total_error = (sum - total) + half;                                                  \
    /* The rest: the errors, t_low − low, r's error times d(e^r − r)/dr ≈ r + r²/2, and r³ q3. */ \
    Lanes##W rest = ((sum_error + total_error) + (t_low - low)) +                                 \
                    ((0.5 * square_error + r_error * (r + half)) +                                \
                     square * r * exponential_cubic##W(r));                                       \
    Lanes##W y = total + rest;                                                                    \
    Lanes##W result = scaled##W(y, k);                                                            \
    /* ±0 gives itself (the sums above make −0 +0); a NaN input compares false above and went     \
       through as a number: give it back. */                                                      \
    return select_lanes##W(x == 0.0 || x != x, x, result);                                        \
  }

DEFINE_EXPONENTIAL_MINUS_ONE(2)
DEFINE_EXPONENTIAL_MINUS_ONE(4)
DEFINE_EXPONENTIAL_MINUS_ONE(8)
DEFINE_KERNEL_ENTRIES(exponentials_minus_one, exponential_minus_one, 0.0)
