// Sums in the order of Backprop's Sum.total, for kernels in C: sixteen partial sums, the j-th
// adding the terms at j, j + 16, j + 32, … (lanes 0–7 of `low` and of `high`), the last few
// terms added to lanes 0, 1, … in turn, then folded pairwise: low + high, its halves, its
// halves, its two lanes. Vectors of eight doubles in every build (clang splits them into the
// target's registers), so each width gives the same bits as Swift's SIMD8 loop. A private
// header.

#ifndef BACKPROP_SIXTEEN_H
#define BACKPROP_SIXTEEN_H

#include <stdint.h>
#include <string.h>

// The vectors cross no call: every helper is inlined into a function of its own target.
#pragma clang diagnostic ignored "-Wpsabi"

typedef double Eight __attribute__((ext_vector_type(8)));
typedef __typeof__((Eight){0} < (Eight){0}) EightMask;  // a comparison's own type (Lanes.h)
typedef uint64_t EightBits __attribute__((ext_vector_type(8)));

// The fold of the sixteen partial sums, for one target.
#define DEFINE_SIXTEEN_FOLD(SUFFIX, TARGET)                                                     \
  TARGET static inline __attribute__((always_inline)) double fold_##SUFFIX(                    \
      Eight low, Eight high) {                                                                  \
    Eight eight = low + high;                                                                  \
    double four[4], two[2];                                                                    \
    for (int lane = 0; lane < 4; lane++) four[lane] = eight[lane] + eight[lane + 4];           \
    for (int lane = 0; lane < 2; lane++) two[lane] = four[lane] + four[lane + 2];              \
    return two[0] + two[1];                                                                    \
  }

#endif
