/*
 * serve_api.c: the /api/v1/ requests of pacer serve (serve_api.h): routing,
 * authentication, bounded bodies, and running calls off the event loop.
 *
 * A call runs on a detached thread while MHD holds its connection
 * suspended; the thread stores the answer, resumes the connection, and MHD
 * calls the handler again, which answers. The number of threads is
 * counted under the server's mutex: serve_free() and a graceful stop wait
 * for it to reach 0, since MHD must not stop with suspended connections.
 */
#include "cmd/pacer/serve_api.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/serve_http_int.h"
#include "reconcile/base/log.h"
#include "reconcile/model/appid.h"
#include "reconcile/sync.h"

static const char *const op_names[] = {
    [SERVE_API_APPS] = "apps",         [SERVE_API_APP] = "app",
    [SERVE_API_HISTORY] = "history",   [SERVE_API_SYNC] = "sync",
    [SERVE_API_RESTART] = "restart",   [SERVE_API_CANCEL] = "cancel",
    [SERVE_API_SUSPEND] = "suspend",   [SERVE_API_RESUME] = "resume",
    [SERVE_API_ROLLBACK] = "rollback", [SERVE_API_SCALE] = "scale",
    [SERVE_API_DELETE] = "delete",
};

const char *serve_api_op_name(enum serve_api_op op)
{
	return (size_t)op < sizeof(op_names) / sizeof(op_names[0]) ? op_names[op] : "?";
}

enum token_role serve_api_role(enum serve_api_op op)
{
	switch (op) {
	case SERVE_API_APPS:
	case SERVE_API_APP:
	case SERVE_API_HISTORY:
		return TOKEN_VIEWER;
	case SERVE_API_DELETE:
		return TOKEN_ADMIN;
	default:
		break;
	}
	return TOKEN_OPERATOR;
}

/* "shop/api" -> "/shop/api", checked; PACER_EINVALID with *err otherwise. */
static int make_id(const char *rest, size_t len, char **out, struct pacer_error **err)
{
	char *raw = strndup(rest, len), *id = NULL;
	int rc;

	*out = NULL;
	if (!raw)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	id = len ? appid_resolve("/", raw) : NULL;
	free(raw);
	if (!id || !strcmp(id, "/")) {
		free(id);
		return pacer_error_set(err, PACER_EINVALID,
		                       "the URL names no app id: use /api/v1/apps/GROUP/APP");
	}
	rc = appid_check(id, err);
	if (rc) {
		free(id);
		return rc;
	}
	*out = id;
	return 0;
}

/* POST apps/{id}/{verb}: the last segment is the verb. */
static int route_verb(const char *rest, enum serve_api_op *op, char **app_id,
                      struct pacer_error **err)
{
	static const struct {
		const char *verb;
		enum serve_api_op op;
	} verbs[] = {{"restart", SERVE_API_RESTART},   {"cancel", SERVE_API_CANCEL},
	             {"suspend", SERVE_API_SUSPEND},   {"resume", SERVE_API_RESUME},
	             {"rollback", SERVE_API_ROLLBACK}, {"scale", SERVE_API_SCALE}};
	const char *slash = strrchr(rest, '/');

	if (!slash)
		return PACER_ENOTFOUND;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(slash + 1, verbs[i].verb)) {
			*op = verbs[i].op;
			return make_id(rest, (size_t)(slash - rest), app_id, err);
		}
	return PACER_ENOTFOUND;
}

int serve_api_route(const char *method, const char *path, enum serve_api_op *op, char **app_id,
                    struct pacer_error **err)
{
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	size_t len = strlen(path);

	*app_id = NULL;
	if (len && path[len - 1] == '/')
		len--; /* one trailing slash is forgiven */
	if (len == 4 && !strncmp(path, "apps", 4)) {
		*op = SERVE_API_APPS;
		return get ? 0 : PACER_EINVALID;
	}
	if (len == 7 && !strncmp(path, "history", 7)) {
		*op = SERVE_API_HISTORY;
		return get ? 0 : PACER_EINVALID;
	}
	if (len == 4 && !strncmp(path, "sync", 4)) {
		*op = SERVE_API_SYNC;
		return post ? 0 : PACER_EINVALID;
	}
	if (strncmp(path, "apps/", 5) != 0)
		return PACER_ENOTFOUND;
	if (post) {
		char *rest = strndup(path + 5, len - 5);
		int rc;

		if (!rest)
			return pacer_error_set(err, PACER_EGENERIC, "out of memory");
		rc = route_verb(rest, op, app_id, err);
		free(rest);
		return rc;
	}
	if (get || !strcmp(method, "DELETE")) {
		*op = get ? SERVE_API_APP : SERVE_API_DELETE;
		return make_id(path + 5, len - 5, app_id, err);
	}
	return PACER_EINVALID;
}

/* ---- answers ------------------------------------------------------------ */

static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned code, const char *msg)
{
	return serve__respond_status_reason(c, code, "error", "error", msg);
}

/*
 * 401 with WWW-Authenticate, as RFC 6750 asks, so that clients know to
 * send a bearer token; the body says how, never which tokens exist.
 */
static enum MHD_Result respond_401(struct MHD_Connection *c)
{
	const char *body = "{\"status\":\"unauthorized\",\"error\":\"a valid bearer token is "
	                   "needed: Authorization: Bearer TOKEN (a token of the tokens "
	                   "file)\"}";
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"pacer\"");
	ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return ret;
}

/* Who did what: the token's name, never the token; refusals as warnings. */
static void log_call(const struct serve_req *r, unsigned status)
{
	PLOG(status < 400 ? PACER_LOG_INFO : PACER_LOG_WARN, "api: token=%s op=%s app=%s status=%u",
	     r->who ? r->who : "-", serve_api_op_name(r->op), r->app_id ? r->app_id : "-", status);
}

/* ---- the first call: headers only --------------------------------------- */

/* Refuse an announced body over the cap before reading it. */
static int body_too_large(struct MHD_Connection *c)
{
	const char *cl =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end = NULL;
	unsigned long long n;

	if (!cl)
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno || end == cl || n > SERVE_API_MAX_BODY;
}

enum MHD_Result serve__api_begin(struct serve *s, struct MHD_Connection *c, const char *url,
                                 const char *method, struct serve_req **out)
{
	struct pacer_error *err = NULL;
	struct serve_req *r;
	enum serve_api_op op = SERVE_API_APPS;
	enum token_role role, need;
	const char *who = NULL;
	char *app_id = NULL;
	enum MHD_Result ret;
	int rc;

	*out = NULL;
	if (!s->tokens)
		/* How to turn it on is the operator's to read (log, README), not a caller's. */
		return respond_error(c, MHD_HTTP_NOT_FOUND,
		                     "not found: the API is not enabled on this server");
	/* Authenticate first: without a token nothing about the API is told. */
	role = tokens_check(
	    s->tokens,
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION), &who);
	if (role == TOKEN_NONE) {
		PLOG_WARN("api: rejected %s request: missing or unknown bearer token", method);
		return respond_401(c);
	}
	if (strncmp(url, "/api/v1/", 8) != 0)
		return respond_error(c, MHD_HTTP_NOT_FOUND,
		                     "not found: the API is under /api/v1/ (apps, history, sync)");
	rc = serve_api_route(method, url + 8, &op, &app_id, &err);
	if (rc) {
		ret = respond_error(c,
		                    rc == PACER_ENOTFOUND ? MHD_HTTP_NOT_FOUND
		                    : err                 ? MHD_HTTP_BAD_REQUEST
		                                          : MHD_HTTP_METHOD_NOT_ALLOWED,
		                    err ? err->message
		                    : rc == PACER_ENOTFOUND
		                        ? "not found: see GET /api/v1/apps, /api/v1/history, "
		                          "POST /api/v1/sync, POST /api/v1/apps/ID/VERB"
		                        : "this path does not take that method");
		pacer_error_free(err);
		return ret;
	}
	need = serve_api_role(op);
	if (role < need) {
		char msg[160];

		PLOG_WARN("api: token=%s role=%s denied op=%s app=%s: needs %s", who,
		          token_role_name(role), serve_api_op_name(op), app_id ? app_id : "-",
		          token_role_name(need));
		snprintf(msg, sizeof(msg), "%s needs the role %s; the token of %s is %s",
		         serve_api_op_name(op), token_role_name(need), who, token_role_name(role));
		free(app_id);
		return respond_error(c, MHD_HTTP_FORBIDDEN, msg);
	}
	if (body_too_large(c)) {
		free(app_id);
		return respond_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
		                     "request body larger than 64 KiB");
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(app_id);
		return MHD_NO;
	}
	r->is_api = 1;
	r->s = s;
	r->conn = c;
	r->op = op;
	r->app_id = app_id;
	r->who = who;
	pacer_buf_init(&r->body, SERVE_API_MAX_BODY);
	*out = r;
	return MHD_YES;
}

/* ---- the last call: body read ------------------------------------------- */

/* GET history: the query arguments as the call's body. */
static struct json_object *query_body(struct MHD_Connection *c)
{
	struct json_object *o = json_object_new_object();
	const char *app = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "app");
	const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");

	if (app)
		json_object_object_add(o, "app", json_object_new_string(app));
	if (limit) {
		long n = strtol(limit, NULL, 10);

		/* Out of range is "no limit" (0: every run, history_load()). */
		json_object_object_add(o, "limit",
		                       json_object_new_int(n > 0 && n < 100000 ? (int)n : 0));
	}
	return o;
}

static int parse_body(struct serve_req *r, struct pacer_error **err)
{
	enum json_tokener_error jerr = json_tokener_success;

	if (r->op == SERVE_API_HISTORY) {
		r->body_json = query_body(r->conn);
		return 0;
	}
	if (r->body.len == 0)
		return 0;
	r->body_json = json_tokener_parse_verbose(pacer_buf_cstr(&r->body), &jerr);
	if (!r->body_json || !json_object_is_type(r->body_json, json_type_object))
		return pacer_error_set(
		    err, PACER_EINVALID, "the request body must be a JSON object%s%s",
		    jerr != json_tokener_success ? ": " : "",
		    jerr != json_tokener_success ? json_tokener_error_desc(jerr) : "");
	return 0;
}

/* POST sync {"apps": [...]}: a trigger of the sync worker, answered at once. */
static enum MHD_Result run_sync(struct serve *s, struct serve_req *r)
{
	struct json_object *apps = NULL, *o;
	struct pacer_error *err = NULL;
	char **ids = NULL, reason[RUNNER_REASON_MAX];
	size_t n = 0;
	unsigned long id;
	int rc = 0;

	if (r->body_json && json_object_object_get_ex(r->body_json, "apps", &apps) && apps) {
		if (!json_object_is_type(apps, json_type_array) ||
		    json_object_array_length(apps) > SERVE_API_MAX_APPS) {
			log_call(r, 400);
			return respond_error(r->conn, MHD_HTTP_BAD_REQUEST,
			                     "\"apps\" must be an array of at most 256 app ids");
		}
		n = json_object_array_length(apps);
		ids = calloc(n + 1, sizeof(*ids));
		for (size_t i = 0; ids && i < n && !rc; i++) {
			const char *v = json_object_get_string(json_object_array_get_idx(apps, i));

			rc = make_id(v ? v : "", v ? strlen(v) : 0, &ids[i], &err);
		}
		if (!ids || rc) {
			enum MHD_Result ret = respond_error(r->conn, MHD_HTTP_BAD_REQUEST,
			                                    err ? err->message : "out of memory");

			log_call(r, 400);
			pacer_error_free(err);
			pacer_strv_free(ids);
			return ret;
		}
	}
	snprintf(reason, sizeof(reason), "api by %s%s", r->who, n ? " (some apps)" : "");
	id = runner_trigger(s->runner, reason, 0, n ? (const char *const *)ids : NULL);
	log_call(r, 202);
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("queued"));
	json_object_object_add(o, "sync_id", json_object_new_int64((int64_t)id));
	json_object_object_add(o, "apps", n ? json_object_get(apps) : NULL);
	pacer_strv_free(ids);
	return serve__respond_json(r->conn, MHD_HTTP_ACCEPTED, o);
}

static void *api_thread(void *arg)
{
	struct serve_req *r = arg;
	struct serve *s = r->s;
	struct serve_api_call call = {r->op, r->app_id, r->body_json, r->who, r->via};
	struct json_object *reply = NULL;
	unsigned status = s->api_fn(s->api_ctx, &call, &reply);

	log_call(r, status);
	pthread_mutex_lock(&s->mu);
	r->status = status;
	r->reply = reply;
	r->phase = API_DONE;
	pthread_mutex_unlock(&s->mu);
	/* After this, r belongs to MHD's thread again (it may be freed at once). */
	MHD_resume_connection(r->conn);
	pthread_mutex_lock(&s->mu);
	s->api_jobs--;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Hand the call to a thread, the connection suspended meanwhile. */
enum MHD_Result serve__api_start(struct serve *s, struct serve_req *r)
{
	pthread_attr_t attr;
	pthread_t t;
	int busy, rc;

	pthread_mutex_lock(&s->mu);
	busy = s->api_jobs >= SERVE_API_THREADS || s->stopping;
	if (!busy)
		s->api_jobs++;
	pthread_mutex_unlock(&s->mu);
	if (busy) {
		log_call(r, 503);
		return respond_error(r->conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		                     "too many API calls in progress (or stopping): retry later");
	}
	r->phase = API_RUNNING;
	MHD_suspend_connection(r->conn);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, api_thread, r);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return MHD_YES;
	pthread_mutex_lock(&s->mu);
	s->api_jobs--;
	pthread_mutex_unlock(&s->mu);
	r->phase = API_DONE;
	r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	MHD_resume_connection(r->conn);
	return MHD_YES;
}

enum MHD_Result serve__api_finish(struct serve *s, struct MHD_Connection *c, struct serve_req *r)
{
	struct pacer_error *err = NULL;
	enum MHD_Result ret;
	int phase;

	pthread_mutex_lock(&s->mu);
	phase = r->phase;
	pthread_mutex_unlock(&s->mu);
	if (phase == API_RUNNING)
		return MHD_YES; /* a spurious call while suspended: nothing to say yet */
	if (phase == API_DONE) {
		struct json_object *reply = r->reply;

		r->reply = NULL;
		if (!reply)
			return respond_error(c, r->status ? r->status : 500, "the call failed");
		return serve__respond_json(c, r->status, reply);
	}
	if (r->too_large) {
		log_call(r, 413);
		return respond_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
		                     "request body larger than 64 KiB");
	}
	if (parse_body(r, &err)) {
		log_call(r, 400);
		ret = respond_error(c, MHD_HTTP_BAD_REQUEST, err->message);
		pacer_error_free(err);
		return ret;
	}
	if (r->op == SERVE_API_SYNC)
		return run_sync(s, r);
	if (!s->api_fn) {
		log_call(r, 501);
		return respond_error(c, MHD_HTTP_NOT_IMPLEMENTED, "this server has no API handler");
	}
	return serve__api_start(s, r);
}

void serve__api_release(struct serve_req *r)
{
	if (!r->is_api)
		return;
	free(r->app_id);
	json_object_put(r->reply);
	json_object_put(r->body_json);
	r->app_id = NULL;
	r->reply = NULL;
	r->body_json = NULL;
}
