// The inverse sine and cosine, two, four or eight lanes at a time (see BackpropKernels.h for why
// this is C). With a = |x|:
//
// - For a <= 1/2, asin a = a + a z p(z), z = a², with p from Tests/Reference/inverse_trigonometric_tables.py
//   (0.02 ulp): the one rounding of the result's size is the last addition.
// - Above, asin a = π/2 − 2 asin s with s = √w, w = (1 − a)/2 exact (Sterbenz, and a halving),
//   and s <= 1/2 again. s is rounded, so its residual s_low = (w − s²)/(2s) (a fused
//   multiply-add) moves asin s by s_low/√(1 − s²) ≈ s_low (1 + s²/2), which the small terms
//   take; π/2 − 2s is a two-sum with π/2 as a pair.
// acos x is π/2 − asin x for |x| <= 1/2 (a two-sum), and above, 2 asin s for x > 0 and
// π − 2 asin s for x < 0. So no rounding but the last is of the result's size: within 1 ulp
// (ArcSineTests measures every build against 80-bit asinl and acosl). asin is odd; |x| > 1 and
// NaN give NaN; asin(±1) = ±π/2, acos(1) = 0, acos(−1) = π.
//
// No expression holds a product and a sum, so nothing is contracted (BackpropKernels.h): the
// operations are IEEE's and the fused multiply-adds are written out, so every width, the x86-64
// portable one included, gives the same bits.

#include "BackpropKernels.h"

#include "Lanes.h"

#include "ArcSineTable.h"

#define DEFINE_ARC_SINE(W)                                                                       \
  /* asin(t + t_low) − t for 0 <= t <= 1/2 and t_low far below t's ulp, to the polynomial's    \
     accuracy: the small part, rounded once. */                                                  \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W arc_sine_small##W(       \
      Lanes##W t, Lanes##W t_low) {                                                              \
    Lanes##W z = t * t;                                                                          \
    Lanes##W p = (Lanes##W)arc_sine_polynomial[13];                                              \
    for (int i = 12; i >= 0; i--)                                                                \
      p = __builtin_elementwise_fma(p, z, (Lanes##W)arc_sine_polynomial[i]);                     \
    Lanes##W half_z = 0.5 * z;                                                                   \
    Lanes##W series = t * (z * p), correction = t_low * (1.0 + half_z);                          \
    return series + correction;                                                                  \
  }                                                                                              \
                                                                                                 \
  /* s = √((1 − a)/2) and its residual, and the small part of asin(s + s_low) − s. */            \
  static inline __attribute__((always_inline)) LANE_TARGET##W void arc_sine_reduced##W(          \
      Lanes##W a, Lanes##W *s_out, Lanes##W *small_out) {                                        \
    Lanes##W w = (1.0 - a) * 0.5;                                                                \
    Lanes##W s = __builtin_elementwise_sqrt(w);                                                  \
    Lanes##W s_low = __builtin_elementwise_fma(-s, s, w) / (2.0 * s);                            \
    s_low = select_lanes##W(s > 0.0, s_low, (Lanes##W)0.0);                                      \
    *s_out = s;                                                                                  \
    *small_out = arc_sine_small##W(s, s_low);                                                    \
  }                                                                                              \
                                                                                                 \
  /* high + low with high − term formed by a two-sum, then the low parts: one rounding. */       \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W pair_minus##W(            \
      double high, double low, Lanes##W term, Lanes##W term_low) {                               \
    Lanes##W negative = -term;                                                                   \
    Lanes##W sum = high + negative;                                                              \
    Lanes##W virtual_term = sum - high;                                                          \
    Lanes##W error = (high - (sum - virtual_term)) + (negative - virtual_term);                 \
    return sum + ((error + low) - term_low);                                                     \
  }                                                                                              \
                                                                                                 \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W arc_sine##W(Lanes##W x) { \
    Lanes##W a = __builtin_elementwise_abs(x);                                                   \
    Lanes##W near = a + arc_sine_small##W(a, (Lanes##W)0.0);                                     \
    Lanes##W s, small;                                                                           \
    arc_sine_reduced##W(a, &s, &small);                                                          \
    Lanes##W far = pair_minus##W(half_pi_pair[0], half_pi_pair[1], 2.0 * s, 2.0 * small);        \
    Lanes##W result = select_lanes##W(a > 0.5, far, near);                                       \
    return __builtin_elementwise_copysign(result, x);                                            \
  }                                                                                              \
                                                                                                 \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W arc_cosine##W(            \
      Lanes##W x) {                                                                              \
    Lanes##W a = __builtin_elementwise_abs(x);                                                   \
    Lanes##W near = pair_minus##W(                                                               \
        half_pi_pair[0], half_pi_pair[1], x,                                                     \
        __builtin_elementwise_copysign(arc_sine_small##W(a, (Lanes##W)0.0), x));                 \
    Lanes##W s, small;                                                                           \
    arc_sine_reduced##W(a, &s, &small);                                                          \
    Lanes##W twice_s = 2.0 * s, twice_small = 2.0 * small;                                       \
    Lanes##W positive = twice_s + twice_small;                                                   \
    Lanes##W negative = pair_minus##W(whole_pi_pair[0], whole_pi_pair[1], 2.0 * s, 2.0 * small); \
    Lanes##W far = select_lanes##W(x > 0.0, positive, negative);                                 \
    return select_lanes##W(a > 0.5, far, near);                                                  \
  }

DEFINE_ARC_SINE(2)
DEFINE_ARC_SINE(4)
DEFINE_ARC_SINE(8)
DEFINE_KERNEL_ENTRIES(arc_sines, arc_sine, 0.0)
DEFINE_KERNEL_ENTRIES(arc_cosines, arc_cosine, 0.0)
