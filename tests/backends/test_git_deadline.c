/*
 * A git remote that accepts connections and never answers (a proxy that
 * stopped forwarding) must not hang pacer: the fetch fails after
 * --git-timeout seconds without progress, and a signal stops it at once
 * (backends/git/deadline.h). The remote is a real TCP listener on loopback
 * that accepts and reads, and never writes a byte.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/git/source.h"
#include "reconcile/source.h"
#include "tests/lib/longrun.h"
#include "tests/lib/testlib.h"

struct blackhole {
	int fd, port;
	pthread_t thread;
};

/* Accept every connection and keep it open, silent, until the test ends. */
static void *blackhole_main(void *p)
{
	struct blackhole *b = p;

	for (;;) {
		int c = accept(b->fd, NULL, NULL);

		if (c < 0)
			return NULL;
		/* Leaked on purpose until exit: the peer must see an open, silent socket. */
	}
}

static void blackhole_start(struct blackhole *b)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	b->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(b->fd >= 0);
	cr_assert_eq(bind(b->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(b->fd, 16), 0);
	cr_assert_eq(getsockname(b->fd, (struct sockaddr *)&a, &len), 0);
	b->port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&b->thread, NULL, blackhole_main, b), 0);
	pthread_detach(b->thread);
}

static struct pacer_source *blackhole_source(struct blackhole *b, char *dir, int timeout_s,
                                             const volatile int *cancel)
{
	struct gitsrc_options o = GITSRC_OPTIONS_INIT;
	struct pacer_source *src = NULL;
	struct pacer_error *err = NULL;
	char url[128], cache[512];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/apps.git", b->port);
	snprintf(cache, sizeof(cache), "%s/git", dir);
	o.url = url;
	o.cache_dir = cache;
	o.timeout_s = timeout_s;
	o.cancel = cancel;
	cr_assert_eq(gitsrc_new(&src, &o, &err), 0, "%s", err ? err->message : "");
	return src;
}

static int on_file(void *ctx, const char *path, const char *data, size_t len, const char *key)
{
	(void)ctx, (void)path, (void)key, (void)data, (void)len;
	return 0;
}

Test(git_deadline, silent_remote_fails_after_the_timeout)
{
	struct blackhole b;
	struct pacer_source *src;
	struct pacer_error *err = NULL;
	char *dir = test_tmpdir("gitdl");
	long long t0;
	int rc;

	blackhole_start(&b);
	src = blackhole_source(&b, dir, 2, NULL);
	t0 = lr_now_ms();
	rc = src->read(src, on_file, NULL, &err);
	cr_expect_eq(rc, PACER_EUNREACHABLE, "rc %d: %s", rc, err ? err->message : "");
	cr_expect_lt(lr_now_ms() - t0, 8000, "the fetch hung for %lld ms", lr_now_ms() - t0);
	cr_expect(err && strstr(err->message, "sent nothing for 2 s"), "%s",
	          err ? err->message : "");
	pacer_error_free(err);
	pacer_source_free(src);
	test_rmrf(dir);
	free(dir);
}

static volatile int cancel_flag;

static void *set_cancel(void *p)
{
	(void)p;
	lr_sleep_ms(1000);
	cancel_flag = 1;
	return NULL;
}

Test(git_deadline, cancel_stops_a_blocked_fetch_at_once)
{
	struct blackhole b;
	struct pacer_source *src;
	struct pacer_error *err = NULL;
	char *dir = test_tmpdir("gitdl");
	pthread_t th;
	long long t0;
	int rc;

	blackhole_start(&b);
	cancel_flag = 0;
	src = blackhole_source(&b, dir, 600, &cancel_flag);
	cr_assert_eq(pthread_create(&th, NULL, set_cancel, NULL), 0);
	t0 = lr_now_ms();
	rc = src->read(src, on_file, NULL, &err);
	pthread_join(th, NULL);
	cr_expect_eq(rc, PACER_ECANCELLED, "rc %d: %s", rc, err ? err->message : "");
	cr_expect_lt(lr_now_ms() - t0, 3000, "cancel took %lld ms", lr_now_ms() - t0);
	pacer_error_free(err);
	pacer_source_free(src);
	test_rmrf(dir);
	free(dir);
}

/* End to end: pacer sync exits 5 in time; pacer serve stops on SIGTERM while stuck. */
Test(git_deadline, pacer_never_hangs_on_a_silent_remote)
{
	struct blackhole b;
	char url[128], state[512], log[512];
	char *dir = test_tmpdir("gitdl");
	struct lr_proc p = {0};
	char *out = NULL, *errout = NULL;
	long long t0;
	int st;

	blackhole_start(&b);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/apps.git", b.port);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(log, sizeof(log), "%s/serve.log", dir);
	{
		const char *argv[] = {test_pacer_bin(), "sync", "--source", url,
		                      "--marathon", "http://127.0.0.1:9", "--state-dir", state,
		                      "--git-timeout", "2", NULL};

		t0 = lr_now_ms();
		st = test_run(argv, NULL, &out, &errout, 30);
		cr_expect_eq(st, 5, "a silent remote is 'git source unavailable': %d\n%s", st,
		             errout);
		cr_expect_lt(lr_now_ms() - t0, 10000);
		free(out);
		free(errout);
	}
	{
		const char *argv[] = {test_pacer_bin(), "serve", "--source", url,
		                      "--marathon", "http://127.0.0.1:9", "--state-dir", state,
		                      "--listen", "127.0.0.1:0", "--insecure-no-webhook-secret",
		                      NULL};

		lr_start(&p, argv, NULL, log);
		lr_sleep_ms(2000); /* its first sync is stuck in the fetch (default timeout 60 s) */
		t0 = lr_now_ms();
		st = lr_stop(&p, SIGTERM, 10000);
		cr_expect_neq(st, -1, "pacer serve did not stop on SIGTERM while a fetch hung");
		cr_expect_lt(lr_now_ms() - t0, 5000, "stopping took %lld ms", lr_now_ms() - t0);
	}
	test_rmrf(dir);
	free(dir);
}
