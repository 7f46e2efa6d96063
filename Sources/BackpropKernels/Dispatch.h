// How a kernel's file builds it for each width: one line, BP_REGISTER(NAME, SIGNATURE, PORTABLE,
// AVX2, AVX512), defines
//   bp_NAME_w0, which calls PORTABLE, built for the file's target (SSE2 on x86-64, NEON on
//   aarch64), and on x86-64 also
//   bp_NAME_w256, which calls AVX2, built for AVX2 and FMA, and
//   bp_NAME_w512, which calls AVX512, built for AVX-512F and FMA;
// each implementation is inlined into its caller, so that it compiles for that caller's target.
// Dispatch.c gathers the three into the tables of `bp_kernels(width)` by the list BP_KERNELS in
// BackpropKernels.h, where NAME and its SIGNATURE are declared. A private header.

#ifndef BACKPROP_DISPATCH_H
#define BACKPROP_DISPATCH_H

#include "BackpropKernels.h"

// The contraction policy of every kernel file (BackpropKernels.h says what it means).
#pragma STDC FP_CONTRACT ON

// The builds beyond the portable one exist on x86-64 alone: BP_ON_X86(…) keeps its arguments
// there and drops them elsewhere.
#if defined(__x86_64__)
#define BP_ON_X86(...) __VA_ARGS__
#define BP_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define BP_TARGET_AVX512 __attribute__((target("avx512f,fma")))
#else
#define BP_ON_X86(...)
#endif

// Known to Dispatch.c, not exported from the library.
#define BP_HIDDEN __attribute__((visibility("hidden")))

#define BP_REGISTER(NAME, SIGNATURE, PORTABLE, AVX2, AVX512) \
  BP_APPLY(BP_REGISTER_, NAME, PORTABLE, AVX2, AVX512, SIGNATURE)
#define BP_REGISTER_(NAME, PORTABLE, AVX2, AVX512, RESULT, PARAMETERS, ARGUMENTS) \
  BP_HIDDEN RESULT bp_##NAME##_w0 PARAMETERS; \
  RESULT bp_##NAME##_w0 PARAMETERS { return PORTABLE ARGUMENTS; } \
  BP_ON_X86( \
      BP_HIDDEN RESULT bp_##NAME##_w256 PARAMETERS; \
      BP_HIDDEN RESULT bp_##NAME##_w512 PARAMETERS; \
      BP_TARGET_AVX2 RESULT bp_##NAME##_w256 PARAMETERS { return AVX2 ARGUMENTS; } \
      BP_TARGET_AVX512 RESULT bp_##NAME##_w512 PARAMETERS { return AVX512 ARGUMENTS; })

#endif
