/*
 * Unit tests for the web console's pages (cmd/pacer/console_overview.c,
 * console_app.c, console_pages.c): what the API hands them is rendered
 * with every outside text escaped, in attributes too (Marathon forbids
 * '<' in ids, so the browser test cannot try an id that breaks out of an
 * attribute: this one does), and the test contract's attributes are there.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/console_int.h"

/* Markup that leaves a quoted attribute; as a C string and inside a JSON string. */
#define EVIL "x\"><img src=x onerror=alert(1)>'"
#define EVIL_JSON "x\\\"><img src=x onerror=alert(1)>'"

static struct json_object *parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	cr_assert_not_null(o, "%s", text);
	return o;
}

static struct console_who who(enum token_role role)
{
	struct console_who w;

	memset(&w, 0, sizeof(w));
	w.role = role;
	strcpy(w.name, "olga<u>");
	memset(w.csrf, 'c', CONSOLE_SESSION_ID_LEN);
	return w;
}

/* No raw markup from the data: no tag it holds appears as a tag. */
static void assert_inert(const char *html)
{
	cr_assert_null(strstr(html, "<img"), "%s", html);
	cr_assert_null(strstr(html, "<script>"), "%s", html);
	cr_assert_null(strstr(html, "<u>"), "%s", html);
}

Test(console_pages, overview_rows_escape_and_carry_the_contract)
{
	struct json_object *doc = parse(
	    "{\"source\": \"<u>src</u>\", \"commit\": \"abc<script>\", \"apps\": ["
	    "{\"id\": \"/shop/" EVIL_JSON "\", \"state\": \"degraded\", \"image\": \"<u>img</u>\","
	    " \"tasks\": {\"healthy\": 0, \"running\": 1, \"instances\": 2}},"
	    "{\"id\": \"/ok\", \"state\": \"weird\\\"><u>\"},"
	    "{\"id\": \"/s\", \"state\": \"suspended\"}]}");
	struct console_syncs sy;
	struct console_who w = who(TOKEN_OPERATOR);
	struct page p;
	const char *html;

	memset(&sy, 0, sizeof(sy));
	page_init(&p);
	console_overview(&p, doc, &sy, &w, NULL, NULL);
	cr_assert_eq(p.err, 0);
	html = pacer_buf_cstr(&p.b);
	assert_inert(html);
	cr_assert(strstr(html, "data-app-id=\"/shop/x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
	                       "&#39;\" data-status=\"degraded\""),
	          "%s", html);
	cr_assert(strstr(html, "href=\"/app/shop/x%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29"
	                       "%3E%27\""),
	          "%s", html);
	cr_assert(strstr(html, "data-status=\"weird&quot;&gt;&lt;u&gt;\""), "%s", html);
	cr_assert(strstr(html, "class=\"badge st-unknown\""), "an unknown state gets no class of "
	                                                      "its own: %s", html);
	cr_assert(strstr(html, "data-state=\"degraded\" data-count=\"1\""), "%s", html);
	cr_assert(strstr(html, "data-state=\"suspended\" data-count=\"1\""), "%s", html);
	cr_assert(strstr(html, "0/1/2"), "%s", html);
	cr_assert(strstr(html, "data-action=\"sync\""), "an operator may sync: %s", html);
	page_release(&p);

	w = who(TOKEN_VIEWER);
	page_init(&p);
	console_overview(&p, doc, &sy, &w, "degraded", NULL);
	html = pacer_buf_cstr(&p.b);
	cr_assert_null(strstr(html, "data-action"), "a viewer gets no button: %s", html);
	cr_assert_null(strstr(html, "data-app-id=\"/ok\""), "filtered out by state: %s", html);
	page_release(&p);
	json_object_put(doc);
}

Test(console_pages, app_page_escapes_marathon_and_git_text)
{
	struct json_object *row = parse(
	    "{\"id\": \"/shop/web\", \"state\": \"out_of_sync\", \"reason\": \"<u>why</u>\","
	    " \"suspended\": null, \"tasks\": {\"healthy\": 1, \"running\": 1, \"instances\": 1},"
	    " \"tasks_live\": [{\"id\": \"t" EVIL_JSON "\", \"host\": \"<u>h</u>\", \"state\": "
	    "\"TASK_RUNNING\", \"healthCheckResults\": [{\"alive\": true}]}],"
	    " \"deployments\": [{\"id\": \"d1\", \"version\": \"v<u>\", \"currentStep\": 1,"
	    " \"totalSteps\": 2, \"steps\": [{\"actions\": [{\"action\": \"RestartApplication\","
	    " \"app\": \"/shop/web\"}]}]}],"
	    " \"diff\": {\"action\": \"update\", \"file\": \"<u>f</u>.json\", \"changes\": ["
	    "{\"path\": \"/labels/team\", \"old\": \"<u>a</u>\", \"new\": \"" EVIL_JSON "\"}]},"
	    " \"desired\": {\"labels\": {\"team\": \"" EVIL_JSON "\"}},"
	    " \"live\": {\"labels\": {\"team\": \"<u>a</u>\"}},"
	    " \"history\": [{\"end\": 1, \"trigger\": \"github push <u>\", \"commit\": \"c<u>\","
	    " \"apps\": [{\"id\": \"/shop/web\", \"outcome\": \"updated\", \"error\": \"<u>e</u>\"}]}],"
	    " \"backups\": [{\"name\": \"web_" EVIL_JSON ".json\", \"time\": \"t\"}]}");
	struct console_who w = who(TOKEN_ADMIN);
	struct page p;
	const char *html;

	page_init(&p);
	console_app(&p, row, &w);
	cr_assert_eq(p.err, 0);
	html = pacer_buf_cstr(&p.b);
	assert_inert(html);
	cr_assert(strstr(html, "<mark class=\"chg\" data-path=\"/labels/team\">"), "%s", html);
	cr_assert(strstr(html, "step 1 of 2") && strstr(html, "RestartApplication"),
	          "the deployment in progress with its steps: %s", html);
	cr_assert(strstr(html, "healthy"), "a task's health: %s", html);
	cr_assert(strstr(html, "name=\"backup\" value=\"web_x&quot;&gt;&lt;img"), "%s", html);
	for (const char *const *a = (const char *const[]){"sync", "restart", "scale", "stop",
	                                                   "cancel", "suspend", "rollback", "delete",
	                                                   NULL};
	     *a; a++) {
		char attr[64];

		snprintf(attr, sizeof(attr), "data-action=\"%s\"", *a);
		cr_assert(strstr(html, attr), "an admin sees %s: %s", *a, html);
	}
	page_release(&p);

	w = who(TOKEN_OPERATOR);
	page_init(&p);
	console_app(&p, row, &w);
	cr_assert_null(strstr(pacer_buf_cstr(&p.b), "data-action=\"delete\""), "operator: no delete");
	page_release(&p);
	json_object_put(row);
}

Test(console_pages, layout_escapes_title_and_name)
{
	struct console_who w = who(TOKEN_VIEWER);
	struct page p;
	char *html;

	page_init(&p);
	page_printf(&p, "<p>body</p>");
	html = page_finish(&p, "/shop/" EVIL, &w);
	cr_assert_not_null(html);
	assert_inert(html);
	cr_assert(strstr(html, "<title>/shop/x&quot;&gt;&lt;img"), "%s", html);
	cr_assert(strstr(html, "olga&lt;u&gt;"), "%s", html);
	cr_assert(strstr(html, "<p>body</p>"), "%s", html);
	cr_assert_null(strstr(html, "{{"), "every placeholder filled: %s", html);
	free(html);
	page_release(&p);
}
