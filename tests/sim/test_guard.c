/*
 * marathon-sim under bad clients (cmd/marathon-sim/guard.c): connections
 * that never finish their request are cut at --request-timeout, more of
 * them than select() could watch do not stop it answering, and an answer
 * that takes long (a fault's latency, the event stream) is not cut.
 */
#include <sys/resource.h>

#include "tests/sim/simtest.h"

#define HOLDERS 1100 /* past FD_SETSIZE and libmicrohttpd's select() default limit */

static void init(void)
{
	struct rlimit rl;

	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

TestSuite(sim_guard, .init = init, .fini = st_cleanup, .timeout = 60);

static int dial(const struct test_sim *sim)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons((uint16_t)sim->port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 1 when the peer closed fd (EOF or reset) within timeout_ms without sending anything. */
static int closed_silently(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	return poll(&p, 1, timeout_ms) == 1 && recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * 1100 connections hold a half-sent request: the simulator still answers
 * at once, and gives every one of them back at the deadline. The deadline
 * is longer than the answer may take on a busy machine (ANSWER_MS), so
 * that an answer that only came once the holders were cut fails.
 */
#define HOLD_TIMEOUT "4"
#define ANSWER_MS 2500

Test(sim_guard, half_sent_requests_neither_wedge_nor_stay)
{
	static int fds[HOLDERS];
	const char *args[] = {"--request-timeout", HOLD_TIMEOUT, NULL};
	struct test_sim sim;
	struct st_resp r;
	long long t0;
	int closed = 0;

	st_sim_start(&sim, args);
	for (int i = 0; i < HOLDERS; i++) {
		fds[i] = dial(&sim);
		cr_assert_geq(fds[i], 0, "connection %d", i);
		cr_assert_gt(write(fds[i], "GET /v2/info HTTP/1.1\r\n", 23), 0);
	}
	t0 = ms_now();
	r = st_req(&sim, "GET", "/v2/info", NULL);
	cr_assert_eq(r.status, 200, "GET /v2/info with %d half-sent requests open: %d", HOLDERS, r.status);
	cr_assert_lt(ms_now() - t0, ANSWER_MS, "answered after %lld ms", ms_now() - t0);
	st_free(&r);
	for (int i = 0; i < HOLDERS; i++) {
		closed += closed_silently(fds[i], i == 0 ? 7000 : 500);
		close(fds[i]);
	}
	cr_assert_eq(closed, HOLDERS, "only %d of %d half-sent requests were cut", closed, HOLDERS);
	st_sim_stop(&sim);
}

/* A byte every 200 ms is never idle, and is cut at the deadline all the same. */
Test(sim_guard, trickled_request_cut_at_deadline)
{
	const char *args[] = {"--request-timeout", "1", NULL};
	const char *head = "GET /v2/info HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	struct test_sim sim;
	long long t0, cut = -1;
	int fd;

	st_sim_start(&sim, args);
	fd = dial(&sim);
	cr_assert_geq(fd, 0);
	t0 = ms_now();
	for (size_t i = 0; head[i] && cut < 0; i++) {
		if (send(fd, head + i, 1, MSG_NOSIGNAL) != 1 || closed_silently(fd, 200))
			cut = ms_now() - t0;
	}
	close(fd);
	cr_assert(cut >= 900 && cut < 3000, "cut after %lld ms, not at the 1 s deadline", cut);
	st_sim_stop(&sim);
}

/* The deadline is for receiving the request: a fault's 1.5 s latency is answered whole. */
Test(sim_guard, slow_answer_not_cut)
{
	const char *args[] = {"--request-timeout", "1", NULL};
	struct test_sim sim;
	struct st_resp r;

	st_sim_start(&sim, args);
	test_sim_expect(&sim, "POST", "/_sim/faults",
			"{\"path\":\"/v2/info\",\"method\":\"GET\",\"latency_ms\":1500}", 201, NULL, NULL);
	r = st_req(&sim, "GET", "/v2/info", NULL);
	cr_assert_eq(r.status, 200, "a slow answer was cut: %d", r.status);
	st_free(&r);
	st_sim_stop(&sim);
}
