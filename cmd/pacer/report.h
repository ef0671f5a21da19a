/*
 * report.h: print the result of a sync or diff (text or JSON) and choose
 * the exit code; write the metrics file for timer-driven runs.
 */
#ifndef PACER_CMD_REPORT_H
#define PACER_CMD_REPORT_H

#include "cmd/pacer/cli.h"

#include <pthread.h>

struct metrics;

struct report_opts {
	int show_unchanged; /* list unchanged apps in the plan (diff --all) */
	/*
	 * A run that changes nothing (diff, sync -n): exit like diff, 2 when
	 * changes are pending and 0 when none, whatever apps are held or
	 * degraded; errors do not say "nothing was applied" (nothing ever is).
	 */
	int dry_run;
	int plan_shown;     /* the diagnostics and the plan were printed already (report_gate) */
};

/*
 * Print diagnostics, the plan and each app's outcome for `res` (may be
 * NULL) and the error of the run (rc, err), as ro says (NULL: all zero).
 * Returns the exit code.
 */
int report_sync_opts(const char *cmd, const struct cli_common *c, const struct sync_result *res,
		     int rc, const struct pacer_error *err, const struct report_opts *ro);

/*
 * The plan of a sync, shown before anything is applied. sync_run() hands
 * its result back only when the run is over; but it makes the plan before
 * it applies anything, and the first step of applying any app is a call
 * to the backup store (update, prune: the backup comes first) or to the
 * state store (create: ownership is recorded first; and every intent is
 * journalled before its request), as apply.h says. The gate wraps both
 * stores: at the first such call after the plan exists it prints the
 * diagnostics and the plan (text output only), once, while the other
 * workers wait, then forwards every call unchanged.
 *
 *   report_gate_init(&g, &o.c, env.state, env.backups, &res);
 *   sync_run(src, m, &g.backups, &g.state, &so, &res, &err);
 *   ... report_opts.plan_shown = g.shown ...
 *   report_gate_release(&g);
 *
 * res points at the caller's result variable, which sync_run() sets before
 * it does anything (sync.h: *out is set whenever possible). The stores
 * and c are borrowed and must outlive the gate; state may be NULL (then
 * g.state must not be used: pass NULL to sync_run()).
 */
struct report_gate {
	struct pacer_state_store state;    /* hand these two to sync_run() */
	struct pacer_backup_store backups;
	struct pacer_state_store *inner_state;
	struct pacer_backup_store *inner_backups;
	struct sync_result *const *res;
	const struct cli_common *c;
	pthread_mutex_t lock;
	int shown;                         /* 1 once the plan was printed */
};
void report_gate_init(struct report_gate *g, const struct cli_common *c,
		      struct pacer_state_store *state, struct pacer_backup_store *backups,
		      struct sync_result *const *res);
void report_gate_release(struct report_gate *g);

/*
 * Write Prometheus metrics of this run to path, atomically. Errors are
 * printed. Counters continue from the file; pacer_notifications_total is
 * taken from notify when given (a registry seeded with
 * report_metrics_seed(), which the senders count into), else from the file.
 */
int report_metrics_file(const char *cmd, const char *path, const struct sync_result *res, int rc,
                        struct metrics *notify);

/* Add the file's pacer_notifications_total to m (a missing file adds nothing). */
void report_metrics_seed(const char *path, struct metrics *m);

#endif
