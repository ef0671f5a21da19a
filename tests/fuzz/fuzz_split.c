/*
 * fuzz_split: a Marathon reply (GET /v2/apps, /v2/groups, /v2/tasks) through
 * the array splitter that hands out its elements without parsing the whole
 * reply (backends/marathon/split.c). Any bytes: the scan stays inside them
 * and every element it hands out lies inside them. On a reply json-c reads
 * as strict JSON (one object, the member written once, no \u escape that
 * could spell a key another way), the splitter must agree with json-c: the
 * same number of elements, each parsing to the same value. The input's
 * length picks the member ("apps", "groups", "tasks").
 */
#include "backends/marathon/split.h"
#include "reconcile/base/json_pos.h"
#include "tests/fuzz/fuzzlib.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {"apps", "groups", "tasks"};

struct seen {
	const char *data;
	size_t len;
	struct json_object **elems; /* each element parsed alone (NULL when it does not parse) */
	size_t n;
};

static struct json_object *parse_strict(const char *text, size_t len, size_t *end)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	*end = o ? json_tokener_get_parse_end(tok) : 0;
	json_tokener_free(tok);
	return o;
}

static int on_elem(void *ctx, const char *data, size_t len)
{
	struct seen *s = ctx;
	struct json_object **v;
	size_t end;
	char *copy;

	if (data < s->data || data + len > s->data + s->len || !len)
		abort(); /* an element outside the reply, or an empty one */
	v = realloc(s->elems, (s->n + 1) * sizeof(*v));
	if (!v)
		abort();
	s->elems = v;
	/* With its NUL: json-c does not end a bare number ("1024.0") at the end of the bytes. */
	copy = fuzz_strndup(data, len);
	v[s->n] = parse_strict(copy, len + 1, &end);
	free(copy);
	if (v[s->n] && end < len) {
		json_object_put(v[s->n]);
		v[s->n] = NULL;
	}
	s->n++;
	return 0;
}

/* The array member `key` of the reply when json-c and the splitter must agree on it, or NULL. */
static struct json_object *comparable(const char *data, size_t len, const char *key,
                                      struct json_object **root)
{
	struct json_object *arr;
	struct json_pos_dup *dups = NULL;
	size_t ndups = 0, end;

	*root = NULL;
	if (memmem(data, len, "\\u", 2) || memchr(data, '\0', len))
		return NULL;
	*root = parse_strict(data, len, &end);
	if (!*root || json_pos_skip_ws(data, len, end) != len ||
	    !json_object_is_type(*root, json_type_object) ||
	    !json_object_object_get_ex(*root, key, &arr) || !json_object_is_type(arr, json_type_array))
		return NULL;
	if (json_pos_duplicates(data, len, &dups, &ndups))
		abort();
	for (size_t i = 0; i < ndups; i++)
		if (!strcmp(dups[i].key, key))
			arr = NULL; /* json-c keeps the last, the splitter reads the first */
	json_pos_dups_free(dups, ndups);
	return arr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *key = keys[size % 3];
	struct seen s = {(const char *)data, size, NULL, 0};
	struct json_object *root, *arr;
	int rc;

	if (size > INT32_MAX)
		return 0;
	rc = split_array_member((const char *)data, size, key, on_elem, &s);
	arr = comparable((const char *)data, size, key, &root);
	if (arr) {
		if (rc != 0 || s.n != json_object_array_length(arr))
			abort(); /* json-c reads an array the splitter refused or cut */
		for (size_t i = 0; i < s.n; i++)
			if (!json_object_equal(s.elems[i], json_object_array_get_idx(arr, i)))
				abort(); /* the splitter handed out other bytes than the element */
	}
	json_object_put(root);
	for (size_t i = 0; i < s.n; i++)
		json_object_put(s.elems[i]);
	free(s.elems);
	return 0;
}
