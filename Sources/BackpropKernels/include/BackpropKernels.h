// Numerical kernels that Swift cannot compile for the machine it runs on.
//
// Swift compiles a package for the baseline of its target (SSE2 on x86-64), and setting CPU
// features needs unsafe flags, which a package used as a dependency may not have. Clang can
// compile one function for AVX2 or AVX-512 and FMA by attribute and choose it at run time, as
// PyTorch's kernels do, so the exponential, the logarithm, tanh, sine, cosine and the matrix
// product live here, in C, each with a portable twin for other machines.

#ifndef BACKPROP_KERNELS_H
#define BACKPROP_KERNELS_H

#include <stddef.h>

/// Writes exp(source[i] - shift) to destination[i] for 0 <= i < count and returns their sum.
///
/// Within 1 ulp of the exact exponential of the rounded difference for every input, including
/// subnormal results; NaN gives NaN, +inf gives +inf and -inf gives 0. Uses AVX-512 or AVX2, with
/// FMA, where the processor has them, else `bp_exponentials_portable`. The two buffers may be the same,
/// but must not otherwise overlap. A null destination stores nothing and returns the same sum.
double bp_exponentials(const double *source, double shift, double *destination, ptrdiff_t count);

/// The same kernel compiled for the baseline target: what `bp_exponentials` runs on a machine
/// without AVX2 and FMA, exposed so that tests check it on every machine.
double bp_exponentials_portable(
    const double *source, double shift, double *destination, ptrdiff_t count);

/// Whether `bp_exponentials` runs a vectorized version (AVX2 or AVX-512, with FMA) here.
int bp_exponentials_uses_avx2(void);

/// The widest vector registers the kernels use on this machine: 512 (AVX-512 and FMA), 256
/// (AVX2 and FMA) or 0 (the baseline target).
int bp_kernel_width(void);

/// The largest of source[0..<count]: NaN if any is NaN, -inf for an empty buffer. The same
/// answer in every width (a maximum is exact), except that of -0 and +0, which compare equal,
/// either may be returned.
double bp_maximum(const double *source, ptrdiff_t count);

/// `bp_maximum` with registers of `width` bits (512, 256 or 0).
double bp_maximum_using(int width, const double *source, ptrdiff_t count);

/// The elementwise maximum's pullback to its first operand: destination[i] = cotangent[i] ·
/// share(a[i], b[i]), the share 1 where a > b, ½ at a tie, NaN where either is NaN and 0
/// elsewhere (swap a and b for the second operand's); a null cotangent stands for `uniform`
/// at every position. The destination may be any of the inputs' buffers.
void bp_maximum_pullbacks(
    const double *cotangent, double uniform, const double *a, const double *b,
    double *destination, ptrdiff_t count);

/// `bp_maximum_pullbacks` with registers of `width` bits (512, 256 or 0).
void bp_maximum_pullbacks_using(
    int width, const double *cotangent, double uniform, const double *a, const double *b,
    double *destination, ptrdiff_t count);

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

/// destination[i] = rule(p[i], q[i], r[i]) for 0 <= i < count, each correctly rounded or a
/// selection (or, for hypot, fused multiply-adds), so the same bits in every width as the scalar
/// rule. A null p or q stands for
/// `p_uniform` or `q_uniform` at every position; a null r is not read (the rules that read r
/// need it). The destination may be any input's buffer.
void bp_rule(
    bp_rule_kind rule, const double *p, double p_uniform, const double *q, double q_uniform,
    const double *r, double *destination, ptrdiff_t count);

/// `bp_rule` with registers of `width` bits (512, 256 or 0).
void bp_rule_using(
    int width, bp_rule_kind rule, const double *p, double p_uniform, const double *q,
    double q_uniform, const double *r, double *destination, ptrdiff_t count);

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

/// `bp_arc_tangents` with registers of `width` bits (512, 256 or 0).
void bp_arc_tangents_using(int width, const double *source, double *destination, ptrdiff_t count);

/// Σ x[i] for 0 <= i < count in Backprop's Sum.total order (sixteen partial sums, folded
/// pairwise): the same bits in every width, and as the Swift loop.
double bp_total(const double *x, ptrdiff_t count);

/// `bp_total` with registers of `width` bits (512, 256 or 0).
double bp_total_using(int width, const double *x, ptrdiff_t count);

/// destination[i] = value for 0 <= i < count.
void bp_fill(double value, double *destination, ptrdiff_t count);

/// Σᵢ huber(x[i] − e[i], δ) for 0 <= i < count, huber(d, δ) = ½d² where |d| ≤ δ and
/// δ(|d| − ½δ) elsewhere, each term rounded as Swift's Huber.value rounds it and the terms
/// added in Sum.total's order (sixteen partial sums): the same bits in every width.
double bp_huber_total(const double *x, const double *e, double delta, ptrdiff_t count);

/// `bp_huber_total` with registers of `width` bits (512, 256 or 0).
double bp_huber_total_using(
    int width, const double *x, const double *e, double delta, ptrdiff_t count);

/// destination[i] = cotangent · slope(x[i] − e[i], δ), the slope d where |d| ≤ δ, ±δ by d's
/// sign elsewhere, +0 for ±0 and NaN at NaN: Swift's Huber.slope, to the bit.
void bp_huber_pullbacks(
    double cotangent, const double *x, const double *e, double delta, double *destination,
    ptrdiff_t count);

/// `bp_huber_pullbacks` with registers of `width` bits (512, 256 or 0).
void bp_huber_pullbacks_using(
    int width, double cotangent, const double *x, const double *e, double delta,
    double *destination, ptrdiff_t count);

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

/// `bp_scaled_exponentials` with registers of `width` bits (512, 256 or 0).
void bp_scaled_exponentials_using(
    int width, const double *source, double shift, double scale, double *destination,
    ptrdiff_t count);

/// `bp_log_softmax_pullbacks` with registers of `width` bits (512, 256 or 0).
void bp_log_softmax_pullbacks_using(
    int width, const double *cotangent, const double *output, double total, double *destination,
    ptrdiff_t count);

/// e^x for one scalar, with the bits `bp_exponentials` gives for it (shift 0) on this machine,
/// in two lanes rather than through the vector loop's tail: a call of a few nanoseconds, for
/// the functions that take one exponential a scalar (softplus, expm1's derivative, erf's).
double bp_exponential(double x);

/// `bp_exponentials` with registers of `width` bits (512, 256 or 0), or the baseline where the
/// machine lacks that width, so that tests check every version. The two vectorized versions give
/// the same bits, the sum included (the eight-lane loop adds into the four-lane sums in their
/// order); the baseline, without fused multiply-adds, may differ from them by rounding.
double bp_exponentials_using(
    int width, const double *source, double shift, double *destination, ptrdiff_t count);

/// Writes ln(source[i]) to destination[i] for 0 <= i < count: within 1 ulp for every input,
/// subnormals included; ln 0 = -inf, ln of a negative number = NaN, ln +inf = +inf, NaN gives
/// NaN. The widest vectors the machine has; the two buffers may be the same, but must not
/// otherwise overlap.
void bp_logarithms(const double *source, double *destination, ptrdiff_t count);

/// ln x for one scalar, with the bits `bp_logarithms` gives for it on this machine, in two
/// lanes rather than through the vector loop's tail.
double bp_logarithm(double x);

/// `bp_logarithms` with registers of `width` bits (512, 256 or 0), as `bp_exponentials_using`.
void bp_logarithms_using(int width, const double *source, double *destination, ptrdiff_t count);

/// Writes ln(1 + source[i]) to destination[i] for 0 <= i < count: within 1 ulp for every input,
/// accurate where x is tiny (ln(1 + x) = x for subnormal x, and ±0 gives ±0); -1 gives -inf,
/// below -1 NaN, +inf gives +inf, NaN gives NaN. The widest vectors the machine has; the two
/// buffers may be the same, but must not otherwise overlap.
void bp_logarithms_one_plus(const double *source, double *destination, ptrdiff_t count);

/// ln(1 + x) for one scalar, with the bits `bp_logarithms_one_plus` gives for it here.
double bp_logarithm_one_plus(double x);

/// `bp_logarithms_one_plus` with registers of `width` bits (512, 256 or 0).
void bp_logarithms_one_plus_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// Writes 2^source[i] to destination[i] for 0 <= i < count: within 1 ulp, exact at integers;
/// -inf gives 0, +inf and x >= 1024 give +inf, NaN gives NaN. The widest vectors the machine
/// has; the two buffers may be the same, but must not otherwise overlap.
void bp_binary_exponentials(const double *source, double *destination, ptrdiff_t count);

/// 2^x for one scalar, with the bits `bp_binary_exponentials` gives for it here.
double bp_binary_exponential(double x);

/// `bp_binary_exponentials` with registers of `width` bits (512, 256 or 0).
void bp_binary_exponentials_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// Writes asin(source[i]) to destination[i] for 0 <= i < count: within 1 ulp; ±0 gives ±0,
/// |x| > 1 and NaN give NaN. The widest vectors the machine has; the two buffers may be the same,
/// but must not otherwise overlap.
void bp_arc_sines(const double *source, double *destination, ptrdiff_t count);

/// asin x for one scalar, with the bits `bp_arc_sines` gives for it here.
double bp_arc_sine(double x);

/// `bp_arc_sines` with registers of `width` bits (512, 256 or 0).
void bp_arc_sines_using(int width, const double *source, double *destination, ptrdiff_t count);

/// Writes acos(source[i]) to destination[i], as `bp_arc_sines`: acos(1) = +0, acos(−1) = π.
void bp_arc_cosines(const double *source, double *destination, ptrdiff_t count);

/// acos x for one scalar, with the bits `bp_arc_cosines` gives for it here.
double bp_arc_cosine(double x);

/// `bp_arc_cosines` with registers of `width` bits (512, 256 or 0).
void bp_arc_cosines_using(int width, const double *source, double *destination, ptrdiff_t count);

/// Writes log₂(source[i]) to destination[i] for 0 <= i < count: within 1 ulp, and exact at
/// powers of two; special values as `bp_logarithms`. The widest vectors the machine has; the two
/// buffers may be the same, but must not otherwise overlap.
void bp_binary_logarithms(const double *source, double *destination, ptrdiff_t count);

/// log₂ x for one scalar, with the bits `bp_binary_logarithms` gives for it here.
double bp_binary_logarithm(double x);

/// `bp_binary_logarithms` with registers of `width` bits (512, 256 or 0).
void bp_binary_logarithms_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// Writes log₁₀(source[i]) to destination[i], as `bp_binary_logarithms`: within 1 ulp, and
/// exact at the powers of ten a Double holds exactly.
void bp_decimal_logarithms(const double *source, double *destination, ptrdiff_t count);

/// log₁₀ x for one scalar, with the bits `bp_decimal_logarithms` gives for it here.
double bp_decimal_logarithm(double x);

/// `bp_decimal_logarithms` with registers of `width` bits (512, 256 or 0).
void bp_decimal_logarithms_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// Writes atanh(source[i]) to destination[i] for 0 <= i < count: ln(1 + 2a/(1 − a))/2 by
/// `bp_logarithms_one_plus`'s lanes with the quotient carried to twice a Double's precision,
/// within 1 ulp; ±1 gives ±inf, |x| > 1 and NaN give NaN, ±0 and tiny x give x. The widest
/// vectors the machine has; the two buffers may be the same, but must not otherwise overlap.
void bp_inverse_hyperbolic_tangents(const double *source, double *destination, ptrdiff_t count);

/// atanh x for one scalar, with the bits `bp_inverse_hyperbolic_tangents` gives for it here.
double bp_inverse_hyperbolic_tangent(double x);

/// `bp_inverse_hyperbolic_tangents` with registers of `width` bits (512, 256 or 0).
void bp_inverse_hyperbolic_tangents_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// Writes e^source[i] - 1 to destination[i] for 0 <= i < count: within 1 ulp for every input,
/// accurate where x is tiny (subnormal x gives x, and ±0 gives ±0); -inf gives -1, +inf and
/// x > 709.78 give +inf, NaN gives NaN. The widest vectors the machine has; the two buffers may
/// be the same, but must not otherwise overlap.
void bp_exponentials_minus_one(const double *source, double *destination, ptrdiff_t count);

/// e^x - 1 for one scalar, with the bits `bp_exponentials_minus_one` gives for it here.
double bp_exponential_minus_one(double x);

/// `bp_exponentials_minus_one` with registers of `width` bits (512, 256 or 0).
void bp_exponentials_minus_one_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// Writes sinh(source[i]) to destination[i] for 0 <= i < count: within 1 ulp, finite up to
/// |x| = 710.4758 (past e^x's overflow); ±0 and tiny x give x, ±inf gives ±inf, NaN gives NaN. The widest vectors the machine has; the two buffers may be the
/// same, but must not otherwise overlap.
void bp_hyperbolic_sines(const double *source, double *destination, ptrdiff_t count);

/// sinh x for one scalar, with the bits `bp_hyperbolic_sines` gives for it here.
double bp_hyperbolic_sine(double x);

/// `bp_hyperbolic_sines` with registers of `width` bits (512, 256 or 0).
void bp_hyperbolic_sines_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// Writes cosh(source[i]) to destination[i] for 0 <= i < count, as `bp_hyperbolic_sines`: tiny x
/// gives 1, ±inf gives +inf, NaN gives NaN.
void bp_hyperbolic_cosines(const double *source, double *destination, ptrdiff_t count);

/// cosh x for one scalar, with the bits `bp_hyperbolic_cosines` gives for it here.
double bp_hyperbolic_cosine(double x);

/// `bp_hyperbolic_cosines` with registers of `width` bits (512, 256 or 0).
void bp_hyperbolic_cosines_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// Writes source[i]ⁿ to destination[i] for 0 <= i < count, for an integer n from 1 to 64:
/// exponentiation by squaring in double-double arithmetic, so within 0.5 ulp and a hair, with
/// pow's signs, zeros, infinities and NaN. The widest vectors the machine has; the buffers may
/// be the same, but must not otherwise overlap.
void bp_integer_powers(const double *source, int n, double *destination, ptrdiff_t count);

/// `bp_integer_powers` with registers of `width` bits (512, 256 or 0).
void bp_integer_powers_using(
    int width, const double *source, int n, double *destination, ptrdiff_t count);

/// xⁿ for one scalar, with the bits `bp_integer_powers` gives for it on this machine.
double bp_integer_power(double x, int n);

/// Writes source[i]^(n + ½) to destination[i] for 0 <= i < count and an integer 0 <= n <= 63:
/// xⁿ √x in double-double arithmetic, rounded once (within 0.5 ulp and a hair); +0 at ±0, +inf
/// at ±inf, NaN below 0 and at NaN, as pow. Buffers as for `bp_integer_powers`.
void bp_half_integer_powers(const double *source, int n, double *destination, ptrdiff_t count);

/// `bp_half_integer_powers` with registers of `width` bits (512, 256 or 0).
void bp_half_integer_powers_using(
    int width, const double *source, int n, double *destination, ptrdiff_t count);

/// x^(n + ½) for one scalar, with the bits `bp_half_integer_powers` gives for it here.
double bp_half_integer_power(double x, int n);

/// Writes erf(source[i]) to destination[i] for 0 <= i < count, within 1 ulp for every input
/// (ErrorFunction.c); ±0 gives ±0, ±inf gives ±1, NaN gives NaN. The widest vectors the machine
/// has; the buffers may be the same, but must not otherwise overlap.
void bp_error_functions(const double *source, double *destination, ptrdiff_t count);

/// `bp_error_functions` with registers of `width` bits (512, 256 or 0).
void bp_error_functions_using(int width, const double *source, double *destination, ptrdiff_t count);

/// erf x for one scalar, with the bits `bp_error_functions` gives for it on this machine.
double bp_error_function(double x);

/// Writes erfc(source[i]) = 1 − erf(source[i]) to destination[i] for 0 <= i < count, within
/// 1 ulp for every input, the right tail included (it is subnormal from about 26.55 and 0 above
/// about 27.23); −inf gives 2, +inf 0, NaN NaN. Buffers as for `bp_error_functions`.
void bp_complementary_error_functions(const double *source, double *destination, ptrdiff_t count);

/// `bp_complementary_error_functions` with registers of `width` bits (512, 256 or 0).
void bp_complementary_error_functions_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// erfc x for one scalar, with the bits `bp_complementary_error_functions` gives for it here.
double bp_complementary_error_function(double x);

/// Writes erf′(source[i]) = (2/√π) e^(−source[i]²) to destination[i] for 0 <= i < count: the
/// product in that order with the exponential's lanes, so the bits of the scalar rule
/// 2/√π · exp(−(x · x)). Buffers as for `bp_error_functions`.
void bp_error_function_slopes(const double *source, double *destination, ptrdiff_t count);

/// `bp_error_function_slopes` with registers of `width` bits (512, 256 or 0).
void bp_error_function_slopes_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// erf′ x for one scalar, with the bits `bp_error_function_slopes` gives for it here.
double bp_error_function_slope(double x);

/// Writes gelu's parts erfc(u) to first[i] and e^(−u·u) to second[i], u = (−√½) source[i]
/// rounded, for 0 <= i < count: each the bits of the scalar functions on u. Buffers as for
/// `bp_error_functions`.
void bp_gelu_parts(const double *source, double *first, double *second, ptrdiff_t count);

/// `bp_gelu_parts` with registers of `width` bits (512, 256 or 0).
void bp_gelu_parts_using(
    int width, const double *source, double *first, double *second, ptrdiff_t count);

/// Writes tanh(source[i]) to destination[i] for 0 <= i < count: within 1 ulp for every input;
/// ±0 gives ±0, ±inf gives ±1, NaN gives NaN. The widest vectors the machine has; the buffers
/// may be the same, but must not otherwise overlap.
void bp_hyperbolic_tangents(const double *source, double *destination, ptrdiff_t count);

/// `bp_hyperbolic_tangents` with registers of `width` bits (512, 256 or 0).
void bp_hyperbolic_tangents_using(
    int width, const double *source, double *destination, ptrdiff_t count);

/// tanh x for one scalar, with the same bits as `bp_hyperbolic_tangents` gives for it.
double bp_hyperbolic_tangent(double x);

/// Writes σ(source[i]) = 1/(1 + e^(−source[i])) to destination[i] for 0 <= i < count: 1/(1 + t)
/// or t/(1 + t) with t = e^(−|x|), so within 1.5 ulps everywhere, the left tail included;
/// σ(−inf) = 0, σ(+inf) = 1, NaN gives NaN. The widest vectors the machine has; the buffers may
/// be the same, but must not otherwise overlap.
void bp_sigmoids(const double *source, double *destination, ptrdiff_t count);

/// `bp_sigmoids` with registers of `width` bits (512, 256 or 0).
void bp_sigmoids_using(int width, const double *source, double *destination, ptrdiff_t count);

/// σ(source[i]) into values[i] and σ′(source[i]) = σ(x) · σ(−x) into derivatives[i], from one
/// exponential a scalar: values gets `bp_sigmoids`' bits and derivatives the bits of
/// `bp_sigmoid_pullbacks` with a cotangent of 1. The three buffers must not overlap.
void bp_sigmoids_and_derivatives(
    const double *source, double *values, double *derivatives, ptrdiff_t count);

/// `bp_sigmoids_and_derivatives` with registers of `width` bits (512, 256 or 0).
void bp_sigmoids_and_derivatives_using(
    int width, const double *source, double *values, double *derivatives, ptrdiff_t count);

/// σ x for one scalar, with the same bits as `bp_sigmoids` gives for it.
double bp_sigmoid(double x);

/// The sigmoid's pullback: destination[i] = cotangent[i] · (output[i] · σ(−source[i])), where
/// output holds σ(source); a null cotangent stands for `uniform` at every position. The
/// destination may be the cotangent's buffer or the output's.
void bp_sigmoid_pullbacks(
    const double *cotangent, double uniform, const double *source, const double *output,
    double *destination, ptrdiff_t count);

/// `bp_sigmoid_pullbacks` with registers of `width` bits (512, 256 or 0).
void bp_sigmoid_pullbacks_using(
    int width, const double *cotangent, double uniform, const double *source,
    const double *output, double *destination, ptrdiff_t count);

/// Writes sin(source[i]), or cos(source[i]), to destination[i] for 0 <= i < count: within 1 ulp
/// for every input (the C library's function above 2^19 in magnitude); ±inf and NaN give NaN.
/// The widest vectors the machine has; the buffers may be the same, but must not otherwise
/// overlap.
void bp_sines(const double *source, double *destination, ptrdiff_t count);
void bp_cosines(const double *source, double *destination, ptrdiff_t count);

/// `bp_sines` and `bp_cosines` with registers of `width` bits (512, 256 or 0).
void bp_sines_using(int width, const double *source, double *destination, ptrdiff_t count);
void bp_cosines_using(int width, const double *source, double *destination, ptrdiff_t count);

/// sin x and cos x for one scalar, with the bits `bp_sines` and `bp_cosines` give for it.
double bp_sine(double x);
double bp_cosine(double x);

/// Writes tan(source[i]) to destination[i] for 0 <= i < count: sin r / cos r or −cos r / sin r
/// of the reduced argument, each operand carried with its rounding error and the quotient
/// corrected by its exact residual, so within 1 ulp; ±0 gives ±0, ±inf and NaN give NaN, and
/// |x| > 2^19 takes the C library's tan. The widest vectors the machine has; the buffers may be
/// the same, but must not otherwise overlap.
void bp_tangents(const double *source, double *destination, ptrdiff_t count);

/// `bp_tangents` with registers of `width` bits (512, 256 or 0).
void bp_tangents_using(int width, const double *source, double *destination, ptrdiff_t count);

/// tan x for one scalar, with the bits `bp_tangents` gives for it on this machine.
double bp_tangent(double x);

/// C = A B for row-major A [m, k], B [k, n] and C [m, n], blocked and packed as BLIS does, with
/// the widest registers the processor has (`bp_matrix_product_width`). Returns 0 if its packing
/// buffer (about 2 KiB × n) could not be allocated, 1 otherwise. The sums run along k in blocks of 256, in a
/// different order from a naive loop, so results differ from one by rounding.
int bp_matrix_product(
    const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n);

/// The same product compiled for the baseline target, for tests on every machine.
int bp_matrix_product_portable(
    const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k, ptrdiff_t n);

/// The widest registers `bp_matrix_product` uses on this machine: 512 (AVX-512 and FMA, an
/// 8 × 16 tile), 256 (AVX2 and FMA, 4 × 8) or 0 (the baseline target, 4 × 8).
int bp_matrix_product_width(void);

/// The product with registers of `width` bits (512, 256 or 0), so that tests check every
/// version the machine can run. Returns 0, writing nothing, if the machine lacks that width or
/// the packing buffer could not be allocated.
int bp_matrix_product_using(
    int width, const double *a, const double *b, double *c, ptrdiff_t m, ptrdiff_t k,
    ptrdiff_t n);

/// `bp_matrix_product_using` on up to `threads` threads (at most 64), each taking whole blocks
/// of 96 rows of C with a packing buffer of its own; one thread below about 2²² multiply-adds.
/// Each entry of C is the same sum in the same order as on one thread: the same bits.
int bp_matrix_product_threaded(
    int width, int threads, const double *a, const double *b, double *c, ptrdiff_t m,
    ptrdiff_t k, ptrdiff_t n);

/// `bp_matrix_product_threaded` for operands in any layout: A's entry (i, p) is
/// a[i * a_rows + p * a_columns] and B's (p, j) is b[p * b_rows + j * b_columns], so Aᵀ or Bᵀ
/// of a row-major matrix is its strides swapped, with no transpose made. Packing reads each
/// layout along its contiguous axis, and the sums are the same, in the same order, as the
/// row-major product of the same matrices: the same bits.
int bp_matrix_product_strided(
    int width, int threads, const double *a, ptrdiff_t a_rows, ptrdiff_t a_columns,
    const double *b, ptrdiff_t b_rows, ptrdiff_t b_columns, double *c, ptrdiff_t m, ptrdiff_t k,
    ptrdiff_t n);

/// Frees one 30 MiB block, once per process before the first large tensor, so that glibc's
/// dynamic thresholds take the value they would take after any block that size is freed: blocks
/// up to 30 MiB come from the heap, and up to 60 MiB of free heap stays mapped between gradient
/// calls rather than being handed back and faulted in again at every call (Heap.c says why and
/// what it measured). Changes nothing where the thresholds were set by the program, or outside
/// glibc.
void bp_raise_heap_thresholds(void);

#endif
