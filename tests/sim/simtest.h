/*
 * simtest.h: helpers for the marathon-sim tests (header-only: every
 * tests/sim/test_*.c is its own executable). Each test starts its own
 * simulator with short task/health times and talks real HTTP to it.
 */
#ifndef PACER_SIMTEST_H
#define PACER_SIMTEST_H

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/testlib.h"
#include "tests/lib/testsim.h"

struct st_resp {
	int status;
	char *body;
	char *headers; /* raw response headers */
	struct json_object *json;
};

/*
 * Simulators started by the running test. A failed assertion ends the test
 * early; the suite's .fini (st_cleanup) then stops whatever is left, so no
 * orphaned simulator keeps CTest's output pipe open.
 */
static pid_t st_running[8];

static inline void st_cleanup(void)
{
	for (size_t i = 0; i < 8; i++)
		if (st_running[i] > 0 && kill(st_running[i], 0) == 0) {
			kill(st_running[i], SIGTERM);
			waitpid(st_running[i], NULL, 0);
		}
}

static inline void st_sim_start(struct test_sim *sim, const char *const *extra)
{
	const char *args[32] = {"--task-launch-ms", "40", "--health-ms", "40"};
	size_t n = 4;

	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	cr_assert_eq(test_sim_start(sim, args), 0, "marathon-sim did not start (is it built?)");
	for (size_t i = 0; i < 8; i++)
		if (!st_running[i]) {
			st_running[i] = sim->pid;
			break;
		}
}

static inline void st_sim_stop(struct test_sim *sim)
{
	cr_expect_eq(test_sim_stop(sim), 0, "marathon-sim did not exit cleanly on SIGTERM");
}

static inline size_t st_collect(char *p, size_t sz, size_t n, void *ud)
{
	char **buf = ud;
	size_t old = *buf ? strlen(*buf) : 0;
	char *nb = realloc(*buf, old + sz * n + 1);

	if (!nb)
		return 0;
	memcpy(nb + old, p, sz * n);
	nb[old + sz * n] = '\0';
	*buf = nb;
	return sz * n;
}

/* One request with headers captured. headers: NULL-terminated "Name: v" list or NULL. */
static inline struct st_resp st_http(const char *method, const char *url, const char *body, const char *const *headers)
{
	struct st_resp r = {0, NULL, NULL, NULL};
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	long code = 0;

	cr_assert(c);
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	if (body && !headers)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, st_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, st_collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		r.status = (int)code;
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
	if (!r.body)
		r.body = strdup("");
	if (r.body[0])
		r.json = json_tokener_parse(r.body);
	return r;
}

static inline void st_free(struct st_resp *r)
{
	free(r->body);
	free(r->headers);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

/* method + sim URL + path, body may be NULL. */
static inline struct st_resp st_req(struct test_sim *sim, const char *method, const char *path, const char *body)
{
	char url[1024];

	snprintf(url, sizeof(url), "%s%s", sim->url, path);
	return st_http(method, url, body, NULL);
}

/* GET /v2/apps/<id><rest>: rest is "" for the app, "/tasks" for its tasks... */
static inline struct st_resp st_get_app(struct test_sim *sim, const char *id, const char *rest)
{
	char path[512];

	snprintf(path, sizeof(path), "/v2/apps/%s%s", id, rest);
	return st_req(sim, "GET", path, NULL);
}

/* A header value from raw headers (case-insensitive name), copied into out. */
static inline int st_header(const struct st_resp *r, const char *name, char *out, size_t outlen)
{
	const char *p = r->headers;
	size_t n = strlen(name);

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			snprintf(out, outlen, "%.*s", (int)(eol - v), v);
			return 1;
		}
		p = eol + 2;
	}
	return 0;
}

static inline const char *st_str(struct json_object *o, const char *path)
{
	struct json_object *v = test_json_get(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* st_str() or "" when absent, for copying into buffers. */
static inline const char *st_str_or_empty(struct json_object *o, const char *path)
{
	const char *s = st_str(o, path);

	return s ? s : "";
}

static inline int64_t st_int(struct json_object *o, const char *path)
{
	struct json_object *v = test_json_get(o, path);

	return v ? json_object_get_int64(v) : -999;
}

static inline void st_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Number of running deployments. */
static inline int st_ndeploys(struct test_sim *sim)
{
	struct st_resp r = st_req(sim, "GET", "/v2/deployments", NULL);
	int n = r.json ? (int)json_object_array_length(r.json) : -1;

	st_free(&r);
	return n;
}

/* Wait until no deployment runs; returns 1, or 0 after timeout_ms. */
static inline int st_wait_idle(struct test_sim *sim, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 20) {
		if (st_ndeploys(sim) == 0)
			return 1;
		st_sleep_ms(20);
	}
	return 0;
}

/* Is a deployment with this id running? */
static inline int st_deploy_running(struct test_sim *sim, const char *id)
{
	struct st_resp r = st_req(sim, "GET", "/v2/deployments", NULL);
	int found = 0;

	for (size_t i = 0; r.json && i < json_object_array_length(r.json); i++) {
		const char *d = st_str(json_object_array_get_idx(r.json, i), "id");
		found |= d && !strcmp(d, id);
	}
	st_free(&r);
	return found;
}

/*
 * GET /v2/apps/<id> every 20 ms until the app has a member at path, for up
 * to timeout_ms. Returns the last answer (the caller st_free()s it): its json
 * lacks the member when the time ran out.
 */
static inline struct st_resp st_wait_app_member(struct test_sim *sim, const char *id,
						const char *path, int timeout_ms)
{
	struct st_resp r;

	for (int t = 0;; t += 20) {
		r = st_get_app(sim, id, "");
		if (test_json_get(r.json, path) || t >= timeout_ms)
			return r;
		st_free(&r);
		st_sleep_ms(20);
	}
}

/*
 * /v2/events read over a raw socket, so a test sees the frames (and the
 * response head) as they arrive. buf holds everything read so far.
 */
struct st_sse {
	int fd;
	char *buf;
	size_t len;
};

static inline void st_sse_open(struct st_sse *s, struct test_sim *sim, const char *query)
{
	struct sockaddr_in sa;
	char req[512];

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(s->fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)sim->port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_eq(connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "GET /v2/events%s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
		 query ? query : "");
	cr_assert_eq(write(s->fd, req, strlen(req)), (ssize_t)strlen(req));
}

/* Read until `needle` shows up in the stream (or timeout). Returns 1 when found. */
static inline int st_sse_wait(struct st_sse *s, const char *needle, int timeout_ms)
{
	for (int t = 0; t < timeout_ms; t += 50) {
		struct pollfd p = {s->fd, POLLIN, 0};
		if (s->buf && strstr(s->buf, needle))
			return 1;
		if (poll(&p, 1, 50) > 0) {
			char chunk[4096];
			ssize_t n = read(s->fd, chunk, sizeof(chunk));
			char *nb;
			if (n <= 0)
				return s->buf && strstr(s->buf, needle);
			nb = realloc(s->buf, s->len + (size_t)n + 1);
			cr_assert(nb);
			s->buf = nb;
			memcpy(s->buf + s->len, chunk, (size_t)n);
			s->len += (size_t)n;
			s->buf[s->len] = '\0';
		}
	}
	return s->buf && strstr(s->buf, needle);
}

static inline void st_sse_close(struct st_sse *s)
{
	close(s->fd);
	free(s->buf);
}

#endif
