/*
 * strv.c: NULL-terminated string vectors (strv.h).
 */
#include "reconcile/base/strv.h"

#include <stdlib.h>

void pacer_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}
