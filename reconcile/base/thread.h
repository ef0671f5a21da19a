/*
 * thread.h: the worker threads pacer runs beside a sync or a front end (the
 * deployment waiter, the event stream, the git watchdog, the systemd probe)
 * share one shape: a thread that sleeps on a condition variable between
 * rounds and checks a quit flag under a mutex each time it wakes. This is
 * that shape, started and stopped in one place.
 *
 * The flag is a plain int: the thread reads it with the mutex held.
 */
#ifndef PACER_THREAD_H
#define PACER_THREAD_H

#include <pthread.h>

struct pacer_worker {
	pthread_t thread;
	pthread_mutex_t mu; /* guards quit, and whatever else its owner says */
	pthread_cond_t cv;  /* wakes the thread; its timed waits are on CLOCK_MONOTONIC */
	int quit;           /* set by pacer_worker_stop() */
};

/*
 * Initialise w's mutex and condition variable, clear quit and start fn(arg).
 * Returns 0, or the pthread error number with nothing left to clean up.
 */
int pacer_worker_start(struct pacer_worker *w, void *(*fn)(void *), void *arg);

/*
 * Set quit under the mutex, wake the thread, join it and destroy the mutex
 * and the condition variable. After this the thread no longer runs and the
 * caller may free what it used.
 */
void pacer_worker_stop(struct pacer_worker *w);

#endif
