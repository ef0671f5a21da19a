/*
 * serve_http.c: the `pacer serve` HTTP service of serve_http.h (the API's
 * routes are serve_api.c).
 *
 * One event loop in serve_run(): libmicrohttpd in external-epoll mode, so
 * HTTP is served from the thread that calls serve_run() and the loop owns
 * the interval timer and the look at the suspensions file too. Handlers
 * never block: a webhook only triggers the runner (runner.h), whose worker
 * thread runs the syncs; coalescing, supersede and the status of the
 * syncs are the runner's, this file only reports them.
 */
#include "cmd/pacer/serve_http.h"

#include <errno.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backends/webhook/replay.h"
#include "backends/webhook/webhook.h"
#include "cmd/pacer/console.h"
#include "cmd/pacer/filestamp.h"
#include "cmd/pacer/runner.h"
#include "cmd/pacer/serve_http_int.h"
#include "cmd/pacer/serve_tokens.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"
#include "reconcile/base/secret.h"
#include "reconcile/metrics.h"

/* Headers looked at per webhook: more is not a git host, and the list is on the stack. */
#define MAX_HEADERS 128
#define LOOP_TICK_MS 100 /* the longest a stop request waits to be noticed */

/* The wall clock, for the times /status shows (durations use the monotonic clock). */
static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* RFC 3339 in UTC, whole seconds; NULL (JSON null) for "never". */
static struct json_object *json_time(double t)
{
	char tmp[40];
	struct tm tm;
	time_t secs = (time_t)t;

	if (t <= 0 || !gmtime_r(&secs, &tm))
		return NULL;
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(tmp);
}

/* ---- syncs: the runner's ------------------------------------------------ */

/* The runner's sync function: sync_only for some apps when there is one, else sync_fn. */
static int run_sync(void *ctx, const char *reason, const char *const *only,
                    struct json_object **status_out)
{
	struct serve *s = ctx;

	if (only && s->sync_only)
		return s->sync_only(s->ctx, reason, only, status_out);
	return s->sync_fn(s->ctx, reason, status_out);
}

static const char *status_commit(struct json_object *st)
{
	struct json_object *v = NULL;

	if (st &&
	    (json_object_object_get_ex(st, "commit", &v) ||
	     json_object_object_get_ex(st, "revision", &v)) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* hooks.started: the line operators (and tests) follow a sync id by. */
static void sync_started(void *ctx, unsigned long id, const char *reason, int partial)
{
	(void)ctx;
	PLOG_INFO("serve: sync=%lu started reason=\"%s\"%s", id, reason,
	          partial ? " (some apps)" : "");
}

/* hooks.done: record the sync in /metrics, and say how it ended. */
static void sync_done(void *ctx, const struct runner_result *res)
{
	struct serve *s = ctx;
	struct pacer_error *err = NULL;

	if (metrics_record_sync(s->metrics, res->rc, res->status, res->seconds, res->finished,
	                        &err)) {
		PLOG_WARN("serve: sync=%lu could not be recorded in the metrics: %s", res->id,
		          err->message);
		pacer_error_free(err);
	}
	PLOG_INFO("serve: sync=%lu finished result=%s commit=%s seconds=%.3f", res->id,
	          metrics_sync_result(res->rc, res->converged),
	          status_commit(res->status) ? status_commit(res->status) : "-", res->seconds);
}

/* hooks.task_due: an interval tick waits for the poll (under the runner's lock, then mu). */
static long long poll_due(void *ctx)
{
	struct serve *s = ctx;
	int due;

	pthread_mutex_lock(&s->mu);
	due = s->poll_due;
	pthread_mutex_unlock(&s->mu);
	return due ? 0 : -1;
}

/* hooks.task_run: the poll, on the worker, between syncs. */
static void poll_run(void *ctx)
{
	struct serve *s = ctx;

	pthread_mutex_lock(&s->mu);
	s->poll_due = 0;
	pthread_mutex_unlock(&s->mu);
	s->poll(s->poll_ctx, s->runner);
}

/*
 * The queue: one sync at a time, bursts coalesced, a webhook superseding
 * the running sync (serve_options.supersede); no retries of its own: the
 * interval is serve's retry.
 */
static int runner_open(struct serve *s, struct pacer_error **err)
{
	struct runner_options ro = RUNNER_OPTIONS_INIT;

	ro.sync = run_sync;
	ro.ctx = s;
	ro.supersede = s->supersede;
	ro.hooks.ctx = s;
	ro.hooks.started = sync_started;
	ro.hooks.done = sync_done;
	if (s->poll) {
		ro.hooks.task_due = poll_due;
		ro.hooks.task_run = poll_run;
	}
	return runner_new(&s->runner, &ro, err);
}

/* ---- HTTP --------------------------------------------------------------- */

enum MHD_Result serve__respond(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result serve__respond_json(struct MHD_Connection *c, unsigned status,
                                    struct json_object *o)
{
	enum MHD_Result ret;

	if (!o)
		return MHD_NO;
	ret = serve__respond(c, status, "application/json",
	                     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return ret;
}

enum MHD_Result serve__respond_status_reason(struct MHD_Connection *c, unsigned code,
                                             const char *status, const char *key, const char *text)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string(status));
	if (key && text)
		json_object_object_add(o, key, json_object_new_string(text));
	return serve__respond_json(c, code, o);
}

/*
 * Every webhook is counted by provider and result, refused ones too: a
 * secret that differs at the git host shows as a rising "unauthorized".
 */
static void count_hook(struct serve *s, enum webhook_provider p, const char *result)
{
	struct pacer_error *err = NULL;

	if (metrics_record_webhook(s->metrics, webhook_provider_name(p), result, &err)) {
		PLOG_WARN("serve: webhook metrics: %s", err->message);
		pacer_error_free(err);
	}
}

/* The request's headers as webhook.h takes them: key, value, ..., NULL. */
struct header_list {
	const char *kv[2 * MAX_HEADERS + 1];
	size_t n;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
	struct header_list *h = cls;

	(void)kind;
	/* Full: the rest are not looked at (MHD_NO stops the iteration only). */
	if (h->n + 2 >= sizeof(h->kv) / sizeof(h->kv[0]))
		return MHD_NO;
	h->kv[h->n++] = key;
	h->kv[h->n++] = value ? value : "";
	h->kv[h->n] = NULL;
	return MHD_YES;
}

/*
 * The answer to a caller who did not prove the secret. It names nothing of
 * the server's configuration (the log has the details for the operator).
 */
static enum MHD_Result respond_unauthorized(struct MHD_Connection *c)
{
	return serve__respond_status_reason(
	    c, MHD_HTTP_UNAUTHORIZED, "unauthorized", "error",
	    "the webhook's signature is missing or does not match: check the secret configured "
	    "for this webhook at the git host");
}

/*
 * A delivery the server has answered before (webhook_delivery_id(), the
 * same id of the same provider and event): a replay or a redelivery. It
 * is answered 202 "duplicate" and triggers nothing. Returns 1 when it was
 * answered so.
 */
static int hook_duplicate(struct serve *s, struct MHD_Connection *c, const struct serve_req *r,
                          const struct header_list *h, const struct webhook_event *ev,
                          enum MHD_Result *ret)
{
	const char *id = webhook_delivery_id(r->provider, h->kv);
	struct json_object *o;

	if (!id || !s->replay || webhook_replay_check(s->replay, r->provider, ev->event, id) != 1)
		return 0;
	PLOG_INFO("serve: webhook provider=%s event=\"%s\" delivery=%.80s is a duplicate: "
	          "nothing triggered",
	          webhook_provider_name(r->provider), ev->event ? ev->event : "-", id);
	count_hook(s, r->provider, "duplicate");
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("duplicate"));
	json_object_object_add(o, "delivery", json_object_new_string(id));
	*ret = serve__respond_json(c, MHD_HTTP_ACCEPTED, o);
	return 1;
}

/* A verified, understood, new webhook: ping, ignore or trigger. */
static enum MHD_Result hook_act(struct serve *s, struct MHD_Connection *c,
                                const struct serve_req *r, const struct webhook_event *ev)
{
	const char *pname = webhook_provider_name(r->provider);
	char reason[RUNNER_REASON_MAX];
	struct json_object *o;
	unsigned long id;

	if (ev->action == WEBHOOK_PING) {
		PLOG_INFO("serve: webhook provider=%s ping", pname);
		count_hook(s, r->provider, "ignored");
		return serve__respond_status_reason(c, MHD_HTTP_OK, "pong", NULL, NULL);
	}
	if (ev->action == WEBHOOK_IGNORE) {
		PLOG_INFO("serve: webhook provider=%s event=\"%s\" ignored: %s", pname,
		          ev->event ? ev->event : "-", ev->reason);
		count_hook(s, r->provider, "ignored");
		return serve__respond_status_reason(c, MHD_HTTP_ACCEPTED, "ignored", "reason",
		                                    ev->reason);
	}
	snprintf(reason, sizeof(reason), "%s %s", pname, ev->reason);
	id = runner_trigger(s->runner, reason, RUNNER_SUPERSEDE, NULL);
	PLOG_INFO("serve: webhook provider=%s event=\"%s\" commit=%s queued sync=%lu", pname,
	          ev->event ? ev->event : "-", ev->commit ? ev->commit : "-", id);
	count_hook(s, r->provider, "accepted");
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("queued"));
	json_object_object_add(o, "sync_id", json_object_new_int64((int64_t)id));
	return serve__respond_json(c, MHD_HTTP_ACCEPTED, o);
}

/*
 * A webhook whose body is read: verify before parsing (nothing from an
 * unsigned body is looked at), then drop a delivery seen before, then
 * ping, ignore or trigger. A trigger supersedes the running sync: a push
 * announces a newer commit.
 */
static enum MHD_Result handle_hook(struct serve *s, struct MHD_Connection *c, struct serve_req *r)
{
	struct header_list h = {.n = 0};
	struct webhook_event ev = WEBHOOK_EVENT_INIT;
	struct pacer_error *err = NULL;
	const char *pname = webhook_provider_name(r->provider);
	const char *body = pacer_buf_cstr(&r->body);
	enum MHD_Result ret;

	h.kv[0] = NULL;
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &h);

	/* Unsigned hooks pass only when asked for and no secret is set at all. */
	if ((!s->insecure || s->secret) &&
	    webhook_verify(r->provider, h.kv, body, r->body.len, s->secret, &err)) {
		/* The log names the header, never its value or the secret. */
		PLOG_WARN("serve: webhook provider=%s rejected: %s", pname, err->message);
		count_hook(s, r->provider, "unauthorized");
		ret = respond_unauthorized(c);
		goto done;
	}
	/* A git host's own deliveries do not use up its address's rate. */
	serve_guard_give_back(s->guard, c);
	if (webhook_parse(r->provider, h.kv, body, r->body.len, s->branch, &ev, &err)) {
		PLOG_WARN("serve: webhook provider=%s bad request: %s", pname, err->message);
		count_hook(s, r->provider, "bad_request");
		ret = serve__respond_status_reason(c, MHD_HTTP_BAD_REQUEST, "error", "error",
		                                   err->message);
		goto done;
	}
	if (!hook_duplicate(s, c, r, &h, &ev, &ret))
		ret = hook_act(s, c, r, &ev);
done:
	webhook_event_release(&ev);
	pacer_error_free(err);
	return ret;
}

/* The "last_sync" object of /status (last.status borrowed). */
static struct json_object *last_json(const struct runner_result *last)
{
	struct json_object *o = json_object_new_object(), *v = NULL, *copy = NULL;
	const char *commit = status_commit(last->status);

	json_object_object_add(o, "id", json_object_new_int64((int64_t)last->id));
	json_object_object_add(o, "reason", json_object_new_string(last->reason));
	json_object_object_add(
	    o, "result", json_object_new_string(metrics_sync_result(last->rc, last->converged)));
	json_object_object_add(o, "converged", json_object_new_boolean(last->converged));
	json_object_object_add(o, "commit", commit ? json_object_new_string(commit) : NULL);
	json_object_object_add(o, "started", json_time(last->started));
	json_object_object_add(o, "finished", json_time(last->finished));
	json_object_object_add(o, "duration_seconds", json_object_new_double(last->seconds));
	/* The snapshot's copy is this request's alone: share its parts. */
	if (last->status && json_object_object_get_ex(last->status, "apps", &v))
		copy = json_object_get(v);
	json_object_object_add(o, "apps", copy ? copy : json_object_new_array());
	if (last->status && json_object_object_get_ex(last->status, "diagnostics", &v))
		json_object_object_add(o, "diagnostics", json_object_get(v));
	return o;
}

struct json_object *serve_status_json(struct serve *s)
{
	struct json_object *o = json_object_new_object();
	struct runner_status st;
	double next_run;

	runner_status_get(s->runner, 1, &st);
	pthread_mutex_lock(&s->mu);
	next_run = s->next_run;
	pthread_mutex_unlock(&s->mu);
	json_object_object_add(o, "running", json_object_new_boolean(st.running));
	json_object_object_add(o, "running_sync_id",
	                       st.running ? json_object_new_int64((int64_t)st.running_id) : NULL);
	json_object_object_add(o, "queued", json_object_new_boolean(st.pending));
	json_object_object_add(o, "queued_sync_id",
	                       st.pending ? json_object_new_int64((int64_t)st.pending_id) : NULL);
	json_object_object_add(o, "interval_seconds", json_object_new_int(s->interval_s));
	json_object_object_add(o, "next_run", json_time(next_run));
	json_object_object_add(o, "syncs", json_object_new_int64((int64_t)st.nsyncs));
	json_object_object_add(o, "last_success", json_time(st.last_success));
	json_object_object_add(o, "last_sync", st.have_last ? last_json(&st.last) : NULL);
	runner_status_release(&st);
	return o;
}

static int is_stopping(struct serve *s)
{
	int v;

	pthread_mutex_lock(&s->mu);
	v = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return v;
}

static enum MHD_Result handle_get(struct serve *s, struct MHD_Connection *c, const char *url)
{
	unsigned code;
	struct json_object *body = NULL;

	if (s->get_fn && s->get_fn(s->get_ctx, url, &code, &body))
		return serve__respond_json(c, code, body);
	/* While stopping, a load balancer or Marathon's health check learns it. */
	if (strcmp(url, "/healthz") == 0)
		return is_stopping(s) ? serve__respond(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		                                       "text/plain", "stopping\n")
		                      : serve__respond(c, MHD_HTTP_OK, "text/plain", "ok\n");
	if (strcmp(url, "/status") == 0)
		return serve__respond_json(c, MHD_HTTP_OK, serve_status_json(s));
	if (strcmp(url, "/metrics") == 0) {
		struct pacer_buf b = PACER_BUF_INIT;
		enum MHD_Result ret;

		if (metrics_render(s->metrics, &b)) {
			pacer_buf_release(&b);
			return serve__respond(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain",
			                      "metrics could not be rendered (out of memory)\n");
		}
		ret = serve__respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		                     pacer_buf_cstr(&b));
		pacer_buf_release(&b);
		return ret;
	}
	return serve__respond_status_reason(c, MHD_HTTP_NOT_FOUND, "error", "error",
	                                    "not found: try /healthz, /status, /metrics or "
	                                    "POST /hooks/github|gitlab|gitea|generic");
}

static enum MHD_Result too_large(struct serve *s, struct MHD_Connection *c, struct serve_req *r)
{
	char msg[160];

	PLOG_WARN("serve: webhook provider=%s rejected: body larger than %zu bytes",
	          webhook_provider_name(r->provider), s->max_body);
	count_hook(s, r->provider, "too_large");
	snprintf(msg, sizeof(msg),
	         "webhook body larger than %zu bytes: send only push and merge events",
	         s->max_body);
	return serve__respond_status_reason(c, MHD_HTTP_CONTENT_TOO_LARGE, "error", "error", msg);
}

/* 429: this address has used up its rate (serve_guard_take()); the body is not read. */
static enum MHD_Result respond_rate_limited(struct MHD_Connection *c, unsigned retry_s)
{
	char msg[120], secs[16];
	struct json_object *o = json_object_new_object();
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *body;

	snprintf(msg, sizeof(msg), "too many requests from this address: retry in %u s", retry_s);
	snprintf(secs, sizeof(secs), "%u", retry_s);
	json_object_object_add(o, "status", json_object_new_string("error"));
	json_object_object_add(o, "error", json_object_new_string(msg));
	body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	json_object_put(o);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
	ret = MHD_queue_response(c, MHD_HTTP_TOO_MANY_REQUESTS, r);
	MHD_destroy_response(r);
	return ret;
}

/* A webhook's first call (headers only): check the method, refuse an announced oversized body. */
static enum MHD_Result hook_begin(struct serve *s, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
	enum webhook_provider p;
	struct serve_req *r;
	const char *cl;

	if (webhook_provider_parse(url + 7, &p) != 0)
		return serve__respond_status_reason(
		    c, MHD_HTTP_NOT_FOUND, "error", "error",
		    "unknown webhook provider: use /hooks/github, "
		    "/hooks/gitlab, /hooks/gitea or /hooks/generic");
	if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return serve__respond_status_reason(c, MHD_HTTP_METHOD_NOT_ALLOWED, "error",
		                                    "error", "webhooks must be POSTed");
	r = calloc(1, sizeof(*r));
	if (!r)
		return MHD_NO;
	r->provider = p;
	pacer_buf_init(&r->body, s->max_body);
	*con_cls = r;
	/* Refuse an announced oversized body before reading any of it. */
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end = NULL;
		unsigned long long n;

		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno || end == cl || n > s->max_body) {
			r->too_large = 1;
			return too_large(s, c, r);
		}
	}
	return MHD_YES;
}

/* The first call of a request (headers only): route, rate-limit, refuse early. */
static enum MHD_Result route(struct serve *s, struct MHD_Connection *c, const char *url,
                             const char *method, void **con_cls)
{
	int api = strncmp(url, "/api/", 5) == 0 || strcmp(url, "/api") == 0;
	int hook = strncmp(url, "/hooks/", 7) == 0;
	int console = console_route(url), post = !strcmp(method, MHD_HTTP_METHOD_POST);
	unsigned wait;

	/* Only the paths that cost work are rated: /healthz must always answer. The
	 * console's sign-ins and actions are, its page views are not. */
	if ((api || hook || (console && post)) && (wait = serve_guard_take(s->guard, c)) > 0)
		return respond_rate_limited(c, wait);
	if (console) {
		struct serve_req *r = NULL;
		enum MHD_Result ret = console_begin(s, c, url, method, &r);

		*con_cls = r;
		return ret;
	}
	if (api) {
		struct serve_req *r = NULL;
		enum MHD_Result ret = serve__api_begin(s, c, url, method, &r);

		*con_cls = r;
		return ret;
	}
	if (hook)
		return hook_begin(s, c, url, method, con_cls);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return serve__respond_status_reason(c, MHD_HTTP_METHOD_NOT_ALLOWED, "error",
		                                    "error", "only GET is allowed here");
	return handle_get(s, c, url);
}

/*
 * MHD calls this several times per request: first with the headers only
 * (*con_cls NULL: route, refuse early, allocate the request's state),
 * then once per piece of the body, then once more with none (answer).
 * Nothing is parsed before the whole body is there and, for hooks and
 * the API, before it is known to be within bounds. Once a request is
 * answered or its body is in, its deadline no longer runs (serve_guard.h).
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct serve *s = cls;
	struct serve_req *r = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (!r) {
		ret = route(s, c, url, method, con_cls);
		r = *con_cls;
		if (!r || r->too_large)
			serve_guard_request_read(s->guard, c);
		return ret;
	}
	if (*upload_data_size > 0) {
		/* Chunked bodies have no Content-Length: the buffer's cap counts. */
		if (!r->too_large && pacer_buf_add(&r->body, upload_data, *upload_data_size))
			r->too_large = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	serve_guard_request_read(s->guard, c);
	if (r->console)
		return console_finish(s, c, r);
	if (r->is_api)
		return serve__api_finish(s, c, r);
	if (r->too_large)
		return too_large(s, c, r);
	return handle_hook(s, c, r);
}

/* Whatever happened to the request (answered, timed out, client gone): free its state. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct serve *s = cls;
	struct serve_req *r = *con_cls;

	(void)toe;
	/* On a kept-alive connection the next request's deadline starts now. */
	serve_guard_request_done(s->guard, c);
	if (!r)
		return;
	console_release(r);
	serve__api_release(r);
	pacer_buf_release(&r->body);
	free(r);
	*con_cls = NULL;
}

/* Every connection libmicrohttpd opens and closes goes through the guard. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct serve *s = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		serve_guard_started(s->guard, c, socket_context);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		serve_guard_closed(s->guard, socket_context);
}

/* libmicrohttpd's own messages are debugging detail: the requests are logged by the handlers. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char tmp[512];
	size_t n;

	(void)cls;
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	n = strlen(tmp);
	while (n > 0 && tmp[n - 1] == '\n')
		tmp[--n] = '\0';
	PLOG_DEBUG("serve: microhttpd: %s", tmp);
}

/* ---- setup -------------------------------------------------------------- */

/* "IP:PORT", "[IPv6]:PORT", "host:PORT" -> a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, struct pacer_error **err)
{
	char host[256];
	const char *port, *colon;
	struct addrinfo hints = {0}, *res = NULL;
	char *end = NULL;
	long pnum;
	size_t hlen;
	int grc;

	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');

		if (!close || close[1] != ':')
			goto bad;
		hlen = (size_t)(close - listen - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, listen + 1, hlen);
		port = close + 2;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || colon == listen || memchr(listen, ':', (size_t)(colon - listen)))
			goto bad;
		hlen = (size_t)(colon - listen);
		if (hlen >= sizeof(host))
			goto bad;
		memcpy(host, listen, hlen);
		port = colon + 1;
	}
	host[hlen] = '\0';
	errno = 0;
	pnum = strtol(port, &end, 10);
	if (errno || end == port || *end || pnum < 0 || pnum > 65535)
		goto bad;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	grc = getaddrinfo(host, port, &hints, &res);
	if (grc != 0 || !res)
		return pacer_error_set(err, PACER_EINVALID,
		                       "--listen %s: cannot resolve %s: %s: use an IP address "
		                       "such as 127.0.0.1:8090 or [::1]:8090",
		                       listen, host, gai_strerror(grc));
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
bad:
	return pacer_error_set(err, PACER_EINVALID,
	                       "--listen %s: expected ADDRESS:PORT, e.g. 127.0.0.1:8090, "
	                       "[::1]:8090 or 0.0.0.0:8090",
	                       listen);
}

/* What serve_new() refuses before allocating anything. */
static int check_options(const struct serve_options *opts, serve_sync_fn sync_fn,
                         struct pacer_error **err)
{
	if (opts->version != SERVE_OPTIONS_VERSION)
		return pacer_error_set(err, PACER_EINVALID,
		                       "serve: options version %u, this build knows %u",
		                       opts->version, SERVE_OPTIONS_VERSION);
	if (!sync_fn)
		return pacer_error_set(err, PACER_EINVALID, "serve: no sync function");
	if ((!opts->secret || !*opts->secret) && !opts->insecure_no_secret)
		return pacer_error_set(err, PACER_EINVALID,
		                       "pacer serve needs a webhook secret to verify webhooks: set "
		                       "PACER_WEBHOOK_SECRET, or PACER_WEBHOOK_SECRET_FILE to a "
		                       "file holding it, and configure the same secret at the git "
		                       "host (or pass --insecure-no-webhook-secret to accept "
		                       "unsigned webhooks, only on a trusted network)");
	return 0;
}

/* Copy the options into s (strings duplicated). 0, or -1 when out of memory. */
static int copy_options(struct serve *s, const struct serve_options *opts,
                        const struct serve_options *defaults)
{
	s->listen = strdup(opts->listen ? opts->listen : defaults->listen);
	s->secret = opts->secret && *opts->secret ? strdup(opts->secret) : NULL;
	s->branch = opts->branch ? strdup(opts->branch) : NULL;
	s->poke_file = opts->poke_file ? strdup(opts->poke_file) : NULL;
	if (!s->listen || (opts->secret && *opts->secret && !s->secret) ||
	    (opts->branch && !s->branch) || (opts->poke_file && !s->poke_file))
		return -1;
	if (s->secret)
		pacer_log_add_secret(s->secret);
	s->insecure = opts->insecure_no_secret;
	s->max_body = opts->max_body ? opts->max_body : defaults->max_body;
	s->interval_s = opts->interval_s > 0 ? opts->interval_s : 0;
	s->supersede = opts->supersede;
	s->tokens = opts->tokens;
	s->api_fn = opts->api_fn;
	s->api_ctx = opts->api_ctx;
	s->sync_only = opts->sync_only;
	s->poll = opts->poll;
	s->poll_ctx = opts->poll_ctx;
	s->limits = opts->limits;
	s->get_fn = opts->get_fn;
	s->get_ctx = opts->get_ctx;
	return 0;
}

/*
 * Start libmicrohttpd on the listening address, in external-epoll mode:
 * serve_run()'s loop drives it. Suspend/resume lets an API call run on its
 * own thread while the loop goes on.
 */
static int start_daemon(struct serve *s, struct pacer_error **err)
{
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	unsigned idle_s;
	int rc, saved;

	if ((rc = parse_listen(s->listen, &ss, err)))
		return rc;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * The guard (serve_guard.h) cuts a request not read by its deadline and
	 * sheds the oldest unfinished ones over its caps; MHD's own limit sits
	 * above them so that new connections are accepted while the cut ones
	 * close. MHD's idle timeout is left for connections whose answer is
	 * not being read.
	 */
	idle_s = s->limits.request_timeout_ms / 1000 + 1;
	if (idle_s < 30)
		idle_s = 30;
	errno = 0;
	s->daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_CONNECTION_TIMEOUT,
	    idle_s, MHD_OPTION_CONNECTION_LIMIT, serve_guard_mhd_limit(s->guard), MHD_OPTION_END);
	saved = errno;
	if (!s->daemon)
		return pacer_error_set(err, PACER_EIO,
		                       "pacer serve cannot listen on %s: %s: is another service "
		                       "using that port? choose another with --listen",
		                       s->listen, saved ? strerror(saved) : "bind failed");
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	s->epoll_fd = info ? info->epoll_fd : -1;
	if (s->epoll_fd < 0)
		return pacer_error_set(err, PACER_EIO,
		                       "pacer serve: libmicrohttpd has no epoll support on this "
		                       "system: install a libmicrohttpd built with epoll");
	return 0;
}

/* What an operator must know about the service once it listens. */
static void log_started(const struct serve *s)
{
	if (!s->secret)
		PLOG_WARN("serve: webhook signatures are NOT checked "
		          "(--insecure-no-webhook-secret): anyone who can reach %s can trigger "
		          "syncs",
		          s->listen);
	if (s->tokens)
		PLOG_INFO("serve: API /api/v1/ and web console / on, %zu token%s",
		          tokens_count(s->tokens),
		          tokens_count(s->tokens) == 1 ? "" : "s");
	else
		PLOG_INFO("serve: API /api/v1/ off (no --tokens-file)");
	PLOG_INFO("serve: listening on %s (port %d)", s->listen, s->port);
}

int serve_new(struct serve **out, const struct serve_options *opts, serve_sync_fn sync_fn,
              void *ctx, struct pacer_error **err)
{
	static const struct serve_options defaults = SERVE_OPTIONS_INIT;
	struct serve *s = NULL;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if ((rc = check_options(opts, sync_fn, err)))
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return pacer_error_set(err, PACER_EGENERIC, "serve: out of memory");
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->epoll_fd = -1;
	s->sync_fn = sync_fn;
	s->ctx = ctx;
	if (copy_options(s, opts, &defaults)) {
		rc = pacer_error_set(err, PACER_EGENERIC, "serve: out of memory");
		goto done;
	}
	filestamp_changed(s->poke_file, &s->poke); /* as it is now: only later changes trigger */
	if (webhook_replay_new(&s->replay, opts->replay_memory ? opts->replay_memory
	                                                       : defaults.replay_memory)) {
		rc = pacer_error_set(err, PACER_EGENERIC, "serve: out of memory");
		goto done;
	}
	if ((rc = runner_open(s, err)) || (rc = metrics_new_pacer(&s->metrics, err)) ||
	    (rc = serve_guard_new(&s->guard, &s->limits, s->metrics, err)) ||
	    (s->tokens && (rc = console_new(&s->console, s, err))) || (rc = start_daemon(s, err)))
		goto done;
	log_started(s);
done:
	if (rc) {
		serve_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int serve_port(const struct serve *s)
{
	return s ? s->port : 0;
}

struct runner *serve_runner(struct serve *s)
{
	return s->runner;
}

struct metrics *serve_metrics(struct serve *s)
{
	return s->metrics;
}

/* One round of the HTTP event loop: wait up to timeout_ms, then serve. 0 or PACER_EIO. */
static int serve_http(struct serve *s, long long timeout_ms)
{
	struct pollfd pfd = {.fd = s->epoll_fd, .events = POLLIN};
	MHD_UNSIGNED_LONG_LONG mhd_to = 0;

	if (MHD_get_timeout(s->daemon, &mhd_to) == MHD_YES && (long long)mhd_to < timeout_ms)
		timeout_ms = (long long)mhd_to;
	if (poll(&pfd, 1, (int)timeout_ms) < 0 && errno != EINTR) {
		PLOG_ERROR("serve: poll failed: %s", strerror(errno));
		return PACER_EIO;
	}
	if (MHD_run(s->daemon) != MHD_YES) {
		PLOG_ERROR("serve: libmicrohttpd event processing failed");
		return PACER_EIO;
	}
	serve_guard_sweep(s->guard, pacer_now_ms());
	return 0;
}

/*
 * Stop: the sync in flight stops waiting at once (its stop flag is the
 * same signal flag) and hands what it started to the next run through the
 * journal. Meanwhile HTTP keeps being answered, /healthz with 503 "stopping".
 */
static void stop_gracefully(struct serve *s)
{
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_mutex_unlock(&s->mu);
	runner_quit(s->runner, 0);
	for (;;) {
		int done = runner_stopped(s->runner);

		pthread_mutex_lock(&s->mu);
		/* API threads hold suspended connections: MHD must not stop under them. */
		done = done && s->api_jobs == 0;
		pthread_mutex_unlock(&s->mu);
		if (done || serve_http(s, LOOP_TICK_MS))
			break;
	}
}

/* The next interval sync (monotonic ms; 0: none), published for /status as wall clock. */
static long long plan_interval(struct serve *s, long long next, long long now)
{
	if (!s->interval_s)
		return 0;
	/* Skip missed ticks instead of firing a burst after a stall. */
	while (next <= now)
		next += 1000LL * s->interval_s;
	pthread_mutex_lock(&s->mu);
	s->next_run = wall_now() + (next - now) / 1000.0;
	pthread_mutex_unlock(&s->mu);
	return next;
}

/* Serve HTTP until *stop, feeding the runner its interval and the suspensions' changes. */
static int serve_loop(struct serve *s, volatile sig_atomic_t *stop)
{
	long long next_poll = plan_interval(s, pacer_now_ms(), pacer_now_ms());
	int rc = 0;

	while (!(stop && *stop)) {
		long long timeout = LOOP_TICK_MS, now;

		if (next_poll) {
			long long left = next_poll - pacer_now_ms();

			if (left < timeout)
				timeout = left < 0 ? 0 : left;
		}
		if ((rc = serve_http(s, timeout)))
			break;
		if (filestamp_changed(s->poke_file, &s->poke))
			runner_trigger(s->runner, "suspensions changed", 0, NULL);
		now = pacer_now_ms();
		if (next_poll && now >= next_poll && s->poll) {
			/* Not under mu: task_due takes mu under the runner's lock. */
			pthread_mutex_lock(&s->mu);
			s->poll_due = 1;
			pthread_mutex_unlock(&s->mu);
			runner_wake(s->runner);
			next_poll = plan_interval(s, next_poll, now);
		} else if (next_poll && now >= next_poll) {
			runner_trigger(s->runner, "interval", 0, NULL);
			next_poll = plan_interval(s, next_poll, now);
		}
	}
	return rc;
}

int serve_run(struct serve *s, volatile sig_atomic_t *stop)
{
	struct pacer_error *err = NULL;
	int rc;

	if (s->ran)
		return PACER_EINVALID;
	s->ran = 1;
	if (runner_start(s->runner, &err)) {
		PLOG_ERROR("serve: %s", err->message);
		pacer_error_free(err);
		return PACER_EIO;
	}
	runner_trigger(s->runner, "startup", 0, NULL);
	rc = serve_loop(s, stop);
	PLOG_INFO("serve: stopping: a sync in flight stops waiting and leaves its deployments to "
	          "the next run (journal)");
	if (!rc)
		stop_gracefully(s);
	runner_stop(s->runner, 0);
	return rc;
}

void serve_free(struct serve *s)
{
	if (!s)
		return;
	if (s->runner)
		runner_stop(s->runner, 0);
	console_stop(s->console);
	pthread_mutex_lock(&s->mu);
	while (s->api_jobs > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	console_free(s->console);
	serve_guard_free(s->guard); /* after MHD: it closed every connection */
	runner_free(s->runner);
	webhook_replay_free(s->replay);
	metrics_free(s->metrics);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->listen);
	free(s->poke_file);
	pacer_secret_free(s->secret); /* wiped: not left in freed heap memory */
	free(s->branch);
	free(s);
}

/* ---- secret ------------------------------------------------------------- */

int serve_secret_from_env(char **out, struct pacer_error **err)
{
	return pacer_secret_lookup(getenv, "PACER_WEBHOOK_SECRET", PACER_SECRET_REDACT, out, err);
}
