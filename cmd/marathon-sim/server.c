/*
 * server.c: the libmicrohttpd side. Collects request bodies (capped), then
 * for each request: /_sim/ control calls bypass everything; every other
 * request is logged, redirected when we are a standby in redirect mode,
 * matched against injected faults, authenticated, and then proxied to the
 * leader when we are a standby (standby.c) or routed with the state lock
 * held. The answer gets Marathon's leader headers (SPEC.md §1).
 */
#include "cmd/marathon-sim/sim.h"
#include "reconcile/model/appid.h"

#include <json-c/json.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The largest request body accepted: a bulk PUT of 10,000 apps is ~30 MB. */
#define MAX_BODY ((size_t)256 << 20)
/* The simulator's own control API (faults.c), outside Marathon's paths. */
#define SIM_CONTROL_PREFIX "/_sim/"

struct conn_ctx {
	char *uri;       /* raw request URI with query */
	struct pacer_buf body;
	/* The body went over MAX_BODY: the rest was dropped and body released,
	 * so body.len is never more than what body holds. */
	int too_large;
	int started;
};

void *server_uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct conn_ctx *ctx = calloc(1, sizeof(*ctx));

	(void)cls;
	(void)c;
	if (!ctx)
		return NULL;
	ctx->uri = strdup(uri ? uri : "/");
	pacer_buf_init(&ctx->body, MAX_BODY);
	return ctx;
}

void server_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *con_cls;

	(void)toe;
	/* A kept-alive connection's next request has a deadline of its own. */
	guard_request(cls, c, 0);
	if (!ctx)
		return;
	free(ctx->uri);
	pacer_buf_release(&ctx->body);
	free(ctx);
	*con_cls = NULL;
}

/* ------------------------------------------------------------ responses */

void resp_text(struct sim_resp *resp, int status, char *body)
{
	free(resp->body);
	resp->status = status;
	resp->body = body;
}

void resp_json(struct sim_resp *resp, int status, struct json_object *o)
{
	resp_text(resp, status, strdup(sim_json_text(o)));
	json_object_put(o);
}

void resp_message(struct sim_resp *resp, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp_text(resp, status, sim_message_body("%s", msg));
}

int resp_apply(struct sim *s, const struct sim_edit *edits, size_t n, int force,
	       struct sim_result *res, struct sim_resp *resp)
{
	if (sim_apply(s, edits, n, force, res)) {
		resp_text(resp, res->status, res->body);
		return -1;
	}
	free(res->body);
	res->body = NULL;
	return 0;
}

char *resp_resolve_id(struct sim_resp *resp, const char *base, const char *id)
{
	char *abs = appid_resolve(base, id);

	/* Marathon 1.10 stops ".." at the root group; appid_resolve() refuses
	 * it (and appdef answers such an app id 422), so the simulator does too. */
	if (!abs)
		resp_message(resp, 422, "Id '%s' climbs above the root group ('..' too often)",
			     id ? id : "");
	return abs;
}

void resp_deployment(struct sim_resp *resp, int status, const struct sim_result *res)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "deploymentId", json_object_new_string(res->dep_id));
	json_object_object_add(o, "version", json_object_new_string(res->version));
	memcpy(resp->dep_id, res->dep_id, 37);
	resp_json(resp, status, o);
}

/* --------------------------------------------------------------- routing */

void server_route(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	if (!strcmp(r->path, "/v2/apps") || sim_after_prefix(r->path, "/v2/apps/"))
		api_apps(s, r, resp);
	else
		api_misc(s, r, resp);
}

/* The scheme of basic auth, as cfg.basic_auth starts; clients may spell it in any case. */
#define BASIC "Basic "

static int auth_ok(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
	const char *cred;

	if (s->cfg.basic_auth) {
		if (h && !strncasecmp(h, BASIC, strlen(BASIC)) &&
		    !strcmp(h + strlen(BASIC), s->cfg.basic_auth + strlen(BASIC)))
			return 1;
		resp_text(resp, 401,
			  strdup("<html><head><title>Error 401 Unauthorized</title></head><body><h2>HTTP ERROR 401</h2>"
				 "<p>Problem accessing the Marathon API. Reason: Unauthorized (send HTTP basic credentials)"
				 "</p></body></html>"));
		resp->ctype = "text/html;charset=iso-8859-1";
		resp->www_auth = 1;
		return 0;
	}
	if (s->cfg.token) {
		if (h && (cred = sim_after_prefix(h, "token=")) && !strcmp(cred, s->cfg.token))
			return 1;
		resp_message(resp, 401, "Invalid username or password.");
		return 0;
	}
	return 1;
}

static int accepts_sse(const struct sim_req *r)
{
	const char *a = r->accept;

	return a && strstr(a, "text/event-stream") != NULL;
}

static void handle_events(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	const char **types;

	if (strcmp(r->method, "GET")) {
		resp_message(resp, 405, "HTTP method %s is not supported by this URL", r->method);
		return;
	}
	if (!accepts_sse(r)) {
		resp_text(resp, 405,
			  strdup("<html><body><h2>HTTP ERROR 405</h2><p>HTTP method GET is not supported by this URL "
				 "(send 'Accept: text/event-stream' to read /v2/events)</p></body></html>"));
		resp->ctype = "text/html;charset=iso-8859-1";
		return;
	}
	types = req_args(r, "event_type");
	resp->sse_sub = events_subscribe(s->events, types, r->client_ip);
	free(types);
	resp->sse = resp->sse_sub != NULL;
	resp->status = resp->sse ? 200 : 500;
}

/* The leader's own headers on a proxied answer, plus the standby it came through. */
static void add_proxied_headers(struct sim *s, struct MHD_Response *mr, struct sim_resp *resp)
{
	char via[64];

	for (size_t i = 0; i < resp->nheaders; i++) {
		char *h = resp->headers[i], *colon = strchr(h, ':');
		const char *v;
		if (!colon)
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' '; v++)
			;
		MHD_add_response_header(mr, h, v);
		*colon = ':';
	}
	snprintf(via, sizeof(via), "1.1 127.0.0.1:%d", s->port);
	MHD_add_response_header(mr, "X-Marathon-Via", via);
}

static void add_headers(struct sim *s, struct MHD_Response *mr, struct sim_resp *resp)
{
	char leader[64];

	if (resp->proxied) {
		add_proxied_headers(s, mr, resp);
		return;
	}
	/* A standby names the leader; the leader itself. */
	snprintf(leader, sizeof(leader), "http://127.0.0.1:%d", s->port);
	MHD_add_response_header(mr, "X-Marathon-Leader", s->cfg.standby_url ? s->cfg.standby_url : leader);
	MHD_add_response_header(mr, "X-Frame-Options", "DENY");
	MHD_add_response_header(mr, "X-XSS-Protection", "1; mode=block");
	MHD_add_response_header(mr, "Cache-Control", "no-cache, no-store, must-revalidate");
	MHD_add_response_header(mr, "Pragma", "no-cache");
	MHD_add_response_header(mr, "Expires", "0");
	if (resp->dep_id[0])
		MHD_add_response_header(mr, "Marathon-Deployment-Id", resp->dep_id);
	if (resp->location)
		MHD_add_response_header(mr, "Location", resp->location);
	if (resp->www_auth)
		MHD_add_response_header(mr, "WWW-Authenticate", "basic realm=\"Mesosphere\"");
}

static void client_ip(struct MHD_Connection *conn, char out[64])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(out, 64, "127.0.0.1");
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out, 64);
}

void resp_headers_free(struct sim_resp *resp)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		free(resp->headers[i]);
	free(resp->headers);
	resp->headers = NULL;
	resp->nheaders = 0;
}

/* Free what resp holds (body, headers, an SSE subscription) and zero it. */
static void resp_release(struct sim_resp *resp)
{
	free(resp->body);
	free(resp->location);
	resp_headers_free(resp);
	if (resp->sse_sub)
		events_unsubscribe(resp->sse_sub);
	memset(resp, 0, sizeof(*resp));
}

/* A standby in --standby-mode redirect: 307 to the same URI on the leader, for every path. */
static void standby_redirect(struct sim *s, struct conn_ctx *ctx, struct sim_resp *resp)
{
	size_t n = strlen(s->cfg.standby_url) + strlen(ctx->uri) + 1;

	resp->location = malloc(n);
	if (resp->location)
		snprintf(resp->location, n, "%s%s", s->cfg.standby_url, ctx->uri);
	resp_text(resp, 307, strdup(""));
}

/* 1 with resp set to 413 when the body was over the cap: the request is not handled. */
static int body_refused(const struct conn_ctx *ctx, struct sim_resp *resp)
{
	if (!ctx->too_large)
		return 0;
	resp_message(resp, 413, "Request body over %zu bytes: send fewer apps per request", MAX_BODY);
	return 1;
}

/* The request itself: body cap, auth, the event stream or the API under the state lock. */
static void handle(struct sim *s, struct conn_ctx *ctx, struct sim_req *r, struct sim_resp *resp)
{
	if (body_refused(ctx, resp))
		return;
	if (!auth_ok(s, r, resp))
		return;
	if (s->cfg.standby_url) {
		standby_handle(s, r, ctx->uri, resp);
		return;
	}
	if (!strcmp(r->path, "/v2/events")) {
		handle_events(s, r, resp);
		return;
	}
	pthread_mutex_lock(&s->mu);
	server_route(s, r, resp);
	pthread_mutex_unlock(&s->mu);
}

/*
 * The end of a matched fault, once its delay passed: -1 to drop the
 * connection, else 0 with resp replaced by the injected status (when the
 * fault has one). Takes hit->body.
 */
static int fault_finish(struct sim_fault_hit *hit, struct sim_resp *resp)
{
	if (hit->drop) {
		free(hit->body);
		return -1;
	}
	if (!hit->status) {
		free(hit->body);
		return 0;
	}
	resp_release(resp);
	resp_text(resp, hit->status, hit->body ? hit->body : strdup("{\"message\":\"injected\"}"));
	return 0;
}

/*
 * The answer to one request, into resp. Returns 0, or -1 when the
 * connection is to be closed without a reply. A fault "before" stands in
 * for handling (nothing is applied unless it only delays); a fault "after"
 * lets the request be handled, so its change is applied and stays, and
 * only then delays, drops or replaces the answer: the reply that was lost.
 */
static int serve(struct sim *s, struct conn_ctx *ctx, struct sim_req *r, struct sim_resp *resp)
{
	struct sim_fault_hit hit;

	/* Control calls skip the log, faults and auth, but not the body cap. */
	if (sim_after_prefix(r->path, SIM_CONTROL_PREFIX)) {
		if (!body_refused(ctx, resp))
			api_sim(s, r, resp);
		return 0;
	}
	faults_log_request(s, r);
	if (s->cfg.standby_url && s->cfg.standby_redirect) {
		standby_redirect(s, ctx, resp);
		return 0;
	}
	if (!faults_match(s, r, &hit)) {
		handle(s, ctx, r, resp);
		return 0;
	}
	if (hit.after) {
		handle(s, ctx, r, resp);
		faults_wait(s, hit.latency_ms);
	} else {
		faults_wait(s, hit.latency_ms);
		if (!hit.drop && !hit.status)
			handle(s, ctx, r, resp); /* only a delay */
	}
	return fault_finish(&hit, resp);
}

/* Queue resp on conn. The SSE subscription passes to MHD (or is freed). */
static enum MHD_Result reply(struct sim *s, struct MHD_Connection *conn, struct sim_resp *resp)
{
	struct MHD_Response *mr;
	enum MHD_Result ret;

	if (resp->sse) {
		mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, events_read, resp->sse_sub,
						       events_unsubscribe);
		if (!mr)
			return MHD_NO; /* resp_release() frees the subscription */
		resp->sse_sub = NULL;
		MHD_add_response_header(mr, "Content-Type", "text/event-stream;charset=UTF-8");
		MHD_add_response_header(mr, "Connection", "close");
	} else {
		const char *body = resp->body ? resp->body : "";
		if (!resp->status)
			resp->status = 500;
		mr = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
		if (!mr)
			return MHD_NO;
		if (!resp->proxied && (resp->body || resp->ctype))
			MHD_add_response_header(mr, "Content-Type", resp->ctype ? resp->ctype : "application/json");
	}
	add_headers(s, mr, resp);
	ret = MHD_queue_response(conn, (unsigned)resp->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

enum MHD_Result server_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct sim *s = cls;
	struct conn_ctx *ctx = *con_cls;
	struct sim_req r;
	struct sim_resp resp;
	enum MHD_Result ret = MHD_NO;
	const char *q;

	(void)version;
	if (!ctx)
		return MHD_NO;
	if (!ctx->started) {
		ctx->started = 1;
		return MHD_YES;
	}
	if (*upload_size) {
		/* Over the cap (or out of memory) the rest is read and dropped, so
		 * the client gets its 413 instead of a reset connection. */
		if (!ctx->too_large && pacer_buf_add(&ctx->body, upload_data, *upload_size)) {
			ctx->too_large = 1;
			pacer_buf_release(&ctx->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	guard_request(s, conn, 1); /* read whole: however long the answer takes is not the client's doing */
	memset(&r, 0, sizeof(r));
	memset(&resp, 0, sizeof(resp));
	r.conn = conn;
	r.method = method;
	r.path = sim_clean_path(url);
	q = strchr(ctx->uri, '?');
	r.query = q ? q + 1 : "";
	r.body = pacer_buf_cstr(&ctx->body);
	r.body_len = ctx->body.len;
	r.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	client_ip(conn, r.client_ip);
	if (!r.path || sim_req_parse_query(&r, r.query)) {
		free(r.path);
		sim_req_release_args(&r);
		return MHD_NO;
	}
	/* MHD_NO without a queued response: MHD closes the connection, and the
	 * client gets no reply at all (curl: "Empty reply from server"). */
	if (!serve(s, ctx, &r, &resp))
		ret = reply(s, conn, &resp);
	resp_release(&resp);
	free(r.path);
	sim_req_release_args(&r);
	return ret;
}
