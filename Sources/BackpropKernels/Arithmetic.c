// Quotients, square roots and relu, and their pullbacks, four or eight lanes at a time (see
// BackpropKernels.h for why this is C). Division and the square root are correctly rounded in
// every width and relu is a selection, so each lane gives the bits of the Swift scalar rule it
// restates; only the speed changes. Swift's loops over them run at the baseline's two lanes, and
// division and the square root are slow instructions: `sum(sqrt(x))`'s gradient at 10⁶ spent
// 2.2 of its 3.3 ms in the square roots, and `sum(x / t)`'s two thirds of its 1.5 ms dividing.
//
// Every kernel is one rule of three inputs, p, q and r, each lane computing rule(p, q, r): p or
// q may be null and stand for one value at every position (a cotangent that is uniform, an
// operand that is a broadcast scalar), r is read where it is not null. Each lane reads before it
// writes, so the destination may be any input's buffer.

#include "BackpropKernels.h"

#include "Lanes.h"

#include "ArcTangent.h"

// No contraction into fused multiply-adds: the baseline build has none, so a contracted
// expression would give other bits in the AVX2 and AVX-512 builds. The fused multiply-adds
// below are written out, and give the same bits everywhere.
#pragma STDC FP_CONTRACT OFF

#define DEFINE_RULE_LOOP(NAME, W)                                                               \
  static inline __attribute__((always_inline)) LANE_TARGET##W void NAME##_loop##W(             \
      const double *p, double p_uniform, const double *q, double q_uniform, const double *r,   \
      double *destination, ptrdiff_t count) {                                                   \
    ptrdiff_t index = 0;                                                                       \
    for (; index + W <= count; index += W) {                                                   \
      Lanes##W a = (Lanes##W)p_uniform, b = (Lanes##W)q_uniform, c = (Lanes##W)0.0;            \
      if (p) memcpy(&a, p + index, sizeof a);                                                  \
      if (q) memcpy(&b, q + index, sizeof b);                                                  \
      if (r) memcpy(&c, r + index, sizeof c);                                                  \
      Lanes##W y = NAME##W(a, b, c);                                                           \
      memcpy(destination + index, &y, sizeof y);                                               \
    }                                                                                          \
    if (index < count) {                                                                       \
      /* The last scalars in lanes padded with 1s, whose results are not kept. */              \
      Lanes##W a = (Lanes##W)1.0, b = (Lanes##W)1.0, c = (Lanes##W)1.0;                        \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) {                                 \
        a[lane] = p ? p[index + lane] : p_uniform;                                             \
        b[lane] = q ? q[index + lane] : q_uniform;                                             \
        if (r) c[lane] = r[index + lane];                                                      \
      }                                                                                        \
      Lanes##W y = NAME##W(a, b, c);                                                           \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) destination[index + lane] = y[lane]; \
    }                                                                                          \
  }

#if defined(__x86_64__)
#define DEFINE_RULE_TARGETS(NAME)                                                               \
  __attribute__((target("avx2,fma"))) static void NAME##_avx2(                                  \
      const double *p, double p_uniform, const double *q, double q_uniform, const double *r,   \
      double *destination, ptrdiff_t count) {                                                   \
    NAME##_loop4(p, p_uniform, q, q_uniform, r, destination, count);                           \
  }                                                                                             \
  __attribute__((target("avx512f,fma"))) static void NAME##_avx512(                             \
      const double *p, double p_uniform, const double *q, double q_uniform, const double *r,   \
      double *destination, ptrdiff_t count) {                                                   \
    NAME##_loop8(p, p_uniform, q, q_uniform, r, destination, count);                           \
  }
#define RULE_DISPATCH(NAME, width)                                                              \
  if (width == 512 && bp_kernel_width() >= 512) {                                              \
    NAME##_avx512(p, p_uniform, q, q_uniform, r, destination, count);                          \
    return;                                                                                    \
  }                                                                                            \
  if (width == 256 && bp_kernel_width() >= 256) {                                              \
    NAME##_avx2(p, p_uniform, q, q_uniform, r, destination, count);                            \
    return;                                                                                    \
  }
#else
#define DEFINE_RULE_TARGETS(NAME)
#define RULE_DISPATCH(NAME, width)
#endif

// The rule's loops, its AVX2 and AVX-512 builds, and bp_rule_using(width, NAME, …)'s case.
#define DEFINE_RULE(NAME)                                                                       \
  DEFINE_RULE_LOOP(NAME, 4)                                                                     \
  DEFINE_RULE_LOOP(NAME, 8)                                                                     \
  DEFINE_RULE_TARGETS(NAME)                                                                     \
  static void NAME##_using(                                                                     \
      int width, const double *p, double p_uniform, const double *q, double q_uniform,         \
      const double *r, double *destination, ptrdiff_t count) {                                 \
    RULE_DISPATCH(NAME, width)                                                                 \
    NAME##_loop4(p, p_uniform, q, q_uniform, r, destination, count);                           \
  }

// p / q.
#define DEFINE_QUOTIENT(W)                                                                      \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W quotient##W(            \
      Lanes##W p, Lanes##W q, Lanes##W r) {                                                     \
    (void)r;                                                                                   \
    return p / q;                                                                              \
  }
// √p.
#define DEFINE_SQUARE_ROOT(W)                                                                   \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W square_root##W(         \
      Lanes##W p, Lanes##W q, Lanes##W r) {                                                     \
    (void)q;                                                                                   \
    (void)r;                                                                                   \
    return __builtin_elementwise_sqrt(p);                                                      \
  }
// 1 / √p, the root rounded and then its reciprocal, as the scalar rule does.
#define DEFINE_RECIPROCAL_SQUARE_ROOT(W)                                                        \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W reciprocal_square_root##W( \
      Lanes##W p, Lanes##W q, Lanes##W r) {                                                     \
    (void)q;                                                                                   \
    (void)r;                                                                                   \
    return 1.0 / __builtin_elementwise_sqrt(p);                                                \
  }
// relu(q): q where q > 0 or q is NaN, else +0.
#define DEFINE_RECTIFIED(W)                                                                     \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W rectified##W(           \
      Lanes##W p, Lanes##W q, Lanes##W r) {                                                     \
    (void)p;                                                                                   \
    (void)r;                                                                                   \
    return select_lanes##W((q > 0.0) | (q != q), q, (Lanes##W)0.0);                            \
  }
// The quotient's pullback to its dividend, ȳ / b: p the cotangent, q the divisor.
// Its pullback to the divisor, −((ȳ · y) / b): r the quotient y.
// The square root's pullback, ȳ / (2y): r the root y.
// relu's pullback, Select(ȳ, mask(x)): ȳ where x > 0, x itself where x is NaN, else +0; q is x.
#define DEFINE_PULLBACKS(W)                                                                     \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W dividend_pullback##W(   \
      Lanes##W p, Lanes##W q, Lanes##W r) {                                                     \
    (void)r;                                                                                   \
    return p / q;                                                                              \
  }                                                                                             \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W divisor_pullback##W(    \
      Lanes##W p, Lanes##W q, Lanes##W r) {                                                     \
    return -((p * r) / q);                                                                     \
  }                                                                                             \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W square_root_pullback##W( \
      Lanes##W p, Lanes##W q, Lanes##W r) {                                                     \
    (void)q;                                                                                   \
    return p / (2.0 * r);                                                                      \
  }                                                                                             \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W rectified_pullback##W(  \
      Lanes##W p, Lanes##W q, Lanes##W r) {                                                     \
    (void)r;                                                                                   \
    Lanes##W kept = select_lanes##W(q != q, q, p);                                             \
    return select_lanes##W((q > 0.0) | (q != q), kept, (Lanes##W)0.0);                        \
  }

// hypot(p, q) = √(p² + q²), without overflow or underflow, within 1 ulp (Borges, "An Improved
// Algorithm for hypot(a, b)", 2019, the fused variant): with x >= y the magnitudes, scaled by a
// power of two into a range where neither square overflows and the larger does not underflow,
// h = √(x² + y²) rounded is corrected by the residual h² − x² − y², formed exactly but for one
// rounding from the squares' rounding errors (fused multiply-adds; h_sq − x_sq is exact, since
// x² <= h² <= 2x²), as h − residual/(2h), the first Newton step of the root. The scaling is
// exact (a subnormal result rounds once more when scaled back). hypot(±∞, anything) is +∞,
// NaN included, as C's; otherwise NaN gives NaN; hypot(0, 0) is +0.
#define DEFINE_HYPOTENUSE(W)                                                                    \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W hypotenuse##W(          \
      Lanes##W p, Lanes##W q, Lanes##W r) {                                                     \
    (void)r;                                                                                   \
    Lanes##W a = __builtin_elementwise_abs(p), b = __builtin_elementwise_abs(q);               \
    Lanes##W x = select_lanes##W(a > b, a, b), y = select_lanes##W(a > b, b, a);              \
    Lanes##W scale = select_lanes##W(                                                          \
        x > 0x1p500, (Lanes##W)0x1p-600,                                                       \
        select_lanes##W(x < 0x1p-500, (Lanes##W)0x1p600, (Lanes##W)1.0));                      \
    Lanes##W unscale = select_lanes##W(                                                        \
        x > 0x1p500, (Lanes##W)0x1p600,                                                        \
        select_lanes##W(x < 0x1p-500, (Lanes##W)0x1p-600, (Lanes##W)1.0));                     \
    x = x * scale;                                                                             \
    y = y * scale;                                                                             \
    Lanes##W h = __builtin_elementwise_sqrt(__builtin_elementwise_fma(x, x, y * y));            \
    Lanes##W h_sq = h * h, x_sq = x * x;                                                       \
    Lanes##W residual = (__builtin_elementwise_fma(-y, y, h_sq - x_sq)                         \
                         + __builtin_elementwise_fma(h, h, -h_sq))                             \
                        - __builtin_elementwise_fma(x, x, -x_sq);                              \
    Lanes##W corrected = h - residual / (2.0 * h);                                             \
    /* 0/0 where both are 0. */                                                                \
    Lanes##W result = select_lanes##W(h == 0.0, h, corrected) * unscale;                       \
    result = select_lanes##W((a != a) | (b != b), a + b, result);                              \
    return select_lanes##W((a == __builtin_inf()) | (b == __builtin_inf()),                    \
                           (Lanes##W)__builtin_inf(), result);                                 \
  }

// atan2(p, q), the angle of the point (q, p), p first as in C: ArcTangent.h's lanes.
#define DEFINE_ARC_TANGENT2_RULE(W)                                                             \
  DEFINE_ARC_TANGENT_PARTS(W)                                                                   \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W arc_tangent2_rule##W(   \
      Lanes##W p, Lanes##W q, Lanes##W r) {                                                     \
    (void)r;                                                                                   \
    return arc_tangent2##W(p, q);                                                              \
  }

DEFINE_QUOTIENT(4)
DEFINE_QUOTIENT(8)
DEFINE_HYPOTENUSE(4)
DEFINE_HYPOTENUSE(8)
DEFINE_ARC_TANGENT2_RULE(4)
DEFINE_ARC_TANGENT2_RULE(8)
DEFINE_SQUARE_ROOT(4)
DEFINE_SQUARE_ROOT(8)
DEFINE_RECIPROCAL_SQUARE_ROOT(4)
DEFINE_RECIPROCAL_SQUARE_ROOT(8)
DEFINE_RECTIFIED(4)
DEFINE_RECTIFIED(8)
DEFINE_PULLBACKS(4)
DEFINE_PULLBACKS(8)

DEFINE_RULE(quotient)
DEFINE_RULE(square_root)
DEFINE_RULE(reciprocal_square_root)
DEFINE_RULE(rectified)
DEFINE_RULE(dividend_pullback)
DEFINE_RULE(divisor_pullback)
DEFINE_RULE(square_root_pullback)
DEFINE_RULE(rectified_pullback)
DEFINE_RULE(hypotenuse)
DEFINE_RULE(arc_tangent2_rule)

typedef void RuleEntry(
    int width, const double *p, double p_uniform, const double *q, double q_uniform,
    const double *r, double *destination, ptrdiff_t count);

// Each rule's entry, in bp_rule_kind's order.
static RuleEntry *const rule_entries[] = {
    quotient_using,           square_root_using,       reciprocal_square_root_using,
    rectified_using,          dividend_pullback_using, divisor_pullback_using,
    square_root_pullback_using, rectified_pullback_using, hypotenuse_using,
    arc_tangent2_rule_using,
};

void bp_rule_using(
    int width, bp_rule_kind rule, const double *p, double p_uniform, const double *q,
    double q_uniform, const double *r, double *destination, ptrdiff_t count) {
  if ((size_t)rule >= sizeof rule_entries / sizeof rule_entries[0]) return;
  rule_entries[rule](width, p, p_uniform, q, q_uniform, r, destination, count);
}

void bp_rule(
    bp_rule_kind rule, const double *p, double p_uniform, const double *q, double q_uniform,
    const double *r, double *destination, ptrdiff_t count) {
  bp_rule_using(bp_kernel_width(), rule, p, p_uniform, q, q_uniform, r, destination, count);
}

// One pair in two lanes, with no loop or dispatch around it: a VJP's scalar rule calls it per
// scalar. Built for FMA where the machine has it, the same operations as the loops, so the same
// bits: bp_NAME(p, q) for the rule NAME##2.
#if defined(__x86_64__)
#define DEFINE_RULE_SCALAR(ENTRY, NAME)                                                         \
  __attribute__((target("avx2,fma"))) static double NAME##_fma(double p, double q) {           \
    return NAME##2((Lanes2){p, 1.0}, (Lanes2){q, 1.0}, (Lanes2){0.0, 0.0})[0];                 \
  }                                                                                             \
  double ENTRY(double p, double q) {                                                            \
    if (bp_kernel_width() >= 256) return NAME##_fma(p, q);                                     \
    return NAME##2((Lanes2){p, 1.0}, (Lanes2){q, 1.0}, (Lanes2){0.0, 0.0})[0];                 \
  }
#else
#define DEFINE_RULE_SCALAR(ENTRY, NAME)                                                         \
  double ENTRY(double p, double q) {                                                            \
    return NAME##2((Lanes2){p, 1.0}, (Lanes2){q, 1.0}, (Lanes2){0.0, 0.0})[0];                 \
  }
#endif

DEFINE_HYPOTENUSE(2)
DEFINE_ARC_TANGENT2_RULE(2)
DEFINE_RULE_SCALAR(bp_hypotenuse, hypotenuse)
DEFINE_RULE_SCALAR(bp_arc_tangent2, arc_tangent2_rule)
