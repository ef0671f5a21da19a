/*
 * json_pos.c: find positions in JSON text that json-c already accepted.
 *
 * The scanner trusts the text to be well-formed (json-c parsed it in strict
 * mode first), so it only needs to know where strings, containers and
 * scalars end. Every loop is bounded by len, so even malformed text cannot
 * make it read out of bounds; it just gives meaningless offsets.
 */
#include "reconcile/json_pos.h"

#include <stdlib.h>
#include <string.h>

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* UTF-8 continuation bytes do not start a character, so they add no column. */
static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

void json_pos_linecol(const char *data, size_t len, size_t offset, int *line, int *col)
{
	int l = 1, c = 1;

	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		if (data[i] == '\n') {
			l++;
			c = 1;
		} else if (!is_cont((unsigned char)data[i])) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

int json_pos_lines_init(struct json_pos_lines *l, const char *data, size_t len)
{
	size_t n = 1, k = 1;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	l->starts = malloc(n * sizeof(*l->starts));
	if (!l->starts)
		return -1;
	l->starts[0] = 0;
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n')
			l->starts[k++] = i + 1;
	l->data = data;
	l->len = len;
	l->nlines = n;
	return 0;
}

void json_pos_lines_release(struct json_pos_lines *l)
{
	free(l->starts);
	memset(l, 0, sizeof(*l));
}

void json_pos_lines_get(const struct json_pos_lines *l, size_t offset, int *line, int *col)
{
	size_t lo = 0, hi = l->nlines, c = 1;

	if (offset > l->len)
		offset = l->len;
	/* Last line whose start is <= offset. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->starts[mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = l->starts[lo]; i < offset; i++)
		c += !is_cont((unsigned char)l->data[i]);
	*line = (int)(lo + 1);
	*col = (int)c;
}

size_t json_pos_skip_ws(const char *data, size_t len, size_t i)
{
	while (i < len && is_ws(data[i]))
		i++;
	return i;
}

/* i is at the opening quote; returns the offset after the closing quote. */
static size_t skip_string(const char *data, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (data[i] == '\\')
			i++;
		else if (data[i] == '"')
			return i + 1;
	}
	return len;
}

size_t json_pos_skip_value(const char *data, size_t len, size_t i)
{
	size_t depth = 0;

	i = json_pos_skip_ws(data, len, i);
	if (i >= len)
		return len;
	if (data[i] == '"')
		return skip_string(data, len, i);
	if (data[i] != '{' && data[i] != '[') {
		while (i < len && !is_ws(data[i]) && data[i] != ',' && data[i] != '}' &&
		       data[i] != ']')
			i++;
		return i;
	}
	/* A container: count brackets, skipping strings (which may hold brackets). */
	while (i < len) {
		char c = data[i];

		if (c == '"') {
			i = skip_string(data, len, i);
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				return i + 1;
		}
		i++;
	}
	return len;
}

int json_pos_member(const char *data, size_t len, size_t obj_off, const char *key, size_t *out)
{
	size_t klen = strlen(key), i = json_pos_skip_ws(data, len, obj_off);
	int found = -1;

	if (i >= len || data[i] != '{')
		return -1;
	i++;
	for (;;) {
		size_t kstart, kend, vstart;

		i = json_pos_skip_ws(data, len, i);
		if (i >= len || data[i] != '"')
			break;
		kstart = i + 1;
		i = skip_string(data, len, i);
		kend = i - 1;
		i = json_pos_skip_ws(data, len, i);
		if (i >= len || data[i] != ':')
			break;
		vstart = json_pos_skip_ws(data, len, i + 1);
		/* Keep scanning after a match: json-c keeps the last duplicate. */
		if (kend >= kstart && kend - kstart == klen && !memcmp(data + kstart, key, klen)) {
			*out = vstart;
			found = 0;
		}
		i = json_pos_skip_ws(data, len, json_pos_skip_value(data, len, vstart));
		if (i >= len || data[i] != ',')
			break;
		i++;
	}
	return found;
}

int json_pos_elements(const char *data, size_t len, size_t arr_off, size_t **out, size_t *n)
{
	size_t i = json_pos_skip_ws(data, len, arr_off), cap = 0, count = 0;
	size_t *v = NULL;

	*out = NULL;
	*n = 0;
	if (i >= len || data[i] != '[')
		return -1;
	i = json_pos_skip_ws(data, len, i + 1);
	if (i < len && data[i] == ']')
		return 0;
	while (i < len) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			size_t *nv = realloc(v, ncap * sizeof(*v));

			if (!nv) {
				free(v);
				return -1;
			}
			v = nv;
			cap = ncap;
		}
		v[count++] = i;
		i = json_pos_skip_ws(data, len, json_pos_skip_value(data, len, i));
		if (i >= len || data[i] != ',')
			break;
		i = json_pos_skip_ws(data, len, i + 1);
	}
	*out = v;
	*n = count;
	return 0;
}
