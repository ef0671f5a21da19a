/*
 * console.c: the HTTP side of the web console (console.h): routing,
 * sessions, the checks every request passes, and the answers.
 *
 * Reads and actions are calls of the API's handler made on an API thread
 * (serve__api_start()) as the session's token: what the console shows and
 * does is what the API shows and does, under the same lock and with the
 * same history; the console only renders it.
 */
#include "cmd/pacer/console.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/console_assets.h"
#include "cmd/pacer/console_events.h"
#include "cmd/pacer/console_html.h"
#include "cmd/pacer/console_int.h"
#include "cmd/pacer/serve_api.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"
#include "reconcile/model/appid.h"

#define COOKIE "pacer_session"
#define FORM_MAX (16u * 1024u)
#define CONSOLE_LOCK_WAIT_S 2 /* a page waits this long for a sync in progress */

/* No script but ours, no style but ours, no frame, no form elsewhere. */
#define CSP                                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                \
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

struct console {
	struct serve *s;
	struct console_sessions *sessions;
	struct console_events *events;
};

enum creq_kind { CR_LOGIN, CR_LOGOUT, CR_ACTION, CR_OVERVIEW, CR_APP, CR_HISTORY };

struct console_req {
	enum creq_kind kind;
	struct console_who who;
	struct console_ask ask;
	char *app, *backup; /* ask's strings */
	char *q, *state;    /* the overview's filters */
	int secure;         /* came over TLS (a proxy's X-Forwarded-Proto: https) */
};

int console_new(struct console **out, struct serve *s, struct pacer_error **err)
{
	struct console *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c || console_sessions_new(&c->sessions) || console_events_new(&c->events, s)) {
		console_free(c);
		return pacer_error_set(err, PACER_EGENERIC, "console: out of memory");
	}
	c->s = s;
	*out = c;
	return 0;
}

void console_stop(struct console *c)
{
	if (c)
		console_events_stop(c->events);
}

void console_free(struct console *c)
{
	if (!c)
		return;
	console_events_free(c->events);
	console_sessions_free(c->sessions);
	free(c);
}

int console_route(const char *url)
{
	static const char *const exact[] = {"/", "/login", "/logout", "/history", "/events"};

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (!strcmp(url, exact[i]))
			return 1;
	return !strncmp(url, "/app/", 5) || !strncmp(url, "/assets/", 8) ||
	       !strncmp(url, "/action/", 8);
}

/* ---- answers ------------------------------------------------------------- */

static void secure_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
}

/* Send body (owned, freed by MHD; NULL: 500) with the console's headers. */
static enum MHD_Result send_owned(struct MHD_Connection *c, unsigned status, const char *type,
                                  char *body, const char *cookie, const char *location)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!body)
		return MHD_NO;
	r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	secure_headers(r);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (cookie)
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	if (location)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* A page: body (released here) in the layout. */
static enum MHD_Result send_page(struct MHD_Connection *c, unsigned status, struct page *body,
                                 const char *title, const struct console_who *who,
                                 const char *cookie)
{
	char *html = page_finish(body, title, who);

	page_release(body);
	if (!html)
		return send_owned(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
		                  strdup("the page could not be rendered (out of memory)\n"), NULL,
		                  NULL);
	return send_owned(c, status, "text/html; charset=utf-8", html, cookie, NULL);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg,
                                  const struct console_who *who)
{
	struct page p;

	page_init(&p);
	console_error(&p, status, msg);
	return send_page(c, status, &p, "Error", who, NULL);
}

static enum MHD_Result redirect(struct MHD_Connection *c, const char *to, const char *cookie)
{
	return send_owned(c, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8", strdup("see other\n"),
	                  cookie, to);
}

static enum MHD_Result send_asset(struct MHD_Connection *c, const char *name)
{
	const struct console_asset *a = console_asset_find(name);
	const char *dot = strrchr(name, '.');
	struct MHD_Response *r;
	enum MHD_Result ret;

	/* The templates are the server's, not files to hand out. */
	if (!a || !dot || !strcmp(dot, ".html"))
		return send_error(c, MHD_HTTP_NOT_FOUND, "no such asset", NULL);
	r = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	secure_headers(r);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        !strcmp(dot, ".css")  ? "text/css; charset=utf-8"
	                        : !strcmp(dot, ".js") ? "text/javascript; charset=utf-8"
	                                              : "application/octet-stream");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "private, max-age=300");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- checks -------------------------------------------------------------- */

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static int over_tls(struct MHD_Connection *c)
{
	const char *p = header(c, "X-Forwarded-Proto");

	return p && !strcasecmp(p, "https");
}

/* s is "http://HOST" or "https://HOST" followed by end (exact) or by '/'. */
static int is_origin(const char *s, const char *host, int exact)
{
	size_t hl = strlen(host);

	if (!strncmp(s, "https://", 8))
		s += 8;
	else if (!strncmp(s, "http://", 7))
		s += 7;
	else
		return 0;
	if (strncmp(s, host, hl))
		return 0;
	return exact ? s[hl] == '\0' : s[hl] == '/';
}

/* A POST from the console's own pages: Origin (else Referer) names the Host it came to. */
static int same_origin(struct MHD_Connection *c)
{
	const char *host = header(c, MHD_HTTP_HEADER_HOST);
	const char *origin = header(c, "Origin"), *referer = header(c, MHD_HTTP_HEADER_REFERER);

	if (!host || !*host)
		return 0;
	if (origin)
		return is_origin(origin, host, 1);
	return referer && is_origin(referer, host, 0);
}

/* The session of the request's cookie: 1 and *who, or 0. */
static int session_of(struct console *k, struct MHD_Connection *c, struct console_who *who)
{
	char *id = cookie_get(header(c, MHD_HTTP_HEADER_COOKIE), COOKIE);
	int ok = id && console_session_find(k->sessions, id, pacer_now_s(), who);

	if (id)
		OPENSSL_cleanse(id, strlen(id));
	free(id);
	return ok;
}

static int body_too_large(struct MHD_Connection *c)
{
	const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return cl && strtoull(cl, NULL, 10) > FORM_MAX;
}

/* A request whose body is read, or whose API call is to run. */
static enum MHD_Result new_req(struct serve *s, struct MHD_Connection *c, enum creq_kind kind,
                               const struct console_who *who, struct serve_req **out)
{
	struct serve_req *r = calloc(1, sizeof(*r));
	struct console_req *cr = calloc(1, sizeof(*cr));

	if (!r || !cr) {
		free(r);
		free(cr);
		return MHD_NO;
	}
	cr->kind = kind;
	if (who)
		cr->who = *who;
	cr->secure = over_tls(c);
	r->console = cr;
	r->s = s;
	r->conn = c;
	r->via = "console";
	pacer_buf_init(&r->body, FORM_MAX);
	*out = r;
	return MHD_YES;
}

/* ---- the first call: headers only ---------------------------------------- */

/* POST /action/<verb>: signed in, allowed for the role, from our origin. */
static enum MHD_Result begin_action(struct serve *s, struct MHD_Connection *c, const char *verb,
                                    const struct console_who *who, int signed_in,
                                    struct serve_req **r)
{
	int a = console_action_parse(verb);
	enum MHD_Result ret;
	char msg[160];

	if (a < 0)
		return send_error(c, MHD_HTTP_NOT_FOUND, "no such action", signed_in ? who : NULL);
	if (!signed_in)
		return send_error(c, MHD_HTTP_UNAUTHORIZED, "sign in first (your session ended)",
		                  NULL);
	if (who->role < console_action_role((enum console_action)a)) {
		PLOG_WARN("console: token=%s role=%s denied action=%s: needs %s", who->name,
		          token_role_name(who->role), verb,
		          token_role_name(console_action_role((enum console_action)a)));
		snprintf(msg, sizeof(msg), "%s needs the role %s; you are %s", verb,
		         token_role_name(console_action_role((enum console_action)a)),
		         token_role_name(who->role));
		return send_error(c, MHD_HTTP_FORBIDDEN, msg, who);
	}
	if (!same_origin(c))
		return send_error(c, MHD_HTTP_FORBIDDEN,
		                  "this request did not come from the console's own pages "
		                  "(Origin or Referer missing or foreign)",
		                  who);
	if (body_too_large(c))
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "form too large", who);
	ret = new_req(s, c, CR_ACTION, who, r);
	if (*r)
		(*r)->console->ask.action = (enum console_action)a;
	return ret;
}

/* GET of a page: "/", "/history", "/app/<id>". */
static enum MHD_Result begin_page(struct serve *s, struct MHD_Connection *c, const char *url,
                                  const struct console_who *who, struct serve_req **r)
{
	struct pacer_error *err = NULL;
	char *id = NULL;
	enum MHD_Result ret;

	if (!strncmp(url, "/app/", 5)) {
		id = appid_resolve("/", url + 5);
		if (!id || !strcmp(id, "/") || appid_check(id, &err)) {
			ret = send_error(c, MHD_HTTP_BAD_REQUEST,
			                 err ? err->message : "the URL names no app id", who);
			pacer_error_free(err);
			free(id);
			return ret;
		}
	}
	ret = new_req(s, c, id ? CR_APP : !strcmp(url, "/") ? CR_OVERVIEW : CR_HISTORY, who, r);
	if (!*r) {
		free(id);
		return ret;
	}
	(*r)->console->app = id;
	if ((*r)->console->kind == CR_OVERVIEW) {
		const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "q");
		const char *st = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");

		(*r)->console->q = q && *q ? strdup(q) : NULL;
		(*r)->console->state = st && *st ? strdup(st) : NULL;
	}
	return ret;
}

enum MHD_Result console_begin(struct serve *s, struct MHD_Connection *c, const char *url,
                              const char *method, struct serve_req **r)
{
	struct console *k = s->console;
	struct console_who who;
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	int post = !strcmp(method, "POST"), in;

	*r = NULL;
	if (!k)
		return send_owned(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8",
		                  strdup("the web console is off: start pacer serve with "
		                         "--tokens-file FILE (the API's tokens sign in)\n"),
		                  NULL, NULL);
	if (!strncmp(url, "/assets/", 8) && get)
		return send_asset(c, url + 8);
	in = session_of(k, c, &who);
	if (!strncmp(url, "/action/", 8) && post)
		return begin_action(s, c, url + 8, &who, in, r);
	if ((!strcmp(url, "/login") || !strcmp(url, "/logout")) && post) {
		if (!same_origin(c))
			return send_error(c, MHD_HTTP_FORBIDDEN,
			                  "this request did not come from the console's own pages", NULL);
		if (body_too_large(c))
			return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "form too large", NULL);
		return new_req(s, c, !strcmp(url, "/login") ? CR_LOGIN : CR_LOGOUT, in ? &who : NULL, r);
	}
	if (!get)
		return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed here",
		                  in ? &who : NULL);
	if (!strcmp(url, "/login")) {
		struct page p;

		if (in)
			return redirect(c, "/", NULL);
		page_init(&p);
		console_login(&p, NULL);
		return send_page(c, MHD_HTTP_OK, &p, "Sign in", NULL, NULL);
	}
	if (!in)
		return !strcmp(url, "/events")
		           ? send_error(c, MHD_HTTP_UNAUTHORIZED, "sign in first", NULL)
		           : redirect(c, "/login", NULL);
	if (!strcmp(url, "/events"))
		return console_events_open(k->events, c);
	return begin_page(s, c, url, &who, r);
}

/* ---- the last call: body read -------------------------------------------- */

static char *field(struct serve_req *r, const char *name)
{
	return form_get(r->body.ptr, r->body.len, name);
}

static enum MHD_Result login_failed(struct MHD_Connection *c, const char *why)
{
	struct page p;

	page_init(&p);
	console_login(&p, why);
	return send_page(c, MHD_HTTP_UNAUTHORIZED, &p, "Sign in", NULL, NULL);
}

/* POST /login token=...: the token is checked as the API checks it, then wiped. */
static enum MHD_Result do_login(struct serve *s, struct MHD_Connection *c, struct serve_req *r)
{
	struct console_who who;
	char *tok = field(r, "token"), *bearer = NULL, id[CONSOLE_SESSION_ID_LEN + 1], cookie[256];
	const char *name = NULL;
	enum token_role role = TOKEN_NONE;
	double now = pacer_now_s();

	if (tok && *tok && asprintf(&bearer, "Bearer %s", tok) > 0)
		role = tokens_check(s->tokens, bearer, &name);
	if (bearer)
		OPENSSL_cleanse(bearer, strlen(bearer));
	if (tok)
		OPENSSL_cleanse(tok, strlen(tok));
	OPENSSL_cleanse(r->body.ptr, r->body.len);
	free(bearer);
	free(tok);
	if (role == TOKEN_NONE) {
		PLOG_WARN("console: sign-in refused: unknown token");
		return login_failed(c, "That token is not in the tokens file.");
	}
	if (console_session_open(s->console->sessions, name, role, now, id, &who))
		return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "no randomness for a session",
		                  NULL);
	/* The browser keeps it for the session's longest life; the server ends it sooner when idle. */
	snprintf(cookie, sizeof(cookie), COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
	         id, CONSOLE_SESSION_MAX_S, r->console->secure ? "; Secure" : "");
	OPENSSL_cleanse(id, sizeof(id));
	PLOG_INFO("console: token=%s role=%s signed in", who.name, token_role_name(who.role));
	return redirect(c, "/", cookie);
}

/* The form's CSRF token is the session's. */
static int csrf_ok(struct serve_req *r)
{
	char *sent = field(r, "csrf");
	int ok = console_csrf_ok(r->console->who.csrf, sent);

	free(sent);
	return ok;
}

static enum MHD_Result do_logout(struct serve *s, struct MHD_Connection *c, struct serve_req *r)
{
	char *id = cookie_get(header(c, MHD_HTTP_HEADER_COOKIE), COOKIE);
	const char *clear = COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";

	if (id && r->console->who.name[0] && csrf_ok(r)) {
		console_session_close(s->console->sessions, id);
		PLOG_INFO("console: token=%s signed out", r->console->who.name);
	}
	free(id);
	return redirect(c, "/login", clear);
}

/* The call a confirmed action makes: op and body. */
static void action_call(struct serve_req *r)
{
	struct console_req *cr = r->console;
	struct json_object *b = json_object_new_object();
	static const enum serve_api_op ops[CA_COUNT] = {
	    [CA_SYNC] = SERVE_API_SYNC,        [CA_RESTART] = SERVE_API_RESTART,
	    [CA_CANCEL] = SERVE_API_CANCEL,    [CA_SCALE] = SERVE_API_SCALE,
	    [CA_STOP] = SERVE_API_SCALE,       [CA_SUSPEND] = SERVE_API_SUSPEND,
	    [CA_RESUME] = SERVE_API_RESUME,    [CA_ROLLBACK] = SERVE_API_ROLLBACK,
	    [CA_DELETE] = SERVE_API_DELETE,
	};
	char why[160];

	r->op = ops[cr->ask.action];
	if (cr->ask.action == CA_SCALE || cr->ask.action == CA_STOP)
		json_object_object_add(b, "instances", json_object_new_int(cr->ask.instances));
	if (cr->ask.backup)
		json_object_object_add(b, "backup", json_object_new_string(cr->ask.backup));
	if (cr->ask.action == CA_SUSPEND) {
		snprintf(why, sizeof(why), "suspended in the console by %s", cr->who.name);
		json_object_object_add(b, "reason", json_object_new_string(why));
	}
	r->body_json = b;
}

/* Read the action's fields into r->console->ask; 0, or an error message (static). */
static const char *action_fields(struct serve_req *r)
{
	struct console_req *cr = r->console;
	struct pacer_error *err = NULL;
	char *app = field(r, "app"), *n = NULL;
	const char *bad = NULL;

	if (app && *app) {
		cr->app = appid_resolve("/", app);
		if (!cr->app || appid_check(cr->app, &err))
			bad = "the form names no valid app id";
		pacer_error_free(err);
	} else if (cr->ask.action != CA_SYNC) {
		bad = "the form names no app";
	}
	free(app);
	cr->ask.app = cr->app;
	if (cr->ask.action == CA_SCALE) {
		char *end = NULL;
		long v;

		n = field(r, "instances");
		v = n ? strtol(n, &end, 10) : -1;
		if (!n || end == n || *end || v < 0 || v > 100000)
			bad = "instances must be a number from 0 to 100000";
		cr->ask.instances = v < 0 || v > 100000 ? 0 : (int)v;
		free(n);
	}
	if (cr->ask.action == CA_ROLLBACK) {
		cr->backup = field(r, "backup");
		cr->ask.backup = cr->backup;
		if (!cr->backup || !*cr->backup || strchr(cr->backup, '/'))
			bad = "the form names no backup";
	}
	return bad;
}

/* Sync now: a trigger of the server's sync queue, answered at once. */
static enum MHD_Result do_sync(struct serve *s, struct MHD_Connection *c, struct serve_req *r)
{
	struct console_req *cr = r->console;
	const char *only[2] = {cr->app, NULL};
	char reason[RUNNER_REASON_MAX], msg[96];
	unsigned long id;
	struct page p;

	snprintf(reason, sizeof(reason), "console by %s%s", cr->who.name,
	         cr->app ? " (some apps)" : "");
	id = runner_trigger(s->runner, reason, 0, cr->app ? only : NULL);
	PLOG_INFO("console: token=%s action=sync app=%s queued sync=%lu", cr->who.name,
	          cr->app ? cr->app : "-", id);
	snprintf(msg, sizeof(msg), "Sync #%lu is queued; the overview shows its result.", id);
	console_events_poke(s->console->events);
	page_init(&p);
	console_result(&p, &cr->ask, id ? 202 : 503, NULL,
	               id ? msg : "pacer serve is stopping: no sync was queued");
	return send_page(c, id ? MHD_HTTP_ACCEPTED : MHD_HTTP_SERVICE_UNAVAILABLE, &p, "Sync",
	                 &cr->who, NULL);
}

static enum MHD_Result do_action(struct serve *s, struct MHD_Connection *c, struct serve_req *r)
{
	struct console_req *cr = r->console;
	const char *bad;
	char *confirmed, *typed;
	struct page p;
	int go;

	if (!csrf_ok(r)) {
		PLOG_WARN("console: token=%s action=%s refused: CSRF token missing or wrong",
		          cr->who.name, console_action_name(cr->ask.action));
		return send_error(c, MHD_HTTP_FORBIDDEN,
		                  "the form's CSRF token is missing or stale: reload the page", &cr->who);
	}
	if ((bad = action_fields(r)))
		return send_error(c, MHD_HTTP_BAD_REQUEST, bad, &cr->who);
	confirmed = field(r, "confirmed");
	typed = field(r, "confirm_id");
	go = confirmed && !strcmp(confirmed, "1");
	/* Delete: the app id typed in full (with or without its leading slash). */
	if (go && cr->ask.action == CA_DELETE &&
	    !(typed && (!strcmp(typed, cr->app) || !strcmp(typed, cr->app + 1))))
		bad = "type the app id exactly to delete it";
	free(confirmed);
	free(typed);
	if (!go || bad) {
		page_init(&p);
		console_confirm(&p, &cr->ask, &cr->who, bad);
		return send_page(c, bad ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_OK, &p, "Confirm",
		                 &cr->who, NULL);
	}
	if (cr->ask.action == CA_SYNC)
		return do_sync(s, c, r);
	action_call(r);
	r->app_id = strdup(cr->app);
	r->who = cr->who.name;
	r->is_api = 1;
	return serve__api_start(s, r);
}

/* A page's read: the API call it renders. */
static enum MHD_Result start_page(struct serve *s, struct serve_req *r)
{
	struct console_req *cr = r->console;

	r->op = cr->kind == CR_APP ? SERVE_API_APP : cr->kind == CR_HISTORY ? SERVE_API_HISTORY
	                                                                    : SERVE_API_APPS;
	if (cr->app && !(r->app_id = strdup(cr->app)))
		return MHD_NO;
	r->body_json = json_object_new_object();
	if (cr->kind == CR_HISTORY)
		json_object_object_add(r->body_json, "limit", json_object_new_int(200));
	else /* a sync in progress is said at once, not after the API's two minutes */
		json_object_object_add(r->body_json, "lock_wait",
		                       json_object_new_int(CONSOLE_LOCK_WAIT_S));
	/* The overview shows the last list read while a sync runs, and says so. */
	if (cr->kind == CR_OVERVIEW)
		json_object_object_add(r->body_json, "stale_ok", json_object_new_boolean(1));
	r->who = cr->who.name;
	r->is_api = 1;
	return serve__api_start(s, r);
}

void console_syncs_get(struct serve *s, struct console_syncs *out)
{
	runner_status_get(s->runner, 0, &out->st);
	pthread_mutex_lock(&s->mu);
	out->next_run = s->next_run;
	pthread_mutex_unlock(&s->mu);
}

/* The call is done: render its page, or its result. */
static enum MHD_Result answer(struct serve *s, struct MHD_Connection *c, struct serve_req *r)
{
	struct console_req *cr = r->console;
	struct console_syncs sy;
	const char *title = "Apps";
	struct page p;

	page_init(&p);
	if (cr->kind == CR_ACTION) {
		console_events_poke(s->console->events);
		console_result(&p, &cr->ask, r->status, r->reply, NULL);
		return send_page(c, r->status ? r->status : 500, &p, "Result", &cr->who, NULL);
	}
	if (r->status == MHD_HTTP_CONFLICT && cr->kind != CR_HISTORY) {
		console_syncs_get(s, &sy);
		console_busy(&p, &sy, page_str(r->reply, "error"));
		runner_status_release(&sy.st);
		return send_page(c, MHD_HTTP_SERVICE_UNAVAILABLE, &p, "Sync running", &cr->who, NULL);
	}
	if (r->status != MHD_HTTP_OK) {
		console_error(&p, r->status, page_str(r->reply, "error") ? page_str(r->reply, "error")
		                                                         : "the read failed");
		return send_page(c, r->status ? r->status : 500, &p, "Error", &cr->who, NULL);
	}
	if (cr->kind == CR_OVERVIEW) {
		console_syncs_get(s, &sy);
		console_overview(&p, r->reply, &sy, &cr->who, cr->state, cr->q);
		runner_status_release(&sy.st);
		if (json_object_object_get_ex(r->reply, "stale", NULL))
			p.refresh_s = 5; /* without script, the page reloads itself */
	} else if (cr->kind == CR_APP) {
		console_app(&p, r->reply, &cr->who);
		title = cr->app;
	} else {
		console_history(&p, json_object_object_get(r->reply, "runs"));
		title = "History";
	}
	return send_page(c, MHD_HTTP_OK, &p, title, &cr->who, NULL);
}

enum MHD_Result console_finish(struct serve *s, struct MHD_Connection *c, struct serve_req *r)
{
	int phase;

	pthread_mutex_lock(&s->mu);
	phase = r->phase;
	pthread_mutex_unlock(&s->mu);
	if (phase == API_RUNNING)
		return MHD_YES;
	if (phase == API_DONE)
		return answer(s, c, r);
	if (r->too_large)
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "form too large", NULL);
	switch (r->console->kind) {
	case CR_LOGIN:
		return do_login(s, c, r);
	case CR_LOGOUT:
		return do_logout(s, c, r);
	case CR_ACTION:
		return do_action(s, c, r);
	default:
		break;
	}
	return start_page(s, r);
}

void console_release(struct serve_req *r)
{
	struct console_req *cr = r->console;

	if (!cr)
		return;
	free(cr->app);
	free(cr->backup);
	free(cr->q);
	free(cr->state);
	OPENSSL_cleanse(cr, sizeof(*cr));
	free(cr);
	if (r->body.ptr)
		OPENSSL_cleanse(r->body.ptr, r->body.alloc);
	r->console = NULL;
}
