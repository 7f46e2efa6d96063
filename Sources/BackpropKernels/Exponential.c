// The exponential, four lanes at a time (see BackpropKernels.h for why this is C).
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

#include <math.h>
#include <stdint.h>
#include <string.h>

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

// The lane helpers and the exponential, for vectors of W lanes: 4 (AVX2 or the baseline) and 8
// (AVX-512). Each lane does the same operations in both, so the results are the same bits.
#define DEFINE_LANES(W) \
typedef double Lanes##W __attribute__((ext_vector_type(W))); \
typedef int64_t Mask##W __attribute__((ext_vector_type(W))); \
typedef uint64_t Bits##W __attribute__((ext_vector_type(W))); \
 \
static inline __attribute__((always_inline)) Lanes##W select_lanes##W(Mask##W mask, Lanes##W a, Lanes##W b) { \
  Bits##W bits = ((Bits##W)mask & (Bits##W)a) | (~(Bits##W)mask & (Bits##W)b); \
  return (Lanes##W)bits; \
} \
 \
/* 2^n for integer-valued lanes with -1022 <= n <= 1023: the biased exponent n + 1023 in place */ \
/* and a zero significand. Adding the shifter puts n + 1023 in the low bits. */ \
static inline __attribute__((always_inline)) Lanes##W power_of_two##W(Lanes##W n) { \
  Lanes##W biased = n + (shifter + 1023.0); \
  return (Lanes##W)((Bits##W)biased << 52); \
} \
 \
static inline __attribute__((always_inline)) Lanes##W exponential##W(Lanes##W x) { \
  Lanes##W clamped = select_lanes##W(x < lowest, (Lanes##W)lowest, x); \
  clamped = select_lanes##W(clamped > highest, (Lanes##W)highest, clamped); \
 \
  /* k = round(x / ln 2), and r = x - k ln 2 kept as high - low for one more digit. */ \
  Lanes##W k = (clamped * log2e + shifter) - shifter; \
  Lanes##W high = clamped - k * ln2_high; \
  Lanes##W low = k * ln2_low; \
  Lanes##W r = high - low; \
 \
  /* q(r) = sum of r^(n-2) / n! for n = 2...13 by Horner's rule; the constants are 1/n!. */ \
  Lanes##W q = (Lanes##W)0x1.6124613a86d09p-33; \
  q = q * r + 0x1.1eed8eff8d898p-29; \
  q = q * r + 0x1.ae64567f544e4p-26; \
  q = q * r + 0x1.27e4fb7789f5cp-22; \
  q = q * r + 0x1.71de3a556c734p-19; \
  q = q * r + 0x1.a01a01a01a01ap-16; \
  q = q * r + 0x1.a01a01a01a01ap-13; \
  q = q * r + 0x1.6c16c16c16c17p-10; \
  q = q * r + 0x1.1111111111111p-7; \
  q = q * r + 0x1.5555555555555p-5; \
  q = q * r + 0x1.5555555555555p-3; \
  q = q * r + 0x1p-1; \
  /* e^r = 1 + (high - (low - r^2 q)): the small terms first, so that each rounding is of a */ \
  /* quantity smaller than the result. */ \
  Lanes##W exp_r = 1.0 + (high - (low - r * r * q)); \
 \
  /* 2^k = 2^k1 * 2^k2 with k1 = round(k / 2). */ \
  Lanes##W k1 = (k * 0.5 + shifter) - shifter; \
  Lanes##W k2 = k - k1; \
  Lanes##W result = exp_r * power_of_two##W(k1) * power_of_two##W(k2); \
  /* A NaN input compares false above and went through as a number; give it back. */ \
  return select_lanes##W(x != x, x, result); \
}

DEFINE_LANES(4)
DEFINE_LANES(8)

// The last one to three scalars, in four lanes padded with -inf, whose exponential adds 0.
static inline __attribute__((always_inline)) void exponentials_tail(
    const double *source, double shift, double *destination, ptrdiff_t count, Lanes4 *total) {
  if (count <= 0) return;
  Lanes4 x = (Lanes4)(-INFINITY);
  for (ptrdiff_t lane = 0; lane < count; lane++) x[lane] = source[lane] - shift;
  Lanes4 e = exponential4(x);
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
    memcpy(destination + index, &e, sizeof e);
    total += e;
  }
  exponentials_tail(source + index, shift, destination + index, count - index, &total);
  return (total[0] + total[1]) + (total[2] + total[3]);
}

// Eight lanes at a time, with the same sum as four: each half of eight is added to the four
// running lanes in turn, as the four-lane loop adds two steps. Every result, the sum included,
// is the same bits as the AVX2 build of exponentials_body, so AVX-512 changes no answer.
static inline __attribute__((always_inline)) double exponentials_body8(
    const double *source, double shift, double *destination, ptrdiff_t count) {
  Lanes4 total = 0;
  ptrdiff_t index = 0;
  for (; index + 8 <= count; index += 8) {
    Lanes8 x;
    memcpy(&x, source + index, sizeof x);
    Lanes8 e = exponential8(x - shift);
    memcpy(destination + index, &e, sizeof e);
    total += e.lo;
    total += e.hi;
  }
  for (; index + 4 <= count; index += 4) {
    Lanes4 x;
    memcpy(&x, source + index, sizeof x);
    Lanes4 e = exponential4(x - shift);
    memcpy(destination + index, &e, sizeof e);
    total += e;
  }
  exponentials_tail(source + index, shift, destination + index, count - index, &total);
  return (total[0] + total[1]) + (total[2] + total[3]);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static double exponentials_avx2(
    const double *source, double shift, double *destination, ptrdiff_t count) {
  return exponentials_body(source, shift, destination, count);
}

__attribute__((target("avx512f,fma"))) static double exponentials_avx512(
    const double *source, double shift, double *destination, ptrdiff_t count) {
  return exponentials_body8(source, shift, destination, count);
}
#endif

int bp_kernel_width(void) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return 512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 256;
#endif
  return 0;
}

int bp_exponentials_uses_avx2(void) { return bp_kernel_width() >= 256; }

double bp_exponentials_using(
    int width, const double *source, double shift, double *destination, ptrdiff_t count) {
#if defined(__x86_64__)
  if (width == 512 && bp_kernel_width() >= 512)
    return exponentials_avx512(source, shift, destination, count);
  if (width == 256 && bp_kernel_width() >= 256)
    return exponentials_avx2(source, shift, destination, count);
#endif
  return exponentials_body(source, shift, destination, count);
}

double bp_exponentials_portable(
    const double *source, double shift, double *destination, ptrdiff_t count) {
  return exponentials_body(source, shift, destination, count);
}

double bp_exponentials(const double *source, double shift, double *destination, ptrdiff_t count) {
  return bp_exponentials_using(bp_kernel_width(), source, shift, destination, count);
}
