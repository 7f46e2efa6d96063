// The largest scalar of a buffer, four or eight lanes at a time (see BackpropKernels.h for why
// this is C): the first step of every softmax row. A maximum is exact, so every width gives the
// same answer; the lanes only change how fast. A Swift loop that also has to notice NaN does
// not vectorize, and took a third of log-softmax's forward pass at n = 10⁶.

#include "BackpropKernels.h"

#include "Lanes.h"

#define DEFINE_MAXIMUM(W)                                                                       \
  static inline __attribute__((always_inline)) LANE_TARGET##W double maximum##W(                              \
      const double *source, ptrdiff_t count) {                                                  \
    Lanes##W largest = (Lanes##W)(-INFINITY);                                                  \
    Mask##W nan = (Mask##W)0;                                                                  \
    ptrdiff_t index = 0;                                                                       \
    for (; index + W <= count; index += W) {                                                   \
      Lanes##W x;                                                                              \
      memcpy(&x, source + index, sizeof x);                                                    \
      largest = select_lanes##W(x > largest, x, largest);                                      \
      nan |= x != x;                                                                           \
    }                                                                                          \
    double result = -INFINITY;                                                                 \
    int any_nan = 0;                                                                           \
    for (int lane = 0; lane < W; lane++) {                                                     \
      if (largest[lane] > result) result = largest[lane];                                      \
      any_nan |= nan[lane] != 0;                                                               \
    }                                                                                          \
    for (; index < count; index++) {                                                           \
      if (source[index] > result) result = source[index];                                      \
      any_nan |= source[index] != source[index];                                               \
    }                                                                                          \
    return any_nan ? NAN : result;                                                             \
  }

/* The share of max(a, b)'s cotangent that goes to a: 1 where a > b, ½ at a tie, NaN where */ \
/* either is NaN, 0 elsewhere; times the cotangent, as Maximum.Share.scalar in Swift. */      \
#define DEFINE_MAXIMUM_PULLBACK(W)                                                              \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W maximum_share##W(                      \
      Lanes##W g, Lanes##W a, Lanes##W b) {                                                     \
    Lanes##W share = select_lanes##W((a != a) | (b != b), (Lanes##W)NAN, (Lanes##W)0.0);       \
    share = select_lanes##W(a == b, (Lanes##W)0.5, share);                                     \
    share = select_lanes##W(a > b, (Lanes##W)1.0, share);                                      \
    return g * share;                                                                          \
  }                                                                                             \
                                                                                                \
  static inline __attribute__((always_inline)) LANE_TARGET##W void maximum_pullbacks##W(                       \
      const double *cotangent, double uniform, const double *a, const double *b,               \
      double *destination, ptrdiff_t count) {                                                   \
    ptrdiff_t index = 0;                                                                       \
    for (; index + W <= count; index += W) {                                                   \
      Lanes##W g = (Lanes##W)uniform, x, y;                                                    \
      if (cotangent) memcpy(&g, cotangent + index, sizeof g);                                  \
      memcpy(&x, a + index, sizeof x);                                                         \
      memcpy(&y, b + index, sizeof y);                                                         \
      Lanes##W r = maximum_share##W(g, x, y);                                                  \
      memcpy(destination + index, &r, sizeof r);                                               \
    }                                                                                          \
    for (; index < count; index++) {                                                           \
      Lanes##W r = maximum_share##W(                                                           \
          (Lanes##W)(cotangent ? cotangent[index] : uniform), (Lanes##W)a[index],              \
          (Lanes##W)b[index]);                                                                 \
      destination[index] = r[0];                                                               \
    }                                                                                          \
  }

DEFINE_MAXIMUM(4)
DEFINE_MAXIMUM_PULLBACK(4)
DEFINE_MAXIMUM(8)
DEFINE_MAXIMUM_PULLBACK(8)

BP_REGISTER(maximum, BP_SIGNATURE_MAXIMUM, maximum4, maximum8, maximum8)
BP_REGISTER(
    maximum_pullbacks, BP_SIGNATURE_MAXIMUM_PULLBACKS, maximum_pullbacks4, maximum_pullbacks8,
    maximum_pullbacks8)
