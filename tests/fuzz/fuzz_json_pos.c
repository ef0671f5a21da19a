/*
 * fuzz_json_pos: the position scanner every file:line:col message relies on
 * (reconcile/base/json_pos.c), on any bytes: its results stay inside the
 * buffer (json_pos.h promises that also for malformed text), its two ways
 * of computing line:col agree, and every duplicate key it reports starts
 * with a quote inside the buffer. Where values end and where raw control
 * characters sit in strings are also checked against a byte-at-a-time
 * model of the scanner (which reads 64 bytes at a time).
 */
#include "reconcile/base/json_pos.h"
#include "tests/fuzz/fuzzlib.h"

#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {"id", "apps", "groups", "env", "labels", "container"};

/* The model: what json_pos_skip_value() must return, a byte at a time. */
static size_t model_skip_value(const char *d, size_t len, size_t i)
{
	size_t depth = 0;
	int in = 0;

	while (i < len && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
		i++;
	if (i >= len)
		return len;
	if (d[i] != '"' && d[i] != '{' && d[i] != '[') {
		while (i < len && !memchr(" \t\n\r,}]", d[i], 7))
			i++;
		return i;
	}
	for (; i < len; i++) {
		if (in && d[i] == '\\')
			i++; /* escapes the next byte, whatever it is */
		else if (d[i] == '"' && (in = !in) == 0 && depth == 0)
			return i + 1; /* a string value closes */
		else if (!in && (d[i] == '{' || d[i] == '['))
			depth++;
		else if (!in && (d[i] == '}' || d[i] == ']') && --depth == 0)
			return i + 1;
	}
	return len;
}

/* The model of json_pos_scan_strings(). */
static size_t model_scan_strings(const char *d, size_t len, size_t *colons)
{
	int in = 0;

	*colons = 0;
	for (size_t i = 0; i < len; i++) {
		if (in && d[i] == '\\')
			i++;
		else if (d[i] == '"')
			in = !in;
		else if (in && (unsigned char)d[i] < 0x20)
			return i;
		else if (!in && d[i] == ':')
			(*colons)++;
	}
	return len;
}

static void check_models(const char *data, size_t len, size_t off)
{
	size_t c1, c2;

	if (json_pos_skip_value(data, len, off) != model_skip_value(data, len, off))
		abort(); /* a value ends elsewhere than a byte-at-a-time reader says */
	if (off == 0 && (json_pos_scan_strings(data, len, &c1) != model_scan_strings(data, len, &c2) ||
	                 c1 != c2))
		abort(); /* a raw control character or a colon counted elsewhere */
}

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
		check_models(text, size, offs[i]);
	}
	/* Quotes and brackets start values: try the first 64 (each check is O(size)). */
	for (size_t i = 0, tried = 0; i < size && tried < 64; i++)
		if (text[i] == '"' || text[i] == '{' || text[i] == '[') {
			check_models(text, size, i);
			tried++;
		}
	json_pos_lines_release(&lines);
	check_duplicates(text, size);
	return 0;
}
