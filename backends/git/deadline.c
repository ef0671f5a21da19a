/*
 * deadline.c: the watchdog of deadline.h.
 *
 * Why a thread and a signal: libgit2 owns its sockets (no SO_RCVTIMEO to
 * set, no poll loop of ours to add a timer to), and alarm()/setitimer() are
 * per process, while fetches may run on several threads at once. A
 * watchdog per operation interrupts exactly the thread it guards.
 * Times are pacer_now_ms() (CLOCK_MONOTONIC): a wall clock stepped by NTP
 * must not fire, or stretch, an idle deadline.
 */
#include "backends/git/deadline.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/clock.h"
#include "reconcile/base/thread.h"

/* How often the watchdog looks, and re-sends the signal once fired. */
#define DEADLINE_TICK_MS 200

struct gitsrc__deadline {
	pthread_t target;
	struct pacer_worker watchdog; /* its quit: the operation ended */
	int idle_s;
	enum gitsrc__deadline_state state;
	long long last_ms; /* pacer_now_ms() of the last progress */
	const volatile int *cancel;
};

static void on_urg(int sig)
{
	(void)sig; /* only here to interrupt a blocking call */
}

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;

static void install_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_urg;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: the blocking call must fail with EINTR */
	sigaction(SIGURG, &sa, NULL);
}

static void *watchdog_main(void *p)
{
	struct gitsrc__deadline *d = p;

	pthread_mutex_lock(&d->watchdog.mu);
	while (!d->watchdog.quit) {
		/* The condition waits on CLOCK_MONOTONIC (pacer_cond_init()). */
		struct timespec at = pacer_deadline_ms(DEADLINE_TICK_MS);

		pthread_cond_timedwait(&d->watchdog.cv, &d->watchdog.mu, &at);
		if (d->watchdog.quit)
			break;
		if (d->state == GITSRC_DEADLINE_RUNNING) {
			if (d->cancel && *d->cancel)
				d->state = GITSRC_DEADLINE_CANCELLED;
			else if (d->idle_s > 0 && pacer_now_ms() - d->last_ms >= d->idle_s * 1000LL)
				d->state = GITSRC_DEADLINE_IDLE;
		}
		/* Again every tick: the first signal may come between two calls. */
		if (d->state != GITSRC_DEADLINE_RUNNING)
			pthread_kill(d->target, SIGURG);
	}
	pthread_mutex_unlock(&d->watchdog.mu);
	return NULL;
}

struct gitsrc__deadline *gitsrc__deadline_start(int idle_s, const volatile int *cancel)
{
	struct gitsrc__deadline *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	pthread_once(&handler_once, install_handler);
	d->target = pthread_self();
	d->idle_s = idle_s;
	d->cancel = cancel;
	d->last_ms = pacer_now_ms();
	if (pacer_worker_start(&d->watchdog, watchdog_main, d)) {
		free(d);
		return NULL;
	}
	return d;
}

void gitsrc__deadline_poke(struct gitsrc__deadline *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->watchdog.mu);
	d->last_ms = pacer_now_ms();
	pthread_mutex_unlock(&d->watchdog.mu);
}

enum gitsrc__deadline_state gitsrc__deadline_state(struct gitsrc__deadline *d)
{
	enum gitsrc__deadline_state s;

	if (!d)
		return GITSRC_DEADLINE_RUNNING;
	pthread_mutex_lock(&d->watchdog.mu);
	s = d->state;
	pthread_mutex_unlock(&d->watchdog.mu);
	return s;
}

void gitsrc__deadline_stop(struct gitsrc__deadline *d)
{
	if (!d)
		return;
	pacer_worker_stop(&d->watchdog);
	free(d);
}
