// How the C library's allocator is told, once, that a program differentiating at n = 10⁶ will
// allocate and free buffers of several megabytes over and over (see BackpropKernels.h).
//
// glibc serves a block above its mmap threshold (128 KiB at start) with a mapping of its own,
// and when such a block is freed it raises the threshold to that block's size, so later blocks
// that size come from the heap, and its trim threshold to twice that: the free space it keeps at
// the top of the heap rather than handing back to the kernel (mallopt(3), "M_MMAP_THRESHOLD").
// A tensor of 10⁶ scalars takes a 10 MiB block (8 MB aligned to a huge page inside it), so the
// first one freed set the trim threshold to 20 MiB and a few kilobytes; a gradient that freed two
// at once left just over that at the top, the heap shrank, and the next call faulted the same
// 20 MiB in again: 10 huge pages for the kernel to zero, a large share of a gradient that
// otherwise reads and writes each buffer once. glibc raises the thresholds this way by itself, up to
// 32 MiB, after any block that size is freed; freeing one of 30 MiB before the first large
// buffer reaches that state at once: blocks up to 30 MiB then come from the heap, and up to
// 60 MiB of free heap stays mapped for the next call. The block is never touched, so it costs
// one mapping and its removal.
//
// Where a program set the thresholds itself (mallopt, or the MALLOC_MMAP_THRESHOLD_ and
// MALLOC_TRIM_THRESHOLD_ variables), glibc adjusts nothing and this changes nothing; other C
// libraries take it as one allocation and its release.

#include "BackpropKernels.h"

#include <stdlib.h>

void bp_raise_heap_thresholds(void) {
#if defined(__GLIBC__)
  // volatile, so that the compiler cannot pair the allocation with its release and drop both.
  void *volatile block = malloc((size_t)30 << 20);
  free(block);
#endif
}
