// The matrix product C = A B for row-major A [m, k], B [k, n], C [m, n], in the structure of
// GotoBLAS and BLIS: B is packed a block of KC rows at a time into panels of NR columns, A a
// block of MC rows at a time into panels of MR rows, and a micro-kernel keeps an MR × NR tile of
// C in registers while it runs along KC, so each loaded number feeds many multiply-adds.
//
// The body is written once, for a tile of MR rows by NR columns held as vectors of W lanes, and
// compiled three times: 8 × 16 in AVX-512 registers (sixteen accumulators of eight lanes out of
// 32 registers), 4 × 8 in AVX2 registers (eight of four, out of 16), and 4 × 8 for the baseline.
// The widest the processor has is chosen at run time.

#include "BackpropKernels.h"

#include <stdlib.h>
#include <string.h>

enum { KC = 256, MC = 96 };

static inline __attribute__((always_inline)) ptrdiff_t smaller(ptrdiff_t a, ptrdiff_t b) {
  return a < b ? a : b;
}

/// Rows p0..p0+kc of B, columns 0..nc, as panels of `nr` columns, each kc × nr, zero-padded.
static inline __attribute__((always_inline)) void pack_b(
    const double *b, ptrdiff_t n, ptrdiff_t kc, ptrdiff_t nc, ptrdiff_t nr, double *packed) {
  for (ptrdiff_t j0 = 0; j0 < nc; j0 += nr) {
    ptrdiff_t width = smaller(nr, nc - j0);
    for (ptrdiff_t p = 0; p < kc; p++) {
      const double *row = b + p * n + j0;
      ptrdiff_t j = 0;
      for (; j < width; j++) packed[j] = row[j];
      for (; j < nr; j++) packed[j] = 0;
      packed += nr;
    }
  }
}

/// Rows i0..i0+mc of A, columns p0..p0+kc, as panels of `mr` rows, each kc × mr, zero-padded.
static inline __attribute__((always_inline)) void pack_a(
    const double *a, ptrdiff_t k, ptrdiff_t mc, ptrdiff_t kc, ptrdiff_t mr, double *packed) {
  for (ptrdiff_t i0 = 0; i0 < mc; i0 += mr) {
    ptrdiff_t height = smaller(mr, mc - i0);
    for (ptrdiff_t p = 0; p < kc; p++) {
      ptrdiff_t i = 0;
      for (; i < height; i++) packed[i] = a[(i0 + i) * k + p];
      for (; i < mr; i++) packed[i] = 0;
      packed += mr;
    }
  }
}

/// The doubles of packing space a product with n columns needs, for the widest tile (8 × 16).
static size_t packed_doubles(ptrdiff_t n) {
  return (size_t)(KC * ((n + 15) / 16 * 16) + MC * KC);
}

typedef double Lanes4 __attribute__((ext_vector_type(4)));
typedef double Lanes8 __attribute__((ext_vector_type(8)));

// One instance of the micro-kernel and the blocked loops around it: NAME, the tile MR × NR, the
// vector type VEC of W lanes. The tile's loops have constant bounds, so the compiler unrolls them
// and keeps every accumulator in a register.
#define DEFINE_PRODUCT(NAME, MR, NR, VEC, W)                                                     \
  static inline __attribute__((always_inline)) void NAME##_micro_kernel(                         \
      ptrdiff_t kc, const double *a, const double *b, double *c, ptrdiff_t n, ptrdiff_t height,  \
      ptrdiff_t width) {                                                                         \
    VEC acc[MR][NR / W];                                                                         \
    for (int i = 0; i < MR; i++)                                                                 \
      for (int v = 0; v < NR / W; v++) acc[i][v] = 0;                                            \
    for (ptrdiff_t p = 0; p < kc; p++) {                                                         \
      VEC column[NR / W];                                                                        \
      for (int v = 0; v < NR / W; v++) memcpy(&column[v], b + v * W, sizeof(VEC));               \
      for (int i = 0; i < MR; i++) {                                                             \
        VEC broadcast = a[i];                                                                    \
        for (int v = 0; v < NR / W; v++) acc[i][v] += broadcast * column[v];                     \
      }                                                                                          \
      a += MR;                                                                                   \
      b += NR;                                                                                   \
    }                                                                                            \
    if (height == MR && width == NR) {                                                           \
      for (int i = 0; i < MR; i++)                                                               \
        for (int v = 0; v < NR / W; v++) {                                                       \
          VEC row;                                                                               \
          memcpy(&row, c + i * n + v * W, sizeof(VEC));                                          \
          row += acc[i][v];                                                                      \
          memcpy(c + i * n + v * W, &row, sizeof(VEC));                                          \
        }                                                                                        \
      return;                                                                                    \
    }                                                                                            \
    double tile[MR][NR];                                                                         \
    for (int i = 0; i < MR; i++)                                                                 \
      for (int v = 0; v < NR / W; v++) memcpy(tile[i] + v * W, &acc[i][v], sizeof(VEC));        \
    for (ptrdiff_t i = 0; i < height; i++)                                                       \
      for (ptrdiff_t j = 0; j < width; j++) c[i * n + j] += tile[i][j];                          \
  }                                                                                              \
                                                                                                 \
  static inline __attribute__((always_inline)) void NAME##_body(                                 \
      const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n,        \
      double *packed) {                                                                          \
    memset(c, 0, (size_t)(m * n) * sizeof(double));                                             \
    double *packed_b = packed;                                                                   \
    double *packed_a = packed + KC * ((n + 15) / 16 * 16);                                       \
    for (ptrdiff_t p0 = 0; p0 < k; p0 += KC) {                                                   \
      ptrdiff_t kc = smaller(KC, k - p0);                                                        \
      pack_b(b + p0 * n, n, kc, n, NR, packed_b);                                                \
      for (ptrdiff_t i0 = 0; i0 < m; i0 += MC) {                                                 \
        ptrdiff_t mc = smaller(MC, m - i0);                                                      \
        pack_a(a + i0 * k + p0, k, mc, kc, MR, packed_a);                                        \
        for (ptrdiff_t j0 = 0; j0 < n; j0 += NR) {                                               \
          const double *panel_b = packed_b + j0 * kc;                                            \
          for (ptrdiff_t ii = 0; ii < mc; ii += MR) {                                            \
            NAME##_micro_kernel(                                                                 \
                kc, packed_a + ii * kc, panel_b, c + (i0 + ii) * n + j0, n,                      \
                smaller(MR, mc - ii), smaller(NR, n - j0));                                      \
          }                                                                                      \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
  }

// MC = 96 is a multiple of both tile heights, so no A panel is split across blocks.
DEFINE_PRODUCT(narrow, 4, 8, Lanes4, 4)
DEFINE_PRODUCT(wide, 8, 16, Lanes8, 8)

__attribute__((target("avx2,fma"))) static void product_avx2(
    const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n,
    double *packed) {
  narrow_body(a, b, c, m, k, n, packed);
}

__attribute__((target("avx512f,fma"))) static void product_avx512(
    const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n,
    double *packed) {
  wide_body(a, b, c, m, k, n, packed);
}

int bp_matrix_product_width(void) { return bp_kernel_width(); }

int bp_matrix_product_using(
    int width, const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k,
    ptrdiff_t n) {
  if (width > bp_matrix_product_width() || (width != 0 && width != 256 && width != 512)) return 0;
  double *packed = malloc(packed_doubles(n) * sizeof(double));
  if (!packed) return 0;
  if (width == 512) {
    product_avx512(a, b, c, m, k, n, packed);
  } else if (width == 256) {
    product_avx2(a, b, c, m, k, n, packed);
  } else {
    narrow_body(a, b, c, m, k, n, packed);
  }
  free(packed);
  return 1;
}

int bp_matrix_product(
    const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n) {
  return bp_matrix_product_using(bp_matrix_product_width(), a, b, c, m, k, n);
}

int bp_matrix_product_portable(
    const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n) {
  return bp_matrix_product_using(0, a, b, c, m, k, n);
}
