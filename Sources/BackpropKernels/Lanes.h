// The vector helpers the kernels share, for vectors of W lanes: 2 (one scalar), 4 (the portable
// build: two SSE2 or NEON registers) and 8 (the AVX2 build, in two registers, and the AVX-512
// build, in one). Each lane does the same operations at every width, so the results are the same
// bits. A private header: each kernel file instantiates what it uses.

#ifndef BACKPROP_LANES_H
#define BACKPROP_LANES_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "Dispatch.h"

// The helpers below take 256-bit vectors and are always inlined, into the portable function and
// into the AVX2 one alike, so no vector ever crosses a call and the ABI warning does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

// ln 2 in two parts: ln2_high has 32 significant bits, so k * ln2_high is exact for the
// |k| <= 1076 that occur, and x - k * ln2_high is exact too.
static const double log2e = 0x1.71547652b82fep0;
static const double ln2_high = 0x1.62e42fee00000p-1;
static const double ln2_low = 0x1.a39ef35793c76p-33;
// 1.5 * 2^52: adding it rounds a double below 2^51 in magnitude to an integer, to nearest
// with ties to even, and leaves that integer in the low bits of the sum.
static const double shifter = 0x1.8p52;
// Beyond these e^x is +inf or rounds to 0, and the clamped input gives the same result.
static const double lowest = -746.0;
static const double highest = 710.0;

// Helpers of two, four and eight lanes carry no target of their own, so that each inlines into
// every width's entry point and compiles for its target there: the AVX2 build runs the eight-lane
// loops too, each operation two instructions side by side, whose chains of dependent operations
// then overlap (a kernel is bound by those chains' latency more than by its instruction count).
// Each file defines a family of helpers at every width and uses what it needs of them, so none
// is reported unused.
#define LANE_TARGET2 __attribute__((unused))
#define LANE_TARGET4 __attribute__((unused))
#define LANE_TARGET8 __attribute__((unused))

// The Taylor coefficients 1/n! of q3 (below), n = 3…13.
static const double exponential_coefficients[11] = {
    0x1.5555555555555p-3,  0x1.5555555555555p-5,  0x1.1111111111111p-7,  0x1.6c16c16c16c17p-10,
    0x1.a01a01a01a01ap-13, 0x1.a01a01a01a01ap-16, 0x1.71de3a556c734p-19, 0x1.27e4fb7789f5cp-22,
    0x1.ae64567f544e4p-26, 0x1.1eed8eff8d898p-29, 0x1.6124613a86d09p-33,
};

// The lane helpers and the exponential (see Exponential.c for the method).
#define DEFINE_LANES(W) \
typedef double Lanes##W __attribute__((ext_vector_type(W))); \
/* A comparison's own type: its lanes are `long` on LP64 systems, which is int64_t on Linux but */ \
/* not on Darwin, where int64_t is `long long` and the two vector types do not convert. */ \
typedef __typeof__((Lanes##W){0} < (Lanes##W){0}) Mask##W; \
typedef uint64_t Bits##W __attribute__((ext_vector_type(W))); \
 \
static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W select_lanes##W(Mask##W mask, Lanes##W a, Lanes##W b) { \
  Bits##W bits = ((Bits##W)mask & (Bits##W)a) | (~(Bits##W)mask & (Bits##W)b); \
  return (Lanes##W)bits; \
} \
 \
/* 2^n for integer-valued lanes with -1022 <= n <= 1023: the biased exponent n + 1023 in place */ \
/* and a zero significand. Adding the shifter puts n + 1023 in the low bits. */ \
static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W power_of_two##W(Lanes##W n) { \
  Lanes##W biased = n + (shifter + 1023.0); \
  return (Lanes##W)((Bits##W)biased << 52); \
} \
 \
/* c[0] + c[1] x + … + c[10] x¹⁰ by Estrin's scheme: pairs of terms, combined by x², x⁴ and */ \
/* x⁸, so that the longest chain of dependent operations is 5 long where Horner's rule has 11: */ \
/* such a polynomial is bound by that chain's latency. */ \
static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W polynomial11_##W(Lanes##W x, const double c[11]) { \
  Lanes##W x2 = x * x, x4 = x2 * x2, x8 = x4 * x4; \
  Lanes##W p0 = c[0] + c[1] * x, p1 = c[2] + c[3] * x, p2 = c[4] + c[5] * x; \
  Lanes##W p3 = c[6] + c[7] * x, p4 = c[8] + c[9] * x; \
  Lanes##W q0 = p0 + p1 * x2, q1 = p2 + p3 * x2, q2 = p4 + c[10] * x2; \
  return (q0 + q1 * x4) + q2 * x8; \
} \
 \
/* q3(r) = sum of r^(n-3) / n! for n = 3...13, and e^r = 1 + r + r^2/2 + r^3 q3(r) to below */ \
/* 1e-17 for |r| <= 0.347; the polynomial's rounding reaches e^r scaled by r³ <= 0.04. */ \
static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W exponential_cubic##W(Lanes##W r) { \
  return polynomial11_##W(r, exponential_coefficients); \
} \
 \
/* e^x = 2^k (1 + m) for x within [lowest, highest]: returns m = e^r - 1 and sets k. */ \
static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W exponential_reduced##W(Lanes##W x, Lanes##W *k_out) { \
  /* k = round(x / ln 2), and r = x - k ln 2 kept as high - low for one more digit. */ \
  Lanes##W k = (x * log2e + shifter) - shifter; \
  Lanes##W high = x - k * ln2_high; \
  Lanes##W low = k * ln2_low; \
  Lanes##W r = high - low; \
  /* q(r) = q3(r) r + 1/2, the sum of r^(n-2) / n! for n = 2...13. */ \
  Lanes##W q = exponential_cubic##W(r) * r + 0x1p-1; \
  *k_out = k; \
  /* e^r - 1 = high - (low - r^2 q): the small terms first, so that each rounding is of a */ \
  /* quantity smaller than the result. */ \
  return high - (low - r * r * q); \
} \
 \
/* m 2^k for integer-valued k with -1076 <= k <= 1024 and an m that stays normal when scaled */ \
/* by 2^(k/2) (the exponential's m is within [0.7, 1.5]), rounded once: 2^k = 2^k1 * 2^k2 */ \
/* with k1 = round(k / 2), each factor normal, so m 2^k1 is exact and the second product */ \
/* rounds the exact m 2^k once, a subnormal or overflowing result included. */ \
static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W scaled_in_two_steps##W(Lanes##W m, Lanes##W k) { \
  Lanes##W k1 = (k * 0.5 + shifter) - shifter; \
  Lanes##W k2 = k - k1; \
  return m * power_of_two##W(k1) * power_of_two##W(k2); \
}

DEFINE_LANES(2)
DEFINE_LANES(4)
DEFINE_LANES(8)

// m 2^k at each width, in two exact steps.
static inline __attribute__((always_inline)) Lanes2 scaled2(Lanes2 m, Lanes2 k) {
  return scaled_in_two_steps2(m, k);
}
static inline __attribute__((always_inline)) Lanes4 scaled4(Lanes4 m, Lanes4 k) {
  return scaled_in_two_steps4(m, k);
}
static inline __attribute__((always_inline)) Lanes8 scaled8(Lanes8 m, Lanes8 k) {
  return scaled_in_two_steps8(m, k);
}

#define DEFINE_EXPONENTIAL(W) \
static inline __attribute__((always_inline)) LANE_TARGET##W Lanes##W exponential##W(Lanes##W x) { \
  Lanes##W clamped = select_lanes##W(x < lowest, (Lanes##W)lowest, x); \
  clamped = select_lanes##W(clamped > highest, (Lanes##W)highest, clamped); \
  Lanes##W k; \
  Lanes##W exp_r = 1.0 + exponential_reduced##W(clamped, &k); \
  Lanes##W result = scaled##W(exp_r, k); \
  /* A NaN input compares false above and went through as a number; give it back. */ \
  return select_lanes##W(x != x, x, result); \
}

DEFINE_EXPONENTIAL(2)
DEFINE_EXPONENTIAL(4)
DEFINE_EXPONENTIAL(8)

// The loop of a one-input kernel, MAP##W(source, destination, count), applying FUNCTION##W:
// W lanes at a time, then the last scalars in lanes padded with PAD (a value the function
// takes in its stride), whose results are not kept. Each lane reads before it writes, so the
// destination may be the source.
#define DEFINE_LANE_MAP(MAP, FUNCTION, W, PAD) \
static inline __attribute__((always_inline)) LANE_TARGET##W void MAP##W( \
    const double *source, double *destination, ptrdiff_t count) { \
  ptrdiff_t index = 0; \
  for (; index + W <= count; index += W) { \
    Lanes##W x; \
    memcpy(&x, source + index, sizeof x); \
    Lanes##W y = FUNCTION##W(x); \
    memcpy(destination + index, &y, sizeof y); \
  } \
  if (index < count) { \
    Lanes##W x = (Lanes##W)(PAD); \
    for (ptrdiff_t lane = 0; lane < count - index; lane++) x[lane] = source[index + lane]; \
    Lanes##W y = FUNCTION##W(x); \
    for (ptrdiff_t lane = 0; lane < count - index; lane++) destination[index + lane] = y[lane]; \
  } \
}

// A one-input kernel whose lane function FUNCTION##W is defined for W = 2, 4 and 8: the loops
// MAP##4 and (on x86-64) MAP##8, and its registration (Dispatch.h) as two kernels: MAP, over
// buffers, and FUNCTION, one scalar in two lanes padded with PAD, with the bits the vector loop
// gives it. Written once here so that each kernel file declares only its mathematics.
#define DEFINE_KERNEL_ENTRIES(MAP, FUNCTION, PAD) \
DEFINE_LANE_MAP(MAP, FUNCTION, 4, PAD) \
BP_ON_X86(DEFINE_LANE_MAP(MAP, FUNCTION, 8, PAD)) \
static inline __attribute__((always_inline)) double FUNCTION##_scalar(double x) { \
  return FUNCTION##2((Lanes2){x, PAD})[0]; \
} \
BP_REGISTER(MAP, BP_SIGNATURE_MAP, MAP##4, MAP##8, MAP##8) \
BP_REGISTER(FUNCTION, BP_SIGNATURE_SCALAR, FUNCTION##_scalar, FUNCTION##_scalar, FUNCTION##_scalar)

// The loop of a kernel with two results, FUNCTION##W(x, &second) returning the first. The last
// scalars run in lanes padded with PAD. Each lane reads before it writes, so either destination
// may be the source.
#define DEFINE_LANE_PAIR_MAP(MAP, FUNCTION, W, PAD) \
static inline __attribute__((always_inline)) LANE_TARGET##W void MAP##W( \
    const double *source, double *first, double *second, ptrdiff_t count) { \
  ptrdiff_t index = 0; \
  for (; index + W <= count; index += W) { \
    Lanes##W x, y, z; \
    memcpy(&x, source + index, sizeof x); \
    y = FUNCTION##W(x, &z); \
    memcpy(first + index, &y, sizeof y); \
    memcpy(second + index, &z, sizeof z); \
  } \
  if (index < count) { \
    Lanes##W x = (Lanes##W)(PAD), y, z; \
    for (ptrdiff_t lane = 0; lane < count - index; lane++) x[lane] = source[index + lane]; \
    y = FUNCTION##W(x, &z); \
    for (ptrdiff_t lane = 0; lane < count - index; lane++) { \
      first[index + lane] = y[lane]; \
      second[index + lane] = z[lane]; \
    } \
  } \
}

// A kernel with two results, registered as MAP with the loops of 4 and (on x86-64) 8 lanes.
#define DEFINE_PAIR_KERNEL_ENTRIES(MAP, FUNCTION, PAD) \
DEFINE_LANE_PAIR_MAP(MAP, FUNCTION, 4, PAD) \
BP_ON_X86(DEFINE_LANE_PAIR_MAP(MAP, FUNCTION, 8, PAD)) \
BP_REGISTER(MAP, BP_SIGNATURE_PAIR_MAP, MAP##4, MAP##8, MAP##8)

#endif
