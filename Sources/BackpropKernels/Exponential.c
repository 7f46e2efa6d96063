// The exponential, four or eight lanes at a time (see BackpropKernels.h for why this is C).
//
// The method is the classic one: Cody and Waite's reduction, then a polynomial.
//   x = k ln 2 + r, with k an integer and |r| <= ln 2 / 2, so e^x = 2^k e^r;
//   e^r = 1 + r + r^2 q(r), q the Taylor series of (e^r - 1 - r) / r^2 to degree 11, whose
//   truncation error on |r| <= 0.347 is below 1e-17, under a tenth of an ulp;
//   2^k is built from its bits, in two factors, so that neither leaves the normal range and the
//   last multiplication rounds a subnormal or overflowing result once.
// Every step is branch-free lane arithmetic. Clang contracts a * b + c into one fused
// multiply-add where the target has one (the AVX2 build), which only makes the steps more
// exact; ExponentialTests measures both builds against 80-bit exp.

#include "BackpropKernels.h"

#include "Lanes.h"

// The last one to three scalars, in four lanes padded with -inf, whose exponential adds 0.
static inline __attribute__((always_inline)) void exponentials_tail(
    const double *source, double shift, double *destination, ptrdiff_t count, Lanes4 *total) {
  if (count <= 0) return;
  Lanes4 x = (Lanes4)(-INFINITY);
  for (ptrdiff_t lane = 0; lane < count; lane++) x[lane] = source[lane] - shift;
  Lanes4 e = exponential4(x);
  if (destination)
    for (ptrdiff_t lane = 0; lane < count; lane++) destination[lane] = e[lane];
  *total += e;
}

// Four lanes at a time. The sum is kept in four lanes, lane l adding the scalars at l, l + 4,
// l + 8, … in order, and the lanes are added pairwise at the end.
static inline __attribute__((always_inline)) double exponentials_body(
    const double *source, double shift, double *destination, ptrdiff_t count) {
  Lanes4 total = 0;
  ptrdiff_t index = 0;
  for (; index + 4 <= count; index += 4) {
    Lanes4 x;
    memcpy(&x, source + index, sizeof x);
    Lanes4 e = exponential4(x - shift);
    if (destination) memcpy(destination + index, &e, sizeof e);
    total += e;
  }
  exponentials_tail(
      source + index, shift, destination ? destination + index : 0, count - index, &total);
  return (total[0] + total[1]) + (total[2] + total[3]);
}

// Eight lanes at a time, with the same sum as four: each half of eight is added to the four
// running lanes in turn, as the four-lane loop adds two steps. The last one to seven scalars run
// in eight lanes padded with -inf, whose halves add what the four-lane loop's last step and its
// tail add (a padded lane adds 0 to a running lane that is never -0). Every result, the sum
// included, is the same bits as the AVX2 build of exponentials_body, so AVX-512 changes no
// answer.
static inline __attribute__((always_inline)) LANE_TARGET8 double exponentials_body8(
    const double *source, double shift, double *destination, ptrdiff_t count) {
  Lanes4 total = 0;
  ptrdiff_t index = 0;
  for (; index + 8 <= count; index += 8) {
    Lanes8 x;
    memcpy(&x, source + index, sizeof x);
    Lanes8 e = exponential8(x - shift);
    if (destination) memcpy(destination + index, &e, sizeof e);
    total += e.lo;
    total += e.hi;
  }
  if (index < count) {
    Lanes8 x = (Lanes8)(-INFINITY);
    for (ptrdiff_t lane = 0; lane < count - index; lane++) x[lane] = source[index + lane] - shift;
    Lanes8 e = exponential8(x);
    if (destination)
      for (ptrdiff_t lane = 0; lane < count - index; lane++) destination[index + lane] = e[lane];
    total += e.lo;
    total += e.hi;
  }
  return (total[0] + total[1]) + (total[2] + total[3]);
}

// Log-softmax's pullback for one row: destination = cotangent − e^output · total, in one pass.
// The product and the difference are separate statements, so that neither is contracted into a
// fused multiply-add: the results are the bits of the three tensor operations it replaces.
#define DEFINE_LOG_SOFTMAX_PULLBACK(W)                                                          \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W log_softmax_pullback##W(                \
      Lanes##W g, Lanes##W y, double total) {                                                  \
    Lanes##W product = exponential##W(y) * total;                                              \
    return g - product;                                                                        \
  }                                                                                             \
                                                                                                \
  static inline __attribute__((always_inline)) LANE_TARGET##W void log_softmax_pullbacks##W(                   \
      const double *cotangent, const double *output, double total, double *destination,        \
      ptrdiff_t count) {                                                                        \
    ptrdiff_t index = 0;                                                                       \
    for (; index + W <= count; index += W) {                                                   \
      Lanes##W g = (Lanes##W)0.0, y;                                                           \
      if (cotangent) memcpy(&g, cotangent + index, sizeof g);                                  \
      memcpy(&y, output + index, sizeof y);                                                    \
      Lanes##W r = log_softmax_pullback##W(g, y, total);                                       \
      memcpy(destination + index, &r, sizeof r);                                               \
    }                                                                                          \
    if (index < count) {                                                                       \
      Lanes##W g = (Lanes##W)0.0, y = (Lanes##W)0.0;                                           \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) {                                 \
        g[lane] = cotangent ? cotangent[index + lane] : 0.0;                                   \
        y[lane] = output[index + lane];                                                        \
      }                                                                                        \
      Lanes##W r = log_softmax_pullback##W(g, y, total);                                       \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) destination[index + lane] = r[lane]; \
    }                                                                                          \
  }

DEFINE_LOG_SOFTMAX_PULLBACK(4)
DEFINE_LOG_SOFTMAX_PULLBACK(8)

// The exponentials scaled: destination = scale · e^(source − shift), each the product of the
// exponential that exponentials_body computes and `scale`, rounded once: log-sum-exp's pullback,
// (ȳ / Σ) · e^(x − m), in one pass, with the bits of the exp entry and the multiply it replaces.
#define DEFINE_SCALED_EXPONENTIALS(W)                                                           \
  static inline __attribute__((always_inline)) LANE_TARGET##W void scaled_exponentials##W(                     \
      const double *source, double shift, double scale, double *destination, ptrdiff_t count) { \
    ptrdiff_t index = 0;                                                                       \
    for (; index + W <= count; index += W) {                                                   \
      Lanes##W x;                                                                              \
      memcpy(&x, source + index, sizeof x);                                                    \
      Lanes##W r = exponential##W(x - shift) * scale;                                          \
      memcpy(destination + index, &r, sizeof r);                                               \
    }                                                                                          \
    if (index < count) {                                                                       \
      Lanes##W x = (Lanes##W)0.0;                                                              \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) x[lane] = source[index + lane];   \
      Lanes##W r = exponential##W(x - shift) * scale;                                          \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) destination[index + lane] = r[lane]; \
    }                                                                                          \
  }

DEFINE_SCALED_EXPONENTIALS(4)
DEFINE_SCALED_EXPONENTIALS(8)

static inline __attribute__((always_inline)) double exponential_scalar(double x) {
  return exponential2((Lanes2){x, 0})[0];
}

BP_REGISTER(
    exponentials, BP_SIGNATURE_EXPONENTIALS, exponentials_body, exponentials_body8,
    exponentials_body8)
BP_REGISTER(
    exponential, BP_SIGNATURE_SCALAR, exponential_scalar, exponential_scalar, exponential_scalar)
BP_REGISTER(
    log_softmax_pullbacks, BP_SIGNATURE_LOG_SOFTMAX_PULLBACKS, log_softmax_pullbacks4,
    log_softmax_pullbacks8, log_softmax_pullbacks8)
BP_REGISTER(
    scaled_exponentials, BP_SIGNATURE_SCALED_EXPONENTIALS, scaled_exponentials4,
    scaled_exponentials8, scaled_exponentials8)
