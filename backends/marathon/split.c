/*
 * split.c: elements of one array member of a JSON object (contract in
 * split.h). Values are skipped with reconcile/json_pos.h's scanner; this
 * file adds the structure around them (braces, colons, commas, the end of
 * the text), so that a cut or foreign reply is refused rather than read as a
 * shorter list.
 */
#include "backends/marathon/split.h"

#include <string.h>

#include "reconcile/base/json_pos.h"

/* After the value at i: its end, or 0 when it does not end inside the text. */
static size_t value_end(const char *data, size_t len, size_t i)
{
	size_t end = json_pos_skip_value(data, len, i);

	/* A value that runs to the very end never closed: the object must still. */
	return end >= len || end == json_pos_skip_ws(data, len, i) ? 0 : end;
}

static int each_element(const char *data, size_t len, size_t *pos, split_elem_cb cb, void *ctx)
{
	size_t i = json_pos_skip_ws(data, len, *pos + 1); /* after '[' */

	if (i < len && data[i] == ']') {
		*pos = i + 1;
		return 0;
	}
	for (;;) {
		size_t start = json_pos_skip_ws(data, len, i), end = value_end(data, len, start);
		int rc;

		if (!end)
			return 1;
		if ((rc = cb(ctx, data + start, end - start)) != 0)
			return rc;
		i = json_pos_skip_ws(data, len, end);
		if (i >= len)
			return 1;
		if (data[i] == ']') {
			*pos = i + 1;
			return 0;
		}
		if (data[i++] != ',')
			return 1;
	}
}

int split_array_member(const char *data, size_t len, const char *key, split_elem_cb cb, void *ctx)
{
	size_t klen = strlen(key), i = json_pos_skip_ws(data, len, 0);
	int found = 0, rc;

	if (i >= len || data[i] != '{')
		return 1;
	i = json_pos_skip_ws(data, len, i + 1);
	if (i < len && data[i] == '}')
		return 1; /* an empty object has no such member */
	for (;;) {
		size_t kstart = json_pos_skip_ws(data, len, i), kend = value_end(data, len, kstart);
		int match;

		if (!kend || data[kstart] != '"')
			return 1;
		match = kend - kstart - 2 == klen && !memcmp(data + kstart + 1, key, klen);
		i = json_pos_skip_ws(data, len, kend);
		if (i >= len || data[i] != ':')
			return 1;
		i = json_pos_skip_ws(data, len, i + 1);
		if (match && !found) {
			if (i >= len || data[i] != '[')
				return 1;
			found = 1;
			if ((rc = each_element(data, len, &i, cb, ctx)) != 0)
				return rc;
		} else {
			size_t end = value_end(data, len, i);

			if (!end)
				return 1;
			i = end;
		}
		i = json_pos_skip_ws(data, len, i);
		if (i < len && data[i] == ',') {
			i++;
			continue;
		}
		if (i < len && data[i] == '}')
			return found && json_pos_skip_ws(data, len, i + 1) == len ? 0 : 1;
		return 1;
	}
}
