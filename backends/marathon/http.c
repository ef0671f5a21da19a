/*
 * http.c: one request to Marathon. See http.h and client.h for the contract.
 *
 * Redirects are followed by hand rather than by CURLOPT_FOLLOWLOCATION:
 * curl drops credentials when a redirect changes host or port, but a
 * Marathon standby sends us to the leader, which wants the same credentials
 * (and the same method and body). Doing it here also lets us refuse an
 * https -> http downgrade and log every hop.
 *
 * The layers, from the top: marathon__request() runs rounds over the URLs
 * as a retry_policy allows (run_round), each URL is one attempt (try_url),
 * an attempt follows redirects (send_to), and each hop is one curl transfer
 * (one_hop) whose result is sorted into an `enum outcome` (classify).
 */
#include "backends/marathon/client.h"
#include "backends/marathon/http.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_REDIRECTS 5
#define BACKOFF_CAP_MS 10000L
#define MAX_DETAILS 20
/* How much of a non-JSON error body goes into the message. */
#define TEXT_EXCERPT_MAX 200

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

static int is_2xx(long status)
{
	return status >= 200 && status < 300;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	if (x->rq->on_data) {
		long status = 0;

		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
		if (is_2xx(status)) {
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

int marathon__append_id(struct pacer_buf *b, const char *id, const char *what,
                        enum marathon__id_style style, struct pacer_error **err)
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
		if (style == MARATHON__ID_READABLE)
			plain = plain || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == '~' ||
			        *p == ':';
		int rc = plain ? pacer_buf_putc(b, (char)*p)
		               : pacer_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);

		if (rc)
			return pacer_error_set(err, rc, "%s id too long", what);
	}
	return 0;
}

/* ---- the retry policy ------------------------------------------------- */

/*
 * A request that changes Marathon is never sent twice blindly: once it may
 * have reached Marathon (the reply was lost, timed out, or was a 5xx that a
 * proxy or a failing leader may give after applying it), the caller gets
 * PACER_EUNKNOWN and must read the app back before deciding anything.
 */
enum resend {
	RESEND_UNSENT, /* a change: again only while it never left (no connection) */
	RESEND_ANY,    /* a read: also after a lost reply (next URL) or 502-504 (next round) */
};

/* When a request goes out again. Every decision below reads this rather
 * than looking at the method again. */
struct retry_policy {
	int attempts;        /* rounds over every URL: retries + 1; 1 for a stream */
	long backoff_ms;     /* the pause before the second round, doubled for each next one */
	long backoff_cap_ms; /* ... never longer than this (before jitter) */
	enum resend resend;
};

static struct retry_policy retry_policy_for(const struct marathon_client *c,
                                            const struct marathon_request *rq)
{
	struct retry_policy p = {c->retries + 1, c->backoff_ms, BACKOFF_CAP_MS, RESEND_ANY};

	/* A stream is never retried here: its owner reconnects, with backoff
	 * of its own, and must learn that the stream ended. */
	if (rq->on_data)
		p.attempts = 1;
	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
		p.resend = RESEND_UNSENT;
	return p;
}

/* Sleep before round `round` (1 = the second). */
static void backoff(struct marathon_client *c, const struct retry_policy *p, int round)
{
	long delay = p->backoff_ms;
	uint64_t r;

	for (int i = 1; i < round && delay < p->backoff_cap_ms; i++)
		delay *= 2;
	if (delay > p->backoff_cap_ms)
		delay = p->backoff_cap_ms;
	pthread_mutex_lock(&c->lock);
	/* xorshift64: jitter only needs to spread clients apart. */
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	r = c->rng;
	pthread_mutex_unlock(&c->lock);
	/* "Equal jitter": between half and all of the delay. */
	delay = delay / 2 + (long)(r % (uint64_t)(delay / 2 + 1));
	pacer_sleep_ms(delay);
}

/* ---- one request: its state, headers and curl options ------------------ */

struct call {
	struct marathon_client *c;
	const struct marathon_request *rq;
	struct marathon_response *resp;
	struct pacer_error **err;
	struct retry_policy policy;
	CURL *h;
	struct curl_slist *hdrs;
	int round;                      /* 0-based */
	struct pacer_buf tried;         /* "url (why), ..." of this round, for the error */
	char why[CURL_ERROR_SIZE + 64]; /* curl's reason for the last transfer's end */
	int code;                       /* OUT_FAIL: the code *err was set with */
};

/* The URL and app id an error is about, on the error *err (if any). */
static void add_context(const struct call *k)
{
	if (k->err && *k->err) {
		pacer_error_set_url(*k->err, k->resp->url);
		pacer_error_set_app(*k->err, k->rq->app_id);
	}
}

static int has_body(const struct marathon_request *rq)
{
	return rq->body || !strcmp(rq->method, "POST") || !strcmp(rq->method, "PUT") ||
	       !strcmp(rq->method, "PATCH");
}

static int add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *grown = curl_slist_append(*list, line);

	if (!grown)
		return -1;
	*list = grown;
	return 0;
}

/* The headers of every hop into k->hdrs; -1 when out of memory. */
static int build_headers(struct call *k)
{
	const char *accept = k->rq->accept ? k->rq->accept : "application/json";
	struct pacer_buf line = PACER_BUF_INIT;
	int rc = pacer_buf_printf(&line, "Accept: %s", accept);

	if (!rc)
		rc = add_header(&k->hdrs, pacer_buf_cstr(&line));
	/* No "Expect: 100-continue" round trip for big PUTs. */
	if (!rc)
		rc = add_header(&k->hdrs, "Expect:");
	if (!rc && has_body(k->rq))
		rc = add_header(&k->hdrs, "Content-Type: application/json");
	/* Token auth is a header; basic auth is curl's (setup_auth_tls). */
	if (!rc && k->c->auth_header)
		rc = add_header(&k->hdrs, k->c->auth_header);
	pacer_buf_release(&line);
	return rc ? -1 : 0;
}

static void setup_auth_tls(const struct marathon_client *c, CURL *h)
{
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
}

static void setup_method(const struct call *k)
{
	const struct marathon_request *rq = k->rq;
	CURL *h = k->h;

	if (!strcmp(rq->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else if (has_body(rq)) {
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
	if (k->policy.resend == RESEND_UNSENT)
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
}

/* Set every option of one hop to k->resp->url. curl_easy_reset() keeps the
 * connection cache. */
static void setup(const struct call *k, struct xfer *x, char *errbuf)
{
	CURL *h = k->h;

	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, k->resp->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pacer/" PACER_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, k->c->connect_timeout_ms);
	/* A stream never ends by itself: its owner detects a dead one by
	 * silence, from on_data's ticks (on_progress). */
	if (!k->rq->on_data)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, k->c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, k->hdrs);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	setup_auth_tls(k->c, h);
	setup_method(k);
}

/* ---- one hop: a curl transfer and what became of it -------------------- */

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

static int is_tls_verify_error(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
	       rc == CURLE_SSL_CERTPROBLEM;
}

static void log_hop(const struct call *k, CURLcode rc, long status, long long t0)
{
	long fresh = 0;

	if (pacer_log_level < PACER_LOG_DEBUG)
		return;
	curl_easy_getinfo(k->h, CURLINFO_NUM_CONNECTS, &fresh);
	if (rc == CURLE_OK)
		PLOG_DEBUG("marathon: %s %s -> %ld in %lld ms (%s connection)", k->rq->method,
		           k->resp->url, status, pacer_now_ms() - t0, fresh ? "new" : "reused");
	else
		PLOG_DEBUG("marathon: %s %s -> %s in %lld ms", k->rq->method, k->resp->url, k->why,
		           pacer_now_ms() - t0);
}

/* The stream's owner failed the transfer (on_data returned < 0): its error,
 * wrapped, is the result. */
static enum outcome stream_error(struct call *k, struct xfer *x)
{
	const char *method = k->rq->method, *url = k->resp->url;

	k->code = x->cb_rc;
	if (x->cb_err && k->err && !*k->err) {
		*k->err = x->cb_err;
		pacer_error_wrap(k->err, x->cb_rc, "%s %s: the event stream broke off", method,
		                 url);
	} else {
		pacer_error_free(x->cb_err);
		pacer_error_set(k->err, x->cb_rc, "%s %s: the event stream broke off", method, url);
	}
	return OUT_FAIL;
}

/* Sort how the transfer ended; on OUT_REPLY resp->status is set. */
static enum outcome classify(struct call *k, struct xfer *x, CURLcode rc, long status,
                             curl_off_t pretransfer)
{
	const char *method = k->rq->method, *url = k->resp->url;

	if (x->cb_rc)
		return stream_error(k, x);
	if (x->stopped)
		return OUT_STOPPED;
	if (x->overflow) {
		k->code = pacer_error_set(k->err, PACER_EHTTP,
		                          "%s %s: the reply is larger than %zu bytes; refusing it "
		                          "(is this Marathon?)",
		                          method, url, k->c->max_body);
		return OUT_FAIL;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		/* Not yet sent: as good as a refused connection, try elsewhere. */
		if (pretransfer == 0 && !x->streaming)
			return OUT_CONN;
		return OUT_TIMEOUT;
	}
	if (x->streaming) /* the stream was open and is now over, however it ended */
		return OUT_STOPPED;
	if (is_conn_error(rc))
		return pretransfer > 0 && !is_connect_error(rc) ? OUT_LOST : OUT_CONN;
	if (is_tls_verify_error(rc)) {
		k->code =
		    pacer_error_set(k->err, PACER_EUNREACHABLE,
		                    "%s %s: TLS verification failed (%s): give the CA bundle with "
		                    "--marathon-ca-file, or --marathon-insecure to skip the check",
		                    method, url, k->why);
		return OUT_FAIL;
	}
	if (rc != CURLE_OK) {
		k->code = pacer_error_set(k->err, PACER_EHTTP, "%s %s: %s", method, url, k->why);
		return OUT_FAIL;
	}
	k->resp->status = status;
	return OUT_REPLY;
}

/* One transfer to url (taken: it becomes resp->url). */
static enum outcome one_hop(struct call *k, char *url)
{
	struct xfer x = {k->rq, k->h, &k->resp->body, 0, 0, 0, NULL, 0};
	char errbuf[CURL_ERROR_SIZE];
	long long t0 = pacer_now_ms();
	curl_off_t pretransfer = 0;
	long status = 0;
	CURLcode rc;

	free(k->resp->url);
	k->resp->url = url;
	k->resp->status = 0;
	pacer_buf_reset(&k->resp->body);
	errbuf[0] = '\0';
	setup(k, &x, errbuf);
	rc = curl_easy_perform(k->h);
	curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &status);
	/* Whether the request started to go out: a failure before that is a
	 * connection that never happened, safe to try elsewhere. */
	curl_easy_getinfo(k->h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
	snprintf(k->why, sizeof(k->why), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	log_hop(k, rc, status, t0);
	return classify(k, &x, rc, status, pretransfer);
}

/* ---- redirects -------------------------------------------------------- */

static int is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int is_https(const char *url)
{
	return !strncasecmp(url, "https:", strlen("https:"));
}

/*
 * After a reply: the URL to follow (caller frees), or NULL with *o saying
 * why not: OUT_REPLY when the reply is the answer, OUT_FAIL with the error.
 */
static char *redirect_target(struct call *k, int hop, enum outcome *o)
{
	const char *method = k->rq->method, *url = k->resp->url;
	char *next = NULL, *clean;

	*o = OUT_REPLY;
	if (!is_redirect(k->resp->status))
		return NULL;
	if (curl_easy_getinfo(k->h, CURLINFO_REDIRECT_URL, &next) != CURLE_OK || !next)
		return NULL; /* a 3xx without Location: let the caller report it */
	*o = OUT_FAIL;
	if (hop >= MAX_REDIRECTS) {
		k->code = pacer_error_set(k->err, PACER_EHTTP,
		                          "%s %s: more than %d redirects; check that the Marathon "
		                          "URLs point at one cluster",
		                          method, url, MAX_REDIRECTS);
		return NULL;
	}
	clean = marathon__url_clean(next, NULL, NULL);
	if (!clean) {
		k->code =
		    pacer_error_set(k->err, PACER_EHTTP,
		                    "%s %s: redirected to a URL that is not http(s)", method, url);
		return NULL;
	}
	if (is_https(url) && !is_https(clean)) {
		k->code = pacer_error_set(k->err, PACER_EHTTP,
		                          "%s %s: refusing the redirect from https to %s (it would "
		                          "send credentials in clear text)",
		                          method, url, clean);
		free(clean);
		return NULL;
	}
	*o = OUT_REPLY;
	return clean;
}

/*
 * Send k->rq to one base URL, following redirects. On OUT_CONN, OUT_LOST
 * and OUT_TIMEOUT k->why says curl's reason; on OUT_FAIL *err is set.
 */
static enum outcome send_to(struct call *k, const char *base)
{
	char *url = NULL;
	enum outcome o;

	if (asprintf(&url, "%s%s", base, k->rq->path) < 0) {
		k->code = pacer_error_set(k->err, PACER_EGENERIC, "out of memory");
		return OUT_FAIL;
	}
	for (int hop = 0;; hop++) {
		o = one_hop(k, url);
		if (o != OUT_REPLY || !(url = redirect_target(k, hop, &o)))
			return o;
	}
}

/* ---- error replies ---------------------------------------------------- */
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
	for (; *s && n < TEXT_EXCERPT_MAX; s++, n++)
		pacer_buf_putc(b, (*s >= 0 && *s < ' ') ? ' ' : *s);
	if (*s)
		pacer_buf_puts(b, "...");
}

/* Marathon is between leaders or overloaded: worth another round. */
static int is_busy(long status)
{
	return status == 502 || status == 503 || status == 504;
}

/* The reply body as a JSON object (caller puts), or NULL. */
static struct json_object *object_body(const struct marathon_response *resp)
{
	struct json_object *body = NULL;

	if (resp->body.len)
		body = json_tokener_parse(pacer_buf_cstr(&resp->body));
	if (!json_object_is_type(body, json_type_object)) {
		json_object_put(body);
		body = NULL;
	}
	return body;
}

/* The code of a non-2xx status; a 409 naming deployments is a lock. */
static int status_code(long s, struct json_object *body)
{
	if (s == 400 || s == 422)
		return PACER_EINVALID;
	if (s == 401 || s == 403)
		return PACER_EAUTH;
	if (s == 404)
		return PACER_ENOTFOUND;
	if (s == 409)
		return json_object_object_get_ex(body, "deployments", NULL) ? PACER_ELOCKED
		                                                            : PACER_ECONFLICT;
	return PACER_EHTTP;
}

/* What the user can do about it, after Marathon's own words. */
static void append_hint(struct pacer_buf *msg, int code, long s, struct json_object *body,
                        int attempts)
{
	struct json_object *deps = NULL;

	if (code == PACER_ELOCKED) {
		size_t n = 0;

		if (json_object_object_get_ex(body, "deployments", &deps) &&
		    json_object_is_type(deps, json_type_array))
			n = json_object_array_length(deps);
		pacer_buf_puts(msg, " (deployments:");
		for (size_t i = 0; i < n; i++) {
			struct json_object *d = json_object_array_get_idx(deps, i), *id;

			if (json_object_object_get_ex(d, "id", &id))
				pacer_buf_printf(msg, "%s %s", i ? "," : "",
				                 json_object_get_string(id));
		}
		pacer_buf_puts(msg, "); wait for them to finish, or force the change");
	} else if (code == PACER_EAUTH) {
		pacer_buf_puts(msg,
		               "; check the credentials in PACER_MARATHON_USER and "
		               "PACER_MARATHON_PASSWORD(_FILE), or PACER_MARATHON_TOKEN(_FILE)");
	} else if (is_busy(s)) {
		pacer_buf_printf(msg,
		                 " (gave up after %d attempt%s; Marathon may be electing a "
		                 "leader or overloaded: try again later)",
		                 attempts, attempts == 1 ? "" : "s");
	}
}

/* Turn a non-2xx reply into an error. */
static int status_error(const struct marathon_request *rq, const struct marathon_response *resp,
                        int attempts, struct pacer_error **err)
{
	struct json_object *body = object_body(resp), *v;
	struct pacer_buf msg = PACER_BUF_INIT;
	long s = resp->status;
	int code = status_code(s, body);

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
	append_hint(&msg, code, s, body, attempts);
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

/* ---- rounds over the URLs --------------------------------------------- */

/* What to do after one attempt. */
enum step {
	STEP_DONE,       /* the request is over: *rc is its result */
	STEP_NEXT_URL,   /* this URL did not answer: try the next one */
	STEP_NEXT_ROUND, /* Marathon is busy (502-504): back off, then start over */
};

/* A request that may have been applied: the caller must read the truth back. */
static int unknown_outcome(const struct call *k, const char *why)
{
	int rc = pacer_error_set(k->err, PACER_EUNKNOWN,
	                         "%s %s: %s; the request may or may not have been applied "
	                         "by Marathon",
	                         k->rq->method, k->resp->url, why);

	add_context(k);
	return rc;
}

/* The transfer was sent and no reply came in time. */
static int timed_out(struct call *k)
{
	size_t used = strlen(k->why);
	int rc;

	if (k->policy.resend == RESEND_UNSENT) {
		snprintf(k->why + used, sizeof(k->why) - used, " (no reply within %ld ms)",
		         k->c->timeout_ms);
		return unknown_outcome(k, k->why);
	}
	/* Not even a read is sent again: a Marathon too slow for one request
	 * would only get more of them. */
	rc = pacer_error_set(k->err, PACER_ETIMEOUT,
	                     "%s %s: %s; no reply within %ld ms (raise the timeout, or check "
	                     "Marathon's load)",
	                     k->rq->method, k->resp->url, k->why, k->c->timeout_ms);
	add_context(k);
	return rc;
}

/* An attempt that got no usable reply from URL i. */
static enum step after_failure(struct call *k, enum outcome o, size_t i, int *rc)
{
	if (o == OUT_LOST && k->policy.resend == RESEND_UNSENT) {
		*rc = unknown_outcome(k, k->why);
		return STEP_DONE;
	}
	switch (o) {
	case OUT_LOST: /* a read: sent again, to the next URL */
	case OUT_CONN:
		/* Name each URL once, with its latest failure. */
		if (k->tried.len)
			pacer_buf_puts(&k->tried, ", ");
		pacer_buf_printf(&k->tried, "%s (%s)", k->c->urls[i], k->why);
		return STEP_NEXT_URL;
	case OUT_TIMEOUT:
		*rc = timed_out(k);
		return STEP_DONE;
	case OUT_STOPPED:
		*rc = 0;
		return STEP_DONE;
	default:
		*rc = k->code;
		add_context(k);
		return STEP_DONE;
	}
}

/* An attempt that got an HTTP reply. */
static enum step after_reply(struct call *k, int *rc)
{
	long s = k->resp->status;

	if (is_2xx(s)) {
		*rc = 0;
		return STEP_DONE;
	}
	if (s >= 500 && k->policy.resend == RESEND_UNSENT) {
		char st[64];

		snprintf(st, sizeof(st), "Marathon answered %ld", s);
		*rc = unknown_outcome(k, st);
		if (k->err && *k->err)
			(*k->err)->http_status = (int)s;
		return STEP_DONE;
	}
	if (is_busy(s))
		return STEP_NEXT_ROUND;
	*rc = status_error(k->rq, k->resp, k->round + 1, k->err);
	return STEP_DONE;
}

/* One attempt: the request to URL i. */
static enum step try_url(struct call *k, size_t i, int *rc)
{
	enum outcome o = send_to(k, k->c->urls[i]);

	if (o != OUT_REPLY)
		return after_failure(k, o, i, rc);
	/* Whoever answered, even with an error, is up: start there next time. */
	pthread_mutex_lock(&k->c->lock);
	k->c->current = i;
	pthread_mutex_unlock(&k->c->lock);
	return after_reply(k, rc);
}

/*
 * One round: every URL once, from the one that answered last, until one
 * answers. STEP_NEXT_URL here means that none did.
 */
static enum step run_round(struct call *k, int *rc)
{
	size_t start;

	pthread_mutex_lock(&k->c->lock);
	start = k->c->current;
	pthread_mutex_unlock(&k->c->lock);
	pacer_buf_reset(&k->tried);
	for (size_t n = 0; n < k->c->nurls; n++) {
		enum step s = try_url(k, (start + n) % k->c->nurls, rc);

		if (s != STEP_NEXT_URL)
			return s;
	}
	PLOG_DEBUG("marathon: %s %s: no URL answered (attempt %d of %d)", k->rq->method,
	           k->rq->path, k->round + 1, k->policy.attempts);
	return STEP_NEXT_URL;
}

/* Every round ended without an answer: name each URL and why it failed. */
static int unreachable(const struct call *k)
{
	struct pacer_buf msg = PACER_BUF_INIT;
	int rc;

	pacer_buf_printf(&msg, "%s %s: cannot reach Marathon at %s", k->rq->method, k->rq->path,
	                 pacer_buf_cstr(&k->tried));
	if (k->policy.attempts > 1)
		pacer_buf_printf(&msg, " (tried each URL %d times)", k->policy.attempts);
	pacer_buf_puts(&msg,
	               "; check --marathon / PACER_MARATHON_URL and that Marathon is running");
	rc = pacer_error_set(k->err, PACER_EUNREACHABLE, "%s", pacer_buf_cstr(&msg));
	add_context(k);
	pacer_buf_release(&msg);
	return rc;
}

int marathon__request(struct marathon_client *c, const struct marathon_request *rq,
                      struct marathon_response *resp, struct pacer_error **err)
{
	struct call k = {.c = c, .rq = rq, .resp = resp, .err = err, .tried = PACER_BUF_INIT};
	enum step last = STEP_NEXT_URL;
	int rc = PACER_EGENERIC;

	k.policy = retry_policy_for(c, rq);
	pacer_buf_init(&resp->body, c->max_body);
	/* A stream holds its connection for hours: it gets a handle of its own
	 * rather than one of the pool's, which short requests share. */
	k.h = rq->on_data ? curl_easy_init() : pool_get(c);
	if (!k.h || build_headers(&k)) {
		rc = pacer_error_set(err, PACER_EGENERIC,
		                     "out of memory while building headers for %s %s", rq->method,
		                     rq->path);
		goto done;
	}
	for (k.round = 0; k.round < k.policy.attempts; k.round++) {
		if (k.round)
			backoff(c, &k.policy, k.round);
		last = run_round(&k, &rc);
		if (last == STEP_DONE)
			goto done;
	}
	/* The last round decides: still busy, or nobody answered at all. */
	rc = last == STEP_NEXT_ROUND ? status_error(rq, resp, k.policy.attempts, err)
	                             : unreachable(&k);
done:
	/* Forget pointers into our stack frames (error buffer, callbacks' data)
	 * before the handle is pooled or closed; the connections stay. */
	if (k.h)
		curl_easy_reset(k.h);
	curl_slist_free_all(k.hdrs);
	pacer_buf_release(&k.tried);
	if (rq->on_data)
		curl_easy_cleanup(k.h);
	else
		pool_put(c, k.h);
	return rc;
}

void marathon__response_release(struct marathon_response *r)
{
	pacer_buf_release(&r->body);
	free(r->url);
	r->url = NULL;
	r->status = 0;
}
