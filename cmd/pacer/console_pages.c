/*
 * console_pages.c: the web console's pages but the app's (console_int.h):
 * the layout, sign-in, the overview and the history.
 *
 * Every text that came from outside goes through page_text() (escaped);
 * page_printf() is for markup and numbers only. A page is one buffer with
 * a cap: a failure anywhere is kept and the page is not sent half-made.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/pacer/console_assets.h"
#include "cmd/pacer/console_html.h"
#include "cmd/pacer/console_int.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/metrics.h"

const char *const console_states[CONSOLE_NSTATES] = {
    "synced", "out_of_sync", "progressing", "degraded", "suspended", "held", "missing", "orphaned"};
#define states console_states
#define NSTATES CONSOLE_NSTATES

void page_init(struct page *p)
{
	pacer_buf_init(&p->b, CONSOLE_PAGE_MAX);
	p->err = 0;
	p->refresh_s = 0;
}

void page_release(struct page *p)
{
	pacer_buf_release(&p->b);
}

void page_printf(struct page *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!p->err)
		p->err = pacer_buf_vprintf(&p->b, fmt, ap);
	va_end(ap);
}

void page_text(struct page *p, const char *s)
{
	if (!p->err)
		p->err = html_escape(&p->b, s);
}

void page_app_href(struct page *p, const char *id)
{
	struct pacer_buf u = PACER_BUF_INIT;

	if (!p->err && !(p->err = pacer_buf_puts(&u, "/app")) && !(p->err = html_url_path(&u, id)))
		page_text(p, pacer_buf_cstr(&u));
	pacer_buf_release(&u);
}

void page_time(struct page *p, double t)
{
	char tmp[40];
	struct tm tm;
	time_t secs = (time_t)t;

	if (t <= 0 || !gmtime_r(&secs, &tm)) {
		page_printf(p, "never");
		return;
	}
	strftime(tmp, sizeof(tmp), "%Y-%m-%d %H:%M:%S UTC", &tm);
	page_printf(p, "<time>%s</time>", tmp);
}

/* "out_of_sync" -> "out of sync": the word shown beside the colour. */
static void state_word(struct page *p, const char *state)
{
	for (const char *c = state; c && *c && !p->err; c++)
		if (*c == '_')
			page_printf(p, " ");
		else
			page_text(p, (char[]){*c, '\0'});
}

/* A known state's class, else "unknown": a class name is never text from outside. */
static const char *state_class(const char *state)
{
	for (size_t i = 0; i < NSTATES; i++)
		if (state && !strcmp(state, states[i]))
			return states[i];
	return "unknown";
}

void page_state(struct page *p, const char *state)
{
	page_printf(p, "<span class=\"badge st-%s\">", state_class(state));
	state_word(p, state ? state : "unknown");
	page_printf(p, "</span>");
}

void page_csrf(struct page *p, const struct console_who *who)
{
	page_printf(p, "<input type=\"hidden\" name=\"csrf\" value=\"");
	page_text(p, who->csrf);
	page_printf(p, "\">");
}

size_t page_alen(struct json_object *a)
{
	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

const char *page_str(struct json_object *o, const char *key)
{
	struct json_object *v = jsonutil_get(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const struct console_asset *console_asset_find(const char *name)
{
	for (const struct console_asset *a = console_assets; a->name; a++)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

/* The header's corner: who is signed in, as what, and the logout form. */
static void user_block(struct page *p, const struct console_who *who)
{
	if (!who)
		return;
	page_text(p, who->name);
	page_printf(p, " <span class=\"role\">%s</span>", token_role_name(who->role));
	page_printf(p, "<form method=\"post\" action=\"/logout\">");
	page_csrf(p, who);
	page_printf(p, "<button type=\"submit\" id=\"logout\">Sign out</button></form>");
}

char *page_finish(struct page *body, const char *title, const struct console_who *who)
{
	const struct console_asset *layout = console_asset_find("layout.html");
	struct page t, u, h, out;
	char *html = NULL;

	page_init(&h);
	page_init(&t);
	page_init(&u);
	page_init(&out);
	page_text(&t, title);
	user_block(&u, who);
	if (body->refresh_s > 0)
		page_printf(&h, "<meta http-equiv=\"refresh\" content=\"%d\">", body->refresh_s);
	if (layout && !body->err && !t.err && !u.err && !h.err) {
		const char *vars[] = {"title", pacer_buf_cstr(&t.b),     "user",
		                      pacer_buf_cstr(&u.b), "body",     pacer_buf_cstr(&body->b),
		                      "head",  pacer_buf_cstr(&h.b),     NULL};

		if (!html_template(&out.b, (const char *)layout->data, vars))
			html = pacer_buf_detach(&out.b);
	}
	page_release(&h);
	page_release(&t);
	page_release(&u);
	page_release(&out);
	return html;
}

void console_login(struct page *p, const char *error)
{
	const struct console_asset *a = console_asset_find("login.html");
	struct page e;

	page_init(&e);
	if (error) {
		page_printf(&e, "<div class=\"msg err\" id=\"error\">");
		page_text(&e, error);
		page_printf(&e, "</div>");
	}
	if (!a || e.err) {
		p->err = -1;
	} else {
		const char *vars[] = {"error", pacer_buf_cstr(&e.b), NULL};

		if (!p->err)
			p->err = html_template(&p->b, (const char *)a->data, vars);
	}
	page_release(&e);
}

void console_busy(struct page *p, const struct console_syncs *sy, const char *msg)
{
	page_printf(p, "<h1>A sync is running</h1><div class=\"msg info\" id=\"busy\"><p>"
	               "<span class=\"spinner\"></span>");
	if (sy->st.running)
		page_printf(p, "Sync #%lu is running. ", sy->st.running_id);
	page_printf(p, "pacer reads the cluster once it is done; this page reloads by itself.</p>"
	               "<p class=\"note\">");
	page_text(p, msg);
	page_printf(p, "</p></div><p><a href=\"/history\">History</a></p>");
	p->refresh_s = 3;
}

void console_error(struct page *p, unsigned status, const char *msg)
{
	page_printf(p, "<h1>Error %u</h1><div class=\"msg err\" id=\"error\">", status);
	page_text(p, msg);
	page_printf(p, "</div><p><a href=\"/\">Back to the apps</a></p>");
}
