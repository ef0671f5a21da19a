/*
 * progress.h: show a running sync to whoever watches it (a terminal status
 * line, or log lines). progress_event() matches sync_options.on_event.
 */
#ifndef PACER_CMD_PROGRESS_H
#define PACER_CMD_PROGRESS_H

#include "reconcile/sync.h"

struct progress {
	int tty;
	int quiet;
	int status_shown;
};

void progress_init(struct progress *p, int quiet);
void progress_event(void *ctx, const struct sync_event *ev);
/* Clear a status line left on the terminal. */
void progress_finish(struct progress *p);

#endif
