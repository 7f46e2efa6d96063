// The Huber loss against constant targets, fused (see HuberLoss in Losses.swift): the sum of
// huber(x − e, δ) and the pullback ȳ · slope(x − e, δ), each in one pass. Swift's lanes of the
// same selections run at the baseline's two doubles and a dozen operations a pair, bound by
// instructions rather than memory. The operations are Huber.value's and Huber.slope's, each
// rounded where Swift rounds it (no expression holds both a product and a sum, so nothing is
// contracted), and the sum adds the terms in Sum.total's order, so the results are Swift's to
// the bit in every width.

#include "BackpropKernels.h"

#include <math.h>

#include "Dispatch.h"
#include "Sixteen.h"

// The helpers and both kernels for one target: clang inlines an always-inline helper only into
// a caller of its own target, and a vector of eight crosses no call, so each target gets its own.
#define DEFINE_HUBER(SUFFIX, TARGET)                                                            \
  DEFINE_SIXTEEN_FOLD(SUFFIX, TARGET)                                                           \
  /* a where the mask is set, b elsewhere, by bits (no branch; the same in every width). */    \
  TARGET static inline __attribute__((always_inline)) Eight select_##SUFFIX(                   \
      EightMask m, Eight a, Eight b) {                                                          \
    return (Eight)(((EightBits)m & (EightBits)a) | (~(EightBits)m & (EightBits)b));            \
  }                                                                                             \
                                                                                                \
  /* huber(d, δ): ½d² where |d| ≤ δ, δ(|d| − ½δ) elsewhere (NaN falls outside, stays NaN). */ \
  TARGET static inline __attribute__((always_inline)) Eight huber_##SUFFIX(Eight d, double delta) { \
    Eight magnitude = __builtin_elementwise_abs(d);                                            \
    Eight half_delta = (Eight)(0.5 * delta);                                                   \
    Eight excess = magnitude - half_delta;                                                     \
    Eight outside = delta * excess;                                                            \
    Eight half_d = 0.5 * d;                                                                    \
    Eight inside = half_d * d;                                                                 \
    return select_##SUFFIX(magnitude <= delta, inside, outside);                               \
  }                                                                                             \
                                                                                                \
  /* ȳ · slope(d, δ): d inside, ±δ outside by d's sign, + 0 so that −0 gives +0, NaN at NaN. */ \
  TARGET static inline __attribute__((always_inline)) Eight slope_##SUFFIX(                    \
      double cotangent, Eight d, double delta) {                                                \
    Eight signed_delta = select_##SUFFIX(d > 0.0, (Eight)delta, (Eight)(-delta));              \
    Eight slope = select_##SUFFIX(__builtin_elementwise_abs(d) <= delta, d, signed_delta);     \
    slope = slope + 0.0;                                                                       \
    slope = select_##SUFFIX(d != d, (Eight)NAN, slope);                                        \
    return cotangent * slope;                                                                  \
  }                                                                                             \
                                                                                                \
  /* The sum in Sum.total's order (Sixteen.h). */                                             \
  TARGET static double huber_total_##SUFFIX(                                                   \
      const double *x, const double *e, double delta, ptrdiff_t count) {                       \
    Eight low = (Eight)0.0, high = (Eight)0.0;                                                 \
    ptrdiff_t index = 0;                                                                       \
    for (; index + 16 <= count; index += 16) {                                                 \
      Eight x0, e0, x1, e1;                                                                    \
      memcpy(&x0, x + index, sizeof x0);                                                       \
      memcpy(&e0, e + index, sizeof e0);                                                       \
      memcpy(&x1, x + index + 8, sizeof x1);                                                   \
      memcpy(&e1, e + index + 8, sizeof e1);                                                   \
      low += huber_##SUFFIX(x0 - e0, delta);                                                   \
      high += huber_##SUFFIX(x1 - e1, delta);                                                  \
    }                                                                                          \
    for (ptrdiff_t j = 0; j < count - index; j++) {                                            \
      double term = huber_##SUFFIX((Eight)(x[index + j] - e[index + j]), delta)[0];            \
      if (j < 8) low[j] += term; else high[j - 8] += term;                                     \
    }                                                                                          \
    return fold_##SUFFIX(low, high);                                                           \
  }                                                                                             \
                                                                                                \
  TARGET static void huber_pullbacks_##SUFFIX(                                                 \
      double cotangent, const double *x, const double *e, double delta, double *destination,  \
      ptrdiff_t count) {                                                                       \
    ptrdiff_t index = 0;                                                                       \
    for (; index + 8 <= count; index += 8) {                                                   \
      Eight x0, e0;                                                                            \
      memcpy(&x0, x + index, sizeof x0);                                                       \
      memcpy(&e0, e + index, sizeof e0);                                                       \
      Eight r = slope_##SUFFIX(cotangent, x0 - e0, delta);                                     \
      memcpy(destination + index, &r, sizeof r);                                               \
    }                                                                                          \
    for (; index < count; index++) {                                                           \
      destination[index] = slope_##SUFFIX(cotangent, (Eight)(x[index] - e[index]), delta)[0];  \
    }                                                                                          \
  }

DEFINE_HUBER(portable, )
#if defined(__x86_64__)
DEFINE_HUBER(avx2, __attribute__((target("avx2,fma"))))
DEFINE_HUBER(avx512, __attribute__((target("avx512f,fma"))))
#endif

BP_REGISTER(
    huber_total, BP_SIGNATURE_HUBER_TOTAL, huber_total_portable, huber_total_avx2,
    huber_total_avx512)
BP_REGISTER(
    huber_pullbacks, BP_SIGNATURE_HUBER_PULLBACKS, huber_pullbacks_portable,
    huber_pullbacks_avx2, huber_pullbacks_avx512)
