// The arctangent's lanes, for atan (ArcTangent.c) and atan2 (a rule of Arithmetic.c). A private
// header: each file instantiates the widths it uses, after Lanes.h.
//
// Reduction: for a = |x|, a centre c is chosen by the interval a falls in, c = 0 below 7/16,
// then 1/2, 1, 3/2 below 11/16, 19/16, 39/16, and ∞ above, and
//   atan a = atan c + atan t,   t = (a − c)/(1 + a c)   (t = −1/a for c = ∞),
// which keeps |t| <= 7/16. The numerators a − c are exact (Sterbenz) and the reduction's own
// rounding is that of one quotient, as in fdlibm's atan, whose intervals these are. Then
// atan t = t − t z p(z), z = t², with p from Tests/Reference/inverse_trigonometric_tables.py (0.03 ulp).
// The result is returned unrounded, as a head (atan c's high part, exact) and a tail (t and
// the small terms, rounded once), so that atan2 can add it to π/2 or π with no rounding of its
// own in between; atan adds the two. An argument a + a_low (atan2's quotient with its
// residual) adds a_low/(1 + a²) among the small terms.
//
// The operations are IEEE's and the fused multiply-adds are written out; each product is a
// statement of its own, so nothing is contracted (BackpropKernels.h) and every width, the x86-64
// portable one included, gives the same bits.

#ifndef BACKPROP_ARC_TANGENT_H
#define BACKPROP_ARC_TANGENT_H

#include "ArcTangentTable.h"

#define DEFINE_ARC_TANGENT_PARTS(W)                                                              \
  /* The high (part 0) or low (part 1) half of atan c for each lane's centre, 0 below 7/16. */  \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W arc_tangent_centre##W(    \
      Mask##W m0, Mask##W m1, Mask##W m2, Mask##W m3, int part) {                                \
    Lanes##W value = select_lanes##W(m0, (Lanes##W)arc_tangent_centres[0][part], (Lanes##W)0.0); \
    value = select_lanes##W(m1, (Lanes##W)arc_tangent_centres[1][part], value);                 \
    value = select_lanes##W(m2, (Lanes##W)arc_tangent_centres[2][part], value);                 \
    return select_lanes##W(m3, (Lanes##W)arc_tangent_centres[3][part], value);                  \
  }                                                                                              \
                                                                                                 \
  static inline __attribute__((always_inline)) LANE_TARGET##W void arc_tangent_parts##W(         \
      Lanes##W a, Lanes##W a_low, Lanes##W *head, Lanes##W *tail) {                              \
    Mask##W m0 = a >= 0x1.cp-2, m1 = a >= 0x1.6p-1, m2 = a >= 0x1.3p+0, m3 = a >= 0x1.38p+1;    \
    /* Each product a statement of its own, so that no sum is contracted with it. */             \
    Lanes##W twice = 2.0 * a, three_halves = 1.5 * a, square = a * a;                            \
    Lanes##W numerator = select_lanes##W(                                                        \
        m3, (Lanes##W)-1.0,                                                                      \
        select_lanes##W(                                                                         \
            m2, a - 1.5, select_lanes##W(m1, a - 1.0, select_lanes##W(m0, twice - 1.0, a))));     \
    Lanes##W denominator = select_lanes##W(                                                      \
        m3, a,                                                                                   \
        select_lanes##W(                                                                         \
            m2, 1.0 + three_halves,                                                              \
            select_lanes##W(m1, a + 1.0, select_lanes##W(m0, 2.0 + a, (Lanes##W)1.0))));         \
    Lanes##W t = numerator / denominator;                                                        \
    Lanes##W z = t * t;                                                                          \
    Lanes##W p = (Lanes##W)arc_tangent_polynomial[11];                                           \
    for (int i = 10; i >= 0; i--)                                                                \
      p = __builtin_elementwise_fma(p, z, (Lanes##W)arc_tangent_polynomial[i]);                  \
    Lanes##W high = arc_tangent_centre##W(m0, m1, m2, m3, 0);                                    \
    Lanes##W low = arc_tangent_centre##W(m0, m1, m2, m3, 1);                                     \
    /* The argument's low part moves atan by a_low/(1 + a²) (0 where 1 + a² overflows). */        \
    Lanes##W shift = a_low / (1.0 + square);                                                     \
    Lanes##W series = t * (z * p);                                                               \
    Lanes##W small = (series - low) - shift;                                                     \
    *head = high;                                                                                \
    *tail = t - small;                                                                           \
  }                                                                                              \
                                                                                                 \
  /* atan x: the parts added, with x's sign; ±0 and NaN give themselves. */                      \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W arc_tangent##W(           \
      Lanes##W x) {                                                                              \
    Lanes##W head, tail;                                                                         \
    arc_tangent_parts##W(__builtin_elementwise_abs(x), (Lanes##W)0.0, &head, &tail);             \
    return __builtin_elementwise_copysign(head + tail, x);                                       \
  }                                                                                              \
                                                                                                 \
  /* atan2(y, x), the angle of (x, y): q = min/max of |y|, |x| with its residual, so that         \
     q <= 1, and atan q added to or taken from 0, π/2 or π by the quadrant, the pair's high      \
     parts by a two-sum, then the low parts and the tail; y's sign last. C's special cases:      \
     both zero gives 0 or π by x's sign bit, both infinite π/4 or 3π/4; NaN gives NaN. */        \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W arc_tangent2##W(          \
      Lanes##W y, Lanes##W x) {                                                                  \
    Lanes##W ay = __builtin_elementwise_abs(y), ax = __builtin_elementwise_abs(x);               \
    Mask##W swap = ay > ax;                                                                      \
    Lanes##W numerator = select_lanes##W(swap, ax, ay);                                          \
    Lanes##W denominator = select_lanes##W(swap, ay, ax);                                        \
    Lanes##W q = numerator / denominator;                                                        \
    Lanes##W q_low = __builtin_elementwise_fma(-q, denominator, numerator) / denominator;        \
    Mask##W zeros = (ay == 0.0) & (ax == 0.0);                                                   \
    Mask##W infinities = (ay == __builtin_inf()) & (ax == __builtin_inf());                     \
    q = select_lanes##W(zeros, (Lanes##W)0.0, select_lanes##W(infinities, (Lanes##W)1.0, q));   \
    /* No residual where the quotient is exact by fiat or the denominator is 0 or ∞. */         \
    Mask##W ordinary = (denominator > 0.0) & (denominator < __builtin_inf());                   \
    q_low = select_lanes##W(ordinary, q_low, (Lanes##W)0.0);                                     \
    Lanes##W head, tail;                                                                         \
    arc_tangent_parts##W(q, q_low, &head, &tail);                                                \
    Mask##W negative_x = (Mask##W)((Bits##W)x >> 63) != 0;                                       \
    Lanes##W base_high = select_lanes##W(                                                        \
        swap, (Lanes##W)arc_tangent_centres[3][0],                                               \
        select_lanes##W(negative_x, (Lanes##W)pi_pair[0], (Lanes##W)0.0));                       \
    Lanes##W base_low = select_lanes##W(                                                         \
        swap, (Lanes##W)arc_tangent_centres[3][1],                                               \
        select_lanes##W(negative_x, (Lanes##W)pi_pair[1], (Lanes##W)0.0));                       \
    /* Taken away where exactly one of swap and negative_x holds. */                             \
    Lanes##W sign = select_lanes##W(swap ^ negative_x, (Lanes##W)-1.0, (Lanes##W)1.0);          \
    Lanes##W signed_head = sign * head;                                                          \
    Lanes##W sum = base_high + signed_head;                                                      \
    Lanes##W virtual_head = sum - base_high;                                                     \
    Lanes##W sum_error = (base_high - (sum - virtual_head)) + (signed_head - virtual_head);      \
    Lanes##W signed_tail = sign * tail;                                                          \
    Lanes##W result = sum + ((sum_error + base_low) + signed_tail);                              \
    return __builtin_elementwise_copysign(result, y);                                            \
  }

#endif
