/*
 * diff.c: walk two canonical apps side by side and list what differs.
 *
 * Equality is jsonutil_equal(): numbers numerically, sets already sorted by
 * the normaliser. Only objects are descended into; the list is sorted at the
 * end so the order never depends on json-c's hash order.
 */
#include "reconcile/diff.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/jsonutil.h"

struct diff_list {
	struct pacer_field_change *v;
	size_t n, alloc;
};

static int list_add(struct diff_list *l, const char *path, struct json_object *old_value,
		    struct json_object *new_value)
{
	struct pacer_field_change *c, *nv;

	if (!(nv = pacer_array_grow(l->v, &l->alloc, l->n + 1, sizeof(*nv), 8)))
		return -1;
	l->v = nv;
	c = &l->v[l->n];
	c->path = strdup(path);
	if (!c->path)
		return -1;
	c->old_value = json_object_get(old_value);
	c->new_value = json_object_get(new_value);
	l->n++;
	return 0;
}

static int append_key(struct pacer_buf *b, const char *key)
{
	if (pacer_buf_putc(b, '/'))
		return -1;
	for (; *key; key++) {
		int r;

		if (*key == '~')
			r = pacer_buf_puts(b, "~0");
		else if (*key == '/')
			r = pacer_buf_puts(b, "~1");
		else
			r = pacer_buf_putc(b, *key);
		if (r)
			return -1;
	}
	return 0;
}

static int is_object(struct json_object *o)
{
	return json_object_is_type(o, json_type_object);
}

/* Merge-walk the sorted key lists of two objects. */
static int walk(struct diff_list *l, struct pacer_buf *path, struct json_object *desired,
		struct json_object *live)
{
	const char **kd = NULL, **kl = NULL;
	size_t nd = 0, nl = 0, i = 0, j = 0, base = path->len;
	int rc = -1;

	/* A side that is absent walks as an empty object, so a new "env"
	 * shows as "+ /env/A", "+ /env/B" rather than one opaque value. */
	if ((desired && jsonutil_sorted_keys(desired, &kd, &nd)) ||
	    (live && jsonutil_sorted_keys(live, &kl, &nl)))
		goto done;
	while (i < nd || j < nl) {
		int c = i >= nd ? 1 : j >= nl ? -1 : strcmp(kd[i], kl[j]);
		const char *key = c <= 0 ? kd[i] : kl[j];
		struct json_object *dv = c <= 0 ? json_object_object_get(desired, key) : NULL;
		struct json_object *lv = c >= 0 ? json_object_object_get(live, key) : NULL;

		if (append_key(path, key))
			goto done;
		if ((is_object(dv) && is_object(lv)) || (is_object(dv) && !lv && json_object_object_length(dv)) ||
		    (is_object(lv) && !dv && json_object_object_length(lv))) {
			if (walk(l, path, dv, lv))
				goto done;
		} else if (!jsonutil_equal(dv, lv)) {
			if (list_add(l, pacer_buf_cstr(path), lv, dv))
				goto done;
		}
		path->len = base;
		if (path->ptr)
			path->ptr[base] = '\0';
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	rc = 0;
done:
	free(kd);
	free(kl);
	return rc;
}

static int cmp_change(const void *a, const void *b)
{
	return strcmp(((const struct pacer_field_change *)a)->path,
		      ((const struct pacer_field_change *)b)->path);
}

int diff_apps(struct json_object *desired, struct json_object *live,
	      struct pacer_field_change **out, size_t *n)
{
	struct diff_list l = {NULL, 0, 0};
	struct pacer_buf path = PACER_BUF_INIT;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (jsonutil_equal(desired, live))
		return 0; /* the common case, without sorting any keys */
	if (is_object(desired) && is_object(live)) {
		if (walk(&l, &path, desired, live))
			goto done;
	} else if (!jsonutil_equal(desired, live)) {
		/* Whole documents of different kinds: one change at the root. */
		if (list_add(&l, "", live, desired))
			goto done;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_change);
	*out = l.v;
	*n = l.n;
	l.v = NULL;
	l.n = 0;
	rc = 0;
done:
	diff_changes_free(l.v, l.n);
	pacer_buf_release(&path);
	return rc;
}

void diff_changes_free(struct pacer_field_change *changes, size_t n)
{
	size_t i;

	if (!changes)
		return;
	for (i = 0; i < n; i++) {
		free(changes[i].path);
		json_object_put(changes[i].old_value);
		json_object_put(changes[i].new_value);
	}
	free(changes);
}
