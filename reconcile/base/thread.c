/*
 * thread.c: starting and stopping a worker thread (thread.h).
 */
#include "reconcile/base/thread.h"

#include "reconcile/base/clock.h"

int pacer_worker_start(struct pacer_worker *w, void *(*fn)(void *), void *arg)
{
	int rc;

	w->quit = 0;
	rc = pthread_mutex_init(&w->mu, NULL);
	if (rc)
		return rc;
	rc = pacer_cond_init(&w->cv);
	if (rc)
		goto cleanup_mu;
	rc = pthread_create(&w->thread, NULL, fn, arg);
	if (!rc)
		return 0;
	pthread_cond_destroy(&w->cv);
cleanup_mu:
	pthread_mutex_destroy(&w->mu);
	return rc;
}

void pacer_worker_stop(struct pacer_worker *w)
{
	/* Under the mutex, so the thread cannot check quit and then miss the
	 * wake-up between its check and its wait. */
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}
