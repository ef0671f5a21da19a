/*
 * http.c: one request to Marathon. See http.h and client.h for the contract.
 *
 * Redirects are followed by hand rather than by CURLOPT_FOLLOWLOCATION:
 * curl drops credentials when a redirect changes host or port, but a
 * Marathon standby sends us to the leader, which wants the same credentials
 * (and the same method and body). Doing it here also lets us refuse an
 * https -> http downgrade and log every hop.
 */
#include "backends/marathon/client.h"
#include "backends/marathon/http.h"
#include "reconcile/base/log.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_REDIRECTS 5
#define BACKOFF_CAP_MS 10000L
#define MAX_DETAILS 20

enum outcome {
	OUT_REPLY,   /* an HTTP reply came back (any status) */
	OUT_CONN,    /* could not connect: nothing was sent, try the next URL */
	OUT_LOST,    /* the connection broke after the request may have been sent */
	OUT_TIMEOUT, /* the request was sent but the reply did not come in time */
	OUT_STOPPED, /* stream mode: ended, or stopped by the caller */
	OUT_FAIL,    /* anything else; *err is set */
};

/* State of one transfer, shared with curl's callbacks. */
struct xfer {
	const struct marathon_request *rq;
	CURL *h;
	struct pacer_buf *body;
	int overflow;  /* the reply went past max_body */
	int streaming; /* stream mode: a 2xx reply body started */
	int stopped;   /* stream mode: on_data or *stop ended it */
	struct pacer_error *cb_err;
	int cb_rc;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (x->rq->on_data) {
		long status = 0;

		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			int rc = x->rq->on_data(x->rq->ctx, ptr, n, &x->cb_err);

			x->streaming = 1;
			if (rc > 0)
				x->stopped = 1;
			if (rc < 0)
				x->cb_rc = rc;
			return rc ? 0 : n;
		}
	}
	if (pacer_buf_add(x->body, ptr, n)) {
		x->overflow = 1;
		return 0;
	}
	return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct xfer *x = ud;
	int rc;

	if (x->rq->stop && *x->rq->stop) {
		x->stopped = 1;
		return 1;
	}
	if (!x->rq->on_data)
		return 0;
	/*
	 * A stream's clock tick (curl calls this at least once a second, also
	 * while nothing arrives): the stream's owner decides when silence
	 * means a dead connection. curl's low-speed limit cannot say it: it
	 * measures an average rate, and Marathon's heartbeat (2 bytes every
	 * 10 s) is below any useful one.
	 */
	rc = x->rq->on_data(x->rq->ctx, NULL, 0, &x->cb_err);
	if (rc > 0)
		x->stopped = 1;
	if (rc < 0)
		x->cb_rc = rc;
	return rc ? 1 : 0;
}

static CURL *pool_get(struct marathon_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->nidle)
		h = c->idle[--c->nidle];
	pthread_mutex_unlock(&c->lock);
	return h ? h : curl_easy_init();
}

static void pool_put(struct marathon_client *c, CURL *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->nidle < MARATHON__POOL_MAX) {
		c->idle[c->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

void marathon__pool_clear(struct marathon_client *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->nidle)
		curl_easy_cleanup(c->idle[--c->nidle]);
	pthread_mutex_unlock(&c->lock);
}

char *marathon__url_clean(const char *url, char **user, char **password)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *full = NULL, *out = NULL, *p;
	size_t len;

	if (user)
		*user = NULL;
	if (password)
		*password = NULL;
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto done;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")))
		goto done;
	if (user && curl_url_get(u, CURLUPART_USER, &p, CURLU_URLDECODE) == CURLUE_OK) {
		*user = strdup(p);
		curl_free(p);
	}
	if (password && curl_url_get(u, CURLUPART_PASSWORD, &p, CURLU_URLDECODE) == CURLUE_OK) {
		*password = strdup(p);
		curl_free(p);
	}
	curl_url_set(u, CURLUPART_USER, NULL, 0);
	curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
	if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK)
		goto done;
	out = strdup(full);
	len = out ? strlen(out) : 0;
	/* A base URL "http://h:8080/" + "/v2/apps" must not give "//v2". */
	while (len && out[len - 1] == '/')
		out[--len] = '\0';
done:
	curl_free(scheme);
	curl_free(full);
	curl_url_cleanup(u);
	return out;
}

int marathon__append_id(struct pacer_buf *b, const char *id, const char *what, int strict,
                        struct pacer_error **err)
{
	static const char hex[] = "0123456789ABCDEF";

	while (id && *id == '/')
		id++;
	if (!id || !*id)
		return pacer_error_set(err, PACER_EINVALID,
		                       "empty %s id: give an id like /group/name", what);
	for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
		int plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		            *p == '-' || *p == '/';

		/* Task ids ("a_b.instance-...") and versions ("...T12:00:00.000Z") are
		 * not app ids: keep them readable where RFC 3986 allows. */
		if (!strict)
			plain = plain || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == '~' ||
			        *p == ':';
		int rc = plain ? pacer_buf_putc(b, (char)*p)
		               : pacer_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);

		if (rc)
			return pacer_error_set(err, rc, "%s id too long", what);
	}
	return 0;
}

/*
 * A request that changes Marathon is never sent twice blindly: once it may
 * have reached Marathon (the reply was lost, timed out, or was a 5xx that a
 * proxy or a failing leader may give after applying it), the caller gets
 * PACER_EUNKNOWN and must read the app back before deciding anything.
 */
static int is_mutating(const struct marathon_request *rq)
{
	return strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD");
}

/* Set every option of one hop. curl_easy_reset() keeps the connection cache. */
static void setup(struct marathon_client *c, CURL *h, const char *url,
                  const struct marathon_request *rq, struct curl_slist *hdrs, struct xfer *x,
                  char *errbuf)
{
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pacer/" PACER_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	/* A stream never ends by itself: its owner detects a dead one by
	 * silence, from on_data's ticks (on_progress). */
	if (!rq->on_data)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	if (c->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
	}
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (c->ca_file) {
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	}
	if (!strcmp(rq->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (rq->body || !strcmp(rq->method, "POST") || !strcmp(rq->method, "PUT") ||
	           !strcmp(rq->method, "PATCH")) {
		const char *body = rq->body ? rq->body : "";

		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
		if (strcmp(rq->method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	/* On a reused connection that dies before any reply, curl sends the
	 * request again by itself: for a change, that is exactly the blind retry
	 * pacer must never make. A fresh connection is never retried. */
	if (is_mutating(rq))
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
}

static int is_conn_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* Failures that happen before a single byte of the request is sent. */
static int is_connect_error(CURLcode rc)
{
	return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY ||
	       rc == CURLE_COULDNT_CONNECT || rc == CURLE_SSL_CONNECT_ERROR;
}

static int unknown_outcome(const struct marathon_request *rq, const char *url, const char *why,
                           struct pacer_error **err)
{
	int rc = pacer_error_set(err, PACER_EUNKNOWN,
	                         "%s %s: %s; the request may or may not have been applied "
	                         "by Marathon",
	                         rq->method, url, why);

	if (err && *err) {
		pacer_error_set_url(*err, url);
		pacer_error_set_app(*err, rq->app_id);
	}
	return rc;
}

static int is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/*
 * Send rq to one base URL, following redirects. On OUT_CONN and OUT_TIMEOUT
 * `why` gets curl's reason; on OUT_FAIL *err is set.
 */
static enum outcome send_to(struct marathon_client *c, CURL *h, const char *base,
                            const struct marathon_request *rq, struct curl_slist *hdrs,
                            struct marathon_response *resp, char *why, size_t whylen, int *code,
                            struct pacer_error **err)
{
	char errbuf[CURL_ERROR_SIZE];
	char *url = NULL;

	if (asprintf(&url, "%s%s", base, rq->path) < 0) {
		*code = pacer_error_set(err, PACER_EGENERIC, "out of memory");
		return OUT_FAIL;
	}
	for (int hop = 0;; hop++) {
		struct xfer x = {rq, h, &resp->body, 0, 0, 0, NULL, 0};
		long t0 = now_ms(), status = 0;
		curl_off_t pretransfer = 0;
		char *next = NULL, *clean = NULL;
		CURLcode rc;

		free(resp->url);
		resp->url = url;
		url = NULL;
		resp->status = 0;
		pacer_buf_reset(&resp->body);
		errbuf[0] = '\0';
		setup(c, h, resp->url, rq, hdrs, &x, errbuf);
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
		snprintf(why, whylen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		if (pacer_log_level >= PACER_LOG_DEBUG) {
			long fresh = 0;

			curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &fresh);
			if (rc == CURLE_OK)
				PLOG_DEBUG("marathon: %s %s -> %ld in %ld ms (%s connection)",
				           rq->method, resp->url, status, now_ms() - t0,
				           fresh ? "new" : "reused");
			else
				PLOG_DEBUG("marathon: %s %s -> %s in %ld ms", rq->method, resp->url,
				           why, now_ms() - t0);
		}

		if (x.cb_rc) {
			*code = x.cb_rc;
			if (x.cb_err && err && !*err) {
				*err = x.cb_err;
				pacer_error_wrap(err, x.cb_rc, "%s %s: the event stream broke off",
				                 rq->method, resp->url);
			} else {
				pacer_error_free(x.cb_err);
				pacer_error_set(err, x.cb_rc, "%s %s: the event stream broke off",
				                rq->method, resp->url);
			}
			return OUT_FAIL;
		}
		if (x.stopped)
			return OUT_STOPPED;
		if (x.overflow) {
			*code = pacer_error_set(
			    err, PACER_EHTTP,
			    "%s %s: the reply is larger than %zu bytes; refusing it (is "
			    "this Marathon?)",
			    rq->method, resp->url, c->max_body);
			return OUT_FAIL;
		}
		if (rc == CURLE_OPERATION_TIMEDOUT) {
			/* Not yet sent: as good as a refused connection, try elsewhere. */
			if (pretransfer == 0 && !x.streaming)
				return OUT_CONN;
			return OUT_TIMEOUT;
		}
		if (x.streaming) /* the stream was open and is now over, however it ended */
			return OUT_STOPPED;
		if (is_conn_error(rc))
			return pretransfer > 0 && !is_connect_error(rc) ? OUT_LOST : OUT_CONN;
		if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
		    rc == CURLE_SSL_CERTPROBLEM) {
			*code = pacer_error_set(
			    err, PACER_EUNREACHABLE,
			    "%s %s: TLS verification failed (%s): give the CA bundle with "
			    "--marathon-ca-file, or --marathon-insecure to skip the check",
			    rq->method, resp->url, why);
			return OUT_FAIL;
		}
		if (rc != CURLE_OK) {
			*code = pacer_error_set(err, PACER_EHTTP, "%s %s: %s", rq->method,
			                        resp->url, why);
			return OUT_FAIL;
		}
		resp->status = status;
		if (!is_redirect(status))
			return OUT_REPLY;
		if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &next) != CURLE_OK || !next)
			return OUT_REPLY; /* a 3xx without Location: let the caller report it */
		if (hop >= MAX_REDIRECTS) {
			*code = pacer_error_set(
			    err, PACER_EHTTP,
			    "%s %s: more than %d redirects; check that the Marathon URLs "
			    "point at one cluster",
			    rq->method, resp->url, MAX_REDIRECTS);
			return OUT_FAIL;
		}
		clean = marathon__url_clean(next, NULL, NULL);
		if (!clean) {
			*code = pacer_error_set(err, PACER_EHTTP,
			                        "%s %s: redirected to a URL that is not http(s)",
			                        rq->method, resp->url);
			return OUT_FAIL;
		}
		if (!strncasecmp(resp->url, "https:", 6) && strncasecmp(clean, "https:", 6)) {
			*code = pacer_error_set(
			    err, PACER_EHTTP,
			    "%s %s: refusing the redirect from https to %s (it would send "
			    "credentials in clear text)",
			    rq->method, resp->url, clean);
			free(clean);
			return OUT_FAIL;
		}
		url = clean;
	}
}

static const struct {
	long status;
	const char *text;
} reasons[] = {
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {409, "Conflict"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Entity"},
    {500, "Internal Server Error"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
};

static const char *reason_phrase(long status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "unexpected status";
}

/* Marathon's "details": a string, or [{"path":..,"errors":[..]}]. */
static void render_details(struct pacer_buf *b, struct json_object *details)
{
	size_t n;

	if (json_object_is_type(details, json_type_string)) {
		pacer_buf_printf(b, ": %s", json_object_get_string(details));
		return;
	}
	if (!json_object_is_type(details, json_type_array))
		return;
	n = json_object_array_length(details);
	for (size_t i = 0; i < n && i < MAX_DETAILS; i++) {
		struct json_object *d = json_object_array_get_idx(details, i), *v, *errs;

		pacer_buf_puts(b, i ? "; " : ": ");
		if (json_object_object_get_ex(d, "path", &v))
			pacer_buf_printf(b, "%s: ", json_object_get_string(v));
		if (json_object_object_get_ex(d, "errors", &errs) &&
		    json_object_is_type(errs, json_type_array)) {
			for (size_t k = 0; k < json_object_array_length(errs); k++)
				pacer_buf_printf(
				    b, "%s%s", k ? ", " : "",
				    json_object_get_string(json_object_array_get_idx(errs, k)));
		} else {
			pacer_buf_puts(b,
			               json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
		}
	}
	if (n > MAX_DETAILS)
		pacer_buf_printf(b, "; and %zu more", n - MAX_DETAILS);
}

/* A non-JSON body as one short line (HTML pages are not worth showing). */
static void render_text(struct pacer_buf *b, const struct pacer_buf *body)
{
	const char *s = pacer_buf_cstr(body);
	size_t n = 0;

	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	if (!*s || *s == '<')
		return;
	pacer_buf_puts(b, ": ");
	for (; *s && n < 200; s++, n++)
		pacer_buf_putc(b, (*s >= 0 && *s < ' ') ? ' ' : *s);
	if (*s)
		pacer_buf_puts(b, "...");
}

/* Turn a non-2xx reply into an error. */
static int status_error(const struct marathon_request *rq, const struct marathon_response *resp,
                        int attempts, struct pacer_error **err)
{
	struct json_object *body = NULL, *v, *deps = NULL;
	struct pacer_buf msg = PACER_BUF_INIT;
	long s = resp->status;
	int code;

	if (resp->body.len)
		body = json_tokener_parse(pacer_buf_cstr(&resp->body));
	if (!json_object_is_type(body, json_type_object)) {
		json_object_put(body);
		body = NULL;
	}
	if (s == 400 || s == 422)
		code = PACER_EINVALID;
	else if (s == 401 || s == 403)
		code = PACER_EAUTH;
	else if (s == 404)
		code = PACER_ENOTFOUND;
	else if (s == 409)
		code = json_object_object_get_ex(body, "deployments", &deps) ? PACER_ELOCKED
		                                                             : PACER_ECONFLICT;
	else
		code = PACER_EHTTP;

	pacer_buf_printf(&msg, "%s %s: %ld ", rq->method, resp->url, s);
	if (body && json_object_object_get_ex(body, "message", &v) &&
	    json_object_is_type(v, json_type_string)) {
		pacer_buf_puts(&msg, json_object_get_string(v));
		if (json_object_object_get_ex(body, "details", &v))
			render_details(&msg, v);
	} else {
		pacer_buf_puts(&msg, reason_phrase(s));
		if (!body)
			render_text(&msg, &resp->body);
	}
	if (code == PACER_ELOCKED) {
		size_t n =
		    json_object_is_type(deps, json_type_array) ? json_object_array_length(deps) : 0;

		pacer_buf_puts(&msg, " (deployments:");
		for (size_t i = 0; i < n; i++) {
			struct json_object *d = json_object_array_get_idx(deps, i), *id;

			if (json_object_object_get_ex(d, "id", &id))
				pacer_buf_printf(&msg, "%s %s", i ? "," : "",
				                 json_object_get_string(id));
		}
		pacer_buf_puts(&msg, "); wait for them to finish, or force the change");
	} else if (code == PACER_EAUTH) {
		pacer_buf_puts(&msg,
		               "; check the credentials in PACER_MARATHON_USER and "
		               "PACER_MARATHON_PASSWORD(_FILE), or PACER_MARATHON_TOKEN(_FILE)");
	} else if (s == 502 || s == 503 || s == 504) {
		pacer_buf_printf(&msg,
		                 " (gave up after %d attempt%s; Marathon may be electing a "
		                 "leader or overloaded: try again later)",
		                 attempts, attempts == 1 ? "" : "s");
	}
	if (err && !*err) {
		*err = pacer_error_new(code, "%s", pacer_buf_cstr(&msg));
		if (*err) {
			pacer_error_set_url(*err, resp->url);
			pacer_error_set_app(*err, rq->app_id);
			(*err)->http_status = (int)s;
		}
	}
	pacer_buf_release(&msg);
	json_object_put(body);
	return code;
}

static void backoff(struct marathon_client *c, int attempt)
{
	long delay = c->backoff_ms;
	struct timespec ts;
	uint64_t r;

	for (int i = 0; i < attempt && delay < BACKOFF_CAP_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_CAP_MS)
		delay = BACKOFF_CAP_MS;
	pthread_mutex_lock(&c->lock);
	/* xorshift64: jitter only needs to spread clients apart. */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	r = c->rng;
	pthread_mutex_unlock(&c->lock);
	/* "Equal jitter": between half and all of the delay. */
	delay = delay / 2 + (long)(r % (uint64_t)(delay / 2 + 1));
	ts.tv_sec = delay / 1000;
	ts.tv_nsec = (delay % 1000) * 1000000L;
	while (nanosleep(&ts, &ts))
		;
}

int marathon__request(struct marathon_client *c, const struct marathon_request *rq,
                      struct marathon_response *resp, struct pacer_error **err)
{
	int attempts = rq->on_data ? 1 : c->retries + 1, rc = PACER_EGENERIC, retry_status = 0;
	struct pacer_buf tried = PACER_BUF_INIT, hdr = PACER_BUF_INIT;
	struct curl_slist *hdrs = NULL, *tmp;
	CURL *h = rq->on_data ? curl_easy_init() : pool_get(c);
	char why[CURL_ERROR_SIZE + 64];
	const char *failed_step = "building headers";
	int attempt;

	pacer_buf_init(&resp->body, c->max_body);
	if (!h)
		goto oom;
	pacer_buf_printf(&hdr, "Accept: %s", rq->accept ? rq->accept : "application/json");
	if (!(tmp = curl_slist_append(hdrs, pacer_buf_cstr(&hdr))))
		goto oom;
	hdrs = tmp;
	/* No "Expect: 100-continue" round trip for big PUTs. */
	if (!(tmp = curl_slist_append(hdrs, "Expect:")))
		goto oom;
	hdrs = tmp;
	if (rq->body || !strcmp(rq->method, "POST") || !strcmp(rq->method, "PUT") ||
	    !strcmp(rq->method, "PATCH")) {
		if (!(tmp = curl_slist_append(hdrs, "Content-Type: application/json")))
			goto oom;
		hdrs = tmp;
	}
	if (c->auth_header) {
		if (!(tmp = curl_slist_append(hdrs, c->auth_header)))
			goto oom;
		hdrs = tmp;
	}
	failed_step = NULL;
	pacer_buf_reset(&hdr); /* reused for the unreachable message */

	for (attempt = 0; attempt < attempts; attempt++) {
		size_t start;

		if (attempt)
			backoff(c, attempt - 1);
		pthread_mutex_lock(&c->lock);
		start = c->current;
		pthread_mutex_unlock(&c->lock);
		retry_status = 0;
		pacer_buf_reset(&tried); /* name each URL once, with its latest failure */
		for (size_t k = 0; k < c->nurls; k++) {
			size_t i = (start + k) % c->nurls;
			int code = PACER_EGENERIC;
			enum outcome o =
			    send_to(c, h, c->urls[i], rq, hdrs, resp, why, sizeof(why), &code, err);

			if (o == OUT_LOST && is_mutating(rq)) {
				rc = unknown_outcome(rq, resp->url, why, err);
				goto done;
			}
			if (o == OUT_TIMEOUT && is_mutating(rq)) {
				snprintf(why + strlen(why), sizeof(why) - strlen(why),
				         " (no reply within %ld ms)", c->timeout_ms);
				rc = unknown_outcome(rq, resp->url, why, err);
				goto done;
			}
			switch (o) {
			case OUT_LOST:
			case OUT_CONN:
				if (tried.len)
					pacer_buf_puts(&tried, ", ");
				pacer_buf_printf(&tried, "%s (%s)", c->urls[i], why);
				continue;
			case OUT_TIMEOUT:
				rc = pacer_error_set(err, PACER_ETIMEOUT,
				                     "%s %s: %s; no reply within %ld ms (raise the "
				                     "timeout, or check Marathon's load)",
				                     rq->method, resp->url, why, c->timeout_ms);
				if (err && *err) {
					pacer_error_set_url(*err, resp->url);
					pacer_error_set_app(*err, rq->app_id);
				}
				goto done;
			case OUT_STOPPED:
				rc = 0;
				goto done;
			case OUT_FAIL:
				rc = code;
				if (err && *err) {
					pacer_error_set_url(*err, resp->url);
					pacer_error_set_app(*err, rq->app_id);
				}
				goto done;
			case OUT_REPLY:
				break;
			}
			pthread_mutex_lock(&c->lock);
			c->current = i;
			pthread_mutex_unlock(&c->lock);
			if (resp->status >= 200 && resp->status < 300) {
				rc = 0;
				goto done;
			}
			if (resp->status >= 500 && is_mutating(rq)) {
				char st[64];

				snprintf(st, sizeof(st), "Marathon answered %ld", resp->status);
				rc = unknown_outcome(rq, resp->url, st, err);
				if (err && *err)
					(*err)->http_status = (int)resp->status;
				goto done;
			}
			if (resp->status == 502 || resp->status == 503 || resp->status == 504) {
				retry_status = 1;
				break;
			}
			rc = status_error(rq, resp, attempt + 1, err);
			goto done;
		}
		if (!retry_status)
			PLOG_DEBUG("marathon: %s %s: no URL answered (attempt %d of %d)",
			           rq->method, rq->path, attempt + 1, attempts);
	}
	if (retry_status) {
		rc = status_error(rq, resp, attempts, err);
		goto done;
	}
	pacer_buf_printf(&hdr, "%s %s: cannot reach Marathon at %s", rq->method, rq->path,
	                 pacer_buf_cstr(&tried));
	if (attempts > 1)
		pacer_buf_printf(&hdr, " (tried each URL %d times)", attempts);
	pacer_buf_puts(&hdr,
	               "; check --marathon / PACER_MARATHON_URL and that Marathon is running");
	rc = pacer_error_set(err, PACER_EUNREACHABLE, "%s", pacer_buf_cstr(&hdr));
	if (err && *err) {
		pacer_error_set_url(*err, resp->url);
		pacer_error_set_app(*err, rq->app_id);
	}
	goto done;
oom:
	rc = pacer_error_set(err, PACER_EGENERIC, "out of memory while %s for %s %s",
	                     failed_step ? failed_step : "sending", rq->method, rq->path);
done:
	/* Forget pointers into our stack frames (error buffer, callbacks' data)
	 * before the handle is pooled or closed; the connections stay. */
	if (h)
		curl_easy_reset(h);
	curl_slist_free_all(hdrs);
	pacer_buf_release(&hdr);
	pacer_buf_release(&tried);
	if (rq->on_data)
		curl_easy_cleanup(h);
	else
		pool_put(c, h);
	return rc;
}

void marathon__response_release(struct marathon_response *r)
{
	pacer_buf_release(&r->body);
	free(r->url);
	r->url = NULL;
	r->status = 0;
}
