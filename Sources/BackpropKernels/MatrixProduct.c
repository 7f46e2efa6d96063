// The matrix product C = A B for row-major A [m, k], B [k, n], C [m, n], in the structure of
// GotoBLAS and BLIS: B is packed a block of KC rows at a time into panels of NR columns, A a
// block of MC rows at a time into panels of MR rows, and a micro-kernel keeps an MR × NR tile of
// C in registers while it runs along KC, so each loaded number feeds many multiply-adds. The
// same code is compiled twice: for AVX2 and FMA, chosen at run time, and for the baseline.

#include "BackpropKernels.h"

#include <stdlib.h>
#include <string.h>

enum { MR = 4, NR = 8, KC = 256, MC = 96 };

static inline __attribute__((always_inline)) ptrdiff_t smaller(ptrdiff_t a, ptrdiff_t b) {
  return a < b ? a : b;
}

/// Rows p0..p0+kc of B, columns j0..j0+nc, as panels of NR columns, each kc × NR, zero-padded.
static inline __attribute__((always_inline)) void pack_b(
    const double *b, ptrdiff_t n, ptrdiff_t kc, ptrdiff_t nc, double *packed) {
  for (ptrdiff_t j0 = 0; j0 < nc; j0 += NR) {
    ptrdiff_t width = smaller(NR, nc - j0);
    for (ptrdiff_t p = 0; p < kc; p++) {
      const double *row = b + p * n + j0;
      ptrdiff_t j = 0;
      for (; j < width; j++) packed[j] = row[j];
      for (; j < NR; j++) packed[j] = 0;
      packed += NR;
    }
  }
}

/// Rows i0..i0+mc of A, columns p0..p0+kc, as panels of MR rows, each kc × MR, zero-padded.
static inline __attribute__((always_inline)) void pack_a(
    const double *a, ptrdiff_t k, ptrdiff_t mc, ptrdiff_t kc, double *packed) {
  for (ptrdiff_t i0 = 0; i0 < mc; i0 += MR) {
    ptrdiff_t height = smaller(MR, mc - i0);
    for (ptrdiff_t p = 0; p < kc; p++) {
      ptrdiff_t i = 0;
      for (; i < height; i++) packed[i] = a[(i0 + i) * k + p];
      for (; i < MR; i++) packed[i] = 0;
      packed += MR;
    }
  }
}

typedef double Row __attribute__((ext_vector_type(4)));

/// C[0..<height, 0..<width] += (an MR-row panel of A) × (an NR-column panel of B), over kc.
/// The tile is MR × NR = 4 × 8: eight accumulators of four lanes.
static inline __attribute__((always_inline)) void micro_kernel(
    ptrdiff_t kc, const double *a, const double *b, double *c, ptrdiff_t n, ptrdiff_t height,
    ptrdiff_t width) {
  Row c00 = 0, c01 = 0, c10 = 0, c11 = 0, c20 = 0, c21 = 0, c30 = 0, c31 = 0;
  for (ptrdiff_t p = 0; p < kc; p++) {
    Row b0, b1;
    memcpy(&b0, b, sizeof b0);
    memcpy(&b1, b + 4, sizeof b1);
    Row a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c30 += a3 * b0;
    c31 += a3 * b1;
    a += MR;
    b += NR;
  }
  double tile[MR][NR];
  memcpy(tile[0], &c00, 32);
  memcpy(tile[0] + 4, &c01, 32);
  memcpy(tile[1], &c10, 32);
  memcpy(tile[1] + 4, &c11, 32);
  memcpy(tile[2], &c20, 32);
  memcpy(tile[2] + 4, &c21, 32);
  memcpy(tile[3], &c30, 32);
  memcpy(tile[3] + 4, &c31, 32);
  for (ptrdiff_t i = 0; i < height; i++) {
    for (ptrdiff_t j = 0; j < width; j++) c[i * n + j] += tile[i][j];
  }
}

/// The blocked product; `packed` holds KC × (n rounded up to NR) + MC × KC doubles.
static inline __attribute__((always_inline)) void product_body(
    const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n,
    double *packed) {
  memset(c, 0, (size_t)(m * n) * sizeof(double));
  double *packed_b = packed;
  double *packed_a = packed + KC * ((n + NR - 1) / NR * NR);
  for (ptrdiff_t p0 = 0; p0 < k; p0 += KC) {
    ptrdiff_t kc = smaller(KC, k - p0);
    pack_b(b + p0 * n, n, kc, n, packed_b);
    for (ptrdiff_t i0 = 0; i0 < m; i0 += MC) {
      ptrdiff_t mc = smaller(MC, m - i0);
      pack_a(a + i0 * k + p0, k, mc, kc, packed_a);
      for (ptrdiff_t j0 = 0; j0 < n; j0 += NR) {
        const double *panel_b = packed_b + j0 * kc;
        for (ptrdiff_t ii = 0; ii < mc; ii += MR) {
          micro_kernel(
              kc, packed_a + ii * kc, panel_b, c + (i0 + ii) * n + j0, n, smaller(MR, mc - ii),
              smaller(NR, n - j0));
        }
      }
    }
  }
}

static size_t packed_doubles(ptrdiff_t n) {
  return (size_t)(KC * ((n + NR - 1) / NR * NR) + MC * KC);
}

int bp_matrix_product_portable(
    const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n) {
  double *packed = malloc(packed_doubles(n) * sizeof(double));
  if (!packed) return 0;
  product_body(a, b, c, m, k, n, packed);
  free(packed);
  return 1;
}

__attribute__((target("avx2,fma"))) static void product_avx2(
    const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n,
    double *packed) {
  product_body(a, b, c, m, k, n, packed);
}

int bp_matrix_product(
    const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n) {
  if (!bp_exponentials_uses_avx2()) return bp_matrix_product_portable(a, b, c, m, k, n);
  double *packed = malloc(packed_doubles(n) * sizeof(double));
  if (!packed) return 0;
  product_avx2(a, b, c, m, k, n, packed);
  free(packed);
  return 1;
}
