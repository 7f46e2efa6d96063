// Declarations of the C library's mathematics that the kernels call, as Darwin's <math.h> declares
// them: enough to type-check Sources/BackpropKernels for Apple's triples without an SDK
// (Tests/Portability/check-triples.sh). Nothing here is compiled into the package.
#ifndef BACKPROP_PORTABILITY_MATH_H
#define BACKPROP_PORTABILITY_MATH_H
#define INFINITY __builtin_inff()
#define NAN __builtin_nanf("")
#define HUGE_VAL __builtin_huge_val()
double acos(double);
double asin(double);
double atan(double);
double atan2(double, double);
double cos(double);
double sin(double);
double tan(double);
double acosh(double);
double asinh(double);
double atanh(double);
double cosh(double);
double sinh(double);
double tanh(double);
double exp(double);
double exp2(double);
double expm1(double);
double log(double);
double log10(double);
double log2(double);
double log1p(double);
double fabs(double);
double hypot(double, double);
double pow(double, double);
double sqrt(double);
double erf(double);
double erfc(double);
double ceil(double);
double floor(double);
double nearbyint(double);
double rint(double);
double round(double);
double trunc(double);
double fma(double, double, double);
double copysign(double, double);
double ldexp(double, int);
double frexp(double, int *);
double scalbn(double, int);
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf(x)
#define isfinite(x) __builtin_isfinite(x)
#define signbit(x) __builtin_signbit(x)
#endif
