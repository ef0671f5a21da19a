/*
 * fuzz_json_pos: the position scanner every file:line:col message relies on
 * (reconcile/base/json_pos.c), on any bytes: its results stay inside the
 * buffer (json_pos.h promises that also for malformed text), its two ways
 * of computing line:col agree, and every duplicate key it reports starts
 * with a quote inside the buffer.
 */
#include "reconcile/base/json_pos.h"
#include "tests/fuzz/fuzzlib.h"

#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {"id", "apps", "groups", "env", "labels", "container"};

static void check_offsets(const char *data, size_t len, const struct json_pos_lines *lines,
                          size_t off)
{
	size_t ws = json_pos_skip_ws(data, len, off), end = json_pos_skip_value(data, len, off);
	int l1, c1, l2, c2;

	if (ws > len || end > len)
		abort();
	json_pos_linecol(data, len, off, &l1, &c1);
	json_pos_lines_get(lines, off, &l2, &c2);
	if (l1 != l2 || c1 != c2 || l1 < 1 || c1 < 1)
		abort(); /* the line index and the scan disagree */
}

static void check_member_elements(const char *data, size_t len, size_t off)
{
	size_t *el = NULL, n = 0, v;

	for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++)
		if (!json_pos_member(data, len, off, keys[k], &v) && v > len)
			abort();
	if (!json_pos_elements(data, len, off, &el, &n))
		for (size_t i = 0; i < n; i++)
			if (el[i] > len)
				abort(); /* an element outside the buffer */
	free(el);
}

static void check_duplicates(const char *data, size_t len)
{
	struct json_pos_dup *d = NULL;
	size_t n = 0;

	if (json_pos_duplicates(data, len, &d, &n))
		return;
	for (size_t i = 0; i < n; i++)
		if (d[i].first >= len || d[i].again >= len || data[d[i].first] != '"' ||
		    data[d[i].again] != '"' || !d[i].key)
			abort(); /* a duplicate that is not a key inside the buffer */
	json_pos_dups_free(d, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct json_pos_lines lines;
	size_t offs[5] = {0, size / 3, size / 2, size ? size - 1 : 0, size};

	if (json_pos_lines_init(&lines, text, size))
		return 0;
	for (size_t i = 0; i < 5; i++) {
		check_offsets(text, size, &lines, offs[i]);
		check_member_elements(text, size, offs[i]);
	}
	json_pos_lines_release(&lines);
	check_duplicates(text, size);
	return 0;
}
