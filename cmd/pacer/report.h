/*
 * report.h: print the result of a sync or diff (text or JSON) and choose
 * the exit code; write the metrics file for timer-driven runs.
 */
#ifndef PACER_CMD_REPORT_H
#define PACER_CMD_REPORT_H

#include "cmd/pacer/cli.h"

/*
 * Print diagnostics, the plan and each app's outcome for `res` (may be
 * NULL) and the error of the run (rc, err). Returns the exit code.
 */
int report_sync(const char *cmd, const struct cli_common *c, const struct sync_result *res, int rc,
		const struct pacer_error *err, int show_unchanged);

/* Write Prometheus metrics of this run to path, atomically. Errors are printed. */
int report_metrics_file(const char *cmd, const char *path, const struct sync_result *res, int rc);

#endif
