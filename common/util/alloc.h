/*
 * alloc - memory allocation that never returns NULL
 *
 * Out of memory is fatal in exactly one place (alloc_fail), so callers never
 * test for NULL. Sizes are overflow-checked.
 */
#ifndef POSTERN_ALLOC_H
#define POSTERN_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* reallocarray that is fatal on overflow or exhaustion */
void *xreallocarray(void *p, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
