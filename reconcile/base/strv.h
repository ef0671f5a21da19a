/*
 * strv.h: NULL-terminated vectors of strings, the shape every list of app
 * ids, keys and paths takes between the layers, and a vector to build one.
 */
#ifndef PACER_STRV_H
#define PACER_STRV_H

#include <stddef.h>

/* Free v, every string in it and then the array; v may be NULL. */
void pacer_strv_free(char **v);

/*
 * A vector being built: v stays NULL-terminated after every add, so once
 * built it is the char ** the interfaces take; whoever takes v out of the
 * struct frees it with pacer_strv_free().
 */
struct pacer_strvec {
	char **v; /* NULL-terminated once a string was added; NULL before */
	size_t n, cap;
};

/* Free every string and the array; s is empty again. */
void pacer_strvec_release(struct pacer_strvec *s);
/* Append a copy of str. Returns 0, or -1 when out of memory (s unchanged). */
int pacer_strvec_add(struct pacer_strvec *s, const char *str);
/* Sort in strcmp order and drop duplicates. */
void pacer_strvec_normalize(struct pacer_strvec *s);
/* Whether a normalized s holds str, in O(log n). */
int pacer_strvec_has(const struct pacer_strvec *s, const char *str);

#endif
