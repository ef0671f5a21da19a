/*
 * metrics.h: a tiny metrics registry (counters, gauges, histograms with
 * labels) rendered in the Prometheus text exposition format 0.0.4.
 *
 * Pure: no I/O. `pacer serve` renders it for GET /metrics; `pacer sync
 * --metrics-file` renders the same families into a file for
 * node_exporter's textfile collector (cmd/ writes it durably).
 *
 * Two layers:
 *  - a generic registry: metrics_define() a family, then metrics_add(),
 *    metrics_set() and metrics_observe() a series of it, named by labels;
 *  - pacer's own families (metrics_new_pacer()) and the two events that feed
 *    them (metrics_record_sync(), metrics_record_webhook()), so the service
 *    and the timer-driven sync expose exactly the same names.
 *
 * Labels are passed as a NULL-terminated array of name/value pairs:
 *   const char *labels[] = {"result", "converged", NULL};
 * NULL labels means "no labels". Label names must be valid Prometheus label
 * names; values are any string (escaped on output).
 *
 * Output order is stable: families in the order they were defined, series
 * in the order they were first touched. metrics_new_pacer() creates every
 * known series at zero, so a scrape never misses one.
 *
 * Threads: every function may be called from any thread; a mutex inside
 * serialises them.
 */
#ifndef PACER_METRICS_H
#define PACER_METRICS_H

#include <stddef.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/error.h"

struct json_object;
struct metrics;

enum metrics_type {
	METRICS_COUNTER = 0,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

/* An empty registry. Returns 0 and *out (free with metrics_free()), or -1 when out of memory. */
int metrics_new(struct metrics **out, struct pacer_error **err);

/* NULL is a no-op. */
void metrics_free(struct metrics *m);

/*
 * Define a family. `help` is one line of text (escaped on output). For a
 * histogram, `buckets` are the upper bounds in strictly increasing order
 * (copied; +Inf is implicit and must not be listed); for other types pass
 * NULL, 0. Returns 0, PACER_EINVALID for a bad name, bad buckets or a name
 * already defined, or -1 when out of memory.
 */
int metrics_define(struct metrics *m, const char *name, enum metrics_type type, const char *help,
                   const double *buckets, size_t nbuckets, struct pacer_error **err);

/*
 * Counter or gauge: add v to the series (created at 0 when new). A counter
 * refuses a negative v. Returns 0, PACER_ENOTFOUND when the family is not
 * defined, PACER_EINVALID for a wrong type, bad labels or a negative
 * counter increment, or -1 when out of memory.
 */
int metrics_add(struct metrics *m, const char *name, const char *const *labels, double v,
                struct pacer_error **err);

/* Gauge only: set the series to v. Same returns as metrics_add(). */
int metrics_set(struct metrics *m, const char *name, const char *const *labels, double v,
                struct pacer_error **err);

/* Histogram only: record one observation. Same returns as metrics_add(). */
int metrics_observe(struct metrics *m, const char *name, const char *const *labels, double v,
                    struct pacer_error **err);

/*
 * Read a counter or gauge (tests, /status). Returns 0 and *out, or
 * PACER_ENOTFOUND when the family or series does not exist.
 */
int metrics_get(struct metrics *m, const char *name, const char *const *labels, double *out);

/*
 * Remove one series of a counter or gauge (an app that is gone). Returns 0,
 * PACER_ENOTFOUND when there is no such series, -1 for bad labels.
 */
int metrics_remove(struct metrics *m, const char *name, const char *const *labels);

/*
 * Append the whole registry to out in the Prometheus text format 0.0.4:
 * "# HELP name text\n# TYPE name type\n" then one line per series
 * (histograms: name_bucket{...,le="..."} cumulative, name_sum, name_count).
 * Numbers are written in their shortest exact form ("3", "0.25", "+Inf").
 * Returns 0, or the pacer_buf error (cap reached, out of memory).
 */
int metrics_render(struct metrics *m, struct pacer_buf *out);

/* ---- pacer's families -------------------------------------------------- */

/*
 * A registry holding pacer's families, every known series at zero:
 *   pacer_syncs_total{result="converged|failed|invalid|unreachable"} counter
 *   pacer_sync_duration_seconds histogram (0.5 .. 1800 s buckets)
 *   pacer_apps{state="in_sync|out_of_sync|failed"} gauge (after the last sync)
 *   pacer_last_sync_timestamp_seconds gauge (unix time the last sync ended)
 *   pacer_last_success_timestamp_seconds gauge (last converged sync; 0 = never)
 *   pacer_webhooks_total{provider="github|gitlab|gitea|generic",
 *     result="accepted|ignored|duplicate|unauthorized|too_large|bad_request"} counter
 *   pacer_notifications_total{sink="commit_status|webhook|slack",
 *     result="sent|failed|dropped"} counter
 *   pacer_build_info{version,commit} gauge 1 (metrics_set_build_info())
 *   pacer_app_status{app,status} gauge: 1 for each app's state (the words of
 *     `pacer status`: synced, out_of_sync, failed, degraded, progressing,
 *     held, suspended, unknown); one series per app
 *   pacer_app_tasks{app,kind="healthy|running|instances"} gauge
 * The per-app series follow the apps of the last sync (metrics_record_sync()):
 * an app that is gone loses its series, so their number stays that of the apps.
 * Free with metrics_free().
 */
int metrics_new_pacer(struct metrics **out, struct pacer_error **err);

/*
 * The result label of a sync: "converged" when rc == 0 and the run
 * converged, "invalid" for PACER_EINVALID (desired state did not load),
 * "unreachable" for PACER_EUNREACHABLE, "abandoned" for PACER_ECANCELLED (a
 * newer commit superseded it), "failed" otherwise. Static string.
 */
const char *metrics_sync_result(int rc, int converged);

/*
 * The app state an outcome name of sync_outcome_name() counts as:
 * "in_sync" (unchanged, created, updated), "out_of_sync" (planned,
 * skipped), "failed" (failed, rolled_back, restarted, rollback_failed), or
 * NULL (pruned: the app is gone; unknown names). Static string.
 */
const char *metrics_app_state(const char *outcome);

/*
 * Record one finished sync in a registry made by metrics_new_pacer().
 * rc is what the sync returned; status is the sync's JSON
 * (sync_result_to_json() shape: "converged" and "apps":[{"outcome"}] are
 * read, the object is borrowed and may be NULL); seconds its duration;
 * finished_unix the wall-clock time it ended. pacer_apps is replaced by
 * the counts of this sync when status has an "apps" array, and so are
 * pacer_app_status and pacer_app_tasks ("id", "outcome", "tasks" of each
 * row): all of them, or with "only" in status (a sync of some apps) only
 * the series of the apps listed.
 */
int metrics_record_sync(struct metrics *m, int rc, const struct json_object *status, double seconds,
                        double finished_unix, struct pacer_error **err);

/* pacer_build_info{version,commit} 1 (cmd/ knows them; reconcile/ does not). */
int metrics_set_build_info(struct metrics *m, const char *version, const char *commit,
                           struct pacer_error **err);

/* Count one webhook request in a registry made by metrics_new_pacer(). */
int metrics_record_webhook(struct metrics *m, const char *provider, const char *result,
                           struct pacer_error **err);

/* Add n to pacer_notifications_total{sink,result} in a registry made by metrics_new_pacer(). */
int metrics_record_notification(struct metrics *m, const char *sink, const char *result, double n,
                                struct pacer_error **err);

#endif
