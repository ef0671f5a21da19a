/*
 * strdist.h: how far apart two short names are, for "did you mean" hints
 * (an unknown field of an app definition, an unknown PACER_* variable).
 */
#ifndef PACER_STRDIST_H
#define PACER_STRDIST_H

#include <stddef.h>

enum { STRDIST_FOLD_CASE = 1 };

/*
 * Levenshtein distance of a and b (insertions, deletions, substitutions),
 * case-insensitive with STRDIST_FOLD_CASE. Names are short: either longer
 * than STRDIST_MAX bytes gives (size_t)-1.
 */
#define STRDIST_MAX 127
size_t strdist(const char *a, const char *b, unsigned flags);

#endif
