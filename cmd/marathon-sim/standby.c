/*
 * standby.c: marathon-sim as a Marathon standby (--standby-of URL), the way
 * Marathon 1.7+ behaves (SPEC.md §1.4, LeaderProxyFilter):
 *
 *   - every REST request (/ping and /v2/info included) is proxied to the
 *     leader, which answers with its status, headers and body; the request
 *     goes up with X-Marathon-Via: 1.1 <this standby> and X-Forwarded-For,
 *     and the answer comes back with X-Marathon-Via added;
 *   - GET /v2/events is not proxied: 302 to the leader's /v2/events with the
 *     same query (clients must follow it);
 *   - a request that already passed this standby (its X-Marathon-Via names
 *     us) is a proxying loop: 502 "Detected proxying loop.";
 *   - a leader that cannot be reached: 502 "Connection to leader refused.".
 *
 * The standby checks credentials itself before proxying (Jetty's security
 * handler comes first) and passes them on. --standby-mode redirect is the
 * other standby clients may meet: 307 to the same URI on the leader for every
 * path, before anything else (server.c).
 *
 * Runs in the connection's thread without the state lock: the standby has
 * no state of its own to protect, and the leader may take its time.
 */
#include "cmd/marathon-sim/sim.h"

#include <curl/curl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_REPLY ((size_t)256 << 20)

/* Hop-by-hop and framing headers: each side of the proxy sets its own. */
static int hop_header(const char *name, size_t len)
{
	static const char *const HOP[] = {"connection", "keep-alive", "transfer-encoding", "content-length", "host",
					  "expect", "te", "upgrade", "date", "accept-encoding", NULL};

	for (size_t i = 0; HOP[i]; i++)
		if (strlen(HOP[i]) == len && !strncasecmp(name, HOP[i], len))
			return 1;
	return 0;
}

/* "1.1 127.0.0.1:<port>": how this standby names itself in X-Marathon-Via. */
static void via_name(struct sim *s, char out[64])
{
	snprintf(out, 64, "1.1 127.0.0.1:%d", s->port);
}

struct upstream {
	struct curl_slist *headers;
	int failed;
};

static enum MHD_Result add_request_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct upstream *u = cls;
	struct curl_slist *l;
	char line[8192];

	(void)kind;
	if (hop_header(key, strlen(key)))
		return MHD_YES;
	if (!strcasecmp(key, "X-Marathon-Via"))
		return MHD_YES; /* sent on with this standby added (upstream_headers) */
	/* "Name;" is how curl is told to send a header with an empty value. */
	if (value && *value)
		snprintf(line, sizeof(line), "%s: %s", key, value);
	else
		snprintf(line, sizeof(line), "%s;", key);
	if (!(l = curl_slist_append(u->headers, line))) {
		u->failed = 1;
		return MHD_NO;
	}
	u->headers = l;
	return MHD_YES;
}

struct downstream {
	struct sim_resp *resp;
	struct pacer_buf body;
	int failed;
};

static size_t collect_body(char *p, size_t sz, size_t n, void *ud)
{
	struct downstream *d = ud;

	if (pacer_buf_add(&d->body, p, sz * n)) {
		d->failed = 1;
		return 0;
	}
	return sz * n;
}

/* Keep the leader's end-to-end headers for the answer; drop the status line and hop-by-hop ones. */
static size_t collect_header(char *p, size_t sz, size_t n, void *ud)
{
	struct downstream *d = ud;
	size_t len = sz * n, name;
	char **h;

	while (len && (p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	name = strcspn(p, ":");
	if (!len || name >= len || !strncmp(p, "HTTP/", 5))
		return sz * n;
	if (hop_header(p, name))
		return sz * n;
	h = realloc(d->resp->headers, (d->resp->nheaders + 1) * sizeof(*h));
	if (!h || !(h[d->resp->nheaders] = strndup(p, len))) {
		if (h)
			d->resp->headers = h;
		d->failed = 1;
		return 0;
	}
	d->resp->headers = h;
	d->resp->nheaders++;
	return sz * n;
}

/* A stopping simulator does not wait for a slow leader. */
static int still_wanted(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct sim *s = clientp;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return __atomic_load_n(&s->stopping, __ATOMIC_RELAXED) ? 1 : 0;
}

static CURL *upstream_handle(struct sim *s, struct sim_req *r, const char *url, struct upstream *u,
			     struct downstream *d)
{
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	if (!strcmp(r->method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (r->body_len || strcmp(r->method, "GET"))
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	if (r->body_len || (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")))
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body_len ? r->body : "");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, u->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, d);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, still_wanted);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
	return c;
}

static void upstream_add(struct upstream *u, const char *line)
{
	struct curl_slist *l = curl_slist_append(u->headers, line);

	if (l)
		u->headers = l;
	else
		u->failed = 1;
}

/*
 * The headers the leader is to see: the client's, plus who passed the
 * request on. Headers the client did not send, curl must not invent either
 * ("Name:" takes one of curl's own away).
 */
static int upstream_headers(struct sim *s, struct sim_req *r, struct upstream *u)
{
	static const char *const CURL_OWN[] = {"Content-Type", "Accept", NULL};
	const char *prior = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Marathon-Via");
	char via[64], line[1024];

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, add_request_header, u);
	via_name(s, via);
	snprintf(line, sizeof(line), "X-Marathon-Via: %s%s%s", prior ? prior : "", prior ? ", " : "", via);
	upstream_add(u, line);
	snprintf(line, sizeof(line), "X-Forwarded-For: %s", r->client_ip);
	upstream_add(u, line);
	upstream_add(u, "Expect:");
	for (size_t i = 0; CURL_OWN[i]; i++)
		if (!MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, CURL_OWN[i])) {
			snprintf(line, sizeof(line), "%s:", CURL_OWN[i]);
			upstream_add(u, line);
		}
	return u->failed ? -1 : 0;
}

static void proxy(struct sim *s, struct sim_req *r, const char *uri, struct sim_resp *resp)
{
	struct upstream u = {NULL, 0};
	struct downstream d = {resp, PACER_BUF_INIT, 0};
	char *url = NULL;
	CURL *c = NULL;
	CURLcode rc;
	long status = 0;

	pacer_buf_init(&d.body, MAX_REPLY);
	if (upstream_headers(s, r, &u) || asprintf(&url, "%s%s", s->cfg.standby_url, uri) < 0 ||
	    !(c = upstream_handle(s, r, url, &u, &d))) {
		resp_message(resp, 500, "marathon-sim: out of memory proxying to the leader");
		goto done;
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK || d.failed || !status) {
		resp_headers_free(resp);
		if (rc == CURLE_COULDNT_CONNECT)
			resp_message(resp, 502, "Connection to leader refused.");
		else
			resp_message(resp, 502, "marathon-sim: proxying to the leader %s failed: %s", s->cfg.standby_url,
				     d.failed ? "reply too large or out of memory" : curl_easy_strerror(rc));
		goto done;
	}
	resp->proxied = 1;
	resp_text(resp, (int)status, pacer_buf_detach(&d.body));
done:
	curl_easy_cleanup(c);
	curl_slist_free_all(u.headers);
	pacer_buf_release(&d.body);
	free(url);
}

/* Did this request pass through this standby before? */
static int is_loop(struct sim *s, struct sim_req *r)
{
	const char *via = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Marathon-Via");
	char me[64];

	via_name(s, me);
	return via && strstr(via, me + 4) != NULL;
}

void standby_handle(struct sim *s, struct sim_req *r, const char *uri, struct sim_resp *resp)
{
	if (is_loop(s, r)) {
		resp_message(resp, 502, "Detected proxying loop.");
		return;
	}
	if (!strcmp(r->path, "/v2/events")) {
		const char *q = strchr(uri, '?');
		if (asprintf(&resp->location, "%s/v2/events%s", s->cfg.standby_url, q ? q : "") < 0)
			resp->location = NULL;
		resp_text(resp, 302, strdup(""));
		return;
	}
	proxy(s, r, uri, resp);
}
