/*
 * console_overview.c: the overview and the history pages of the web
 * console (console_int.h).
 */
#include <stdio.h>
#include <string.h>

#include "cmd/pacer/console_int.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/metrics.h"

#define states console_states
#define NSTATES CONSOLE_NSTATES

/* Does row pass the filters of a GET (state word, text in the id or image)? */
static int row_shown(struct json_object *row, const char *state, const char *text)
{
	const char *id = page_str(row, "id"), *image = page_str(row, "image");

	if (state && *state && strcmp(state, page_str(row, "state") ? page_str(row, "state") : ""))
		return 0;
	if (text && *text && !(id && strstr(id, text)) && !(image && strstr(image, text)))
		return 0;
	return 1;
}

/* The counts by state: links that filter (by GET without script, in place with it). */
static void counts(struct page *p, struct json_object *apps, const char *state_filter)
{
	size_t n[NSTATES] = {0};

	for (size_t i = 0; i < page_alen(apps); i++) {
		const char *st = page_str(json_object_array_get_idx(apps, i), "state");

		for (size_t k = 0; st && k < NSTATES; k++)
			n[k] += !strcmp(st, states[k]);
	}
	page_printf(p, "<div class=\"counts\" id=\"counts\">");
	for (size_t k = 0; k < NSTATES; k++) {
		int on = state_filter && !strcmp(state_filter, states[k]);

		page_printf(p,
		            "<a class=\"count%s\" href=\"/?state=%s\" data-state=\"%s\" "
		            "data-count=\"%zu\"><b>%zu</b>",
		            on ? " on" : "", states[k], states[k], n[k], n[k]);
		page_state(p, states[k]);
		page_printf(p, "</a>");
	}
	page_printf(p, "<span class=\"count\"><b>%zu</b> apps</span></div>",
	            page_alen(apps));
}

/* Source, commit, the last sync and the next one. */
static void syncs(struct page *p, struct json_object *doc, const struct console_syncs *sy)
{
	const struct runner_status *st = &sy->st;
	struct json_object *hist = jsonutil_get(doc, "last_sync");

	page_printf(p, "<dl class=\"meta card\" id=\"syncs\"><dt>Source</dt><dd class=\"mono\">");
	page_text(p, page_str(doc, "source") ? page_str(doc, "source") : "-");
	page_printf(p, "</dd><dt>Commit</dt><dd class=\"mono\" id=\"commit\">");
	page_text(p, page_str(doc, "commit") ? page_str(doc, "commit") : "-");
	page_printf(p, "</dd><dt>Last sync</dt><dd id=\"last-sync\">");
	if (st->have_last) {
		page_time(p, st->last.finished);
		page_printf(p, " · #%lu · ", st->last.id);
		page_text(p, st->last.reason);
		page_printf(p, " · <b>%s</b> · %.1f s",
		            metrics_sync_result(st->last.rc, st->last.converged), st->last.seconds);
	} else if (hist) {
		page_time(p, json_object_get_double(jsonutil_get(hist, "end")));
		page_printf(p, " · ");
		page_text(p, page_str(hist, "trigger"));
		page_printf(p, " · <b>");
		page_text(p, page_str(hist, "result"));
		page_printf(p, "</b>");
	} else {
		page_printf(p, "none yet");
	}
	if (st->running)
		page_printf(p, " · sync #%lu running", st->running_id);
	if (st->pending)
		page_printf(p, " · sync #%lu queued", st->pending_id);
	page_printf(p, "</dd><dt>Next sync</dt><dd id=\"next-sync\">");
	if (sy->next_run > 0)
		page_time(p, sy->next_run);
	else
		page_printf(p, "on webhooks only (no interval)");
	page_printf(p, "</dd></dl>");
}

static void app_row(struct page *p, struct json_object *row)
{
	struct json_object *t = jsonutil_get(row, "tasks");
	const char *id = page_str(row, "id"), *state = page_str(row, "state");

	page_printf(p, "<tr data-app-id=\"");
	page_text(p, id);
	page_printf(p, "\" data-status=\"");
	page_text(p, state);
	page_printf(p, "\"><td class=\"id\"><a href=\"");
	page_app_href(p, id);
	page_printf(p, "\">");
	page_text(p, id);
	page_printf(p, "</a></td><td>");
	page_state(p, state);
	page_printf(p, "</td><td class=\"mono\">");
	if (t)
		page_printf(p, "%lld/%lld/%lld",
		            (long long)json_object_get_int64(jsonutil_get(t, "healthy")),
		            (long long)json_object_get_int64(jsonutil_get(t, "running")),
		            (long long)json_object_get_int64(jsonutil_get(t, "instances")));
	else
		page_printf(p, "-");
	page_printf(p, "</td><td class=\"mono\">");
	page_text(p, page_str(row, "image") ? page_str(row, "image") : "-");
	page_printf(p, "</td><td class=\"mono\">");
	page_text(p, page_str(row, "version") ? page_str(row, "version") : "-");
	page_printf(p, "</td><td class=\"mono\">");
	page_text(p, page_str(row, "commit") ? page_str(row, "commit") : "-");
	page_printf(p, "</td></tr>");
}

void console_overview_live(struct page *p, struct json_object *doc,
                           const struct console_syncs *sy, const char *state_filter,
                           const char *text_filter)
{
	struct json_object *apps = jsonutil_get(doc, "apps"), *stale = jsonutil_get(doc, "stale");

	if (stale) {
		page_printf(p, "<div class=\"msg info\" id=\"stale\"><p>"
		               "<span class=\"spinner\"></span>A sync is running: the apps below "
		               "are as pacer read them at ");
		page_time(p, json_object_get_double(jsonutil_get(stale, "as_of")));
		page_printf(p, "; they are read again when it ends.</p></div>");
	}
	counts(p, apps, state_filter);
	syncs(p, doc, sy);
	page_printf(p, "<table id=\"apps\"><thead><tr><th>App</th><th>State</th>"
	               "<th title=\"healthy/running/instances\">Tasks h/r/i</th><th>Image</th>"
	               "<th>Version</th><th>Last change</th></tr></thead><tbody>");
	for (size_t i = 0; i < page_alen(apps); i++) {
		struct json_object *row = json_object_array_get_idx(apps, i);

		if (row_shown(row, state_filter, text_filter))
			app_row(p, row);
	}
	if (!page_alen(apps))
		page_printf(p, "<tr><td colspan=\"6\" class=\"note\">No app: the source is empty "
		               "and pacer owns nothing on this cluster.</td></tr>");
	page_printf(p, "</tbody></table>");
}

/* The filter form: a GET without script; the script filters as one types. */
static void filters(struct page *p, const char *state_filter, const char *text_filter)
{
	page_printf(p, "<form class=\"filters\" method=\"get\" action=\"/\">"
	               "<input type=\"search\" id=\"filter\" name=\"q\" "
	               "placeholder=\"Filter by app id or image\" value=\"");
	page_text(p, text_filter);
	page_printf(p, "\"><select id=\"state\" name=\"state\"><option value=\"\">every state</option>");
	for (size_t k = 0; k < NSTATES; k++) {
		page_printf(p, "<option value=\"%s\"%s>", states[k],
		            state_filter && !strcmp(state_filter, states[k]) ? " selected" : "");
		for (const char *c = states[k]; *c; c++)
			page_printf(p, "%c", *c == '_' ? ' ' : *c);
		page_printf(p, "</option>");
	}
	page_printf(p, "</select><button type=\"submit\" id=\"filter-go\">Filter</button>"
	               "<span id=\"shown\" class=\"note\"></span>"
	               "<span id=\"live-state\" class=\"live\">not live</span></form>");
}

void console_overview(struct page *p, struct json_object *doc, const struct console_syncs *sy,
                      const struct console_who *who, const char *state_filter,
                      const char *text_filter)
{
	page_printf(p, "<div class=\"actions right\">");
	if (who->role >= TOKEN_OPERATOR) {
		page_printf(p, "<form method=\"post\" action=\"/action/sync\">");
		page_csrf(p, who);
		page_printf(p, "<button type=\"submit\" class=\"primary\" data-action=\"sync\">"
		               "Sync all now</button></form>");
	}
	page_printf(p, "</div><h1>Apps</h1>");
	filters(p, state_filter, text_filter);
	page_printf(p, "<div id=\"live\">");
	console_overview_live(p, doc, sy, state_filter, text_filter);
	page_printf(p, "</div>");
}

/* One run's per-app outcomes. */
static void run_apps(struct page *p, struct json_object *apps)
{
	if (!page_alen(apps)) {
		page_printf(p, "<span class=\"note\">nothing changed</span>");
		return;
	}
	page_printf(p, "<ul>");
	for (size_t k = 0; k < page_alen(apps); k++) {
		struct json_object *a = json_object_array_get_idx(apps, k);

		page_printf(p, "<li><a href=\"");
		page_app_href(p, page_str(a, "id"));
		page_printf(p, "\" class=\"mono\">");
		page_text(p, page_str(a, "id"));
		page_printf(p, "</a> <b>");
		page_text(p, page_str(a, "outcome"));
		page_printf(p, "</b>");
		if (page_str(a, "backup")) {
			page_printf(p, " <span class=\"note\">backup ");
			page_text(p, strrchr(page_str(a, "backup"), '/')
			                 ? strrchr(page_str(a, "backup"), '/') + 1
			                 : page_str(a, "backup"));
			page_printf(p, "</span>");
		}
		if (page_str(a, "error")) {
			page_printf(p, "<div class=\"old\">");
			page_text(p, page_str(a, "error"));
			page_printf(p, "</div>");
		}
		page_printf(p, "</li>");
	}
	page_printf(p, "</ul>");
}

void console_history(struct page *p, struct json_object *runs)
{
	size_t n = page_alen(runs);

	page_printf(p, "<h1>History</h1><table id=\"history\"><thead><tr><th>Finished</th>"
	               "<th>Trigger</th><th>Commit</th><th>Result</th><th>Took</th>"
	               "<th>Apps</th></tr></thead><tbody>");
	for (size_t i = n; i-- > 0;) {
		struct json_object *run = json_object_array_get_idx(runs, i);
		double start = json_object_get_double(jsonutil_get(run, "start"));
		double end = json_object_get_double(jsonutil_get(run, "end"));

		page_printf(p, "<tr class=\"run\"><td>");
		page_time(p, end);
		page_printf(p, "</td><td>");
		page_text(p, page_str(run, "trigger"));
		if (page_str(run, "action")) {
			page_printf(p, " <span class=\"note\">(");
			page_text(p, page_str(run, "action"));
			page_printf(p, ")</span>");
		}
		page_printf(p, "</td><td class=\"mono\">");
		page_text(p, page_str(run, "commit") ? page_str(run, "commit") : "-");
		page_printf(p, "</td><td><b>");
		page_text(p, page_str(run, "result"));
		page_printf(p, "</b></td><td>%.1f s</td><td>", end > start ? end - start : 0.0);
		run_apps(p, jsonutil_get(run, "apps"));
		page_printf(p, "</td></tr>");
	}
	if (!n)
		page_printf(p, "<tr><td colspan=\"6\" class=\"note\">No run yet.</td></tr>");
	page_printf(p, "</tbody></table>");
}
