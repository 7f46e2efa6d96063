// The tables of `bp_kernels(width)` and the `bp_NAME` entry points, all made from the list
// BP_KERNELS in BackpropKernels.h: each kernel's file defines its builds (Dispatch.h), and
// nothing here names a kernel.

#include "BackpropKernels.h"

#include "Dispatch.h"

#include <stdlib.h>

#define DECLARE(NAME, SIGNATURE) BP_APPLY(DECLARE_, NAME, SIGNATURE)
#define DECLARE_(NAME, RESULT, PARAMETERS, ARGUMENTS) \
  BP_HIDDEN RESULT bp_##NAME##_w0 PARAMETERS; \
  BP_ON_X86(BP_HIDDEN RESULT bp_##NAME##_w256 PARAMETERS; \
            BP_HIDDEN RESULT bp_##NAME##_w512 PARAMETERS;)
BP_KERNELS(DECLARE)

#define PORTABLE_FIELD(NAME, SIGNATURE) .NAME = bp_##NAME##_w0,
static const bp_kernel_table portable = {BP_KERNELS(PORTABLE_FIELD)};

#if defined(__x86_64__)
#define AVX2_FIELD(NAME, SIGNATURE) .NAME = bp_##NAME##_w256,
#define AVX512_FIELD(NAME, SIGNATURE) .NAME = bp_##NAME##_w512,
static const bp_kernel_table avx2 = {BP_KERNELS(AVX2_FIELD)};
static const bp_kernel_table avx512 = {BP_KERNELS(AVX512_FIELD)};
#endif

int bp_machine_kernel_width(void) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return 512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 256;
#endif
  return 0;
}

const bp_kernel_table *bp_kernels(int width) {
  if (width > bp_machine_kernel_width()) return NULL;
  switch (width) {
    case 0:
      return &portable;
#if defined(__x86_64__)
    case 256:
      return &avx2;
    case 512:
      return &avx512;
#endif
    default:
      return NULL;
  }
}

// The width, chosen once: the processor's widest, or a narrower one that BACKPROP_KERNEL_WIDTH
// names. Racing first calls each compute the same value, so a relaxed atomic is enough.
static int chosen_width = -1;

int bp_kernel_width(void) {
  int width = __atomic_load_n(&chosen_width, __ATOMIC_RELAXED);
  if (width >= 0) return width;
  width = bp_machine_kernel_width();
  const char *requested = getenv("BACKPROP_KERNEL_WIDTH");
  if (requested) {
    char *end;
    long value = strtol(requested, &end, 10);
    if (end != requested && *end == 0 && value < width && bp_kernels((int)value)) width = (int)value;
  }
  __atomic_store_n(&chosen_width, width, __ATOMIC_RELAXED);
  return width;
}

// The table of bp_kernel_width(), found once in the same way.
static const bp_kernel_table *current_table = NULL;

static inline const bp_kernel_table *current(void) {
  const bp_kernel_table *table = __atomic_load_n(&current_table, __ATOMIC_RELAXED);
  if (table) return table;
  table = bp_kernels(bp_kernel_width());
  __atomic_store_n(&current_table, table, __ATOMIC_RELAXED);
  return table;
}

#define ENTRY(NAME, SIGNATURE) BP_APPLY(ENTRY_, NAME, SIGNATURE)
#define ENTRY_(NAME, RESULT, PARAMETERS, ARGUMENTS) \
  RESULT bp_##NAME PARAMETERS { return current()->NAME ARGUMENTS; }
BP_KERNELS(ENTRY)
