// The allocation figures in docs/performance.md ("Large buffers of their own"): the cost of
// allocating, filling and freeing 8 MB buffers, with 1 to 4 of them live at once, by three
// allocators: plain malloc (an array's storage), posix_memalign to 2 MiB with MADV_HUGEPAGE, and
// what LargeBuffer does, malloc 2 MiB longer with the aligned middle marked for huge pages.
// Not part of any target (Package.swift excludes it); build and run it by hand:
//
//   cc -O2 Sources/Benchmarks/allocation.c -o /tmp/allocation && /tmp/allocation
//
// It prints the best of 30 runs per buffer and the minor page faults per run.

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

enum { scalars = 1 << 20, huge = 2 << 20 };

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

int main(void) {
  static const char *names[] = {"malloc", "posix_memalign 2 MiB + MADV_HUGEPAGE",
                                "malloc + 2 MiB, aligned middle + MADV_HUGEPAGE (LargeBuffer)"};
  double *source = malloc(8 * scalars);
  for (int i = 0; i < scalars; i++) source[i] = i;
  for (int mode = 0; mode < 3; mode++) {
    for (int live = 1; live <= 4; live++) {
      double best = 1e9;
      long before = faults();
      for (int run = 0; run < 30; run++) {
        double start = now();
        double *buffers[4];
        void *blocks[4];
        for (int k = 0; k < live; k++) {
          if (mode == 0) {
            blocks[k] = buffers[k] = malloc(8 * scalars);
          } else if (mode == 1) {
            posix_memalign(&blocks[k], huge, 8 * scalars);
            madvise(blocks[k], 8 * scalars, MADV_HUGEPAGE);
            buffers[k] = blocks[k];
          } else {
            blocks[k] = malloc(8 * scalars + huge);
            uintptr_t aligned = ((uintptr_t)blocks[k] + huge - 1) & ~(uintptr_t)(huge - 1);
            madvise((void *)aligned, 8 * scalars, MADV_HUGEPAGE);
            buffers[k] = (double *)aligned;
          }
          for (int i = 0; i < scalars; i++) buffers[k][i] = source[i] * 2;
        }
        for (int k = 0; k < live; k++) free(blocks[k]);
        double elapsed = now() - start;
        if (elapsed < best) best = elapsed;
      }
      printf("%-62s %d live: %.3f ms per buffer, %ld faults per run\n", names[mode], live,
             best * 1e3 / live, (faults() - before) / 30);
    }
  }
  return 0;
}
