/*
 * json_pos_duplicates(): every key written twice in one object, found in
 * one pass over the text, nested objects included, keys compared as json-c
 * reads them (escapes decoded), strings that look like JSON not mistaken
 * for structure.
 */
#include <criterion/criterion.h>
#include <stdint.h>
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

/* ---- where values and strings end ---------------------------------------------------- */

/*
 * The scanners read 64 bytes at a time: every case below is also run with
 * its text moved by 0..130 bytes (spaces before it, which skip_value skips)
 * so that each quote, backslash and bracket falls on every position of a
 * block, and each text sits in a buffer of exactly its length (ASan sees
 * any read past the end).
 */
static char *exact_copy(const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);

	cr_assert_not_null(copy);
	memcpy(copy, text, len);
	return copy;
}

/* json_pos_skip_value(text moved by shift) must end at want (+ shift), or at
 * the end of the text when want is SIZE_MAX. */
static void check_skip(const char *text, size_t want, size_t shift)
{
	size_t len = strlen(text) + shift, got;
	char *buf = malloc(len ? len : 1);

	cr_assert_not_null(buf);
	memset(buf, ' ', shift);
	memcpy(buf + shift, text, len - shift);
	got = json_pos_skip_value(buf, len, 0);
	free(buf);
	cr_assert_eq(got, want == SIZE_MAX ? len : want + shift, "\"%s\" moved by %zu: %zu", text,
	             shift, got);
}

static const struct {
	const char *text;
	size_t end; /* SIZE_MAX: runs to the end of the text */
} skip_cases[] = {
    {"\"abc\" x", 5},
    {"\"a\\\"b\" x", 6},      /* "a\"b": an escaped quote does not close */
    {"\"a\\\\\" x", 5},       /* "a\\": an escaped backslash does not escape */
    {"\"a\\\\\\\"b\" x", 8},  /* "a\\\"b" */
    {"\"\\\\\\\\\" x", 6},    /* "\\\\" */
    {"\"abc", SIZE_MAX},      /* unterminated */
    {"\"abc\\", SIZE_MAX},    /* ends on a backslash */
    {"\"abc\\\"", SIZE_MAX},  /* ends on an escaped quote */
    {"\"a\tb\nc\" x", 7},     /* control characters are bytes like any other */
    {"123, 4", 3},
    {"true}", 4},
    {"-1.5e3]", 6},
    {"null\n", 4},
    {"{} x", 2},
    {"[] x", 2},
    {"{\"a\": \"}\"} x", 10},
    {"{\"a\": \"\\\"}\"} x", 12}, /* {"a": "\"}"} */
    {"[1, [2, {\"x\": \"]\"}], \"[\"] x", 25},
    {"{\"a\": {\"b\": [1, {\"c\": {}}]}} x", 28},
    {"{]", 2},                   /* brackets count alike */
    {"[ }", 3},
    {"{\"a\": [}", SIZE_MAX},    /* never closes */
    {"[\\\"]\"] x", 6},          /* a backslash outside a string escapes nothing */
    {"[\"\\\\\", \"]\"] x", 11}, /* ["\\", "]"] */
    {"[\"\\\\\\\"]\"] x", 9},    /* ["\\\"]"] */
    {"[\"unterminated]", SIZE_MAX},
    {"{\"k\": \"a\\", SIZE_MAX},
};

Test(json_pos, skip_value_ends_where_the_value_ends)
{
	for (size_t i = 0; i < sizeof(skip_cases) / sizeof(skip_cases[0]); i++)
		for (size_t shift = 0; shift <= 130; shift++)
			check_skip(skip_cases[i].text, skip_cases[i].end, shift);
}

/*
 * A run of r backslashes before a quote, the run at every position of a
 * block: an even run leaves the quote closing the string, an odd one
 * escapes it. [ ..p.. "x\\\"]"] : with r even the array ends at the first
 * ']', with r odd that ']' is inside the string and the last one ends it.
 */
Test(json_pos, backslash_runs_at_every_position)
{
	char text[256];

	for (size_t p = 0; p <= 140; p++) {
		for (size_t r = 0; r <= 5; r++) {
			size_t n = 0, end, str_end;
			char *buf;

			text[n++] = '[';
			memset(text + n, 'x', p);
			n += p;
			text[n++] = '"';
			memset(text + n, '\\', r);
			n += r;
			memcpy(text + n, "\"]\"]", 4);
			n += 4;
			buf = exact_copy(text, n);
			end = json_pos_skip_value(buf, n, 0);
			/* The string alone, from its opening quote. */
			str_end = json_pos_skip_value(buf, n, p + 1);
			free(buf);
			/* Not a valid array, but the scanner only counts brackets. */
			cr_assert_eq(end, r % 2 ? n : p + r + 4, "p=%zu r=%zu: %zu", p, r, end);
			cr_assert_eq(str_end, r % 2 ? n - 1 : p + r + 3, "string p=%zu r=%zu: %zu", p,
			             r, str_end);
		}
	}
}

/* Members and elements find their values past strings with escapes and brackets. */
Test(json_pos, member_and_elements_past_tricky_strings)
{
	const char *t = "{\"a\\\"\": \"x\\\\\", \"s\": \"}],\\\"[{\", \"b\": [\"\\\\\", {\"c\": \"]\"}, 3]}";
	size_t off = 0, *el = NULL, n = 0;

	cr_assert_eq(json_pos_member(t, strlen(t), 0, "b", &off), 0);
	cr_assert_eq(t[off], '[');
	cr_assert_eq(json_pos_elements(t, strlen(t), off, &el, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_eq(strncmp(t + el[0], "\"\\\\\"", 4), 0);
	cr_assert_eq(strncmp(t + el[1], "{\"c\"", 4), 0);
	cr_assert_eq(t[el[2]], '3');
	free(el);
	/* The key "a\"" is not "a" (keys compare as written). */
	cr_assert_eq(json_pos_member(t, strlen(t), 0, "a", &off), -1);
}

/* ---- control characters and colons ------------------------------------------------- */

static const struct {
	const char *text;
	size_t len;    /* 0: strlen(text) */
	size_t at;     /* SIZE_MAX: none (the scan returns len) */
	size_t colons; /* outside strings, before `at` */
} scan_cases[] = {
    {"{\"a\": \"b\tc\"}", 0, 8, 1},
    {"{\"a\":\n\t\"b\"}\n", 0, SIZE_MAX, 1}, /* outside strings they are whitespace */
    {"{\"a\\\\\": \"x:y\", \"b\": {\"c\": 1}}", 0, SIZE_MAX, 3},
    {"{\"a\\\"\": \"x\"}", 0, SIZE_MAX, 1},
    {"{\"a\": \"\\\n\"}", 0, SIZE_MAX, 1}, /* an escaped control character */
    {"{\"a\": \"\\\\\n\"}", 0, 9, 1},      /* after an escaped backslash it is raw */
    {"\"a\x01\"", 0, 2, 0},
    {"\"a\x1f\"", 0, 2, 0},
    {"\"a\x7f\xc3\xa9\x80\" x", 0, SIZE_MAX, 0}, /* DEL and UTF-8 are not control characters */
    {"\"a\0b\"", 5, 2, 0},                       /* NUL is */
    {"{\"a\": 1, \"b\": \"x\ty\", \"c\": 2}", 0, 16, 2},
    {"{\"a\": \"abc", 0, SIZE_MAX, 1},
    {"{\"a\": \"abc\n", 0, 10, 1},          /* unterminated, then a line break */
    {"{\"a\": \"abc\\", 0, SIZE_MAX, 1},    /* ends on a backslash */
    {"\\\"\t\"", 0, 2, 0},                 /* a backslash outside a string escapes nothing */
    {"::\"::\"::", 0, SIZE_MAX, 4},
    {"", 0, SIZE_MAX, 0},
};

static void check_scan(size_t i, size_t shift)
{
	size_t len = (scan_cases[i].len ? scan_cases[i].len : strlen(scan_cases[i].text)) + shift;
	size_t colons = 99, got, want = scan_cases[i].at;
	char *buf = malloc(len ? len : 1);

	cr_assert_not_null(buf);
	/* Shifted by spaces outside strings: the answers move, nothing else changes. */
	memset(buf, ' ', shift);
	memcpy(buf + shift, scan_cases[i].text, len - shift);
	got = json_pos_scan_strings(buf, len, &colons);
	free(buf);
	cr_assert_eq(got, want == SIZE_MAX ? len : want + shift, "case %zu moved by %zu: %zu", i,
	             shift, got);
	cr_assert_eq(colons, scan_cases[i].colons, "case %zu moved by %zu: %zu colons", i, shift,
	             colons);
}

Test(json_pos, scan_strings_finds_raw_control_characters)
{
	for (size_t i = 0; i < sizeof(scan_cases) / sizeof(scan_cases[0]); i++)
		for (size_t shift = 0; shift <= 130; shift++)
			check_scan(i, shift);
}

/*
 * {"xx..\\\\":\t"\t"} with the backslash run at every position of a block:
 * an even run closes the key, so the colon counts and the first tab is
 * outside, the second one inside the next string; an odd run escapes the
 * quote, so the colon and the first tab are inside the key.
 */
Test(json_pos, scan_strings_backslash_runs_at_every_position)
{
	char text[256];

	for (size_t p = 0; p <= 140; p++) {
		for (size_t r = 0; r <= 5; r++) {
			size_t n = 0, colons = 99, at, q;
			char *buf;

			memcpy(text, "{\"", 2);
			n = 2;
			memset(text + n, 'x', p);
			n += p;
			memset(text + n, '\\', r);
			n += r;
			q = n; /* the quote after the run */
			memcpy(text + n, "\":\t\"\t\"}", 7);
			n += 7;
			buf = exact_copy(text, n);
			at = json_pos_scan_strings(buf, n, &colons);
			free(buf);
			cr_assert_eq(at, r % 2 ? q + 2 : q + 4, "p=%zu r=%zu: %zu", p, r, at);
			cr_assert_eq(colons, r % 2 ? 0 : 1, "p=%zu r=%zu: %zu colons", p, r, colons);
		}
	}
}
