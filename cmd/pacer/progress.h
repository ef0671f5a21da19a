/*
 * progress.h: show a running sync to whoever watches it (a terminal status
 * line, or log lines). progress_event() matches sync_options.on_event.
 */
#ifndef PACER_CMD_PROGRESS_H
#define PACER_CMD_PROGRESS_H

#include "reconcile/sync.h"

/* Whether anything is shown: quiet for -q and for JSON output (stdout is for the document). */
enum progress_mode {
	PROGRESS_SHOW,
	PROGRESS_QUIET,
};

struct progress {
	int tty;
	enum progress_mode mode;
	int status_shown;
};

void progress_init(struct progress *p, enum progress_mode mode);
void progress_event(void *ctx, const struct sync_event *ev);
/* Clear a status line left on the terminal. */
void progress_finish(struct progress *p);

#endif
