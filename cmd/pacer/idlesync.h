/*
 * idlesync.h: what keeps `pacer serve` cheap on a cluster where nothing
 * changes. Without it every --interval tick is a whole sync (a full
 * GET /v2/apps); with it:
 *
 *   - Marathon's event stream is followed (evstream.h, as watch does): an
 *     app changed outside pacer (api_post_event whose definition differs
 *     from the desired one) is synced at once, that app only (reason
 *     "drift"); an app removed or redeployed (app_terminated_event,
 *     deployment_info) that is desired likewise; a group change, a whole
 *     sync. Events that arrive while a sync runs are not looked at (they
 *     are mostly its own), as in watch.
 *   - An interval tick (idlesync_poll(), serve_options.poll) polls the
 *     source: a git ref is resolved (gitsrc_resolve(), a fetch without
 *     walking the tree) and a new commit is a whole sync ("commit <sha>");
 *     a directory's files are read and hashed, a change is a whole sync
 *     ("files changed"). Nothing changed: no request to Marathon.
 *   - A whole sync ("resync") every resync_interval_s catches what the
 *     stream missed.
 *   - Fallbacks, never silence: while the event stream is not attached
 *     (down, refused, cut by a proxy: evstream.c logs it) every tick is a
 *     whole sync ("interval (event stream down)"), and so is every tick
 *     after a sync that did not converge ("interval (retry)"). When the
 *     stream is back after an outage, one whole sync ("resync (event stream
 *     back)") covers what was missed.
 *
 * Threads: idlesync_poll() runs on the runner's worker (it reads the
 * source the syncs read, never at the same time as a sync); the events on
 * evstream's thread. Both only call runner_trigger(), runner_busy(),
 * runner_status_get() and envsync's thread-safe checks.
 */
#ifndef PACER_CMD_IDLESYNC_H
#define PACER_CMD_IDLESYNC_H

#include <signal.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/envsync.h"

struct idlesync;
struct runner;

struct idlesync_options {
	struct envsync *sync;  /* borrowed: drift comparisons */
	struct cli_env *env;   /* borrowed: the source and Marathon */
	const char *source;    /* --source (borrowed): a directory, else git */
	int resync_interval_s; /* a whole sync this often; 0 = off */
	/* The process's stop flag (borrowed): ends the event stream. */
	volatile sig_atomic_t *stop;
	/* The client the event stream reads (borrowed); NULL: env->marathon. */
	struct pacer_marathon *events;
};

/*
 * Take the directory's first fingerprint (a change after it is synced) and
 * keep opts (copied, pointers borrowed: they must outlive the idlesync).
 * Returns 0 and *out (free with idlesync_free()), or -1 when out of memory.
 */
int idlesync_new(struct idlesync **out, const struct idlesync_options *opts,
                 struct pacer_error **err);

/* Start following the event stream, feeding r (borrowed, must outlive the idlesync). */
int idlesync_follow(struct idlesync *is, struct runner *r, struct pacer_error **err);

/* serve_options.poll: ctx is the idlesync. */
void idlesync_poll(void *ctx, struct runner *r);

/* Set *stop and stop following. NULL is a no-op. */
void idlesync_free(struct idlesync *is);

#endif
