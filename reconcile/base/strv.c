/*
 * strv.c: NULL-terminated string vectors (strv.h).
 */
#include "reconcile/base/strv.h"

#include <stdlib.h>
#include <string.h>

void pacer_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void pacer_strvec_release(struct pacer_strvec *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Room is kept for the NULL terminator, so v can be handed out as it is. */
int pacer_strvec_add(struct pacer_strvec *s, const char *str)
{
	if (s->n + 1 >= s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		char **nv = realloc(s->v, ncap * sizeof(*nv));

		if (!nv)
			return -1;
		s->v = nv;
		s->cap = ncap;
	}
	if (!(s->v[s->n] = strdup(str)))
		return -1;
	s->n++;
	s->v[s->n] = NULL;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void pacer_strvec_normalize(struct pacer_strvec *s)
{
	size_t w = 0;

	if (!s->n) /* qsort's pointer must not be NULL, even for 0 items */
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	for (size_t r = 0; r < s->n; r++) {
		if (w && !strcmp(s->v[w - 1], s->v[r])) {
			free(s->v[r]);
			continue;
		}
		s->v[w++] = s->v[r];
	}
	s->n = w;
	s->v[w] = NULL;
}

int pacer_strvec_has(const struct pacer_strvec *s, const char *str)
{
	return s->n && bsearch(&str, s->v, s->n, sizeof(*s->v), cmp_str);
}
