/*
 * console_int.h: what the files of the web console share (console.c the
 * HTTP side, console_pages.c and console_app.c the pages, console_events.c
 * the live updates). Not for other files.
 */
#ifndef PACER_CMD_CONSOLE_INT_H
#define PACER_CMD_CONSOLE_INT_H

#include <json-c/json.h>

#include "cmd/pacer/console_session.h"
#include "cmd/pacer/runner.h"
#include "reconcile/base/buf.h"

#define CONSOLE_PAGE_MAX (8u << 20) /* the largest page rendered */

/* The state words of `pacer status`, in the overview's order. */
#define CONSOLE_NSTATES 8
extern const char *const console_states[CONSOLE_NSTATES];

/* A page being rendered: markup and escaped text, the first failure kept. */
struct page {
	struct pacer_buf b;
	int err;
	int refresh_s; /* > 0: the page reloads itself after that many seconds */
};

void page_init(struct page *p);
void page_release(struct page *p);
/* Markup, as it is: never pass text from outside through fmt's %s. */
void page_printf(struct page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text, HTML-escaped (NULL: nothing). */
void page_text(struct page *p, const char *s);
/* An app id as a URL path, escaped for an attribute: "/app/shop/api". */
void page_app_href(struct page *p, const char *id);
/* A time (Unix seconds; <= 0: "never") as "2026-12-03 02:40:11 UTC". */
void page_time(struct page *p, double t);
/* The state word as a coloured badge with its word ("out of sync"). */
void page_state(struct page *p, const char *state);
/* The session's CSRF token as a hidden field of a form. */
void page_csrf(struct page *p, const struct console_who *who);
/* The length of a when it is an array, else 0 (NULL, absent, another type). */
size_t page_alen(struct json_object *a);
/* The JSON string member key of o, or NULL. */
const char *page_str(struct json_object *o, const char *key);

/*
 * The whole page: layout.html around body (its markup), titled title
 * (text), with who's name, role and logout (NULL: signed out). Returns the
 * markup (caller frees) or NULL when out of memory or body failed.
 */
char *page_finish(struct page *body, const char *title, const struct console_who *who);

/* What the overview says about the syncs of this server. */
struct console_syncs {
	struct runner_status st; /* runner_status_get() without JSON */
	double next_run;         /* wall clock of the next interval sync; 0: none */
};

struct serve;
/* The runner's state and the next interval sync of s (release out->st with runner_status_release()). */
void console_syncs_get(struct serve *s, struct console_syncs *out);

/* The overview's live part (id="live": counts, syncs, the table), for the page and for SSE. */
void console_overview_live(struct page *p, struct json_object *doc,
                           const struct console_syncs *sy, const char *state_filter,
                           const char *text_filter);
/* The overview page around it; q/state: the filter of a GET without script. */
void console_overview(struct page *p, struct json_object *doc, const struct console_syncs *sy,
                      const struct console_who *who, const char *state_filter,
                      const char *text_filter);
/* The history page over GET history's runs. */
void console_history(struct page *p, struct json_object *runs);
/* The app page over GET apps/{id}'s row (api.c). */
void console_app(struct page *p, struct json_object *row, const struct console_who *who);
/* The sign-in page; error: text to show (NULL: none). */
void console_login(struct page *p, const char *error);
/* A read refused because a sync holds the state: what runs, msg (text); the page reloads. */
void console_busy(struct page *p, const struct console_syncs *sy, const char *msg);
/* An error: status and message (text). */
void console_error(struct page *p, unsigned status, const char *msg);

/* An action the console offers (the test contract's data-action words). */
enum console_action {
	CA_SYNC = 0,
	CA_RESTART,
	CA_CANCEL,
	CA_SCALE,
	CA_STOP,
	CA_SUSPEND,
	CA_RESUME,
	CA_ROLLBACK,
	CA_DELETE,
	CA_COUNT
};
const char *console_action_name(enum console_action a);
/* The action called name, or -1. */
int console_action_parse(const char *name);
/* The least role that may run it (the API's). */
enum token_role console_action_role(enum console_action a);

/* What a confirmation or a result page shows of an action's request. */
struct console_ask {
	enum console_action action;
	const char *app;    /* absolute id, or NULL (sync all) */
	const char *backup; /* rollback */
	int instances;      /* scale */
};
/* Ask to confirm (a form posting the same fields with confirmed=1). */
void console_confirm(struct page *p, const struct console_ask *a, const struct console_who *who,
                     const char *error);
/* The outcome: status (HTTP-like: 2xx done) and the API's reply (may be NULL) or msg. */
void console_result(struct page *p, const struct console_ask *a, unsigned status,
                    struct json_object *reply, const char *msg);

#endif
