/*
 * report.c: what a sync or diff prints, and its exit code; the gate that
 * shows the plan before a sync applies anything; the metrics file.
 * Contract in report.h.
 */
#include "cmd/pacer/report.h"

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/fs/durable.h"
#include "reconcile/base/log.h"
#include "reconcile/metrics.h"
#include "reconcile/plan.h"

/* Whether the run applied anything: a dry run's report says less. */
enum run_kind {
	RUN_APPLIES,
	RUN_DRY, /* diff, sync -n */
};

/* Outcomes a dry run (diff) reports too: what the plan alone does not say. */
static int dry_worthy(enum sync_outcome o)
{
	return o == SYNC_OUT_HELD || o == SYNC_OUT_DEGRADED || o == SYNC_OUT_PROGRESSING ||
	       o == SYNC_OUT_SUSPENDED;
}

static void print_outcomes(const struct sync_result *res, enum run_kind kind)
{
	for (size_t i = 0; i < res->napps; i++) {
		const struct sync_app_result *a = &res->apps[i];

		if (a->outcome == SYNC_OUT_UNCHANGED || a->outcome == SYNC_OUT_PLANNED ||
		    (kind == RUN_DRY && !dry_worthy(a->outcome)))
			continue;
		printf("%-16s %s", sync_outcome_name(a->outcome), a->app_id);
		if (a->colour[0])
			printf(" (%s runs)", a->colour);
		if (a->resumed)
			printf("  (finishing an earlier run's change)");
		if (a->deployment_id)
			printf("  deployment %s", a->deployment_id);
		if (a->backup_path)
			printf("  backup %s", a->backup_path);
		printf("\n");
		if (a->error) {
			char *text = pacer_error_format(a->error);

			printf("    %s\n", text ? text : "failed");
			free(text);
		}
	}
}

/*
 * Errors of the engine are written for sync, which may have applied part of
 * a run; a read-only command never applies anything, so "nothing was
 * applied" there is noise at best and alarming at worst. Caller frees.
 */
static char *readonly_wording(const char *text)
{
	static const char phrase[] = "; nothing was applied";
	struct pacer_buf b = PACER_BUF_INIT;
	const char *p = text, *hit;

	while ((hit = strstr(p, phrase))) {
		pacer_buf_add(&b, p, (size_t)(hit - p));
		p = hit + strlen(phrase);
	}
	pacer_buf_puts(&b, p);
	return pacer_buf_detach(&b);
}

static void print_run_error(const char *cmd, const struct pacer_error *err, enum run_kind kind)
{
	char *text, *clean, *worded;

	if (kind == RUN_APPLIES) {
		cli_print_error(cmd, err);
		return;
	}
	text = pacer_error_format(err);
	clean = text ? pacer_log_redact(text) : NULL;
	worded = clean ? readonly_wording(clean) : NULL;
	fprintf(stderr, "pacer %s: %s\n", cmd, worded ? worded : "unknown error");
	free(worded);
	free(clean);
	free(text);
}

static void print_plan(const struct cli_common *c, const struct sync_result *res,
		       int show_unchanged)
{
	char *text;

	/* JSON output is one document at the end, diagnostics with it. */
	if (c->output && !strcmp(c->output, "json"))
		return;
	if (res->desired)
		cli_print_diags(res->desired);
	if (!res->plan)
		return;
	text = plan_render_text(res->plan, cli_color(), show_unchanged);
	if (text && *text)
		fputs(text, stdout);
	free(text);
	fflush(stdout);
	fflush(stderr);
}

/* The whole result as one JSON document on stdout; a failed run carries its error in it. */
static void print_json(const struct sync_result *res, int rc, const struct pacer_error *err)
{
	struct json_object *j = sync_result_to_json(res);

	if (rc && err) {
		char *text = pacer_error_format(err);

		json_object_object_add(j, "error", json_object_new_string(text ? text : ""));
		free(text);
	}
	printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
}

/* The exit code of a run that failed as a whole (rc != 0). */
static int failed_run_code(const char *cmd, const struct sync_result *res, int rc,
			   const struct pacer_error *err, enum run_kind kind)
{
	int root = err ? pacer_error_root_code(err) : rc;

	if (err)
		print_run_error(cmd, err, kind);
	/* Checked in this order: an invalid file is the cause even when the
	 * engine reports it through a generic error. */
	if (res && res->desired && res->desired->nerrors)
		return PACER_EXIT_INVALID;
	/* Nothing could be read from the source: a source problem. */
	if ((!res || !res->desired) && root != PACER_EINVALID && root != PACER_EBUSY)
		return PACER_EXIT_SOURCE;
	return err ? cli_exit_for_error(err) : cli_exit_for(root);
}

int report_sync_opts(const char *cmd, const struct cli_common *c, const struct sync_result *res,
		     int rc, const struct pacer_error *err, const struct report_opts *ro)
{
	static const struct report_opts none = {0, 0, 0};
	int json = c->output && !strcmp(c->output, "json");
	enum run_kind kind;

	ro = ro ? ro : &none;
	kind = ro->dry_run || !strcmp(cmd, "diff") ? RUN_DRY : RUN_APPLIES;
	/* stdout holds only the document with -o json: diagnostics go to stderr. */
	if (res && json) {
		if (res->desired)
			cli_print_diags(res->desired);
		print_json(res, rc, err);
	} else if (res) {
		if (!ro->plan_shown)
			print_plan(c, res, ro->show_unchanged);
		if (res->plan)
			print_outcomes(res, kind);
	}
	fflush(stdout);

	if (rc)
		return failed_run_code(cmd, res, rc, err, kind);
	/* Marathon lost mid-run: the run returns 0 but the apps say why. */
	for (size_t i = 0; res && i < res->napps; i++)
		if (res->apps[i].error &&
		    pacer_error_root_code(res->apps[i].error) == PACER_EUNREACHABLE) {
			fprintf(stderr, "pacer %s: Marathon became unreachable during the run\n",
				cmd);
			return PACER_EXIT_UNREACHABLE;
		}
	if (kind == RUN_DRY)
		return res && res->plan && res->plan->ncreate + res->plan->nupdate + res->plan->nprune
			       ? PACER_EXIT_CHANGES
			       : PACER_EXIT_OK;
	if (res && !res->converged) {
		fprintf(stderr, "pacer %s: %zu app(s) did not converge\n", cmd, res->nfailed);
		return PACER_EXIT_FAILED;
	}
	return PACER_EXIT_OK;
}

/* ---- the plan before anything is applied ------------------------------------- */

/*
 * The gate wraps the stores in vtables of its own, embedded in struct
 * report_gate: each wrapper finds its gate from the vtable pointer it is
 * called with (container_of), prints the plan on the first call, then
 * forwards. The engine needs no hook for it.
 */
#define GATE_OF(s, member) ((struct report_gate *)((char *)(s) - offsetof(struct report_gate, member)))

/* Print the plan once, when there is one: the first step of applying has come. */
static void gate_pass(struct report_gate *g)
{
	const struct sync_result *res = *g->res;

	pthread_mutex_lock(&g->lock);
	if (!g->shown && res && res->plan) {
		print_plan(g->c, res, 0);
		g->shown = 1;
	}
	pthread_mutex_unlock(&g->lock);
}

static int gate_save(struct pacer_backup_store *s, const char *app_id, struct json_object *def,
		     char **out_path, struct pacer_error **err)
{
	struct report_gate *g = GATE_OF(s, backups);

	gate_pass(g);
	return g->inner_backups->save(g->inner_backups, app_id, def, out_path, err);
}

static int gate_list(struct pacer_backup_store *s, const char *app_id,
		     struct pacer_backup_entry **out, size_t *count, struct pacer_error **err)
{
	struct report_gate *g = GATE_OF(s, backups);

	return g->inner_backups->list(g->inner_backups, app_id, out, count, err);
}

static int gate_load(struct pacer_backup_store *s, const char *path, struct json_object **out,
		     struct pacer_error **err)
{
	struct report_gate *g = GATE_OF(s, backups);

	return g->inner_backups->load(g->inner_backups, path, out, err);
}

static int gate_add_owned(struct pacer_state_store *s, const char *const *ids, size_t n,
			  struct pacer_error **err)
{
	struct report_gate *g = GATE_OF(s, state);

	gate_pass(g);
	return g->inner_state->add_owned(g->inner_state, ids, n, err);
}

static int gate_doc_save(struct pacer_state_store *s, const char *name, const char *data,
			 size_t len, struct pacer_error **err)
{
	struct report_gate *g = GATE_OF(s, state);

	/* An intent is journalled before its request (journal.h). */
	if (!strncmp(name, "journal/", 8))
		gate_pass(g);
	return g->inner_state->doc_save(g->inner_state, name, data, len, err);
}

/* The rest of the state store passes through as it is. */
#define INNER(s) (GATE_OF(s, state)->inner_state)

static int gate_load_owned(struct pacer_state_store *s, char ***ids, struct pacer_error **err)
{
	return INNER(s)->load_owned(INNER(s), ids, err);
}

static int gate_remove_owned(struct pacer_state_store *s, const char *const *ids, size_t n,
			     struct pacer_error **err)
{
	return INNER(s)->remove_owned(INNER(s), ids, n, err);
}

static int gate_load_rev(struct pacer_state_store *s, char **out, struct pacer_error **err)
{
	return INNER(s)->load_last_revision(INNER(s), out, err);
}

static int gate_save_rev(struct pacer_state_store *s, const char *rev, struct pacer_error **err)
{
	return INNER(s)->save_last_revision(INNER(s), rev, err);
}

static int gate_load_cache(struct pacer_state_store *s, char **data, size_t *len,
			   struct pacer_error **err)
{
	return INNER(s)->load_cache(INNER(s), data, len, err);
}

static int gate_save_cache(struct pacer_state_store *s, const char *data, size_t len,
			   struct pacer_error **err)
{
	return INNER(s)->save_cache(INNER(s), data, len, err);
}

static int gate_doc_load(struct pacer_state_store *s, const char *name, char **data, size_t *len,
			 struct pacer_error **err)
{
	return INNER(s)->doc_load(INNER(s), name, data, len, err);
}

static int gate_doc_remove(struct pacer_state_store *s, const char *name, struct pacer_error **err)
{
	return INNER(s)->doc_remove(INNER(s), name, err);
}

static int gate_doc_list(struct pacer_state_store *s, const char *folder, char ***names,
			 struct pacer_error **err)
{
	return INNER(s)->doc_list(INNER(s), folder, names, err);
}

void report_gate_init(struct report_gate *g, const struct cli_common *c,
		      struct pacer_state_store *state, struct pacer_backup_store *backups,
		      struct sync_result *const *res)
{
	struct pacer_state_store *in = state;

	memset(g, 0, sizeof(*g));
	g->inner_state = state;
	g->inner_backups = backups;
	g->res = res;
	g->c = c;
	pthread_mutex_init(&g->lock, NULL);
	if (backups)
		g->backups = (struct pacer_backup_store){
		    .save = gate_save, .list = gate_list, .load = gate_load, .free = NULL};
	if (!in)
		return;
	/* Optional slots stay optional: NULL where the store has none. */
	g->state = (struct pacer_state_store){
	    .load_owned = gate_load_owned,
	    .add_owned = gate_add_owned,
	    .remove_owned = gate_remove_owned,
	    .load_last_revision = gate_load_rev,
	    .save_last_revision = gate_save_rev,
	    .load_cache = in->load_cache ? gate_load_cache : NULL,
	    .save_cache = in->save_cache ? gate_save_cache : NULL,
	    .doc_load = in->doc_load ? gate_doc_load : NULL,
	    .doc_save = in->doc_save ? gate_doc_save : NULL,
	    .doc_remove = in->doc_remove ? gate_doc_remove : NULL,
	    .doc_list = in->doc_list ? gate_doc_list : NULL,
	    .free = NULL, /* the gate owns nothing: the caller frees the store */
	};
}

void report_gate_release(struct report_gate *g)
{
	pthread_mutex_destroy(&g->lock);
}

/*
 * A timer-driven pacer is a new process each run, so the previous metrics
 * file is the memory: counters continue from it and the last success time
 * survives a failed run.
 */
static void carry_over(struct metrics *m, const char *path, int notifications)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char result[64], sink[64];
		double v;

		if (sscanf(line, "pacer_syncs_total{result=\"%63[a-z_]\"} %lf", result, &v) == 2) {
			const char *labels[] = {"result", result, NULL};

			if (!notifications)
				metrics_add(m, "pacer_syncs_total", labels, v, NULL);
		} else if (sscanf(line, "pacer_last_success_timestamp_seconds %lf", &v) == 1) {
			if (!notifications)
				metrics_set(m, "pacer_last_success_timestamp_seconds", NULL, v, NULL);
		} else if (sscanf(line,
		                  "pacer_notifications_total{sink=\"%63[a-z_]\",result=\"%63[a-z_]\"} "
		                  "%lf",
		                  sink, result, &v) == 3 &&
		           notifications) {
			metrics_record_notification(m, sink, result, v, NULL);
		}
	}
	fclose(f);
}

void report_metrics_seed(const char *path, struct metrics *m)
{
	carry_over(m, path, 1);
}

/* pacer_notifications_total of from, into to. */
static void copy_notifications(struct metrics *to, struct metrics *from)
{
	static const char *const sinks[] = {"commit_status", "webhook", "slack"};
	static const char *const results[] = {"sent", "failed", "dropped"};

	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++) {
			const char *l[] = {"sink", sinks[i], "result", results[j], NULL};
			double v = 0;

			if (!metrics_get(from, "pacer_notifications_total", l, &v))
				metrics_record_notification(to, sinks[i], results[j], v, NULL);
		}
}

int report_metrics_file(const char *cmd, const char *path, const struct sync_result *res, int rc,
                        struct metrics *notify)
{
	struct pacer_buf out = PACER_BUF_INIT;
	struct pacer_error *err = NULL;
	struct json_object *status = NULL;
	struct metrics *m = NULL;
	struct timespec now;
	int ret;

	ret = metrics_new_pacer(&m, &err);
	if (ret)
		goto done;
	carry_over(m, path, 0);
	if (notify)
		copy_notifications(m, notify);
	else
		report_metrics_seed(path, m);
	if (res)
		status = sync_result_to_json(res);
	clock_gettime(CLOCK_REALTIME, &now);
	ret = metrics_record_sync(m, rc, status, res ? res->seconds : 0,
				  (double)now.tv_sec + now.tv_nsec / 1e9, &err);
	if (ret)
		goto done;
	ret = metrics_render(m, &out);
	if (ret) {
		pacer_error_set(&err, ret, "cannot render metrics");
		goto done;
	}
	ret = durable_write_file(path, out.ptr, out.len, 0644, &err);
done:
	if (ret) {
		pacer_error_wrap(&err, ret, "cannot write the metrics file %s", path);
		cli_print_error(cmd, err);
	}
	json_object_put(status);
	metrics_free(m);
	pacer_buf_release(&out);
	pacer_error_free(err);
	return ret;
}
