#include "cmd/pacer/report.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/fs/durable.h"
#include "reconcile/metrics.h"
#include "reconcile/plan.h"

/* Outcomes a dry run (diff) reports too: what the plan alone does not say. */
static int dry_worthy(enum sync_outcome o)
{
	return o == SYNC_OUT_HELD || o == SYNC_OUT_DEGRADED || o == SYNC_OUT_PROGRESSING ||
	       o == SYNC_OUT_SUSPENDED;
}

static void print_outcomes(const struct sync_result *res, int dry)
{
	for (size_t i = 0; i < res->napps; i++) {
		const struct sync_app_result *a = &res->apps[i];

		if (a->outcome == SYNC_OUT_UNCHANGED || a->outcome == SYNC_OUT_PLANNED ||
		    (dry && !dry_worthy(a->outcome)))
			continue;
		printf("%-16s %s", sync_outcome_name(a->outcome), a->app_id);
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

int report_sync(const char *cmd, const struct cli_common *c, const struct sync_result *res, int rc,
		const struct pacer_error *err, int show_unchanged)
{
	int json = c->output && !strcmp(c->output, "json");
	int dry = !strcmp(cmd, "diff");
	int code;

	if (res && res->desired)
		cli_print_diags(res->desired);

	if (json && res) {
		struct json_object *j = sync_result_to_json(res);

		if (rc && err) {
			char *text = pacer_error_format(err);

			json_object_object_add(j, "error", json_object_new_string(text ? text : ""));
			free(text);
		}
		printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else if (res && res->plan) {
		char *text = plan_render_text(res->plan, cli_color(), show_unchanged);

		if (text && *text)
			fputs(text, stdout);
		free(text);
		print_outcomes(res, dry);
	}
	fflush(stdout);

	if (rc) {
		int root = err ? pacer_error_root_code(err) : rc;

		if (err)
			cli_print_error(cmd, err);
		if (res && res->desired && res->desired->nerrors)
			return PACER_EXIT_INVALID;
		/* Nothing could be read from the source: a source problem. */
		if ((!res || !res->desired) && root != PACER_EINVALID && root != PACER_EBUSY)
			return PACER_EXIT_SOURCE;
		return cli_exit_for(root);
	}
	code = PACER_EXIT_OK;
	/* Marathon lost mid-run: the run returns 0 but the apps say why. */
	for (size_t i = 0; res && i < res->napps; i++)
		if (res->apps[i].error &&
		    pacer_error_root_code(res->apps[i].error) == PACER_EUNREACHABLE) {
			fprintf(stderr, "pacer %s: Marathon became unreachable during the run\n",
				cmd);
			return PACER_EXIT_UNREACHABLE;
		}
	if (res && !res->converged && !dry) {
		fprintf(stderr, "pacer %s: %zu app(s) did not converge\n", cmd, res->nfailed);
		code = PACER_EXIT_FAILED;
	}
	return code;
}

/*
 * A timer-driven pacer is a new process each run, so the previous metrics
 * file is the memory: counters continue from it and the last success time
 * survives a failed run.
 */
static void carry_over(struct metrics *m, const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char result[64];
		double v;

		if (sscanf(line, "pacer_syncs_total{result=\"%63[a-z_]\"} %lf", result, &v) == 2) {
			const char *labels[] = {"result", result, NULL};

			metrics_add(m, "pacer_syncs_total", labels, v, NULL);
		} else if (sscanf(line, "pacer_last_success_timestamp_seconds %lf", &v) == 1) {
			metrics_set(m, "pacer_last_success_timestamp_seconds", NULL, v, NULL);
		}
	}
	fclose(f);
}

int report_metrics_file(const char *cmd, const char *path, const struct sync_result *res, int rc)
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
	carry_over(m, path);
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
