/*
 * diff.h: the field-level difference between two normalised apps.
 *
 * Both inputs are canonical forms from reconcile/normalize.h (after
 * normalize_adopt_live()), so every difference found is a real one.
 * Objects are descended into ("/env/LOG_LEVEL", "/labels/team",
 * "/container/docker/image", "/upgradeStrategy/minimumHealthCapacity");
 * arrays are reported whole ("/healthChecks", "/constraints",
 * "/portDefinitions"): an element moved or changed inside a set has no
 * stable address worth naming. Keys are escaped as in JSON pointers
 * ("~" -> "~0", "/" -> "~1"), so a label "a/b" is "/labels/a~1b".
 */
#ifndef PACER_DIFF_H
#define PACER_DIFF_H

#include <stddef.h>

struct json_object;

/* One changed field: a JSON-pointer-like path ("/container/docker/image",
 * "/env/LOG_LEVEL", "/healthChecks") and its normalised values. */
struct pacer_field_change {
	char *path;                   /* owned */
	struct json_object *old_value; /* owned reference, NULL when absent */
	struct json_object *new_value; /* owned reference, NULL when absent */
};

/*
 * Compare desired (the new value) with live (the old value); both borrowed.
 * On success returns 0 and *out / *n hold the changed fields sorted by path
 * (strcmp order; *out is NULL when there are none). Each change holds
 * references of its own (old_value NULL when the field is only in desired,
 * new_value NULL when it is only in live). Free with diff_changes_free().
 * Returns -1 when out of memory (*out NULL, *n 0).
 */
int diff_apps(struct json_object *desired, struct json_object *live,
	      struct pacer_field_change **out, size_t *n);

/* Free n changes and the array. NULL is a no-op. */
void diff_changes_free(struct pacer_field_change *changes, size_t n);

#endif
