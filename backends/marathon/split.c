/*
 * split.c: elements of one array member of a JSON object (contract in
 * split.h). A scanner, not a parser: it tracks strings and nesting only.
 */
#include "backends/marathon/split.h"

#include <string.h>

struct scan {
	const char *p, *end;
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* At an opening quote: move past the closing one. 0, or 1 when unterminated. */
static int skip_string(struct scan *s)
{
	for (s->p++; s->p < s->end; s->p++) {
		if (*s->p == '\\') {
			s->p++;
		} else if (*s->p == '"') {
			s->p++;
			return 0;
		}
	}
	return 1;
}

/* Move past one value. 0, or 1 when it does not scan. */
static int skip_value(struct scan *s)
{
	int depth = 0;

	if (s->p >= s->end)
		return 1;
	if (*s->p == '"')
		return skip_string(s);
	if (*s->p != '{' && *s->p != '[') {
		const char *start = s->p;

		while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
			s->p++;
		return s->p == start;
	}
	while (s->p < s->end) {
		char ch = *s->p;

		if (ch == '"') {
			if (skip_string(s))
				return 1;
			continue;
		}
		if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (--depth == 0) {
				s->p++;
				return 0;
			}
		}
		s->p++;
	}
	return 1;
}

static int each_element(struct scan *s, split_elem_cb cb, void *ctx)
{
	s->p++; /* '[' */
	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return 0;
	}
	for (;;) {
		const char *start;
		int rc;

		skip_ws(s);
		start = s->p;
		if (skip_value(s))
			return 1;
		if ((rc = cb(ctx, start, (size_t)(s->p - start))) != 0)
			return rc;
		skip_ws(s);
		if (s->p >= s->end)
			return 1;
		if (*s->p == ']') {
			s->p++;
			return 0;
		}
		if (*s->p++ != ',')
			return 1;
	}
}

int split_array_member(const char *data, size_t len, const char *key, split_elem_cb cb, void *ctx)
{
	struct scan s = {data, data + len};
	size_t klen = strlen(key);
	int found = 0;

	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return 1;
	s.p++;
	for (;;) {
		const char *name;
		int match, rc;

		skip_ws(&s);
		if (s.p < s.end && *s.p == '}' && !found)
			return 1; /* also an empty object */
		if (s.p >= s.end || *s.p != '"')
			return 1;
		name = s.p + 1;
		if (skip_string(&s))
			return 1;
		match = (size_t)(s.p - 1 - name) == klen && !memcmp(name, key, klen);
		skip_ws(&s);
		if (s.p >= s.end || *s.p++ != ':')
			return 1;
		skip_ws(&s);
		if (match && !found) {
			if (s.p >= s.end || *s.p != '[')
				return 1;
			found = 1;
			if ((rc = each_element(&s, cb, ctx)) != 0)
				return rc;
		} else if (skip_value(&s)) {
			return 1;
		}
		skip_ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
			continue;
		}
		if (s.p < s.end && *s.p == '}') {
			s.p++;
			skip_ws(&s);
			return found && s.p == s.end ? 0 : 1;
		}
		return 1;
	}
}
