// A tensor's sum and a tensor filled with one value, eight lanes at a time (see
// BackpropKernels.h for why this is C). Swift's SIMD8 loops run at the baseline's two doubles
// an instruction, which binds both by instructions rather than memory, even at 10⁶ scalars.

#include "BackpropKernels.h"

#include "Dispatch.h"
#include "Sixteen.h"

#define DEFINE_REDUCTIONS(SUFFIX, TARGET)                                                       \
  DEFINE_SIXTEEN_FOLD(SUFFIX, TARGET)                                                           \
                                                                                                \
  TARGET static double total_##SUFFIX(const double *x, ptrdiff_t count) {                      \
    Eight low = (Eight)0.0, high = (Eight)0.0;                                                 \
    ptrdiff_t index = 0;                                                                       \
    for (; index + 16 <= count; index += 16) {                                                 \
      Eight x0, x1;                                                                            \
      memcpy(&x0, x + index, sizeof x0);                                                       \
      memcpy(&x1, x + index + 8, sizeof x1);                                                   \
      low += x0;                                                                               \
      high += x1;                                                                              \
    }                                                                                          \
    for (ptrdiff_t j = 0; j < count - index; j++) {                                            \
      if (j < 8) low[j] += x[index + j]; else high[j - 8] += x[index + j];                     \
    }                                                                                          \
    return fold_##SUFFIX(low, high);                                                           \
  }                                                                                             \
                                                                                                \
  TARGET static void fill_##SUFFIX(double value, double *destination, ptrdiff_t count) {       \
    Eight lanes = (Eight)value;                                                                \
    ptrdiff_t index = 0;                                                                       \
    for (; index + 8 <= count; index += 8) memcpy(destination + index, &lanes, sizeof lanes);  \
    for (; index < count; index++) destination[index] = value;                                 \
  }

DEFINE_REDUCTIONS(portable, )
#if defined(__x86_64__)
DEFINE_REDUCTIONS(avx2, __attribute__((target("avx2,fma"))))
DEFINE_REDUCTIONS(avx512, __attribute__((target("avx512f,fma"))))
#endif

BP_REGISTER(total, BP_SIGNATURE_TOTAL, total_portable, total_avx2, total_avx512)
BP_REGISTER(fill, BP_SIGNATURE_FILL, fill_portable, fill_avx2, fill_avx512)
