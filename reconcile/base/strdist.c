/*
 * strdist.c: Levenshtein distance with one row of the table on the stack.
 */
#include "reconcile/base/strdist.h"

#include <ctype.h>
#include <string.h>

static int differ(char x, char y, unsigned flags)
{
	if (flags & STRDIST_FOLD_CASE)
		return tolower((unsigned char)x) != tolower((unsigned char)y);
	return x != y;
}

size_t strdist(const char *a, const char *b, unsigned flags)
{
	size_t la = strlen(a), lb = strlen(b), row[STRDIST_MAX + 1];

	if (la > STRDIST_MAX || lb > STRDIST_MAX)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (size_t)differ(a[i - 1], b[j - 1], flags);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}
