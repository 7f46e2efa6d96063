// The matrix product C = A B for A [m, k], B [k, n] and row-major C [m, n], in the structure of
// GotoBLAS and BLIS: B is packed a block of KC rows at a time into panels of NR columns, A a
// block of MC rows at a time into panels of MR rows, and a micro-kernel keeps an MR × NR tile of
// C in registers while it runs along KC, so each loaded number feeds many multiply-adds.
// A and B are read through strides, so the matmul VJP's Ȳ Bᵀ and Aᵀ Ȳ make no transposes: the
// packing, which every product does, reads a transposed operand in its own layout.
//
// The body is written once, for a tile of MR rows by NR columns held as vectors of W lanes, and
// compiled three times: 8 × 16 in AVX-512 registers (sixteen accumulators of eight lanes out of
// 32 registers), 4 × 8 in AVX2 registers (eight of four, out of 16), and 4 × 8 for the baseline.
// The widest the processor has is chosen at run time.
//
// With more than one thread, each thread takes whole blocks of MC
// rows of C, with its own packing buffer: every entry of C is the same sum in the same order
// whichever thread computes it, so the result is the one-thread result to the bit.

#include "BackpropKernels.h"

#include "Dispatch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { KC = 256, MC = 96 };

static inline __attribute__((always_inline)) ptrdiff_t smaller(ptrdiff_t a, ptrdiff_t b) {
  return a < b ? a : b;
}

/// Rows 0..kc of B, columns 0..nc, as panels of `nr` columns, each kc × nr, zero-padded; B's
/// entry (p, j) is b[p * rs + j * cs]. Row-major B is read along its rows; B given transposed
/// (cs ≠ 1, rs = 1, the matmul VJP's A Bᵀ) along its columns, which are then contiguous, so a
/// transpose costs the product nothing more than this packing, which it does anyway.
static inline __attribute__((always_inline)) void pack_b(
    const double *b, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t kc, ptrdiff_t nc, ptrdiff_t nr,
    double *packed) {
  for (ptrdiff_t j0 = 0; j0 < nc; j0 += nr) {
    ptrdiff_t width = smaller(nr, nc - j0);
    if (cs == 1) {
      for (ptrdiff_t p = 0; p < kc; p++) {
        const double *row = b + p * rs + j0;
        ptrdiff_t j = 0;
        for (; j < width; j++) packed[p * nr + j] = row[j];
        for (; j < nr; j++) packed[p * nr + j] = 0;
      }
    } else {
      for (ptrdiff_t j = 0; j < nr; j++) {
        if (j < width) {
          const double *column = b + (j0 + j) * cs;
          for (ptrdiff_t p = 0; p < kc; p++) packed[p * nr + j] = column[p * rs];
        } else {
          for (ptrdiff_t p = 0; p < kc; p++) packed[p * nr + j] = 0;
        }
      }
    }
    packed += kc * nr;
  }
}

/// Rows 0..mc of A, columns 0..kc, as panels of `mr` rows, each kc × mr, zero-padded; A's
/// entry (i, p) is a[i * rs + p * cs]. Either way round, the reads of one p are at most `mr`
/// places, which stay in cache for the next p.
static inline __attribute__((always_inline)) void pack_a(
    const double *a, ptrdiff_t rs, ptrdiff_t cs, ptrdiff_t mc, ptrdiff_t kc, ptrdiff_t mr,
    double *packed) {
  for (ptrdiff_t i0 = 0; i0 < mc; i0 += mr) {
    ptrdiff_t height = smaller(mr, mc - i0);
    for (ptrdiff_t p = 0; p < kc; p++) {
      ptrdiff_t i = 0;
      for (; i < height; i++) packed[i] = a[(i0 + i) * rs + p * cs];
      for (; i < mr; i++) packed[i] = 0;
      packed += mr;
    }
  }
}

/// The doubles of packing space a product with n columns needs, for the widest tile (8 × 16).
static size_t packed_doubles(ptrdiff_t n) {
  return (size_t)(KC * ((n + 15) / 16 * 16) + MC * KC);
}

/// The operands: A's entry (i, p) at a[i * a_rows + p * a_columns], B's (p, j) at
/// b[p * b_rows + j * b_columns]. Row-major is (k, 1) and (n, 1); a transposed operand swaps
/// its two strides.
typedef struct {
  const double *a;
  ptrdiff_t a_rows, a_columns;
  const double *b;
  ptrdiff_t b_rows, b_columns;
} Operands;

typedef double Lanes4 __attribute__((ext_vector_type(4)));
typedef double Lanes8 __attribute__((ext_vector_type(8)));

// One instance of the micro-kernel and the blocked loops around it: NAME, the tile MR × NR, the
// vector type VEC of W lanes. The tile's loops have constant bounds, so the compiler unrolls them
// and keeps every accumulator in a register.
#define DEFINE_PRODUCT(NAME, MR, NR, VEC, W)                                                     \
  static inline __attribute__((always_inline)) void NAME##_micro_kernel(                         \
      ptrdiff_t kc, const double *a, const double *b, double *c, ptrdiff_t n, ptrdiff_t height,  \
      ptrdiff_t width, int accumulate) {                                                         \
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
          VEC row = acc[i][v];                                                                   \
          if (accumulate) {                                                                      \
            memcpy(&row, c + i * n + v * W, sizeof(VEC));                                        \
            row += acc[i][v];                                                                    \
          }                                                                                      \
          memcpy(c + i * n + v * W, &row, sizeof(VEC));                                          \
        }                                                                                        \
      return;                                                                                    \
    }                                                                                            \
    double tile[MR][NR];                                                                         \
    for (int i = 0; i < MR; i++)                                                                 \
      for (int v = 0; v < NR / W; v++) memcpy(tile[i] + v * W, &acc[i][v], sizeof(VEC));        \
    for (ptrdiff_t i = 0; i < height; i++)                                                       \
      for (ptrdiff_t j = 0; j < width; j++)                                                      \
        c[i * n + j] = accumulate ? c[i * n + j] + tile[i][j] : tile[i][j];                      \
  }                                                                                              \
                                                                                                 \
  /* The first block of k stores its sums and the others add theirs, so C is written with no \
     pass to zero it first (accumulators start at +0, so the bits are those of 0 + Σ). */     \
  static inline __attribute__((always_inline)) void NAME##_body(                                 \
      const Operands *o, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n, double *packed) {     \
    if (k == 0) memset(c, 0, (size_t)(m * n) * sizeof(double));                                  \
    double *packed_b = packed;                                                                   \
    double *packed_a = packed + KC * ((n + 15) / 16 * 16);                                       \
    for (ptrdiff_t p0 = 0; p0 < k; p0 += KC) {                                                   \
      ptrdiff_t kc = smaller(KC, k - p0);                                                        \
      pack_b(o->b + p0 * o->b_rows, o->b_rows, o->b_columns, kc, n, NR, packed_b);               \
      for (ptrdiff_t i0 = 0; i0 < m; i0 += MC) {                                                 \
        ptrdiff_t mc = smaller(MC, m - i0);                                                      \
        pack_a(                                                                                  \
            o->a + i0 * o->a_rows + p0 * o->a_columns, o->a_rows, o->a_columns, mc, kc, MR,      \
            packed_a);                                                                           \
        for (ptrdiff_t j0 = 0; j0 < n; j0 += NR) {                                               \
          const double *panel_b = packed_b + j0 * kc;                                            \
          for (ptrdiff_t ii = 0; ii < mc; ii += MR) {                                            \
            NAME##_micro_kernel(                                                                 \
                kc, packed_a + ii * kc, panel_b, c + (i0 + ii) * n + j0, n,                      \
                smaller(MR, mc - ii), smaller(NR, n - j0), p0 > 0);                              \
          }                                                                                      \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
  }

// MC = 96 is a multiple of both tile heights, so no A panel is split across blocks.
DEFINE_PRODUCT(narrow, 4, 8, Lanes4, 4)
BP_ON_X86(DEFINE_PRODUCT(wide, 8, 16, Lanes8, 8))

// One width's blocked product of some rows of C: the loops above, compiled for that width.
typedef void Body(
    const Operands *o, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n, double *packed);

static void product_portable(
    const Operands *o, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n, double *packed) {
  narrow_body(o, c, m, k, n, packed);
}

#if defined(__x86_64__)
BP_TARGET_AVX2 static void product_avx2(
    const Operands *o, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n, double *packed) {
  narrow_body(o, c, m, k, n, packed);
}

BP_TARGET_AVX512 static void product_avx512(
    const Operands *o, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n, double *packed) {
  wide_body(o, c, m, k, n, packed);
}
#endif

/// Rows of C on this thread: the product of A's rows with B, with a packing buffer of its own.
static int product_rows(
    Body *body, const Operands *o, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n) {
  double *packed = malloc(packed_doubles(n) * sizeof(double));
  if (!packed) return 0;
  body(o, c, m, k, n, packed);
  free(packed);
  return 1;
}

/// One thread's share: a run of rows, and whether it succeeded.
typedef struct {
  Body *body;
  Operands operands;
  double *c;
  ptrdiff_t m, k, n;
  int succeeded;
} Share;

static void *run_share(void *argument) {
  Share *share = argument;
  share->succeeded =
      product_rows(share->body, &share->operands, share->c, share->m, share->k, share->n);
  return NULL;
}

enum { MAXIMUM_THREADS = 64 };

static int product(
    Body *body, int threads, const double *a, ptrdiff_t a_rows, ptrdiff_t a_columns,
    const double *b, ptrdiff_t b_rows, ptrdiff_t b_columns, double *c, ptrdiff_t m, ptrdiff_t k,
    ptrdiff_t n) {
  const Operands operands = {a, a_rows, a_columns, b, b_rows, b_columns};
  // Threads take whole blocks of MC rows; below about 2²² multiply-adds, starting a thread
  // costs more than its share saves.
  ptrdiff_t blocks = (m + MC - 1) / MC;
  if (threads > MAXIMUM_THREADS) threads = MAXIMUM_THREADS;
  if (threads > blocks) threads = (int)blocks;
  if (threads <= 1 || (double)m * (double)k * (double)n < 4194304.0) {
    return product_rows(body, &operands, c, m, k, n);
  }
  ptrdiff_t rows = (blocks + threads - 1) / threads * MC;
  Share shares[MAXIMUM_THREADS];
  pthread_t identifiers[MAXIMUM_THREADS];
  int started[MAXIMUM_THREADS];
  for (int t = 0; t < threads; t++) {
    ptrdiff_t first = smaller(t * rows, m), last = smaller((t + 1) * rows, m);
    Operands share = operands;
    share.a += first * a_rows;
    shares[t] = (Share){body, share, c + first * n, last - first, k, n, 1};
    started[t] = 0;
  }
  for (int t = 1; t < threads; t++) {
    if (shares[t].m > 0) started[t] = pthread_create(&identifiers[t], NULL, run_share, &shares[t]) == 0;
  }
  // This thread's share, then any share whose thread could not start.
  if (shares[0].m > 0) run_share(&shares[0]);
  for (int t = 1; t < threads; t++) {
    if (started[t]) {
      pthread_join(identifiers[t], NULL);
    } else if (shares[t].m > 0) {
      run_share(&shares[t]);
    }
  }
  int succeeded = 1;
  for (int t = 0; t < threads; t++) succeeded &= shares[t].succeeded;
  return succeeded;
}

// Each width's entry: the same loops around that width's body.
#define DEFINE_PRODUCT_ENTRY(NAME, BODY)                                                         \
  static int NAME(                                                                               \
      int threads, const double *a, ptrdiff_t a_rows, ptrdiff_t a_columns, const double *b,     \
      ptrdiff_t b_rows, ptrdiff_t b_columns, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n) { \
    return product(BODY, threads, a, a_rows, a_columns, b, b_rows, b_columns, c, m, k, n);       \
  }

DEFINE_PRODUCT_ENTRY(products_portable, product_portable)
BP_ON_X86(DEFINE_PRODUCT_ENTRY(products_avx2, product_avx2))
BP_ON_X86(DEFINE_PRODUCT_ENTRY(products_avx512, product_avx512))
BP_REGISTER(
    matrix_product, BP_SIGNATURE_MATRIX_PRODUCT, products_portable, products_avx2,
    products_avx512)
