/*
 * backends/notify/sender.c: one sink's queue against real sockets on
 * loopback: a full queue drops (and counts) instead of growing, a sink that
 * takes the connection and never answers is waited for no longer than the
 * drain's deadline and freeing the sender aborts it at once, a refused
 * connection is retried with backoff, and every end is counted.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/notify/sender.h"
#include "reconcile/base/clock.h"
#include "reconcile/metrics.h"
#include "tests/lib/testsim.h"

/* A port that takes connections (the kernel's backlog) and never answers. */
static int black_hole(int *port)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0, "socket: %s", strerror(errno));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(fd, 16), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static double counted(struct metrics *m, const char *result)
{
	const char *l[] = {"sink", "webhook", "result", result, NULL};
	double v = -1;

	cr_assert_eq(metrics_get(m, "pacer_notifications_total", l, &v), 0);
	return v;
}

Test(notify_sender, full_queue_drops_and_free_aborts_a_hung_request, .timeout = 60)
{
	struct notify_sender_options o = NOTIFY_SENDER_OPTIONS_INIT;
	struct notify_sender *s = NULL;
	struct metrics *m = NULL;
	char url[64];
	int port, fd = black_hole(&port), busy = 0;
	long long t0;

	cr_assert_eq(metrics_new_pacer(&m, NULL), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	o.sink = "webhook";
	o.queue_max = 3;
	o.timeout_ms = 30000; /* longer than the test: only free() may end it */
	o.metrics = m;
	cr_assert_eq(notify_sender_new(&s, &o, NULL), 0);
	for (int i = 0; i < 8; i++)
		busy += notify_sender_post(s, url, NULL, "{}", "a message") == PACER_EBUSY;
	cr_expect_eq(busy, 5, "3 wait, 5 are dropped");
	cr_expect_eq(counted(m, "dropped"), 5);

	/* The drain gives up at its deadline with all three still there. */
	t0 = pacer_now_ms();
	cr_expect_eq(notify_sender_drain(s, pacer_now_ms() + 700), 3);
	cr_expect_geq(pacer_now_ms() - t0, 650);
	cr_expect_lt(pacer_now_ms() - t0, 3000);

	/* free() ends the hung request (libcurl's progress callback) instead of waiting 30 s. */
	t0 = pacer_now_ms();
	notify_sender_free(s);
	cr_expect_lt(pacer_now_ms() - t0, 3000, "free took %lld ms", pacer_now_ms() - t0);
	cr_expect_eq(counted(m, "dropped"), 8, "what was queued is counted as dropped");
	cr_expect_eq(counted(m, "failed"), 0);
	close(fd);
	metrics_free(m);
}

Test(notify_sender, refused_connection_retried_with_backoff_then_failed, .timeout = 60)
{
	struct notify_sender_options o = NOTIFY_SENDER_OPTIONS_INIT;
	struct notify_sender *s = NULL;
	struct metrics *m = NULL;
	char url[64];
	long long t0, ms;

	cr_assert_eq(metrics_new_pacer(&m, NULL), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", test_closed_port());
	o.sink = "webhook";
	o.attempts = 3;
	o.retry_min_ms = 200;
	o.retry_max_ms = 300;
	o.metrics = m;
	cr_assert_eq(notify_sender_new(&s, &o, NULL), 0);
	t0 = pacer_now_ms();
	cr_assert_eq(notify_sender_post(s, url, NULL, "{}", "a message"), 0);
	cr_expect_eq(notify_sender_drain(s, pacer_now_ms() + 10000), 0);
	ms = pacer_now_ms() - t0;
	/* Three attempts, 200 ms then 300 ms (the cap) apart. */
	cr_expect_geq(ms, 480, "retried after %lld ms", ms);
	cr_expect_lt(ms, 5000);
	cr_expect_eq(counted(m, "failed"), 1);
	cr_expect_eq(counted(m, "sent"), 0);
	notify_sender_free(s);
	metrics_free(m);
}
