/*
 * console_app.c: the app page of the web console, and the confirmation
 * and result pages of its actions (console_int.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/console_html.h"
#include "cmd/pacer/console_int.h"
#include "reconcile/base/jsonutil.h"

static const struct {
	const char *name, *label, *what;
	enum token_role role;
} actions[CA_COUNT] = {
    [CA_SYNC] = {"sync", "Sync now", "sync it with the source now", TOKEN_OPERATOR},
    [CA_RESTART] = {"restart", "Restart",
                    "replace every task (a rolling restart by Marathon)", TOKEN_OPERATOR},
    [CA_CANCEL] = {"cancel", "Cancel deployment",
                   "cancel the deployment in progress (Marathon rolls it back)", TOKEN_OPERATOR},
    [CA_SCALE] = {"scale", "Scale", "scale it", TOKEN_OPERATOR},
    [CA_STOP] = {"stop", "Stop", "scale it to 0 instances (suspended, so that syncs leave it stopped)",
                 TOKEN_OPERATOR},
    [CA_SUSPEND] = {"suspend", "Suspend", "suspend it: syncs leave it as it is until resumed",
                    TOKEN_OPERATOR},
    [CA_RESUME] = {"resume", "Resume", "resume it: the next sync brings it back to the source",
                   TOKEN_OPERATOR},
    [CA_ROLLBACK] = {"rollback", "Roll back to this one",
                     "roll it back to this backup (and suspend it, since the source still holds "
                     "the newer definition)",
                     TOKEN_OPERATOR},
    [CA_DELETE] = {"delete", "Delete", "DELETE it from Marathon, with all its tasks", TOKEN_ADMIN},
};

const char *console_action_name(enum console_action a)
{
	return (unsigned)a < CA_COUNT ? actions[a].name : "?";
}

int console_action_parse(const char *name)
{
	for (int i = 0; name && i < CA_COUNT; i++)
		if (!strcmp(actions[i].name, name))
			return i;
	return -1;
}

enum token_role console_action_role(enum console_action a)
{
	return (unsigned)a < CA_COUNT ? actions[a].role : TOKEN_ADMIN;
}

/* The fields of an action's form: csrf, app, and what the action takes. */
static void ask_fields(struct page *p, const struct console_ask *a, const struct console_who *who)
{
	page_csrf(p, who);
	if (a->app) {
		page_printf(p, "<input type=\"hidden\" name=\"app\" value=\"");
		page_text(p, a->app);
		page_printf(p, "\">");
	}
	if (a->backup) {
		page_printf(p, "<input type=\"hidden\" name=\"backup\" value=\"");
		page_text(p, a->backup);
		page_printf(p, "\">");
	}
}

/* A button of the app page: a form that asks for confirmation first. */
static void button(struct page *p, const struct console_ask *a, const struct console_who *who,
                   const char *cls)
{
	if (who->role < actions[a->action].role)
		return; /* not shown; the server refuses it too */
	page_printf(p, "<form method=\"post\" action=\"/action/%s\">", actions[a->action].name);
	ask_fields(p, a, who);
	if (a->action == CA_SCALE)
		page_printf(p, "<input type=\"number\" name=\"instances\" min=\"0\" max=\"100000\" "
		               "value=\"%d\" aria-label=\"instances\">",
		            a->instances);
	page_printf(p, "<button type=\"submit\" class=\"%s\" data-action=\"%s\">%s</button></form>",
	            cls, actions[a->action].name, actions[a->action].label);
}

static void app_actions(struct page *p, struct json_object *row, const struct console_who *who)
{
	const char *id = page_str(row, "id");
	struct json_object *t = jsonutil_get(row, "tasks");
	int live = jsonutil_get(row, "live") != NULL || t != NULL;
	struct console_ask a = {CA_SYNC, id, NULL, 0};

	if (who->role < TOKEN_OPERATOR) {
		page_printf(p, "<p class=\"note\">Your role (viewer) shows the state only.</p>");
		return;
	}
	page_printf(p, "<div class=\"actions\" id=\"actions\">");
	button(p, &a, who, "primary");
	if (live) {
		a.action = CA_RESTART;
		button(p, &a, who, "");
		a.action = CA_SCALE;
		a.instances = t ? (int)json_object_get_int64(jsonutil_get(t, "instances")) : 1;
		button(p, &a, who, "");
		a.action = CA_STOP;
		button(p, &a, who, "");
	}
	if (page_alen(jsonutil_get(row, "deployments"))) {
		a.action = CA_CANCEL;
		button(p, &a, who, "");
	}
	a.action = jsonutil_get(row, "suspended") ? CA_RESUME : CA_SUSPEND;
	button(p, &a, who, "");
	if (live) {
		a.action = CA_DELETE;
		button(p, &a, who, "danger");
	}
	page_printf(p, "</div>");
}

static void summary(struct page *p, struct json_object *row)
{
	struct json_object *t = jsonutil_get(row, "tasks"), *susp = jsonutil_get(row, "suspended");

	page_printf(p, "<section><p>");
	page_state(p, page_str(row, "state"));
	page_printf(p, " <span id=\"reason\">");
	page_text(p, page_str(row, "reason"));
	page_printf(p, "</span></p><dl class=\"meta\"><dt>Tasks (healthy/running/instances)</dt>"
	               "<dd class=\"mono\" id=\"counts\">");
	if (t)
		page_printf(p, "%lld/%lld/%lld",
		            (long long)json_object_get_int64(jsonutil_get(t, "healthy")),
		            (long long)json_object_get_int64(jsonutil_get(t, "running")),
		            (long long)json_object_get_int64(jsonutil_get(t, "instances")));
	else
		page_printf(p, "not running on Marathon");
	page_printf(p, "</dd><dt>Image</dt><dd class=\"mono\">");
	page_text(p, page_str(row, "image") ? page_str(row, "image") : "-");
	page_printf(p, "</dd><dt>Version</dt><dd class=\"mono\">");
	page_text(p, page_str(row, "version") ? page_str(row, "version") : "-");
	page_printf(p, "</dd><dt>Last change</dt><dd class=\"mono\">");
	page_text(p, page_str(row, "commit") ? page_str(row, "commit") : "-");
	page_printf(p, "</dd>");
	if (susp) {
		page_printf(p, "<dt>Suspended</dt><dd id=\"suspended\">by ");
		page_text(p, page_str(susp, "by"));
		page_printf(p, " since ");
		page_time(p, (double)json_object_get_int64(jsonutil_get(susp, "time")));
		page_printf(p, ": ");
		page_text(p, page_str(susp, "reason"));
		page_printf(p, "</dd>");
	}
	page_printf(p, "</dl></section>");
}

static void deployments(struct page *p, struct json_object *deps)
{
	size_t n = page_alen(deps);

	page_printf(p, "<h2>Deployment in progress</h2><section id=\"deployments\">");
	if (!n)
		page_printf(p, "<p class=\"note\">None.</p>");
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(deps, i);
		struct json_object *steps = jsonutil_get(d, "steps");

		page_printf(p, "<p class=\"deployment\"><span class=\"spinner\"></span><code>");
		page_text(p, page_str(d, "id"));
		page_printf(p, "</code> step %d of %d (version ",
		            json_object_get_int(jsonutil_get(d, "currentStep")),
		            json_object_get_int(jsonutil_get(d, "totalSteps")));
		page_text(p, page_str(d, "version"));
		page_printf(p, ")</p><ol>");
		for (size_t k = 0; k < page_alen(steps); k++) {
			struct json_object *acts =
			    jsonutil_get(json_object_array_get_idx(steps, k), "actions");

			page_printf(p, "<li>");
			for (size_t j = 0; j < page_alen(acts); j++) {
				struct json_object *x = json_object_array_get_idx(acts, j);

				page_text(p, page_str(x, "action"));
				page_printf(p, " <code>");
				page_text(p, page_str(x, "app"));
				page_printf(p, "</code> ");
			}
			page_printf(p, "</li>");
		}
		page_printf(p, "</ol>");
	}
	page_printf(p, "</section>");
}

/* Marathon's tasks: host, state, health, started. */
static void tasks(struct page *p, struct json_object *list)
{
	size_t n = page_alen(list);

	page_printf(p, "<h2>Tasks</h2><section><table id=\"tasks\"><thead><tr><th>Task</th>"
	               "<th>Host</th><th>State</th><th>Health</th><th>Started</th>"
	               "<th>Version</th></tr></thead><tbody>");
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(list, i);
		struct json_object *hc = jsonutil_get(t, "healthCheckResults");
		size_t alive = 0, nhc = page_alen(hc);

		for (size_t k = 0; k < nhc; k++)
			alive += json_object_get_boolean(
			    jsonutil_get(json_object_array_get_idx(hc, k), "alive"));
		page_printf(p, "<tr class=\"task\" data-task-id=\"");
		page_text(p, page_str(t, "id"));
		page_printf(p, "\"><td class=\"mono\">");
		page_text(p, page_str(t, "id"));
		page_printf(p, "</td><td>");
		page_text(p, page_str(t, "host"));
		page_printf(p, "</td><td>");
		page_text(p, page_str(t, "state"));
		page_printf(p, "</td><td>%s</td><td>",
		            !nhc ? "no health checks" : alive == nhc ? "healthy" : "unhealthy");
		page_text(p, page_str(t, "startedAt") ? page_str(t, "startedAt") : "-");
		page_printf(p, "</td><td class=\"mono\">");
		page_text(p, page_str(t, "version"));
		page_printf(p, "</td></tr>");
	}
	if (!n)
		page_printf(p, "<tr><td colspan=\"6\" class=\"note\">No task.</td></tr>");
	page_printf(p, "</tbody></table></section>");
}

/* A JSON value as compact text (NULL: "absent"), escaped. */
static void value(struct page *p, struct json_object *v, const char *cls)
{
	page_printf(p, "<pre class=\"%s\">", cls);
	page_text(p, v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
	                                                       JSON_C_TO_STRING_NOSLASHESCAPE)
	               : "(absent)");
	page_printf(p, "</pre>");
}

static void side(struct page *p, const char *title, struct json_object *def,
                 const char *const *marked, size_t n)
{
	page_printf(p, "<div><h3>%s</h3><pre>", title);
	if (def && !p->err)
		p->err = html_json(&p->b, def, marked, n);
	else
		page_printf(p, "<span class=\"note\">(none)</span>");
	page_printf(p, "</pre></div>");
}

/* The plan's item for the app: its changes field by field, then both sides with them marked. */
static void diff(struct page *p, struct json_object *row)
{
	struct json_object *d = jsonutil_get(row, "diff"), *ch = jsonutil_get(d, "changes");
	size_t n = page_alen(ch);
	const char **marked = calloc(n + 1, sizeof(*marked));

	page_printf(p, "<h2>Desired vs live</h2><section id=\"diff\"><p>Plan: <b id=\"plan-action\">");
	page_text(p, d ? page_str(d, "action") : "none");
	page_printf(p, "</b>");
	if (page_str(d, "file")) {
		page_printf(p, " · file <code>");
		page_text(p, page_str(d, "file"));
		page_printf(p, "</code>");
	}
	page_printf(p, "</p>");
	if (n) {
		page_printf(p, "<table id=\"changes\"><thead><tr><th>Field</th><th>Live</th>"
		               "<th>Desired</th></tr></thead><tbody>");
		for (size_t i = 0; i < n; i++) {
			struct json_object *c = json_object_array_get_idx(ch, i);

			if (marked)
				marked[i] = page_str(c, "path");
			page_printf(p, "<tr class=\"change\"><td class=\"mono\">");
			page_text(p, page_str(c, "path"));
			page_printf(p, "</td><td>");
			value(p, jsonutil_get(c, "old"), "old");
			page_printf(p, "</td><td>");
			value(p, jsonutil_get(c, "new"), "new");
			page_printf(p, "</td></tr>");
		}
		page_printf(p, "</tbody></table>");
	} else {
		page_printf(p, "<p class=\"note\">No difference in the fields pacer manages.</p>");
	}
	page_printf(p, "<div class=\"sides\">");
	side(p, "Desired (source)", jsonutil_get(row, "desired") ? jsonutil_get(row, "desired")
	                                                         : jsonutil_get(d, "definition"),
	     marked, marked ? n : 0);
	side(p, "Live (Marathon)", jsonutil_get(row, "live"), marked, marked ? n : 0);
	page_printf(p, "</div></section>");
	free(marked);
}

static void app_history(struct page *p, struct json_object *runs)
{
	size_t n = page_alen(runs);

	page_printf(p, "<h2>History of this app</h2><section><table id=\"app-history\"><thead><tr>"
	               "<th>Finished</th><th>Trigger</th><th>Commit</th><th>Outcome</th>"
	               "<th>Backup</th></tr></thead><tbody>");
	for (size_t i = n; i-- > 0;) {
		struct json_object *run = json_object_array_get_idx(runs, i);
		struct json_object *apps = jsonutil_get(run, "apps");
		struct json_object *a = page_alen(apps) ? json_object_array_get_idx(apps, 0) : NULL;
		const char *backup = page_str(a, "backup");

		page_printf(p, "<tr><td>");
		page_time(p, json_object_get_double(jsonutil_get(run, "end")));
		page_printf(p, "</td><td>");
		page_text(p, page_str(run, "trigger"));
		page_printf(p, "</td><td class=\"mono\">");
		page_text(p, page_str(run, "commit") ? page_str(run, "commit") : "-");
		page_printf(p, "</td><td><b>");
		page_text(p, page_str(a, "outcome"));
		page_printf(p, "</b> ");
		page_text(p, page_str(a, "error"));
		page_printf(p, "</td><td class=\"mono\">");
		page_text(p, backup ? (strrchr(backup, '/') ? strrchr(backup, '/') + 1 : backup) : "-");
		page_printf(p, "</td></tr>");
	}
	if (!n)
		page_printf(p, "<tr><td colspan=\"5\" class=\"note\">Nothing recorded.</td></tr>");
	page_printf(p, "</tbody></table></section>");
}

static void backups(struct page *p, struct json_object *row, const struct console_who *who)
{
	struct json_object *list = jsonutil_get(row, "backups");
	size_t n = page_alen(list);

	page_printf(p, "<h2>Backups</h2><section><table id=\"backups\"><thead><tr><th>Backup</th>"
	               "<th>Taken</th><th></th></tr></thead><tbody>");
	for (size_t i = n; i-- > 0;) {
		struct json_object *b = json_object_array_get_idx(list, i);
		struct console_ask a = {CA_ROLLBACK, page_str(row, "id"), page_str(b, "name"), 0};

		page_printf(p, "<tr><td class=\"mono\">");
		page_text(p, page_str(b, "name"));
		page_printf(p, "</td><td>");
		page_text(p, page_str(b, "time"));
		page_printf(p, "</td><td class=\"actions\">");
		button(p, &a, who, "");
		page_printf(p, "</td></tr>");
	}
	if (!n)
		page_printf(p, "<tr><td colspan=\"3\" class=\"note\">No backup: pacer backs an app "
		               "up before it changes it.</td></tr>");
	page_printf(p, "</tbody></table></section>");
}

void console_app(struct page *p, struct json_object *row, const struct console_who *who)
{
	page_printf(p, "<h1 id=\"app-id\">");
	page_text(p, page_str(row, "id"));
	page_printf(p, "</h1>");
	summary(p, row);
	app_actions(p, row, who);
	deployments(p, jsonutil_get(row, "deployments"));
	tasks(p, jsonutil_get(row, "tasks_live"));
	diff(p, row);
	app_history(p, jsonutil_get(row, "history"));
	backups(p, row, who);
}

/* "Restart /shop/api": what the action is about to do, in words. */
static void ask_title(struct page *p, const struct console_ask *a)
{
	page_printf(p, "%s ", actions[a->action].label);
	if (a->app) {
		page_printf(p, "<code>");
		page_text(p, a->app);
		page_printf(p, "</code>");
	} else {
		page_printf(p, "every app");
	}
	if (a->action == CA_SCALE)
		page_printf(p, " to %d instances", a->instances);
	if (a->backup) {
		page_printf(p, " to <code>");
		page_text(p, a->backup);
		page_printf(p, "</code>");
	}
}

void console_confirm(struct page *p, const struct console_ask *a, const struct console_who *who,
                     const char *error)
{
	page_printf(p, "<h1>Confirm</h1><section><p id=\"question\">");
	ask_title(p, a);
	page_printf(p, "?</p><p>This will %s.</p>", actions[a->action].what);
	if (error) {
		page_printf(p, "<div class=\"msg err\" id=\"error\">");
		page_text(p, error);
		page_printf(p, "</div>");
	}
	page_printf(p, "<form method=\"post\" class=\"confirm actions\" action=\"/action/%s\">",
	            actions[a->action].name);
	ask_fields(p, a, who);
	page_printf(p, "<input type=\"hidden\" name=\"confirmed\" value=\"1\">");
	if (a->action == CA_SCALE)
		page_printf(p, "<input type=\"hidden\" name=\"instances\" value=\"%d\">", a->instances);
	if (a->action == CA_DELETE)
		page_printf(p, "<label for=\"confirm-id\">Type the app id to delete it:</label>"
		               "<input type=\"text\" id=\"confirm-id\" name=\"confirm_id\" "
		               "autocomplete=\"off\" required>");
	page_printf(p, "<button type=\"submit\" id=\"confirm\" class=\"%s\">%s</button>",
	            a->action == CA_DELETE ? "danger" : "primary", actions[a->action].label);
	page_printf(p, "<a class=\"button\" id=\"cancel\" href=\"");
	if (a->app)
		page_app_href(p, a->app);
	else
		page_printf(p, "/");
	page_printf(p, "\">Cancel</a></form><p id=\"progress\" class=\"msg info hidden\">"
	               "<span class=\"spinner\"></span>Working: pacer waits for Marathon to "
	               "finish (up to 5 minutes)…</p></section>");
}

void console_result(struct page *p, const struct console_ask *a, unsigned status,
                    struct json_object *reply, const char *msg)
{
	int ok = status >= 200 && status < 300;
	const char *err = page_str(reply, "error");

	page_printf(p, "<h1>%s</h1><div class=\"msg %s\" id=\"result\" data-status=\"%s\"><p>",
	            ok ? "Done" : "Failed", ok ? "ok" : "err", ok ? "done" : "failed");
	ask_title(p, a);
	page_printf(p, ": <b>%s</b></p>", ok ? (status == 202 ? "queued" : "done") : "failed");
	if (msg || err) {
		page_printf(p, "<p>");
		page_text(p, msg ? msg : err);
		page_printf(p, "</p>");
	}
	if (page_str(reply, "deployment")) {
		page_printf(p, "<p>Deployment <code>");
		page_text(p, page_str(reply, "deployment"));
		page_printf(p, "</code></p>");
	}
	if (page_str(reply, "backup")) {
		page_printf(p, "<p>Backup taken first: <code>");
		page_text(p, page_str(reply, "backup"));
		page_printf(p, "</code></p>");
	}
	page_printf(p, "</div><p><a id=\"back\" href=\"");
	if (a->app && a->action != CA_DELETE)
		page_app_href(p, a->app);
	else
		page_printf(p, "/");
	page_printf(p, "\">Back</a></p>");
}
