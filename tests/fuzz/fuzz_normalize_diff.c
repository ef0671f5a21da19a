/*
 * fuzz_normalize_diff: two JSON documents, a desired app and a live one,
 * through what the plan does with them: normalize_app() on both,
 * normalize_adopt_live(), diff_apps(). The input is the desired document,
 * optionally followed by "\n====\n" and the live one; without it the
 * document is compared with itself, which must give no change. The input's
 * length picks the Marathon version the defaults are filled for, and
 * whether Marathon's own reading (appdef_submit) is skipped.
 */
#include "reconcile/diff.h"
#include "reconcile/normalize.h"
#include "tests/fuzz/fuzzlib.h"

#include <json-c/json.h>
#include <stdlib.h>

static const unsigned marathons[] = {
    0, NORMALIZE_MARATHON(1, 4, 2), NORMALIZE_MARATHON(1, 7, 0), NORMALIZE_MARATHON(1, 10, 0)};

static struct json_object *parse(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (!tok)
		abort();
	o = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	return o;
}

static struct json_object *normalized(struct json_object *raw, const struct normalize_options *o)
{
	struct json_object *out = NULL;
	struct pacer_error *err = NULL;

	if (normalize_app(raw, o, &out, &err))
		out = NULL;
	pacer_error_free(err);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct normalize_options o = NORMALIZE_OPTIONS_INIT;
	const char *a, *b;
	size_t alen, blen, n = 0;
	int two;
	struct json_object *draw, *lraw, *dn, *ln;
	struct pacer_field_change *ch = NULL;

	if (size > INT32_MAX)
		return 0;
	two = fuzz_split(data, size, "\n====\n", &a, &alen, &b, &blen);
	draw = parse(a, alen);
	lraw = two ? parse(b, blen) : NULL;
	o.marathon = marathons[size % 4];
	o.skip_appdef = (size / 4) % 2;
	dn = draw ? normalized(draw, &o) : NULL;
	ln = normalized(two ? lraw : draw, &o);
	if (dn && ln) {
		if (normalize_adopt_live(draw, dn, ln, (size / 8) % 2 ? NORMALIZE_ADOPT_INSTANCES : 0))
			abort();
		if (diff_apps(dn, ln, &ch, &n))
			abort();
		if (!two && n)
			abort(); /* an app differs from itself */
		for (size_t i = 0; i < n; i++)
			if (!ch[i].path || ch[i].path[0] != '/')
				abort(); /* every change names where it is */
		diff_changes_free(ch, n);
	}
	json_object_put(dn);
	json_object_put(ln);
	json_object_put(draw);
	json_object_put(lraw);
	return 0;
}
