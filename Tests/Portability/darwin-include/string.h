// Darwin's <string.h>, the declarations the kernels use (see math.h beside this file).
#ifndef BACKPROP_PORTABILITY_STRING_H
#define BACKPROP_PORTABILITY_STRING_H
#include <stddef.h>
void *memcpy(void *__restrict, const void *__restrict, size_t);
void *memset(void *, int, size_t);
#endif
