/*
 * Progress of a sync for people: on a terminal, one status line redrawn in
 * place while deployments run. Otherwise (cron, systemd, CI) the sync
 * engine's log lines, one per event with app and deployment ids, suffice.
 */
#include "cmd/pacer/progress.h"

#include <pthread.h>
#include <stdio.h>
#include <unistd.h>


static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;

void progress_init(struct progress *p, enum progress_mode mode)
{
	p->tty = isatty(STDERR_FILENO);
	p->mode = mode;
	p->status_shown = 0;
}

void progress_event(void *ctx, const struct sync_event *ev)
{
	struct progress *p = ctx;

	if (p->mode == PROGRESS_QUIET)
		return;
	/* Off a terminal the sync engine's own log lines say it all. */
	if (!p->tty)
		return;

	pthread_mutex_lock(&progress_lock);
	if (p->status_shown) {
		fputs("\r\033[K", stderr);
		p->status_shown = 0;
	}
	switch (ev->kind) {
	case SYNC_EV_PROGRESS:
		fprintf(stderr, "  %s: %d/%d tasks healthy, %d running, %.0fs", ev->app_id,
			ev->tasks_healthy, ev->tasks_total, ev->tasks_running, ev->elapsed_s);
		p->status_shown = 1;
		break;
	case SYNC_EV_DONE:
		fprintf(stderr, "  %-12s %s (%.1fs)\n", sync_outcome_name(ev->outcome), ev->app_id,
			ev->elapsed_s);
		break;
	case SYNC_EV_ROLLBACK:
		fprintf(stderr, "  rolling back %s: %s\n", ev->app_id,
			ev->detail ? ev->detail : "failed");
		break;
	case SYNC_EV_SUBMIT:
		fprintf(stderr, "  deploying    %s (deployment %s)\n", ev->app_id,
			ev->deployment_id ? ev->deployment_id : "-");
		break;
	case SYNC_EV_BACKUP:
		fprintf(stderr, "  backed up    %s -> %s\n", ev->app_id,
			ev->detail ? ev->detail : "?");
		break;
	}
	fflush(stderr);
	pthread_mutex_unlock(&progress_lock);
}

void progress_finish(struct progress *p)
{
	pthread_mutex_lock(&progress_lock);
	if (p->tty && p->status_shown) {
		fputs("\r\033[K", stderr);
		p->status_shown = 0;
	}
	pthread_mutex_unlock(&progress_lock);
}
