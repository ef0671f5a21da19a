/*
 * The scanner that hands out the apps of GET /v2/apps one by one
 * (backends/marathon/split.c): strings with escapes and brackets inside,
 * nesting, other members before and after, and every malformed shape.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "backends/marathon/split.h"

struct got {
	char items[8][128];
	size_t n;
	int stop_at; /* 1-based; 0 = never */
};

static int collect(void *ctx, const char *data, size_t len)
{
	struct got *g = ctx;

	cr_assert_lt(g->n, 8);
	cr_assert_lt(len, 128);
	memcpy(g->items[g->n], data, len);
	g->items[g->n][len] = '\0';
	g->n++;
	return g->stop_at && (int)g->n == g->stop_at ? 7 : 0;
}

static int split(const char *doc, struct got *g)
{
	memset(g->items, 0, sizeof(g->items));
	g->n = 0;
	return split_array_member(doc, strlen(doc), "apps", collect, g);
}

Test(split, elements_in_order_with_tricky_strings)
{
	struct got g = {0};
	const char *doc = " {\"before\": {\"apps\": [1, 2]}, \"x\": \"]}\\\"[\",\n"
			  "  \"apps\" : [ {\"id\":\"/a\",\"cmd\":\"echo \\\"}]\\\\\"} ,\n"
			  "   {\"id\":\"/b\",\"c\":{\"d\":[1,{\"e\":\"[\"}]}}, 42, \"s\", null ],\n"
			  "  \"after\": [true, false] }\n";

	cr_assert_eq(split(doc, &g), 0);
	cr_assert_eq(g.n, 5);
	cr_assert_str_eq(g.items[0], "{\"id\":\"/a\",\"cmd\":\"echo \\\"}]\\\\\"}");
	cr_assert_str_eq(g.items[1], "{\"id\":\"/b\",\"c\":{\"d\":[1,{\"e\":\"[\"}]}}");
	cr_assert_str_eq(g.items[2], "42");
	cr_assert_str_eq(g.items[3], "\"s\"");
	cr_assert_str_eq(g.items[4], "null");
}

Test(split, empty_list_and_a_callback_that_stops)
{
	struct got g = {0};

	cr_assert_eq(split("{\"apps\": []}", &g), 0);
	cr_assert_eq(g.n, 0);
	g.stop_at = 2;
	cr_assert_eq(split("{\"apps\": [{}, {}, {}]}", &g), 7);
	cr_assert_eq(g.n, 2);
}

Test(split, anything_else_is_not_an_app_list)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{}",
	    "{\"app\": []}",
	    "{\"apps\": {}}",
	    "{\"apps\": [1, 2}",
	    "{\"apps\": [1 2]}",
	    "{\"apps\": [\"unterminated]}",
	    "{\"apps\": [1]",
	    "{\"apps\": [1]} trailing",
	    "{\"apps\" [1]}",
	    "<html>502 Bad Gateway</html>",
	    NULL};
	struct got g = {0};

	for (size_t i = 0; bad[i]; i++)
		cr_expect_eq(split(bad[i], &g), 1, "\"%s\" was taken for an app list", bad[i]);
}
