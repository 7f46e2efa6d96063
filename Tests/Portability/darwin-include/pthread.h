// Darwin's <pthread.h>, the declarations the kernels use (see math.h beside this file). Darwin's
// pthread_t is a pointer to an opaque structure, not an integer as glibc's is.
#ifndef BACKPROP_PORTABILITY_PTHREAD_H
#define BACKPROP_PORTABILITY_PTHREAD_H
struct _opaque_pthread_t;
struct _opaque_pthread_attr_t;
typedef struct _opaque_pthread_t *pthread_t;
typedef struct _opaque_pthread_attr_t pthread_attr_t;
int pthread_create(pthread_t *__restrict, const pthread_attr_t *__restrict,
                   void *(*)(void *), void *__restrict);
int pthread_join(pthread_t, void **);
#endif
