// Quotients, square roots and relu, and their pullbacks, four or eight lanes at a time (see
// BackpropKernels.h for why this is C). Division and the square root are correctly rounded in
// every width and relu is a selection, so each lane gives the bits of the Swift scalar rule it
// restates; only the speed changes. Swift's loops over them run at the baseline's two lanes, and
// division and the square root are slow instructions, which then dominate a gradient that uses
// them: wider registers divide more numbers at a time.
//
// Every kernel is one rule of three inputs, p, q and r, each lane computing rule(p, q, r): p or
// q may be null and stand for one value at every position (a cotangent that is uniform, an
// operand that is a broadcast scalar), r is read where it is not null. Each lane reads before it
// writes, so the destination may be any input's buffer.

#include "BackpropKernels.h"

#include "Lanes.h"

#include "ArcTangent.h"

// No expression here holds both a product and a sum, so contraction (BackpropKernels.h) fuses
// nothing, and the x86-64 portable build gives the bits of the others: the fused multiply-adds
// below are written out, and exact everywhere.

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

// The rule's loops of 4 and (on x86-64) 8 lanes.
#define DEFINE_RULE(NAME)                                                                       \
  DEFINE_RULE_LOOP(NAME, 4)                                                                     \
  BP_ON_X86(DEFINE_RULE_LOOP(NAME, 8))

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

// The rules' loops of W lanes, one chosen by its kind; a kind outside bp_rule_kind writes
// nothing.
#define DEFINE_RULES(W)                                                                         \
  static inline __attribute__((always_inline)) LANE_TARGET##W void rules##W(                   \
      bp_rule_kind rule, const double *p, double p_uniform, const double *q, double q_uniform, \
      const double *r, double *destination, ptrdiff_t count) {                                 \
    switch (rule) {                                                                            \
      case bp_rule_quotient: RULE_CASE(quotient, W)                                             \
      case bp_rule_square_root: RULE_CASE(square_root, W)                                       \
      case bp_rule_reciprocal_square_root: RULE_CASE(reciprocal_square_root, W)                 \
      case bp_rule_rectified: RULE_CASE(rectified, W)                                           \
      case bp_rule_dividend_pullback: RULE_CASE(dividend_pullback, W)                           \
      case bp_rule_divisor_pullback: RULE_CASE(divisor_pullback, W)                             \
      case bp_rule_square_root_pullback: RULE_CASE(square_root_pullback, W)                     \
      case bp_rule_rectified_pullback: RULE_CASE(rectified_pullback, W)                         \
      case bp_rule_hypotenuse: RULE_CASE(hypotenuse, W)                                         \
      case bp_rule_arc_tangent2: RULE_CASE(arc_tangent2_rule, W)                                \
    }                                                                                          \
  }
#define RULE_CASE(NAME, W)                                                                      \
  NAME##_loop##W(p, p_uniform, q, q_uniform, r, destination, count);                           \
  return;

DEFINE_RULES(4)
BP_ON_X86(DEFINE_RULES(8))
BP_REGISTER(rule, BP_SIGNATURE_RULE, rules4, rules8, rules8)

// One pair in two lanes, with no loop or dispatch around it: a VJP's scalar rule calls it per
// scalar. Built for FMA where the machine has it, the same operations as the loops, so the same
// bits: bp_NAME(p, q) for the rule NAME##2.
#define DEFINE_RULE_SCALAR(ENTRY, NAME)                                                         \
  static inline __attribute__((always_inline)) double ENTRY##_scalar(double p, double q) {     \
    return NAME##2((Lanes2){p, 1.0}, (Lanes2){q, 1.0}, (Lanes2){0.0, 0.0})[0];                 \
  }                                                                                             \
  BP_REGISTER(ENTRY, BP_SIGNATURE_BINARY_SCALAR, ENTRY##_scalar, ENTRY##_scalar, ENTRY##_scalar)

DEFINE_HYPOTENUSE(2)
DEFINE_ARC_TANGENT2_RULE(2)
DEFINE_RULE_SCALAR(hypotenuse, hypotenuse)
DEFINE_RULE_SCALAR(arc_tangent2, arc_tangent2_rule)
