// Why LargeBuffer (Sources/Backprop/Tensor.swift) allocates as it does: the cost of
// allocating, filling and freeing 8 MB buffers, with 1 to 4 of them live at once, by three
// allocators: plain malloc (an array's storage), posix_memalign to 2 MiB with MADV_HUGEPAGE, and
// what LargeBuffer does, malloc 2 MiB longer with the aligned middle marked for huge pages.
// Not part of any target (Package.swift excludes it); build and run it by hand:
//
//   cc -O2 Sources/Benchmarks/allocation.c -o /tmp/allocation && /tmp/allocation
//
// It prints the best of 30 runs per buffer and the minor page faults per run, for buffers of
// 10⁶ scalars (W7's size, 8,000,000 bytes: not a whole number of huge pages) or the count given
// as its argument. The last mode marks only the bytes used, as LargeBuffer did at first: the
// tail short of a whole huge page then faults 4 KiB at a time.

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

enum { huge = 2 << 20 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static long faults(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

int main(int argc, char **argv) {
  static const char *names[] = {"malloc", "posix_memalign 2 MiB + MADV_HUGEPAGE",
                                "malloc + 2 MiB, aligned, whole huge pages marked (LargeBuffer)",
                                "malloc + 2 MiB, aligned, only the bytes used marked"};
  const long scalars = argc > 1 ? atol(argv[1]) : 1000000;
  const size_t bytes = 8 * scalars, rounded = (bytes + huge - 1) & ~(size_t)(huge - 1);
  double *source = malloc(bytes);
  for (int i = 0; i < scalars; i++) source[i] = i;
  for (int mode = 0; mode < 4; mode++) {
    for (int live = 1; live <= 4; live++) {
      double best = 1e9;
      long before = faults();
      for (int run = 0; run < 30; run++) {
        double start = now();
        double *buffers[4];
        void *blocks[4];
        for (int k = 0; k < live; k++) {
          if (mode == 0) {
            blocks[k] = buffers[k] = malloc(bytes);
          } else if (mode == 1) {
            posix_memalign(&blocks[k], huge, rounded);
            madvise(blocks[k], rounded, MADV_HUGEPAGE);
            buffers[k] = blocks[k];
          } else {
            blocks[k] = malloc(rounded + huge);
            uintptr_t aligned = ((uintptr_t)blocks[k] + huge - 1) & ~(uintptr_t)(huge - 1);
            madvise((void *)aligned, mode == 2 ? rounded : bytes, MADV_HUGEPAGE);
            buffers[k] = (double *)aligned;
          }
          for (int i = 0; i < scalars; i++) buffers[k][i] = source[i] * 2;
        }
        for (int k = 0; k < live; k++) free(blocks[k]);
        double elapsed = now() - start;
        if (elapsed < best) best = elapsed;
      }
      printf("%-64s %d live: %.3f ms per buffer, %ld faults per run\n", names[mode], live,
             best * 1e3 / live, (faults() - before) / 30);
    }
  }
  return 0;
}
