/*
 * Tests for cmd/pacer/serve_guard.c through a real server on a loopback
 * port: hundreds of connections that trickle a request head, a flood of
 * forged webhooks, and a client that sends a byte now and then forever.
 * The clients are raw sockets, so the tests control every byte and can
 * choose their source address (127.0.0.x are all loopback on Linux).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/pacer/serve_http.h"
#include "tests/lib/longrun.h"
#include "tests/lib/testlib.h"

#define SECRET "guard-secret-0123"
#define SLOW 500

struct fixture {
	struct serve *s;
	pthread_t th;
	int started;
	volatile sig_atomic_t stop;
	pthread_mutex_t mu;
	int syncs;
	char last_reason[256];
	int port;
};

static struct fixture *current;

static int count_sync(void *ctx, const char *reason, struct json_object **status_out)
{
	struct fixture *f = ctx;

	pthread_mutex_lock(&f->mu);
	f->syncs++;
	snprintf(f->last_reason, sizeof(f->last_reason), "%s", reason);
	pthread_mutex_unlock(&f->mu);
	*status_out = NULL;
	return 0;
}

static int syncs(struct fixture *f, char *reason, size_t n)
{
	int v;

	pthread_mutex_lock(&f->mu);
	v = f->syncs;
	if (reason)
		snprintf(reason, n, "%s", f->last_reason);
	pthread_mutex_unlock(&f->mu);
	return v;
}

static void *run_thread(void *arg)
{
	struct fixture *f = arg;

	serve_run(f->s, &f->stop);
	return NULL;
}

static void fx_start(struct fixture *f, struct serve_options *o)
{
	struct pacer_error *err = NULL;

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	o->listen = "127.0.0.1:0";
	o->secret = SECRET;
	o->branch = "main";
	cr_assert_eq(serve_new(&f->s, o, count_sync, f, &err), 0, "serve_new: %s",
	             err ? err->message : "");
	f->port = serve_port(f->s);
	cr_assert_eq(pthread_create(&f->th, NULL, run_thread, f), 0);
	f->started = 1;
	current = f;
}

static void fx_stop(struct fixture *f)
{
	current = NULL;
	if (f->started) {
		f->stop = 1;
		pthread_join(f->th, NULL);
	}
	serve_free(f->s);
	pthread_mutex_destroy(&f->mu);
}

static void fx_fini(void)
{
	if (current)
		fx_stop(current);
}

/* Every slow client needs a descriptor here and one in the server. */
static void fx_init(void)
{
	struct rlimit rl;

	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

TestSuite(guard, .init = fx_init, .fini = fx_fini, .timeout = 60);

/* A TCP connection from src (a 127.x address) to the server. -1 when it fails. */
static int dial(const char *src, int port)
{
	struct sockaddr_in from = {.sin_family = AF_INET}, to = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, src, &from.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	to.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_str(int fd, const char *s)
{
	size_t n = strlen(s);

	return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/*
 * Read until the server closes or timeout_ms pass. Returns the bytes read
 * (into buf, NUL-terminated), or -1 on timeout.
 */
static int read_all(int fd, char *buf, size_t cap, int timeout_ms)
{
	long long deadline = lr_now_ms() + timeout_ms;
	size_t n = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long long left = deadline - lr_now_ms();
		ssize_t k;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
			buf[n] = '\0';
			return -1;
		}
		k = recv(fd, buf + n, cap - 1 - n, 0);
		if (k <= 0) {
			buf[n] = '\0';
			return (int)n;
		}
		n += (size_t)k;
		if (n == cap - 1) {
			buf[n] = '\0';
			return (int)n;
		}
	}
}

/* One whole request from src; the status of the answer, 0 when none came within timeout_ms. */
static int request(int port, const char *src, const char *req, int timeout_ms, char *out,
                   size_t cap)
{
	int fd = dial(src, port), status = 0;

	if (fd < 0)
		return 0;
	if (send_str(fd, req) == 0 && read_all(fd, out, cap, timeout_ms) > 0)
		sscanf(out, "HTTP/1.%*d %d", &status);
	close(fd);
	return status;
}

static int healthz(int port, const char *src, int timeout_ms)
{
	char buf[1024];

	return request(port, src,
	               "GET /healthz HTTP/1.1\r\nHost: pacer\r\nConnection: close\r\n\r\n",
	               timeout_ms, buf, sizeof(buf));
}

/* The request of a GitHub push to main, X-GitHub-Delivery `id`, signed with key, into req. */
static void push_request(char *req, size_t cap, const char *key, const char *id, int close_after)
{
	static const char body[] = "{\"ref\":\"refs/heads/main\",\"after\":"
	                           "\"1111111111111111111111111111111111111111\"}";
	unsigned char mac[32];
	unsigned int n = 0;
	char hex[65];

	HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, strlen(body), mac,
	     &n);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	snprintf(req, cap,
	         "POST /hooks/github HTTP/1.1\r\nHost: pacer\r\n%s"
	         "Content-Type: application/json\r\nX-GitHub-Event: push\r\n"
	         "X-GitHub-Delivery: %s\r\nX-Hub-Signature-256: sha256=%s\r\n"
	         "Content-Length: %zu\r\n\r\n%s",
	         close_after ? "Connection: close\r\n" : "", id, hex, strlen(body), body);
}

static int post_push(int port, const char *src, const char *key, const char *id, char *out,
                     size_t cap)
{
	char req[1024];

	push_request(req, sizeof(req), key, id, 1);
	return request(port, src, req, 5000, out, cap);
}

/* ---- the attackers ------------------------------------------------------ */

struct attack {
	int port;
	int fds[SLOW];
	int nfds;
	volatile int stop;
	/* the flood's answers */
	int forged, unauthorized, limited;
};

/* Every slow connection sends one more header line every second, never the end of its head. */
static void *trickle(void *arg)
{
	struct attack *a = arg;

	while (!a->stop) {
		for (int i = 0; i < a->nfds && !a->stop; i++)
			if (a->fds[i] >= 0 && send_str(a->fds[i], "X-Slow: 1\r\n") != 0) {
				close(a->fds[i]);
				a->fds[i] = -1;
			}
		for (int t = 0; t < 10 && !a->stop; t++)
			lr_sleep_ms(100);
	}
	return NULL;
}

/* Forged webhooks from 127.0.0.2 as fast as they are answered. */
static void *flood(void *arg)
{
	struct attack *a = arg;
	char buf[2048], id[32];

	while (!a->stop) {
		int st;

		snprintf(id, sizeof(id), "forged-%d", a->forged);
		st = post_push(a->port, "127.0.0.2", "not-the-secret", id, buf, sizeof(buf));
		a->forged++;
		a->unauthorized += st == 401;
		a->limited += st == 429 && strstr(buf, "Retry-After: ") != NULL;
	}
	return NULL;
}

static double metric(struct fixture *f, const char *series)
{
	char buf[65536];
	const char *p;
	double v = -1;

	cr_assert_eq(request(f->port, "127.0.0.1",
	                     "GET /metrics HTTP/1.1\r\nHost: pacer\r\nConnection: close\r\n\r\n",
	                     5000, buf, sizeof(buf)),
	             200);
	p = strstr(buf, series);
	cr_assert_not_null(p, "no %s in /metrics", series);
	sscanf(p + strlen(series), " %lf", &v);
	return v;
}

/*
 * 500 connections from 127.0.0.1 trickle their request heads and a flood
 * of forged webhooks comes from 127.0.0.2: /healthz from 127.0.0.1 still
 * answers within 1 s, and a signed webhook triggers its sync.
 */
Test(guard, answers_under_slow_clients_and_forged_flood)
{
	static struct fixture f;
	static struct attack a;
	struct serve_options o = SERVE_OPTIONS_INIT;
	pthread_t tt, ft;
	char buf[4096], reason[256];
	long long t0;
	int base;

	fx_start(&f, &o);
	for (long long end = lr_now_ms() + 5000; syncs(&f, NULL, 0) < 1;)
		cr_assert_lt(lr_now_ms(), end, "no startup sync");
	base = syncs(&f, NULL, 0);
	memset(&a, 0, sizeof(a));
	a.port = f.port;
	for (a.nfds = 0; a.nfds < SLOW; a.nfds++) {
		a.fds[a.nfds] = dial("127.0.0.1", f.port);
		cr_assert_geq(a.fds[a.nfds], 0, "connection %d: %s", a.nfds, strerror(errno));
		send_str(a.fds[a.nfds], "POST /hooks/github HTTP/1.1\r\nHost: pacer\r\n");
	}
	cr_assert_eq(pthread_create(&tt, NULL, trickle, &a), 0);
	cr_assert_eq(pthread_create(&ft, NULL, flood, &a), 0);
	lr_sleep_ms(1500);

	for (int i = 0; i < 3; i++) {
		t0 = lr_now_ms();
		cr_assert_eq(healthz(f.port, "127.0.0.1", 1000), 200, "/healthz unanswered");
		cr_assert_lt(lr_now_ms() - t0, 1000);
	}
	cr_assert_eq(post_push(f.port, "127.0.0.1", SECRET, "real-1", buf, sizeof(buf)), 202, "%s",
	             buf);
	cr_assert_not_null(strstr(buf, "\"queued\""), "%s", buf);
	for (long long end = lr_now_ms() + 5000; syncs(&f, reason, sizeof(reason)) <= base;)
		cr_assert_lt(lr_now_ms(), end, "the signed webhook's sync did not run");
	cr_assert_not_null(strstr(reason, "github"), "%s", reason);

	a.stop = 1;
	pthread_join(tt, NULL);
	pthread_join(ft, NULL);
	cr_assert_gt(a.unauthorized, 0, "no forged webhook was answered");
	cr_assert_gt(a.limited, 0, "the flood (%d forged) was never rate-limited", a.forged);
	/* The slow ones beyond the per-address cap were cut as newer ones came. */
	cr_assert_geq(metric(&f, "pacer_http_rejected_total{reason=\"client_limit\"}"), SLOW - 64);
	cr_assert_gt(metric(&f, "pacer_http_rejected_total{reason=\"rate_limited\"}"), 0);
	for (int i = 0; i < a.nfds; i++)
		if (a.fds[i] >= 0)
			close(a.fds[i]);
	fx_stop(&f);
}

/*
 * With no per-address cap to speak of, the total cap sheds the oldest
 * unfinished requests: a fresh /healthz always gets in.
 */
Test(guard, total_cap_sheds_the_oldest)
{
	static struct fixture f;
	struct serve_options o = SERVE_OPTIONS_INIT;
	int fds[300];

	o.limits.max_connections = 100;
	o.limits.max_client_pending = 10000;
	fx_start(&f, &o);
	for (int i = 0; i < 300; i++) {
		fds[i] = dial("127.0.0.1", f.port);
		cr_assert_geq(fds[i], 0);
		send_str(fds[i], "GET /healthz HTTP/1.1\r\n");
	}
	cr_assert_eq(healthz(f.port, "127.0.0.1", 1000), 200);
	cr_assert_geq(metric(&f, "pacer_http_rejected_total{reason=\"connection_limit\"}"), 200);
	for (int i = 0; i < 300; i++)
		close(fds[i]);
	fx_stop(&f);
}

/*
 * A client that sends a byte of its request head every 200 ms is never
 * idle, and is cut at the request deadline all the same, without an answer.
 */
/* Send data a byte every 200 ms; the ms after t0 at which the server cut fd, or -1 when it did not
 * within 4 s. */
static long long trickle_until_cut(int fd, const char *data, long long t0)
{
	for (size_t i = 0; data[i] && lr_now_ms() - t0 < 4000; i++) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};

		if (send(fd, data + i, 1, MSG_NOSIGNAL) != 1 || poll(&pf, 1, 200) > 0)
			return lr_now_ms() - t0;
	}
	return -1;
}

Test(guard, trickled_head_cut_at_deadline)
{
	static struct fixture f;
	struct serve_options o = SERVE_OPTIONS_INIT;
	const char *head =
	    "GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	const char *body = "{\"ref\": \"refs/heads/main\", \"padding\": \"aaaaaaaaaaaaaaaaaaaaa";
	char buf[2048], req[1024];
	const char *p;
	long long t0, cut;
	int fd;

	o.limits.request_timeout_ms = 1000;
	fx_start(&f, &o);
	t0 = lr_now_ms();
	fd = dial("127.0.0.1", f.port);
	cr_assert_geq(fd, 0);
	cut = trickle_until_cut(fd, head, t0);
	cr_assert_geq(cut, 0, "a trickling client was not cut within 4 s");
	cr_assert_geq(cut, 900, "cut before the deadline: %lld ms", cut);
	cr_assert_eq(read_all(fd, buf, sizeof(buf), 1000), 0, "answered: %s", buf);
	close(fd);
	/* The deadline covers the body too: a whole head, then a trickled body. */
	t0 = lr_now_ms();
	fd = dial("127.0.0.1", f.port);
	cr_assert_eq(send_str(fd, "POST /hooks/github HTTP/1.1\r\nHost: pacer\r\n"
	                          "X-GitHub-Event: push\r\nContent-Length: 200\r\n\r\n"),
	             0);
	cut = trickle_until_cut(fd, body, t0);
	cr_assert(cut >= 900, "a trickled body was not cut at the deadline: %lld ms", cut);
	close(fd);
	cr_assert_geq(metric(&f, "pacer_http_rejected_total{reason=\"deadline\"}"), 2);
	/*
	 * A kept-alive connection's next request has its own deadline: two
	 * requests 600 ms apart, 1.2 s after the connection opened, both answered.
	 */
	fd = dial("127.0.0.1", f.port);
	lr_sleep_ms(600);
	push_request(req, sizeof(req), SECRET, "keep-1", 0);
	cr_assert_eq(send_str(fd, req), 0);
	lr_sleep_ms(600);
	push_request(req, sizeof(req), SECRET, "keep-2", 1);
	cr_assert_eq(send_str(fd, req), 0);
	cr_assert_gt(read_all(fd, buf, sizeof(buf), 2000), 0);
	p = strstr(buf, "HTTP/1.1 202");
	cr_assert(p && strstr(p + 1, "HTTP/1.1 202"), "not two answers: %s", buf);
	close(fd);
	fx_stop(&f);
}

/*
 * Beyond its burst an address gets 429 with Retry-After, body unread;
 * /healthz is never rated; signed webhooks give their token back; another
 * address has its own budget.
 */
Test(guard, rate_limit_per_address)
{
	static struct fixture f;
	struct serve_options o = SERVE_OPTIONS_INIT;
	char buf[2048], id[32];
	int limited = 0;

	o.limits.rate_per_s = 1;
	o.limits.rate_burst = 5;
	fx_start(&f, &o);
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "ok-%d", i);
		cr_assert_eq(post_push(f.port, "127.0.0.5", SECRET, id, buf, sizeof(buf)), 202,
		             "signed delivery %d: %s", i, buf);
	}
	for (int i = 0; i < 10; i++) {
		int st = post_push(f.port, "127.0.0.6", "forged", "x", buf, sizeof(buf));

		if (st == 429) {
			limited++;
			cr_assert_not_null(strstr(buf, "Retry-After: "), "%s", buf);
		} else {
			cr_assert_eq(st, 401, "%d %s", st, buf);
		}
	}
	cr_assert_geq(limited, 4, "only %d of 10 forged requests over a burst of 5 got 429",
	              limited);
	for (int i = 0; i < 20; i++)
		cr_assert_eq(healthz(f.port, "127.0.0.6", 1000), 200);
	cr_assert_eq(post_push(f.port, "127.0.0.7", "forged", "y", buf, sizeof(buf)), 401);
	fx_stop(&f);
}
