// Numerical kernels that Swift cannot compile for the machine it runs on.
//
// Swift compiles a package for the baseline of its target (SSE2 on x86-64), and setting CPU
// features needs unsafe flags, which a package used as a dependency may not have. Clang can
// compile one function for AVX2 or AVX-512 and FMA by attribute and choose it at run time, as
// PyTorch's kernels do, so the vectorized functions and the matrix product live here, in C.
//
// Each kernel is written once, as lanes (Lanes.h), and built for every width the architecture
// has: 0, the portable build (SSE2 on x86-64, NEON on aarch64), and on x86-64 also 256 (AVX2 and
// FMA) and 512 (AVX-512F and FMA). `bp_kernels(width)` gives one width's build of every kernel;
// each `bp_NAME` function below calls `bp_kernels(bp_kernel_width())->NAME`.
//
// Floating-point contraction, the one policy of every file: on (the pragma in Dispatch.h, which
// every kernel file includes; not here, where it would bind the includer's code). Within one
// expression, a · b + c becomes one fused multiply-add wherever the target has the instruction:
// the AVX2 and AVX-512 builds and every aarch64 build, so these give the same bits. The x86-64
// portable build, for processors without FMA, rounds the product first and may differ from them
// in the last bit (its own tests bound its error, not its bits). A kernel that must give the
// bits of a Swift scalar rule, which Swift never fuses, writes each product as a statement of its
// own (Tests/Portability/check-triples.sh fails where such a file would contract); a fused
// multiply-add that an algorithm needs is written out (__builtin_elementwise_fma), and is exact
// everywhere.

#ifndef BACKPROP_KERNELS_H
#define BACKPROP_KERNELS_H

#include <stddef.h>

/// The elementwise rules of `bp_rule`: each lane computes rule(p, q, r).
typedef enum {
  /// p / q: the quotient.
  bp_rule_quotient,
  /// √p: the square root.
  bp_rule_square_root,
  /// 1 / √p: the reciprocal of the rounded square root.
  bp_rule_reciprocal_square_root,
  /// relu(q): q where q > 0 or q is NaN, else +0.
  bp_rule_rectified,
  /// p / q: the quotient's pullback to its dividend, p the cotangent and q the divisor.
  bp_rule_dividend_pullback,
  /// −((p · r) / q): the quotient's pullback to its divisor q, with r the quotient.
  bp_rule_divisor_pullback,
  /// p / (2r): the square root's pullback, r the root.
  bp_rule_square_root_pullback,
  /// relu's pullback: p where q > 0, q where q is NaN, else +0; q is relu's input.
  bp_rule_rectified_pullback,
  /// hypot(p, q) = √(p² + q²) without overflow, within 1 ulp; +inf where either is ±inf, NaN
  /// included, else NaN where either is NaN. Not one rounding, but the same bits in every width.
  bp_rule_hypotenuse,
  /// atan2(p, q), the angle of the point (q, p), within 1 ulp, with C's special cases.
  bp_rule_arc_tangent2,
} bp_rule_kind;

// MARK: - Widths and dispatch

/// The register width the `bp_NAME` functions run at: 512 (AVX-512F and FMA), 256 (AVX2 and FMA)
/// or 0 (the portable build): the widest this processor has, or a narrower one named by the
/// environment variable BACKPROP_KERNEL_WIDTH (0, 256 or 512; any other value is ignored), read
/// once, so that one machine can time every width it has.
int bp_kernel_width(void);

/// The widest register width this processor runs: 512, 256 or 0, whatever BACKPROP_KERNEL_WIDTH
/// says.
int bp_machine_kernel_width(void);

// The signatures of the kernels, as (result, parameters, arguments).
#define BP_SIGNATURE_MAP void, (const double *source, double *destination, ptrdiff_t count), \
  (source, destination, count)
#define BP_SIGNATURE_SCALAR double, (double x), (x)
#define BP_SIGNATURE_PAIR_MAP \
  void, (const double *source, double *first, double *second, ptrdiff_t count), \
  (source, first, second, count)
#define BP_SIGNATURE_POWER_MAP \
  void, (const double *source, int n, double *destination, ptrdiff_t count), \
  (source, n, destination, count)
#define BP_SIGNATURE_POWER_SCALAR double, (double x, int n), (x, n)
#define BP_SIGNATURE_BINARY_SCALAR double, (double p, double q), (p, q)
#define BP_SIGNATURE_EXPONENTIALS \
  double, (const double *source, double shift, double *destination, ptrdiff_t count), \
  (source, shift, destination, count)
#define BP_SIGNATURE_SCALED_EXPONENTIALS \
  void, \
  (const double *source, double shift, double scale, double *destination, ptrdiff_t count), \
  (source, shift, scale, destination, count)
#define BP_SIGNATURE_LOG_SOFTMAX_PULLBACKS \
  void, \
  (const double *cotangent, const double *output, double total, double *destination, \
   ptrdiff_t count), \
  (cotangent, output, total, destination, count)
#define BP_SIGNATURE_SIGMOID_PULLBACKS \
  void, \
  (const double *cotangent, double uniform, const double *source, const double *output, \
   double *destination, ptrdiff_t count), \
  (cotangent, uniform, source, output, destination, count)
#define BP_SIGNATURE_MAXIMUM double, (const double *source, ptrdiff_t count), (source, count)
#define BP_SIGNATURE_MAXIMUM_PULLBACKS \
  void, \
  (const double *cotangent, double uniform, const double *a, const double *b, \
   double *destination, ptrdiff_t count), \
  (cotangent, uniform, a, b, destination, count)
#define BP_SIGNATURE_RULE \
  void, \
  (bp_rule_kind rule, const double *p, double p_uniform, const double *q, double q_uniform, \
   const double *r, double *destination, ptrdiff_t count), \
  (rule, p, p_uniform, q, q_uniform, r, destination, count)
#define BP_SIGNATURE_TOTAL double, (const double *x, ptrdiff_t count), (x, count)
#define BP_SIGNATURE_FILL void, (double value, double *destination, ptrdiff_t count), \
  (value, destination, count)
#define BP_SIGNATURE_HUBER_TOTAL \
  double, (const double *x, const double *e, double delta, ptrdiff_t count), \
  (x, e, delta, count)
#define BP_SIGNATURE_HUBER_PULLBACKS \
  void, \
  (double cotangent, const double *x, const double *e, double delta, double *destination, \
   ptrdiff_t count), \
  (cotangent, x, e, delta, destination, count)
#define BP_SIGNATURE_MATRIX_PRODUCT \
  int, \
  (int threads, const double *a, ptrdiff_t a_rows, ptrdiff_t a_columns, const double *b, \
   ptrdiff_t b_rows, ptrdiff_t b_columns, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n), \
  (threads, a, a_rows, a_columns, b, b_rows, b_columns, c, m, k, n)

/// Every kernel, as X(name, signature): the one list from which `bp_kernel_table`, the tables of
/// each width and the `bp_NAME` entry points are made (Dispatch.c). A new kernel is its lanes,
/// one registration line in its file (Dispatch.h) and one line here, beside its declaration.
#define BP_KERNELS(X) \
  X(exponentials, BP_SIGNATURE_EXPONENTIALS) \
  X(exponential, BP_SIGNATURE_SCALAR) \
  X(scaled_exponentials, BP_SIGNATURE_SCALED_EXPONENTIALS) \
  X(log_softmax_pullbacks, BP_SIGNATURE_LOG_SOFTMAX_PULLBACKS) \
  X(logarithms, BP_SIGNATURE_MAP) \
  X(logarithm, BP_SIGNATURE_SCALAR) \
  X(logarithms_one_plus, BP_SIGNATURE_MAP) \
  X(logarithm_one_plus, BP_SIGNATURE_SCALAR) \
  X(binary_logarithms, BP_SIGNATURE_MAP) \
  X(binary_logarithm, BP_SIGNATURE_SCALAR) \
  X(decimal_logarithms, BP_SIGNATURE_MAP) \
  X(decimal_logarithm, BP_SIGNATURE_SCALAR) \
  X(inverse_hyperbolic_tangents, BP_SIGNATURE_MAP) \
  X(inverse_hyperbolic_tangent, BP_SIGNATURE_SCALAR) \
  X(binary_exponentials, BP_SIGNATURE_MAP) \
  X(binary_exponential, BP_SIGNATURE_SCALAR) \
  X(exponentials_minus_one, BP_SIGNATURE_MAP) \
  X(exponential_minus_one, BP_SIGNATURE_SCALAR) \
  X(hyperbolic_sines, BP_SIGNATURE_MAP) \
  X(hyperbolic_sine, BP_SIGNATURE_SCALAR) \
  X(hyperbolic_cosines, BP_SIGNATURE_MAP) \
  X(hyperbolic_cosine, BP_SIGNATURE_SCALAR) \
  X(hyperbolic_tangents, BP_SIGNATURE_MAP) \
  X(hyperbolic_tangent, BP_SIGNATURE_SCALAR) \
  X(sigmoids, BP_SIGNATURE_MAP) \
  X(sigmoid, BP_SIGNATURE_SCALAR) \
  X(sigmoids_and_derivatives, BP_SIGNATURE_PAIR_MAP) \
  X(sigmoid_pullbacks, BP_SIGNATURE_SIGMOID_PULLBACKS) \
  X(sines, BP_SIGNATURE_MAP) \
  X(sine, BP_SIGNATURE_SCALAR) \
  X(cosines, BP_SIGNATURE_MAP) \
  X(cosine, BP_SIGNATURE_SCALAR) \
  X(tangents, BP_SIGNATURE_MAP) \
  X(tangent, BP_SIGNATURE_SCALAR) \
  X(arc_sines, BP_SIGNATURE_MAP) \
  X(arc_sine, BP_SIGNATURE_SCALAR) \
  X(arc_cosines, BP_SIGNATURE_MAP) \
  X(arc_cosine, BP_SIGNATURE_SCALAR) \
  X(arc_tangents, BP_SIGNATURE_MAP) \
  X(arc_tangent, BP_SIGNATURE_SCALAR) \
  X(error_functions, BP_SIGNATURE_MAP) \
  X(error_function, BP_SIGNATURE_SCALAR) \
  X(complementary_error_functions, BP_SIGNATURE_MAP) \
  X(complementary_error_function, BP_SIGNATURE_SCALAR) \
  X(error_function_slopes, BP_SIGNATURE_MAP) \
  X(error_function_slope, BP_SIGNATURE_SCALAR) \
  X(gelu_parts, BP_SIGNATURE_PAIR_MAP) \
  X(integer_powers, BP_SIGNATURE_POWER_MAP) \
  X(integer_power, BP_SIGNATURE_POWER_SCALAR) \
  X(half_integer_powers, BP_SIGNATURE_POWER_MAP) \
  X(half_integer_power, BP_SIGNATURE_POWER_SCALAR) \
  X(rule, BP_SIGNATURE_RULE) \
  X(hypotenuse, BP_SIGNATURE_BINARY_SCALAR) \
  X(arc_tangent2, BP_SIGNATURE_BINARY_SCALAR) \
  X(maximum, BP_SIGNATURE_MAXIMUM) \
  X(maximum_pullbacks, BP_SIGNATURE_MAXIMUM_PULLBACKS) \
  X(total, BP_SIGNATURE_TOTAL) \
  X(fill, BP_SIGNATURE_FILL) \
  X(huber_total, BP_SIGNATURE_HUBER_TOTAL) \
  X(huber_pullbacks, BP_SIGNATURE_HUBER_PULLBACKS) \
  X(matrix_product, BP_SIGNATURE_MATRIX_PRODUCT)

/// Applies a macro to arguments that are themselves macros, expanded first: how a signature's
/// three parts reach the macro that takes them.
#define BP_APPLY(MACRO, ...) MACRO(__VA_ARGS__)

#define BP_KERNEL_FIELD(NAME, SIGNATURE) BP_APPLY(BP_KERNEL_FIELD_, NAME, SIGNATURE)
#define BP_KERNEL_FIELD_(NAME, RESULT, PARAMETERS, ARGUMENTS) RESULT(*NAME) PARAMETERS;

/// One width's build of every kernel: `bp_kernels(256)->logarithms(x, y, n)` runs the AVX2
/// logarithm, whatever `bp_kernel_width()` is. The fields are those of BP_KERNELS, each the
/// function of the same name below.
typedef struct bp_kernel_table {
  BP_KERNELS(BP_KERNEL_FIELD)
} bp_kernel_table;

/// The kernels built for registers of `width` bits (0, 256 or 512), or NULL where this processor
/// cannot run them or no such width exists.
const bp_kernel_table *bp_kernels(int width);

// MARK: - The kernels, at bp_kernel_width()

/// Writes exp(source[i] - shift) to destination[i] for 0 <= i < count and returns their sum.
///
/// Within 1 ulp of the exact exponential of the rounded difference for every input, including
/// subnormal results; NaN gives NaN, +inf gives +inf and -inf gives 0. The two buffers may be the
/// same, but must not otherwise overlap. A null destination stores nothing and returns the same
/// sum. The AVX2 and AVX-512 builds give the same bits, the sum included (the eight-lane loop adds
/// into the four-lane sums in their order).
double bp_exponentials(const double *source, double shift, double *destination, ptrdiff_t count);

/// The largest of source[0..<count]: NaN if any is NaN, -inf for an empty buffer. The same
/// answer in every width (a maximum is exact), except that of -0 and +0, which compare equal,
/// either may be returned.
double bp_maximum(const double *source, ptrdiff_t count);

/// The elementwise maximum's pullback to its first operand: destination[i] = cotangent[i] ·
/// share(a[i], b[i]), the share 1 where a > b, ½ at a tie, NaN where either is NaN and 0
/// elsewhere (swap a and b for the second operand's); a null cotangent stands for `uniform`
/// at every position. The destination may be any of the inputs' buffers.
void bp_maximum_pullbacks(
    const double *cotangent, double uniform, const double *a, const double *b,
    double *destination, ptrdiff_t count);

/// destination[i] = rule(p[i], q[i], r[i]) for 0 <= i < count, each correctly rounded or a
/// selection (or, for hypot, fused multiply-adds), so the same bits in every width as the scalar
/// rule. A null p or q stands for
/// `p_uniform` or `q_uniform` at every position; a null r is not read (the rules that read r
/// need it). The destination may be any input's buffer.
void bp_rule(
    bp_rule_kind rule, const double *p, double p_uniform, const double *q, double q_uniform,
    const double *r, double *destination, ptrdiff_t count);

/// hypot(a, b) for one pair, with the bits `bp_rule(bp_rule_hypotenuse, …)` gives for it.
double bp_hypotenuse(double a, double b);

/// atan2(y, x) for one pair, with the bits `bp_rule(bp_rule_arc_tangent2, …)` gives for it.
double bp_arc_tangent2(double y, double x);

/// Writes atan(source[i]) to destination[i] for 0 <= i < count: within 1 ulp; ±0 gives ±0,
/// ±inf gives ±π/2, NaN gives NaN. The widest vectors the machine has; the two buffers may be
/// the same, but must not otherwise overlap.
void bp_arc_tangents(const double *source, double *destination, ptrdiff_t count);

/// atan x for one scalar, with the bits `bp_arc_tangents` gives for it here.
double bp_arc_tangent(double x);

/// Σ x[i] for 0 <= i < count in Backprop's Sum.total order (sixteen partial sums, folded
/// pairwise): the same bits in every width, and as the Swift loop.
double bp_total(const double *x, ptrdiff_t count);

/// destination[i] = value for 0 <= i < count.
void bp_fill(double value, double *destination, ptrdiff_t count);

/// Σᵢ huber(x[i] − e[i], δ) for 0 <= i < count, huber(d, δ) = ½d² where |d| ≤ δ and
/// δ(|d| − ½δ) elsewhere, each term rounded as Swift's Huber.value rounds it and the terms
/// added in Sum.total's order (sixteen partial sums): the same bits in every width.
double bp_huber_total(const double *x, const double *e, double delta, ptrdiff_t count);

/// destination[i] = cotangent · slope(x[i] − e[i], δ), the slope d where |d| ≤ δ, ±δ by d's
/// sign elsewhere, +0 for ±0 and NaN at NaN: Swift's Huber.slope, to the bit.
void bp_huber_pullbacks(
    double cotangent, const double *x, const double *e, double delta, double *destination,
    ptrdiff_t count);

/// Log-softmax's pullback along one row: destination[i] = cotangent[i] − e^(output[i]) · total,
/// where output is the row's log-softmax and total the sum of its cotangent; the product and the
/// difference each rounded, as the tensor operations would. The destination may be the
/// cotangent's buffer, or the output's. A null cotangent stands for a row of zeros (0 − e^y · total,
/// still a subtraction, so that a zero product gives +0 as it would).
void bp_log_softmax_pullbacks(
    const double *cotangent, const double *output, double total, double *destination,
    ptrdiff_t count);

/// Scaled exponentials: destination[i] = scale · e^(source[i] − shift), the exponential as
/// `bp_exponentials` stores it times `scale`, rounded once (log-sum-exp's pullback).
void bp_scaled_exponentials(
    const double *source, double shift, double scale, double *destination, ptrdiff_t count);

/// e^x for one scalar, with the bits `bp_exponentials` gives for it (shift 0) on this machine,
/// in two lanes rather than through the vector loop's tail: a call of a few nanoseconds, for
/// the functions that take one exponential a scalar (softplus, expm1's derivative, erf's).
double bp_exponential(double x);

/// Writes ln(source[i]) to destination[i] for 0 <= i < count: within 1 ulp for every input,
/// subnormals included; ln 0 = -inf, ln of a negative number = NaN, ln +inf = +inf, NaN gives
/// NaN. The widest vectors the machine has; the two buffers may be the same, but must not
/// otherwise overlap.
void bp_logarithms(const double *source, double *destination, ptrdiff_t count);

/// ln x for one scalar, with the bits `bp_logarithms` gives for it on this machine, in two
/// lanes rather than through the vector loop's tail.
double bp_logarithm(double x);

/// Writes ln(1 + source[i]) to destination[i] for 0 <= i < count: within 1 ulp for every input,
/// accurate where x is tiny (ln(1 + x) = x for subnormal x, and ±0 gives ±0); -1 gives -inf,
/// below -1 NaN, +inf gives +inf, NaN gives NaN. The widest vectors the machine has; the two
/// buffers may be the same, but must not otherwise overlap.
void bp_logarithms_one_plus(const double *source, double *destination, ptrdiff_t count);

/// ln(1 + x) for one scalar, with the bits `bp_logarithms_one_plus` gives for it here.
double bp_logarithm_one_plus(double x);

/// Writes 2^source[i] to destination[i] for 0 <= i < count: within 1 ulp, exact at integers;
/// -inf gives 0, +inf and x >= 1024 give +inf, NaN gives NaN. The widest vectors the machine
/// has; the two buffers may be the same, but must not otherwise overlap.
void bp_binary_exponentials(const double *source, double *destination, ptrdiff_t count);

/// 2^x for one scalar, with the bits `bp_binary_exponentials` gives for it here.
double bp_binary_exponential(double x);

/// Writes asin(source[i]) to destination[i] for 0 <= i < count: within 1 ulp; ±0 gives ±0,
/// |x| > 1 and NaN give NaN. The widest vectors the machine has; the two buffers may be the same,
/// but must not otherwise overlap.
void bp_arc_sines(const double *source, double *destination, ptrdiff_t count);

/// asin x for one scalar, with the bits `bp_arc_sines` gives for it here.
double bp_arc_sine(double x);

/// Writes acos(source[i]) to destination[i], as `bp_arc_sines`: acos(1) = +0, acos(−1) = π.
void bp_arc_cosines(const double *source, double *destination, ptrdiff_t count);

/// acos x for one scalar, with the bits `bp_arc_cosines` gives for it here.
double bp_arc_cosine(double x);

/// Writes log₂(source[i]) to destination[i] for 0 <= i < count: within 1 ulp, and exact at
/// powers of two; special values as `bp_logarithms`. The widest vectors the machine has; the two
/// buffers may be the same, but must not otherwise overlap.
void bp_binary_logarithms(const double *source, double *destination, ptrdiff_t count);

/// log₂ x for one scalar, with the bits `bp_binary_logarithms` gives for it here.
double bp_binary_logarithm(double x);

/// Writes log₁₀(source[i]) to destination[i], as `bp_binary_logarithms`: within 1 ulp, and
/// exact at the powers of ten a Double holds exactly.
void bp_decimal_logarithms(const double *source, double *destination, ptrdiff_t count);

/// log₁₀ x for one scalar, with the bits `bp_decimal_logarithms` gives for it here.
double bp_decimal_logarithm(double x);

/// Writes atanh(source[i]) to destination[i] for 0 <= i < count: ln(1 + 2a/(1 − a))/2 by
/// `bp_logarithms_one_plus`'s lanes with the quotient carried to twice a Double's precision,
/// within 1 ulp; ±1 gives ±inf, |x| > 1 and NaN give NaN, ±0 and tiny x give x. The widest
/// vectors the machine has; the two buffers may be the same, but must not otherwise overlap.
void bp_inverse_hyperbolic_tangents(const double *source, double *destination, ptrdiff_t count);

/// atanh x for one scalar, with the bits `bp_inverse_hyperbolic_tangents` gives for it here.
double bp_inverse_hyperbolic_tangent(double x);

/// Writes e^source[i] - 1 to destination[i] for 0 <= i < count: within 1 ulp for every input,
/// accurate where x is tiny (subnormal x gives x, and ±0 gives ±0); -inf gives -1, +inf and
/// x > 709.78 give +inf, NaN gives NaN. The widest vectors the machine has; the two buffers may
/// be the same, but must not otherwise overlap.
void bp_exponentials_minus_one(const double *source, double *destination, ptrdiff_t count);

/// e^x - 1 for one scalar, with the bits `bp_exponentials_minus_one` gives for it here.
double bp_exponential_minus_one(double x);

/// Writes sinh(source[i]) to destination[i] for 0 <= i < count: within 1 ulp, finite up to
/// |x| = 710.4758 (past e^x's overflow); ±0 and tiny x give x, ±inf gives ±inf, NaN gives NaN. The widest vectors the machine has; the two buffers may be the
/// same, but must not otherwise overlap.
void bp_hyperbolic_sines(const double *source, double *destination, ptrdiff_t count);

/// sinh x for one scalar, with the bits `bp_hyperbolic_sines` gives for it here.
double bp_hyperbolic_sine(double x);

/// Writes cosh(source[i]) to destination[i] for 0 <= i < count, as `bp_hyperbolic_sines`: tiny x
/// gives 1, ±inf gives +inf, NaN gives NaN.
void bp_hyperbolic_cosines(const double *source, double *destination, ptrdiff_t count);

/// cosh x for one scalar, with the bits `bp_hyperbolic_cosines` gives for it here.
double bp_hyperbolic_cosine(double x);

/// Writes source[i]ⁿ to destination[i] for 0 <= i < count, for an integer n from 1 to 64:
/// exponentiation by squaring in double-double arithmetic, so within 0.5 ulp and a hair, with
/// pow's signs, zeros, infinities and NaN. The widest vectors the machine has; the buffers may
/// be the same, but must not otherwise overlap.
void bp_integer_powers(const double *source, int n, double *destination, ptrdiff_t count);

/// xⁿ for one scalar, with the bits `bp_integer_powers` gives for it on this machine.
double bp_integer_power(double x, int n);

/// Writes source[i]^(n + ½) to destination[i] for 0 <= i < count and an integer 0 <= n <= 63:
/// xⁿ √x in double-double arithmetic, rounded once (within 0.5 ulp and a hair); +0 at ±0, +inf
/// at ±inf, NaN below 0 and at NaN, as pow. Buffers as for `bp_integer_powers`.
void bp_half_integer_powers(const double *source, int n, double *destination, ptrdiff_t count);

/// x^(n + ½) for one scalar, with the bits `bp_half_integer_powers` gives for it here.
double bp_half_integer_power(double x, int n);

/// Writes erf(source[i]) to destination[i] for 0 <= i < count, within 1 ulp for every input
/// (ErrorFunction.c); ±0 gives ±0, ±inf gives ±1, NaN gives NaN. The widest vectors the machine
/// has; the buffers may be the same, but must not otherwise overlap.
void bp_error_functions(const double *source, double *destination, ptrdiff_t count);

/// erf x for one scalar, with the bits `bp_error_functions` gives for it on this machine.
double bp_error_function(double x);

/// Writes erfc(source[i]) = 1 − erf(source[i]) to destination[i] for 0 <= i < count, within
/// 1 ulp for every input, the right tail included (it is subnormal from about 26.55 and 0 above
/// about 27.23); −inf gives 2, +inf 0, NaN NaN. Buffers as for `bp_error_functions`.
void bp_complementary_error_functions(const double *source, double *destination, ptrdiff_t count);

/// erfc x for one scalar, with the bits `bp_complementary_error_functions` gives for it here.
double bp_complementary_error_function(double x);

/// Writes erf′(source[i]) = (2/√π) e^(−source[i]²) to destination[i] for 0 <= i < count: the
/// product in that order with the exponential's lanes, so the bits of the scalar rule
/// 2/√π · exp(−(x · x)). Buffers as for `bp_error_functions`.
void bp_error_function_slopes(const double *source, double *destination, ptrdiff_t count);

/// erf′ x for one scalar, with the bits `bp_error_function_slopes` gives for it here.
double bp_error_function_slope(double x);

/// Writes gelu's parts erfc(u) to first[i] and e^(−u·u) to second[i], u = (−√½) source[i]
/// rounded, for 0 <= i < count: each the bits of the scalar functions on u. Buffers as for
/// `bp_error_functions`.
void bp_gelu_parts(const double *source, double *first, double *second, ptrdiff_t count);

/// Writes tanh(source[i]) to destination[i] for 0 <= i < count: within 1 ulp for every input;
/// ±0 gives ±0, ±inf gives ±1, NaN gives NaN. The widest vectors the machine has; the buffers
/// may be the same, but must not otherwise overlap.
void bp_hyperbolic_tangents(const double *source, double *destination, ptrdiff_t count);

/// tanh x for one scalar, with the same bits as `bp_hyperbolic_tangents` gives for it.
double bp_hyperbolic_tangent(double x);

/// Writes σ(source[i]) = 1/(1 + e^(−source[i])) to destination[i] for 0 <= i < count: 1/(1 + t)
/// or t/(1 + t) with t = e^(−|x|), so within 1.5 ulps everywhere, the left tail included;
/// σ(−inf) = 0, σ(+inf) = 1, NaN gives NaN. The widest vectors the machine has; the buffers may
/// be the same, but must not otherwise overlap.
void bp_sigmoids(const double *source, double *destination, ptrdiff_t count);

/// σ(source[i]) into values[i] and σ′(source[i]) = σ(x) · σ(−x) into derivatives[i], from one
/// exponential a scalar: values gets `bp_sigmoids`' bits and derivatives the bits of
/// `bp_sigmoid_pullbacks` with a cotangent of 1. The three buffers must not overlap.
void bp_sigmoids_and_derivatives(
    const double *source, double *values, double *derivatives, ptrdiff_t count);

/// σ x for one scalar, with the same bits as `bp_sigmoids` gives for it.
double bp_sigmoid(double x);

/// The sigmoid's pullback: destination[i] = cotangent[i] · (output[i] · σ(−source[i])), where
/// output holds σ(source); a null cotangent stands for `uniform` at every position. The
/// destination may be the cotangent's buffer or the output's.
void bp_sigmoid_pullbacks(
    const double *cotangent, double uniform, const double *source, const double *output,
    double *destination, ptrdiff_t count);

/// Writes sin(source[i]), or cos(source[i]), to destination[i] for 0 <= i < count: within 1 ulp
/// for every input (the C library's function above 2^19 in magnitude); ±inf and NaN give NaN.
/// The widest vectors the machine has; the buffers may be the same, but must not otherwise
/// overlap.
void bp_sines(const double *source, double *destination, ptrdiff_t count);
void bp_cosines(const double *source, double *destination, ptrdiff_t count);

/// sin x and cos x for one scalar, with the bits `bp_sines` and `bp_cosines` give for it.
double bp_sine(double x);
double bp_cosine(double x);

/// Writes tan(source[i]) to destination[i] for 0 <= i < count: sin r / cos r or −cos r / sin r
/// of the reduced argument, each operand carried with its rounding error and the quotient
/// corrected by its exact residual, so within 1 ulp; ±0 gives ±0, ±inf and NaN give NaN, and
/// |x| > 2^19 takes the C library's tan. The widest vectors the machine has; the buffers may be
/// the same, but must not otherwise overlap.
void bp_tangents(const double *source, double *destination, ptrdiff_t count);

/// tan x for one scalar, with the bits `bp_tangents` gives for it on this machine.
double bp_tangent(double x);


/// C = A B for A [m, k], B [k, n] and row-major C [m, n], blocked and packed as BLIS does, on up
/// to `threads` threads (at most 64; one below about 2²² multiply-adds), each taking whole blocks
/// of rows of C with a packing buffer of its own. A's entry (i, p) is a[i * a_rows + p *
/// a_columns] and B's (p, j) is b[p * b_rows + j * b_columns], so Aᵀ or Bᵀ of a row-major matrix
/// is its strides swapped, with no transpose made: packing reads each layout along its contiguous
/// axis. Returns 0 if a packing buffer (about 2 KiB × n) could not be allocated, 1 otherwise.
/// The sums run along k in blocks, in a different order from a naive loop, so results differ
/// from one by rounding; but each entry of C is the same sum in the same order whatever the
/// layout, the thread count or the width (among the builds with FMA): the same bits.
int bp_matrix_product(
    int threads, const double *a, ptrdiff_t a_rows, ptrdiff_t a_columns, const double *b,
    ptrdiff_t b_rows, ptrdiff_t b_columns, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n);

/// Frees one 30 MiB block, once per process before the first large tensor, so that glibc's
/// dynamic thresholds take the value they would take after any block that size is freed: blocks
/// up to 30 MiB come from the heap, and up to 60 MiB of free heap stays mapped between gradient
/// calls rather than being handed back and faulted in again at every call (Heap.c says why and
/// what it measured). Changes nothing where the thresholds were set by the program, or outside
/// glibc.
void bp_raise_heap_thresholds(void);

#endif
