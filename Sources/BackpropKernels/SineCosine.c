// Sine, cosine and tangent, two, four or eight lanes at a time (see BackpropKernels.h for why this is C).
//
//   x = k π/2 + r with k = round(2x/π) and |r| <= π/4, r carried as r_high + r_low: π/2 is
//   split into four parts, the first three of 33 bits, so that k times each is exact for
//   |k| < 2^20, and the subtractions cancel exactly (Cody and Waite's reduction, as fdlibm
//   extends it); the last part's product goes into r_low.
//   sin(r_high + r_low) ≈ r + r³ S(r²) + r_low (1 − r²/2), and
//   cos(r_high + r_low) ≈ (1 − r²/2) + r⁴ C(r²) − r r_low, with S and C the Taylor series of
//   sine and cosine through r¹⁷ and r¹⁸ (truncation below 10⁻¹⁹), each evaluated so that the
//   small terms are added first and 1 − r²/2 is formed with its rounding error recovered.
//   k mod 4 picks the quadrant: which of the two, and its sign.
// For |x| above 2^19, or x not finite, a lane takes the C library's function instead (rare,
// and the same in a scalar and a tensor). SineCosineTests measures the error against 80-bit
// results in every build.

#include "BackpropKernels.h"

#include "Lanes.h"

static const double two_over_pi = 0x1.45f306dc9c883p-1;
static const double pio2_1 = 0x1.921fb54400000p+0;
static const double pio2_2 = 0x1.0b4611a600000p-34;
static const double pio2_3 = 0x1.3198a2e000000p-69;
static const double pio2_4 = 0x1.b839a252049c1p-104;
static const double reduction_limit = 0x1p19;

#define DEFINE_SINE_COSINE(W)                                                                    \
  /* sin r and cos r for the reduced argument of x, each as a high part and a small low part     \
     (sine = sine_high + sine_low to the kernel's accuracy, |sine_low| < |sine_high| / 10, and   \
     likewise the cosine), and the quadrant k mod 4. */                                          \
  static inline __attribute__((always_inline)) LANE_TARGET##W void sine_cosine_parts##W(                        \
      Lanes##W x, Bits##W *quadrant_out, Lanes##W *sine_high, Lanes##W *sine_low,                \
      Lanes##W *cosine_high, Lanes##W *cosine_low) {                                             \
    Lanes##W k = (x * two_over_pi + shifter) - shifter;                                          \
    *quadrant_out = (Bits##W)(k + shifter) & 3;                                                  \
    /* k pio2_i is exact (at most 53 bits), and so is x − k pio2_1 (it cancels); the next two    \
       differences are exact only when they cancel, so each keeps its rounding error by a        \
       two-sum, and r = r_high + r_low is renormalized at the end. */                            \
    Lanes##W t1 = x - k * pio2_1;                                                                \
    Lanes##W w2 = -(k * pio2_2);                                                                 \
    Lanes##W t2 = t1 + w2;                                                                       \
    Lanes##W b2 = t2 - t1;                                                                       \
    Lanes##W e2 = (t1 - (t2 - b2)) + (w2 - b2);                                                  \
    Lanes##W w3 = -(k * pio2_3);                                                                 \
    Lanes##W t3 = t2 + w3;                                                                       \
    Lanes##W b3 = t3 - t2;                                                                       \
    Lanes##W e3 = (t2 - (t3 - b3)) + (w3 - b3);                                                  \
    Lanes##W tail = (e2 + e3) - k * pio2_4;                                                      \
    Lanes##W r = t3 + tail;                                                                      \
    Lanes##W r_low = (t3 - r) + tail;                                                            \
    Lanes##W z = r * r;                                                                          \
    /* sin(r + r_low) = r - ((z (r_low/2 - v s) - r_low) - v/6), v = z r. */                     \
    Lanes##W s = (Lanes##W)0x1.952c77030ad4ap-49;                                                \
    s = s * z - 0x1.ae7f3e733b81fp-41;                                                           \
    s = s * z + 0x1.6124613a86d09p-33;                                                           \
    s = s * z - 0x1.ae64567f544e4p-26;                                                           \
    s = s * z + 0x1.71de3a556c734p-19;                                                           \
    s = s * z - 0x1.a01a01a01a01ap-13;                                                           \
    s = s * z + 0x1.1111111111111p-7;                                                            \
    Lanes##W v = z * r;                                                                          \
    *sine_high = r;                                                                              \
    *sine_low = -((z * (0.5 * r_low - v * s) - r_low) - v * -0x1.5555555555555p-3);              \
    /* cos(r + r_low) = w + (((1 - w) - z/2) + (z c - r r_low)), w = 1 - z/2. */                 \
    Lanes##W c = (Lanes##W)-0x1.6827863b97d97p-53;                                               \
    c = c * z + 0x1.ae7f3e733b81fp-45;                                                           \
    c = c * z - 0x1.93974a8c07c9dp-37;                                                           \
    c = c * z + 0x1.1eed8eff8d898p-29;                                                           \
    c = c * z - 0x1.27e4fb7789f5cp-22;                                                           \
    c = c * z + 0x1.a01a01a01a01ap-16;                                                           \
    c = c * z - 0x1.6c16c16c16c17p-10;                                                           \
    c = c * z + 0x1.5555555555555p-5;                                                            \
    c = z * c;                                                                                   \
    Lanes##W half = 0.5 * z;                                                                     \
    Lanes##W w = 1.0 - half;                                                                     \
    *cosine_high = w;                                                                            \
    *cosine_low = ((1.0 - w) - half) + (z * c - r * r_low);                                      \
  }                                                                                              \
                                                                                                 \
  /* The lanes whose |x| is above the reduction's range, or not finite, by the C library. */     \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W outside_reduction##W(                    \
      Lanes##W x, Lanes##W result, double (*function)(double)) {                                 \
    Mask##W outside = !((Lanes##W)((Bits##W)x & 0x7fffffffffffffff) <= reduction_limit);         \
    if (__builtin_reduce_or(outside)) {                                                          \
      for (int lane = 0; lane < W; lane++) {                                                     \
        if (outside[lane]) result[lane] = function(x[lane]);                                     \
      }                                                                                          \
    }                                                                                            \
    return result;                                                                               \
  }                                                                                              \
                                                                                                 \
  /* sin x (cosine = 0) or cos x (cosine = 1), one lane at a time by the C library where the     \
     lane is out of the reduction's range. */                                                    \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W sine_cosine##W(Lanes##W x, int cosine) { \
    Bits##W quadrant;                                                                            \
    Lanes##W sine_high, sine_low, cosine_high, cosine_low;                                       \
    sine_cosine_parts##W(x, &quadrant, &sine_high, &sine_low, &cosine_high, &cosine_low);        \
    Lanes##W sine = sine_high + sine_low;                                                        \
    Lanes##W cosine_value = cosine_high + cosine_low;                                            \
    /* The quadrant: cos x = sin(x + π/2), so the cosine is the sine one quadrant on. */         \
    Bits##W q = (quadrant + (Bits##W)(int64_t)cosine) & 3;                                       \
    Lanes##W result = select_lanes##W((Mask##W)((q & 1) != 0), cosine_value, sine);              \
    result = (Lanes##W)((Bits##W)result ^ ((q & 2) << 62));                                      \
    /* sin(±0) = ±0: the two-sums above add +0 to −0. */                                         \
    if (!cosine) result = select_lanes##W(x == 0.0, x, result);                                  \
    return outside_reduction##W(x, result, cosine ? cos : sin);                                  \
  }                                                                                              \
                                                                                                 \
  /* tan x = sin r / cos r in quadrants 0 and 2, −cos r / sin r in 1 and 3: each operand summed  \
     from its parts with the rounding error kept (a fast two-sum), and the quotient corrected by \
     its exact residual (a fused multiply-add), so that the last rounding is what remains. */    \
  static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W tangent##W(Lanes##W x) {                 \
    Bits##W quadrant;                                                                            \
    Lanes##W sine_high, sine_low, cosine_high, cosine_low;                                       \
    sine_cosine_parts##W(x, &quadrant, &sine_high, &sine_low, &cosine_high, &cosine_low);        \
    Lanes##W sine = sine_high + sine_low;                                                        \
    Lanes##W sine_error = (sine_high - sine) + sine_low;                                         \
    Lanes##W cosine_value = cosine_high + cosine_low;                                            \
    Lanes##W cosine_error = (cosine_high - cosine_value) + cosine_low;                           \
    Mask##W odd = (Mask##W)((quadrant & 1) != 0);                                                \
    Lanes##W n = select_lanes##W(odd, cosine_value, sine);                                       \
    Lanes##W n_low = select_lanes##W(odd, cosine_error, sine_error);                             \
    Lanes##W d = select_lanes##W(odd, sine, cosine_value);                                       \
    Lanes##W d_low = select_lanes##W(odd, sine_error, cosine_error);                             \
    Lanes##W q = n / d;                                                                          \
    Lanes##W residual = __builtin_elementwise_fma(-q, d, n);                                     \
    Lanes##W result = q + ((residual + n_low) - q * d_low) / d;                                  \
    result = select_lanes##W(odd, -result, result);                                              \
    /* tan(±0) = ±0. */                                                                          \
    result = select_lanes##W(x == 0.0, x, result);                                               \
    return outside_reduction##W(x, result, tan);                                                 \
  }                                                                                              \
  static inline __attribute__((always_inline)) LANE_TARGET##W void sines_cosines##W(                            \
      const double *source, double *destination, ptrdiff_t count, int cosine) {                 \
    ptrdiff_t index = 0;                                                                         \
    for (; index + W <= count; index += W) {                                                     \
      Lanes##W x;                                                                                \
      memcpy(&x, source + index, sizeof x);                                                      \
      Lanes##W y = sine_cosine##W(x, cosine);                                                    \
      memcpy(destination + index, &y, sizeof y);                                                 \
    }                                                                                            \
    if (index < count) {                                                                         \
      Lanes##W x = (Lanes##W)0.0;                                                                \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) x[lane] = source[index + lane];     \
      Lanes##W y = sine_cosine##W(x, cosine);                                                    \
      for (ptrdiff_t lane = 0; lane < count - index; lane++) destination[index + lane] = y[lane]; \
    }                                                                                            \
  }

DEFINE_SINE_COSINE(2)
DEFINE_SINE_COSINE(4)
DEFINE_SINE_COSINE(8)
DEFINE_KERNEL_ENTRIES(tangents, tangent, 0.0)

// The sine and the cosine share their lanes; each kernel fixes `cosine`.
#define DEFINE_SINE_COSINE_ENTRIES(W)                                                            \
  static inline __attribute__((always_inline)) LANE_TARGET##W void sines##W(                     \
      const double *source, double *destination, ptrdiff_t count) {                              \
    sines_cosines##W(source, destination, count, 0);                                             \
  }                                                                                              \
  static inline __attribute__((always_inline)) LANE_TARGET##W void cosines##W(                   \
      const double *source, double *destination, ptrdiff_t count) {                              \
    sines_cosines##W(source, destination, count, 1);                                             \
  }

DEFINE_SINE_COSINE_ENTRIES(4)
BP_ON_X86(DEFINE_SINE_COSINE_ENTRIES(8))

static inline __attribute__((always_inline)) double sine_scalar(double x) {
  return sine_cosine2((Lanes2){x, 0}, 0)[0];
}

static inline __attribute__((always_inline)) double cosine_scalar(double x) {
  return sine_cosine2((Lanes2){x, 0}, 1)[0];
}

BP_REGISTER(sines, BP_SIGNATURE_MAP, sines4, sines8, sines8)
BP_REGISTER(cosines, BP_SIGNATURE_MAP, cosines4, cosines8, cosines8)
BP_REGISTER(sine, BP_SIGNATURE_SCALAR, sine_scalar, sine_scalar, sine_scalar)
BP_REGISTER(cosine, BP_SIGNATURE_SCALAR, cosine_scalar, cosine_scalar, cosine_scalar)
