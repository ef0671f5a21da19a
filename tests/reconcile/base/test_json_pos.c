/*
 * json_pos_duplicates(): every key written twice in one object, found in
 * one pass over the text, nested objects included, keys compared as json-c
 * reads them (escapes decoded), strings that look like JSON not mistaken
 * for structure.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/json_pos.h"

struct found {
	struct json_pos_dup *v;
	size_t n;
};

static struct found dups(const char *text)
{
	struct found f;

	cr_assert_eq(json_pos_duplicates(text, strlen(text), &f.v, &f.n), 0);
	return f;
}

/* Offset of the n-th (0-based) occurrence of needle in text. */
static size_t nth(const char *text, const char *needle, int n)
{
	const char *p = text;

	for (;; n--) {
		p = strstr(p, needle);
		cr_assert_not_null(p, "\"%s\" #%d", needle, n);
		if (!n)
			return (size_t)(p - text);
		p++;
	}
}

Test(json_pos, no_duplicates_no_entries)
{
	const char *t = "{\"a\": 1, \"b\": {\"a\": 2, \"c\": [{\"a\": 3}, {\"a\": 4}]},"
	                " \"s\": \"{\\\"a\\\": 1, \\\"a\\\": 2}\", \"arr\": [\"a\", \"a\"]}";
	struct found f = dups(t);

	/* Same key in sibling or nested objects, in strings, in arrays: none repeats. */
	cr_assert_eq(f.n, 0);
	cr_assert_null(f.v);
}

Test(json_pos, repeated_keys_at_any_depth_with_both_places)
{
	const char *t = "{\"id\": \"/x\", \"env\": {\"K\": \"v\", \"L\": \"w\", \"K\": \"v\"},\n"
	                " \"c\": [{\"p\": 1, \"p\": 2}], \"id\": \"/y\", \"id\": \"/x\"}";
	struct found f = dups(t);

	cr_assert_eq(f.n, 4);
	/* Ordered by the later occurrence. */
	cr_assert_str_eq(f.v[0].key, "K");
	cr_assert_eq(f.v[0].first, nth(t, "\"K\"", 0));
	cr_assert_eq(f.v[0].again, nth(t, "\"K\"", 1));
	cr_assert_eq(f.v[0].same_value, 1);
	cr_assert_str_eq(f.v[1].key, "p");
	cr_assert_eq(f.v[1].same_value, 0);
	/* A key three times: each later one against the first. */
	cr_assert_str_eq(f.v[2].key, "id");
	cr_assert_eq(f.v[2].first, nth(t, "\"id\"", 0));
	cr_assert_eq(f.v[2].again, nth(t, "\"id\"", 1));
	cr_assert_eq(f.v[2].same_value, 0);
	cr_assert_eq(f.v[3].first, nth(t, "\"id\"", 0));
	cr_assert_eq(f.v[3].again, nth(t, "\"id\"", 2));
	cr_assert_eq(f.v[3].same_value, 1);
	json_pos_dups_free(f.v, f.n);
}

Test(json_pos, keys_compare_with_escapes_decoded)
{
	/* "\u00e9" is é; a surrogate pair is one code point; "\/" is "/". */
	const char *t =
	    "{\"\\u00e9t\\u00e9\": 1, \"\xc3\xa9t\xc3\xa9\": 2, \"\\ud83d\\ude00\": 3,"
	    " \"\xf0\x9f\x98\x80\": 3, \"a\\/b\": 0, \"a/b\": 0, \"a\\\"b\": 0, \"ab\": 0}";
	struct found f = dups(t);

	cr_assert_eq(f.n, 3);
	cr_assert_str_eq(f.v[0].key, "\xc3\xa9t\xc3\xa9");
	cr_assert_eq(f.v[0].keylen, 5);
	cr_assert_eq(f.v[0].first, 1);
	cr_assert_str_eq(f.v[1].key, "\xf0\x9f\x98\x80");
	cr_assert_str_eq(f.v[2].key, "a/b");
	cr_assert_eq(f.v[2].same_value, 1);
	json_pos_dups_free(f.v, f.n);
}

/* Each one-letter escape is the same key as its \u form. */
Test(json_pos, one_letter_escapes_are_decoded)
{
	static const struct {
		const char *letter, *unicode, *decoded;
	} escapes[] = {
	    {"\\b", "\\u0008", "\b"}, {"\\f", "\\u000c", "\f"}, {"\\n", "\\u000a", "\n"},
	    {"\\r", "\\u000d", "\r"}, {"\\t", "\\u0009", "\t"},
	};

	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		char t[64], want[8];
		struct found f;

		snprintf(t, sizeof(t), "{\"x%sy\": 1, \"x%sy\": 2}", escapes[i].letter,
		         escapes[i].unicode);
		snprintf(want, sizeof(want), "x%sy", escapes[i].decoded);
		f = dups(t);
		cr_assert_eq(f.n, 1, "%s", t);
		cr_assert_str_eq(f.v[0].key, want, "%s", t);
		json_pos_dups_free(f.v, f.n);
	}
}

/* An object with many keys takes the sorted path: same answers. */
Test(json_pos, many_keys)
{
	char t[4096];
	size_t used = 0;
	struct found f;

	used += (size_t)snprintf(t + used, sizeof(t) - used, "{");
	for (int i = 0; i < 100; i++)
		used += (size_t)snprintf(t + used, sizeof(t) - used, "%s\"k%02d\": %d",
		                         i ? ", " : "", i % 60, i / 60);
	snprintf(t + used, sizeof(t) - used, "}");
	f = dups(t);
	/* k00..k39 appear twice (values 0 then 1). */
	cr_assert_eq(f.n, 40);
	for (size_t i = 0; i < f.n; i++) {
		char key[32];

		snprintf(key, sizeof(key), "k%02zu", i);
		cr_assert_str_eq(f.v[i].key, key);
		cr_assert_lt(f.v[i].first, f.v[i].again);
		cr_assert_eq(f.v[i].same_value, 0);
	}
	json_pos_dups_free(f.v, f.n);
}

/* Malformed or truncated text: no crash, no read past the end. */
Test(json_pos, malformed_text_stays_in_bounds)
{
	static const char *const texts[] = {
	    "",
	    "{",
	    "}",
	    "]]]",
	    "{\"a",
	    "{\"a\": 1, \"a",
	    "{\"a\": {\"a\": [",
	    "{\"a\\",
	    "{\"\\u12",
	    "{\"\\ud83d\\u",
	    "\"",
	    "{\"a\": 1, \"a\": 2",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t len = strlen(texts[i]);
		char *copy = malloc(len ? len : 1); /* exactly len bytes: ASan sees any overrun */
		struct json_pos_dup *v = NULL;
		size_t n = 0;

		memcpy(copy, texts[i], len);
		cr_assert_eq(json_pos_duplicates(copy, len, &v, &n), 0, "%s", texts[i]);
		json_pos_dups_free(v, n);
		free(copy);
	}
}
