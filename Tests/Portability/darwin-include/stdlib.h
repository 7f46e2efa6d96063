// Darwin's <stdlib.h>, the declarations the kernels use (see math.h beside this file).
#ifndef BACKPROP_PORTABILITY_STDLIB_H
#define BACKPROP_PORTABILITY_STDLIB_H
#include <stddef.h>
void *malloc(size_t);
void free(void *);
char *getenv(const char *);
long strtol(const char *__restrict, char **__restrict, int);
void abort(void) __attribute__((noreturn));
#endif
