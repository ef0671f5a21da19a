/*
 * strvec.h: a growable vector of strings kept NULL-terminated, for the lists
 * the fs backend builds: owned app ids, document names, the files below a
 * source directory. Once built, v is the char ** that reconcile/sync.h
 * takes; whoever takes it out of the struct frees it with pacer_strv_free().
 */
#ifndef PACER_FS_STRVEC_H
#define PACER_FS_STRVEC_H

#include <stddef.h>

struct fs__strvec {
	char **v; /* NULL-terminated once a string was added; NULL before */
	size_t n, cap;
};

/* Free every string and the array; s is empty again. */
void fs__strvec_release(struct fs__strvec *s);
/* Append a copy of str. Returns 0, or -1 when out of memory (s unchanged). */
int fs__strvec_add(struct fs__strvec *s, const char *str);
/* Sort in strcmp order and drop duplicates. */
void fs__strvec_normalize(struct fs__strvec *s);
/* Whether a normalized s holds str, in O(log n). */
int fs__strvec_has(const struct fs__strvec *s, const char *str);

#endif
