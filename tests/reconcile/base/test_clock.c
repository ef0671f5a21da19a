/*
 * The monotonic clock: it never goes back, deadlines land where they
 * should (nanoseconds carried into seconds), timed waits and sleeps last
 * at least as long as asked, even when a signal handler interrupts them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "reconcile/base/clock.h"

/* Timing bounds: at least what was asked, at most this much more (a loaded machine). */
#define SLACK_MS 2000

static long long ts_ms(struct timespec ts)
{
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(clock, never_goes_back)
{
	long long prev = pacer_now_ms();

	for (int i = 0; i < 10000; i++) {
		long long now = pacer_now_ms();

		cr_assert_geq(now, prev);
		prev = now;
	}
}

Test(clock, seconds_and_milliseconds_agree)
{
	long long ms = pacer_now_ms();
	double s = pacer_now_s();

	cr_assert_geq(s * 1000.0, (double)ms - 1.0);
	cr_assert_lt(s * 1000.0, (double)ms + SLACK_MS);
}

Test(clock, a_deadline_is_that_far_from_now)
{
	static const long long offsets[] = {1, 999, 1000, 1500, 61001};

	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		long long before = pacer_now_ms();
		struct timespec d = pacer_deadline_ms(offsets[i]);
		long long at = ts_ms(d);

		cr_assert(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L, "nanoseconds carried: %ld",
		          d.tv_nsec);
		cr_assert_geq(at, before + offsets[i]);
		cr_assert_lt(at, before + offsets[i] + SLACK_MS);
	}
}

Test(clock, no_time_or_negative_time_is_now)
{
	long long before = pacer_now_ms();
	long long zero = ts_ms(pacer_deadline_ms(0)), neg = ts_ms(pacer_deadline_ms(-5000));

	cr_assert_geq(zero, before);
	cr_assert_geq(neg, before, "a negative wait is not a deadline in the past");
	cr_assert_lt(neg, before + SLACK_MS);
}

Test(clock, sleep_lasts_at_least_as_asked)
{
	long long before = pacer_now_ms(), slept;

	pacer_sleep_ms(120);
	slept = pacer_now_ms() - before;
	cr_assert_geq(slept, 120);
	cr_assert_lt(slept, 120 + SLACK_MS);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

Test(clock, a_signal_does_not_cut_a_sleep_short)
{
	struct itimerval every = {{0, 20000}, {0, 20000}}, off = {{0, 0}, {0, 0}};
	struct sigaction sa;
	long long before, slept;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: the sleep sees EINTR */
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	cr_assert_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
	before = pacer_now_ms();
	pacer_sleep_ms(200);
	slept = pacer_now_ms() - before;
	setitimer(ITIMER_REAL, &off, NULL);
	cr_assert_gt(alarms, 0, "the sleep was interrupted");
	cr_assert_geq(slept, 200);
	cr_assert_lt(slept, 200 + SLACK_MS, "an interruption does not restart the whole wait");
}

Test(clock, a_timed_wait_ends_at_its_monotonic_deadline)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv;
	struct timespec until;
	long long before, waited;
	int rc;

	cr_assert_eq(pacer_cond_init(&cv), 0);
	pthread_mutex_lock(&mu);
	before = pacer_now_ms();
	until = pacer_deadline_ms(100);
	do
		rc = pthread_cond_timedwait(&cv, &mu, &until);
	while (rc == 0); /* a spurious wake-up is not the deadline */
	waited = pacer_now_ms() - before;
	pthread_mutex_unlock(&mu);
	pthread_cond_destroy(&cv);
	cr_assert_eq(rc, ETIMEDOUT);
	/* A condition on CLOCK_REALTIME would read the monotonic deadline as
	 * decades ago and return at once. */
	cr_assert_geq(waited, 100);
	cr_assert_lt(waited, 100 + SLACK_MS);
}
