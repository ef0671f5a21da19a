/*
 * Unit tests for cmd/pacer/console_html.c: escaping of text from outside,
 * form and cookie decoding, templates, and JSON rendered with its changed
 * members marked.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/console_html.h"

/* Arrays, not pointers: Criterion hands the cases to another process. */
struct esc_case {
	char in[64], out[96];
};

ParameterizedTestParameters(console_html, escape)
{
	static struct esc_case cases[] = {
	    {"plain /shop/api", "plain /shop/api"},
	    {"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
	    {"a&b", "a&amp;b"},
	    {"\" onmouseover=\"x", "&quot; onmouseover=&quot;x"},
	    {"it's", "it&#39;s"},
	    {"</pre><img src=x onerror=alert(1)>", "&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;"},
	    {"tab\tnl\nbell\a.", "tab\tnl\nbell."},
	    {"&amp;", "&amp;amp;"},
	    {"", ""},
	    {"\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9"},
	};
	return cr_make_param_array(struct esc_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct esc_case *c, console_html, escape)
{
	struct pacer_buf b = PACER_BUF_INIT;

	cr_assert_eq(html_escape(&b, c->in), 0);
	cr_assert_str_eq(pacer_buf_cstr(&b), c->out);
	pacer_buf_release(&b);
}

Test(console_html, escape_null_and_cap)
{
	struct pacer_buf b;

	pacer_buf_init(&b, 8);
	cr_assert_eq(html_escape(&b, NULL), 0);
	cr_assert_eq(b.len, 0);
	/* Over the cap: an error, never a truncated entity. */
	cr_assert_neq(html_escape(&b, "<<<<<<"), 0);
	cr_assert(!strstr(pacer_buf_cstr(&b), "&l") || strstr(pacer_buf_cstr(&b), "&lt;"));
	pacer_buf_release(&b);
}

Test(console_html, url_path)
{
	struct pacer_buf b = PACER_BUF_INIT;

	cr_assert_eq(html_url_path(&b, "/shop/api-v2_x.y~z"), 0);
	cr_assert_str_eq(pacer_buf_cstr(&b), "/shop/api-v2_x.y~z");
	pacer_buf_reset(&b);
	cr_assert_eq(html_url_path(&b, "/a b\"<?&#"), 0);
	cr_assert_str_eq(pacer_buf_cstr(&b), "/a%20b%22%3C%3F%26%23");
	pacer_buf_release(&b);
}

struct form_case {
	char body[40], name[16], value[16];
	int absent; /* absent or refused: NULL */
};

ParameterizedTestParameters(console_html, form)
{
	static struct form_case cases[] = {
	    {"token=abc", "token", "abc", 0},
	    {"a=1&token=x%2By+z&b=2", "token", "x+y z", 0},
	    {"tokenx=1&token=2", "token", "2", 0},
	    {"token=1&token=2", "token", "1", 0},
	    {"token=", "token", "", 0},
	    {"token", "token", "", 0},
	    {"a=1", "token", "", 1},
	    {"token=%3Cscript%3E", "token", "<script>", 0},
	    {"token=%zz", "token", "", 1},
	    {"token=%4", "token", "", 1},
	    {"token=a%00b", "token", "", 1},
	    {"", "token", "", 1},
	};
	return cr_make_param_array(struct form_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct form_case *c, console_html, form)
{
	char *v = form_get(c->body, strlen(c->body), c->name);

	if (!c->absent)
		cr_assert_str_eq(v, c->value, "%s in %s", c->name, c->body);
	else
		cr_assert_null(v, "%s in %s gave %s", c->name, c->body, v);
	free(v);
}

Test(console_html, form_not_terminated)
{
	const char body[] = {'a', '=', '1', '&', 'b', '=', '2', 'X'};
	char *v = form_get(body, 7, "b");

	cr_assert_str_eq(v, "2");
	free(v);
}

Test(console_html, cookies)
{
	char *v = cookie_get("a=1; pacer_session=abc123; b=2", "pacer_session");

	cr_assert_str_eq(v, "abc123");
	free(v);
	v = cookie_get("xpacer_session=no; pacer_session=yes", "pacer_session");
	cr_assert_str_eq(v, "yes");
	free(v);
	cr_assert_null(cookie_get("a=1", "pacer_session"));
	cr_assert_null(cookie_get(NULL, "pacer_session"));
}

Test(console_html, template)
{
	struct pacer_buf b = PACER_BUF_INIT;
	const char *vars[] = {"title", "T&amp;", "body", "<p>x</p>", NULL};

	cr_assert_eq(html_template(&b, "<t>{{title}}</t>{{body}}{{missing}}{{open", vars), 0);
	cr_assert_str_eq(pacer_buf_cstr(&b), "<t>T&amp;</t><p>x</p>{{open");
	pacer_buf_release(&b);
}

Test(console_html, json_marks_changed_members)
{
	struct json_object *v = json_tokener_parse(
	    "{\"container\":{\"docker\":{\"image\":\"nginx:2\"}},\"labels\":{\"a/b\":\"<x>\"},"
	    "\"healthChecks\":[{\"path\":\"/\"}],\"cmd\":\"run\"}");
	const char *marked[] = {"/container/docker/image", "/labels/a~1b", "/healthChecks"};
	struct pacer_buf b = PACER_BUF_INIT;
	const char *out;

	cr_assert_eq(html_json(&b, v, marked, 3), 0);
	out = pacer_buf_cstr(&b);
	cr_assert(strstr(out, "<mark class=\"chg\" data-path=\"/container/docker/image\">"
	                      "&quot;image&quot;: &quot;nginx:2&quot;</mark>"),
	          "%s", out);
	cr_assert(strstr(out, "data-path=\"/labels/a~1b\">&quot;a/b&quot;: &quot;&lt;x&gt;&quot;"
	                      "</mark>"),
	          "%s", out);
	cr_assert(strstr(out, "data-path=\"/healthChecks\">&quot;healthChecks&quot;: ["), "%s", out);
	cr_assert(!strstr(out, "data-path=\"/cmd\""), "%s", out);
	cr_assert(!strstr(out, "<x>"), "%s", out);
	json_object_put(v);
	pacer_buf_release(&b);
}
