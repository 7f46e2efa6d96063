// Runs every kernel of one width's build on the same inputs and prints each output's bits, one
// line each, so that two builds can be compared with diff: x86-64's AVX2 and AVX-512 builds
// against each other, and aarch64's portable build (run under qemu) against them
// (Tests/Portability/run-aarch64.sh). The kernels come from the list BP_KERNELS, so a kernel
// added there is exercised here without an edit, once its signature has a runner below.
//
// The inputs: the edge values of every kernel (±0, subnormals, the smallest normal, ±1 and
// its neighbours, ties for rounding, the thresholds where exp, sinh, erfc and the others
// overflow or underflow, the arguments where the trigonometric reductions change, ±∞ and NaN)
// and values spread over every binade of both signs. A NaN prints as "nan": the sign and
// payload of a NaN an operation creates differ by architecture (x86-64 makes the negative
// default NaN, aarch64 the positive one), and IEEE 754 leaves them open; every other output
// prints its 64 bits.
//
// Usage: kernel-outputs WIDTH > outputs.txt

#include "BackpropKernels.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The inputs must be the same numbers on every machine: no arithmetic here is fused.
#pragma STDC FP_CONTRACT OFF

enum { MAXIMUM_INPUTS = 4096 };

static double inputs[MAXIMUM_INPUTS];
static ptrdiff_t input_count = 0;

static void add(double x) {
  if (input_count < MAXIMUM_INPUTS) inputs[input_count++] = x;
}

static void add_both_signs(double x) {
  add(x);
  add(-x);
}

/// A fixed sequence of 64-bit numbers (SplitMix64), the same on every machine.
static uint64_t state = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void) {
  uint64_t z = (state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static double from_bits(uint64_t bits) {
  double x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

static void make_inputs(void) {
  const double edges[] = {
      0, 0x1p-1074, 0x1.8p-1073, 0x0.fffffffffffffp-1022, 0x1p-1022, 0x1.0000000000001p-1022,
      0x1p-600, 1e-300, 1e-160, 1e-20, 1e-10, 1e-8, 1e-5, 0x1p-28, 0x1p-27, 0x1p-26, 1e-3,
      0.125, 0.25, 0x1.cp-2, 0.4375, 0.5 - 0x1p-54, 0.5, 0.5 + 0x1p-53, 0x1.6p-1, 0.7071067811865476,
      0.75, 0.9, 1 - 0x1p-53, 1, 1 + 0x1p-52, 0x1.3p+0, 1.5, 2 - 0x1p-52, 2, 2.5, 0x1.38p+1, 3,
      3.5, 0.6931471805599453, 1.5707963267948966, 3.141592653589793, 4.71238898038469,
      6.283185307179586, 10, 19.0625, 22, 26.55, 27.2, 27.23, 28, 36, 37.5, 100, 512, 700,
      708.3964185322641, 709.782712893384, 709.7827128933841, 709.79, 710, 710.4758600739439,
      710.4758600739440, 711, 744.4400719213812, 745.1332191019411, 745.1332191019412, 746, 1023,
      1024, 1025, 1074, 1075, 0x1p19 - 1, 0x1p19, 0x1p19 + 1, 1e6, 0x1p52, 0x1p52 + 1, 0x1p53,
      1e17, 1e22, 1e23, 1e300, 0x1.fffffffffffffp1023, INFINITY,
  };
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) add_both_signs(edges[i]);
  add(NAN);
  add(-NAN);
  // Two values in every seventh binade, of random significands, both signs.
  for (int exponent = -1074; exponent <= 1023; exponent += 7) {
    for (int j = 0; j < 2; j++) {
      double significand = 1 + (double)(next_random() >> 11) * 0x1p-53;
      add_both_signs(ldexp(significand, exponent));
    }
  }
  // Uniform in [−12, 12], where most functions change shape.
  for (int j = 0; j < 400; j++) add((double)(next_random() >> 11) * 0x1p-53 * 24 - 12);
  // Arbitrary bit patterns: every class of double, NaN payloads included.
  for (int j = 0; j < 200; j++) add(from_bits(next_random()));
}

/// The i-th input of a sequence shifted by `offset`: a second operand paired with each first.
static double shifted(ptrdiff_t i, ptrdiff_t offset) { return inputs[(i + offset) % input_count]; }

static void print(const char *name, long index, double y) {
  if (isnan(y)) {
    printf("%s %ld nan\n", name, index);
  } else {
    uint64_t bits;
    memcpy(&bits, &y, sizeof bits);
    printf("%s %ld %016llx\n", name, index, (unsigned long long)bits);
  }
}

static void print_all(const char *name, const double *y, ptrdiff_t count) {
  for (ptrdiff_t i = 0; i < count; i++) print(name, (long)i, y[i]);
}

static double first[MAXIMUM_INPUTS], second[MAXIMUM_INPUTS], third[MAXIMUM_INPUTS];
static double out[MAXIMUM_INPUTS], out2[MAXIMUM_INPUTS];

static void fill_operands(void) {
  for (ptrdiff_t i = 0; i < input_count; i++) {
    first[i] = inputs[i];
    second[i] = shifted(i, 1);
    third[i] = shifted(i, 17);
  }
  // Ties: equal operands at the start.
  for (ptrdiff_t i = 0; i < 60; i++) second[i] = first[i];
}

// One runner per signature: run_BP_SIGNATURE_X(name, kernel).

static void run_BP_SIGNATURE_MAP(const char *name, void (*kernel)(const double *, double *, ptrdiff_t)) {
  kernel(inputs, out, input_count);
  print_all(name, out, input_count);
  // In place, and every remainder of the vector loop.
  memcpy(out2, inputs, sizeof(double) * (size_t)input_count);
  kernel(out2, out2, input_count);
  for (ptrdiff_t i = 0; i < input_count; i++) {
    if (memcmp(&out[i], &out2[i], sizeof(double)) != 0 && !(isnan(out[i]) && isnan(out2[i])))
      printf("%s in-place %ld differs\n", name, (long)i);
  }
  for (ptrdiff_t count = 1; count <= 9; count++) {
    kernel(inputs + 100, out2, count);
    for (ptrdiff_t i = 0; i < count; i++) print(name, -(long)(count * 16 + i), out2[i]);
  }
}

static void run_BP_SIGNATURE_SCALAR(const char *name, double (*kernel)(double)) {
  for (ptrdiff_t i = 0; i < input_count; i++) print(name, (long)i, kernel(inputs[i]));
}

static void run_BP_SIGNATURE_PAIR_MAP(
    const char *name, void (*kernel)(const double *, double *, double *, ptrdiff_t)) {
  kernel(inputs, out, out2, input_count);
  print_all(name, out, input_count);
  print_all(name, out2, input_count);
}

static const int integer_exponents[] = {1, 2, 3, 4, 7, 13, 31, 64};
static const int half_exponents[] = {0, 1, 2, 5, 63};

static void run_BP_SIGNATURE_POWER_MAP(
    const char *name, void (*kernel)(const double *, int, double *, ptrdiff_t)) {
  int half = strstr(name, "half") != NULL;
  const int *exponents = half ? half_exponents : integer_exponents;
  size_t count = half ? sizeof half_exponents / sizeof(int) : sizeof integer_exponents / sizeof(int);
  for (size_t e = 0; e < count; e++) {
    kernel(inputs, exponents[e], out, input_count);
    printf("%s n=%d\n", name, exponents[e]);
    print_all(name, out, input_count);
  }
}

static void run_BP_SIGNATURE_POWER_SCALAR(const char *name, double (*kernel)(double, int)) {
  int half = strstr(name, "half") != NULL;
  const int *exponents = half ? half_exponents : integer_exponents;
  size_t count = half ? sizeof half_exponents / sizeof(int) : sizeof integer_exponents / sizeof(int);
  for (size_t e = 0; e < count; e++) {
    printf("%s n=%d\n", name, exponents[e]);
    for (ptrdiff_t i = 0; i < input_count; i++) print(name, (long)i, kernel(inputs[i], exponents[e]));
  }
}

static void run_BP_SIGNATURE_BINARY_SCALAR(const char *name, double (*kernel)(double, double)) {
  // Each input against each of 64 others: the edges, and some of the spread.
  for (ptrdiff_t j = 0; j < 64; j++) {
    double q = inputs[(j * 37) % input_count];
    for (ptrdiff_t i = 0; i < input_count; i++) print(name, (long)(j * 10000 + i), kernel(inputs[i], q));
  }
}

static void run_BP_SIGNATURE_EXPONENTIALS(
    const char *name, double (*kernel)(const double *, double, double *, ptrdiff_t)) {
  const double shifts[] = {0, 1.5, -700};
  for (size_t s = 0; s < 3; s++) {
    double total = kernel(inputs, shifts[s], out, input_count);
    print_all(name, out, input_count);
    print(name, -1, total);
    // The sum alone, over finite inputs below 700, at every length to 40.
    ptrdiff_t finite = 0;
    for (ptrdiff_t i = 0; i < input_count; i++)
      if (isfinite(inputs[i]) && inputs[i] < 700) out2[finite++] = inputs[i];
    for (ptrdiff_t count = 0; count <= 40; count++)
      print(name, -(long)(100 + count), kernel(out2, shifts[s], NULL, count));
    print(name, -99, kernel(out2, shifts[s], NULL, finite));
  }
}

static void run_BP_SIGNATURE_SCALED_EXPONENTIALS(
    const char *name, void (*kernel)(const double *, double, double, double *, ptrdiff_t)) {
  kernel(inputs, 0.5, 0.75, out, input_count);
  print_all(name, out, input_count);
  kernel(inputs, -3, 1e-300, out, input_count);
  print_all(name, out, input_count);
}

static void run_BP_SIGNATURE_LOG_SOFTMAX_PULLBACKS(
    const char *name, void (*kernel)(const double *, const double *, double, double *, ptrdiff_t)) {
  kernel(second, first, 0.3, out, input_count);
  print_all(name, out, input_count);
  kernel(NULL, first, -2.5, out, input_count);
  print_all(name, out, input_count);
}

static void run_BP_SIGNATURE_SIGMOID_PULLBACKS(
    const char *name,
    void (*kernel)(const double *, double, const double *, const double *, double *, ptrdiff_t)) {
  kernel(second, 0, first, third, out, input_count);
  print_all(name, out, input_count);
  kernel(NULL, 1.25, first, third, out, input_count);
  print_all(name, out, input_count);
}

static void run_BP_SIGNATURE_MAXIMUM(const char *name, double (*kernel)(const double *, ptrdiff_t)) {
  // Every length to 70 from several starts (NaN and −0/+0 ties included), and the whole set.
  for (ptrdiff_t start = 0; start < input_count; start += 97)
    for (ptrdiff_t count = 0; count <= 70 && start + count <= input_count; count++)
      print(name, (long)(start * 100 + count), kernel(inputs + start, count));
  print(name, -1, kernel(inputs, input_count));
}

static void run_BP_SIGNATURE_MAXIMUM_PULLBACKS(
    const char *name,
    void (*kernel)(const double *, double, const double *, const double *, double *, ptrdiff_t)) {
  kernel(third, 0, first, second, out, input_count);
  print_all(name, out, input_count);
  kernel(NULL, -0.5, first, second, out, input_count);
  print_all(name, out, input_count);
}

static void run_BP_SIGNATURE_RULE(
    const char *name,
    void (*kernel)(bp_rule_kind, const double *, double, const double *, double, const double *,
                   double *, ptrdiff_t)) {
  for (int rule = bp_rule_quotient; rule <= bp_rule_arc_tangent2; rule++) {
    printf("%s rule %d\n", name, rule);
    kernel((bp_rule_kind)rule, first, 0, second, 0, third, out, input_count);
    print_all(name, out, input_count);
    kernel((bp_rule_kind)rule, NULL, 0.75, second, 0, third, out, input_count);
    print_all(name, out, input_count);
    kernel((bp_rule_kind)rule, first, 0, NULL, -3, third, out, input_count);
    print_all(name, out, input_count);
  }
}

static void run_BP_SIGNATURE_TOTAL(const char *name, double (*kernel)(const double *, ptrdiff_t)) {
  for (ptrdiff_t start = 0; start < input_count; start += 211)
    for (ptrdiff_t count = 0; count <= 50 && start + count <= input_count; count++)
      print(name, (long)(start * 100 + count), kernel(inputs + start, count));
  print(name, -1, kernel(inputs, input_count));
}

static void run_BP_SIGNATURE_FILL(const char *name, void (*kernel)(double, double *, ptrdiff_t)) {
  for (ptrdiff_t count = 0; count <= 20; count++) {
    for (ptrdiff_t i = 0; i < 21; i++) out[i] = 42;
    kernel(-0.0, out, count);
    print_all(name, out, 21);
  }
}

static void run_BP_SIGNATURE_HUBER_TOTAL(
    const char *name, double (*kernel)(const double *, const double *, double, ptrdiff_t)) {
  const double deltas[] = {1, 0.5, 1e-300};
  for (size_t d = 0; d < 3; d++) {
    for (ptrdiff_t start = 0; start < input_count; start += 211)
      for (ptrdiff_t count = 0; count <= 40 && start + count <= input_count; count++)
        print(name, (long)(start * 100 + count), kernel(first + start, second + start, deltas[d], count));
  }
}

static void run_BP_SIGNATURE_HUBER_PULLBACKS(
    const char *name,
    void (*kernel)(double, const double *, const double *, double, double *, ptrdiff_t)) {
  kernel(-2.5, first, second, 1, out, input_count);
  print_all(name, out, input_count);
  kernel(0.125, first, second, 1e-300, out, input_count);
  print_all(name, out, input_count);
}

static void run_BP_SIGNATURE_MATRIX_PRODUCT(
    const char *name,
    int (*kernel)(int, const double *, ptrdiff_t, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t,
                  double *, ptrdiff_t, ptrdiff_t, ptrdiff_t)) {
  static const ptrdiff_t shapes[][3] = {{1, 1, 1}, {7, 13, 9}, {33, 257, 17}, {97, 300, 41}};
  static double a[97 * 300], b[300 * 41], c[97 * 41];
  for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) a[i] = (double)(next_random() >> 11) * 0x1p-53 - 0.5;
  for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) b[i] = (double)(next_random() >> 11) * 0x1p-52 - 1;
  for (size_t s = 0; s < 4; s++) {
    ptrdiff_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
    if (!kernel(1, a, k, 1, b, n, 1, c, m, k, n)) printf("%s could not allocate\n", name);
    print_all(name, c, m * n);
    // B read transposed: its strides swapped.
    if (!kernel(1, a, k, 1, b, 1, k, c, m, k, n)) printf("%s could not allocate\n", name);
    print_all(name, c, m * n);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: kernel-outputs WIDTH\n");
    return 2;
  }
  int width = atoi(argv[1]);
  const bp_kernel_table *table = bp_kernels(width);
  if (!table) {
    fprintf(stderr, "kernel-outputs: this processor has no kernels of width %d\n", width);
    return 2;
  }
  make_inputs();
  fill_operands();
  printf("# inputs\n");
  print_all("input", inputs, input_count);
  int kernels = 0;
#define RUN(NAME, SIGNATURE) \
  printf("# %s\n", #NAME); \
  run_##SIGNATURE(#NAME, table->NAME); \
  kernels++;
  BP_KERNELS(RUN)
  fprintf(stderr, "kernel-outputs: %d kernels of width %d on %ld inputs\n", kernels, width, (long)input_count);
  return 0;
}
