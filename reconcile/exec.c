/*
 * exec.c: what every step that changes Marathon shares (exec.h).
 *
 * The progress events and their log lines live here so that apply,
 * rollback and restore speak with one voice, and so does the one
 * read-back of a request whose outcome is unknown: a request that may
 * have happened is never sent again before the app has been read.
 */
#include "reconcile/exec.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/clock.h"
#include "reconcile/base/crash.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/base/log.h"
#include "reconcile/converge.h"

static const char *event_name(enum sync_event_kind k)
{
	/* In the order of the enum. */
	static const char *const names[] = {"backup", "submit", "progress", "done", "rollback"};

	return (unsigned)k < sizeof(names) / sizeof(*names) ? names[k] : "?";
}

/*
 * The level of an app's last word: a failure is an error; an app left not
 * in sync for a reason that needs a look (rolled back, restarted, held,
 * degraded, interrupted, unknown, skipped, another's deployment) is a
 * warning, so `journalctl -p warning` shows every app that needs a person.
 */
static int done_level(enum sync_outcome o)
{
	switch (o) {
	case SYNC_OUT_FAILED:
	case SYNC_OUT_ROLLBACK_FAILED:
		return PACER_LOG_ERROR;
	case SYNC_OUT_ROLLED_BACK:
	case SYNC_OUT_RESTARTED:
	case SYNC_OUT_SKIPPED:
	case SYNC_OUT_HELD:
	case SYNC_OUT_DEGRADED:
	case SYNC_OUT_PROGRESSING:
	case SYNC_OUT_UNKNOWN:
	case SYNC_OUT_INTERRUPTED:
		return PACER_LOG_WARN;
	default:
		return PACER_LOG_INFO;
	}
}

/* The event as one log line at `level`; only called when the level is on. */
static void log_event(const struct exec_ctx *ctx, const struct sync_event *ev, int level)
{
	char healthy[16], running[16], total[16], elapsed[32];
	struct pacer_log_kv kv[9] = {
	    {"app", ev->app_id},
	    {"deployment", ev->deployment_id && *ev->deployment_id ? ev->deployment_id : "-"},
	    {"commit", ctx->revision ? ctx->revision : "-"},
	    {"event", event_name(ev->kind)},
	};
	size_t n = 4;
	/* The detail of a backup (its path) and of a submission (what was sent)
	 * is a value; of a rollback or an outcome (why) it is the message. */
	const char *msg = ev->detail;

	snprintf(elapsed, sizeof(elapsed), "%.1fs", ev->elapsed_s);
	if (ev->kind == SYNC_EV_BACKUP) {
		kv[n++] = (struct pacer_log_kv){"backup", ev->detail};
		msg = "backed up";
	} else if (ev->kind == SYNC_EV_SUBMIT) {
		kv[n++] = (struct pacer_log_kv){"action", ev->detail};
		msg = "submitted";
	} else if (ev->kind == SYNC_EV_PROGRESS) {
		snprintf(healthy, sizeof(healthy), "%d", ev->tasks_healthy);
		snprintf(running, sizeof(running), "%d", ev->tasks_running);
		snprintf(total, sizeof(total), "%d", ev->tasks_total);
		kv[n++] = (struct pacer_log_kv){"healthy", healthy};
		kv[n++] = (struct pacer_log_kv){"running", running};
		kv[n++] = (struct pacer_log_kv){"instances", total};
		kv[n++] = (struct pacer_log_kv){"elapsed", elapsed};
		msg = "waiting";
	} else if (ev->kind == SYNC_EV_DONE) {
		kv[n++] = (struct pacer_log_kv){"outcome", sync_outcome_name(ev->outcome)};
		kv[n++] = (struct pacer_log_kv){"elapsed", elapsed};
		if (!msg)
			msg = "finished";
	} else if (!msg) {
		msg = "rolling back";
	}
	pacer_log_write_kv(level, kv, n, "%s", msg);
}

/*
 * One structured line per event: app, deployment and commit are keys of
 * their own (text shows them as it always did, "app=... deployment=...
 * commit=... event=..." first), so logfmt and JSON need no parsing.
 */
static void emit_full(const struct exec_ctx *ctx, struct sync_event *ev)
{
	int level = ev->kind == SYNC_EV_DONE       ? done_level(ev->outcome)
	            : ev->kind == SYNC_EV_ROLLBACK ? PACER_LOG_WARN
	                                           : PACER_LOG_INFO;

	if (level <= pacer_log_level)
		log_event(ctx, ev, level);
	if (ctx->opts->on_event)
		ctx->opts->on_event(ctx->opts->event_ctx, ev);
}

/* An event of app_id with nothing else set; "" as the deployment is none. */
static void event_init(struct sync_event *ev, enum sync_event_kind kind, const char *app_id,
                       const char *deployment_id)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->app_id = app_id;
	ev->deployment_id = deployment_id && *deployment_id ? deployment_id : NULL;
}

void exec_emit(const struct exec_ctx *ctx, enum sync_event_kind kind, const char *app_id,
               const char *deployment_id, const char *detail, enum sync_outcome outcome,
               double elapsed_s)
{
	struct sync_event ev;

	event_init(&ev, kind, app_id, deployment_id);
	ev.detail = detail;
	ev.outcome = outcome;
	ev.elapsed_s = elapsed_s;
	emit_full(ctx, &ev);
}

int exec_outcome_ok(enum sync_outcome o)
{
	return o == SYNC_OUT_UNCHANGED || o == SYNC_OUT_CREATED || o == SYNC_OUT_UPDATED ||
	       o == SYNC_OUT_PRUNED;
}

int exec_timeout(const struct exec_ctx *ctx, const struct pacer_plan_item *item)
{
	if (item->timeout_s > 0)
		return item->timeout_s;
	if (ctx->opts->timeout_s > 0)
		return ctx->opts->timeout_s;
	return WAITER_DEFAULT_TIMEOUT_S;
}

/* Waiter progress -> SYNC_EV_PROGRESS for this app. */
void exec_on_progress(void *arg, const char *app_id, const char *deployment_id, int healthy,
                      int running, int total)
{
	struct exec_progress *p = arg;
	struct sync_event ev;

	event_init(&ev, SYNC_EV_PROGRESS, app_id, deployment_id);
	ev.tasks_healthy = healthy;
	ev.tasks_running = running;
	ev.tasks_total = total;
	ev.elapsed_s = pacer_now_s() - p->t0;
	emit_full(p->ctx, &ev);
}

struct json_object *exec_previous(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
                                  const char **backup)
{
	for (size_t i = 0; i < ctx->ninherit; i++) {
		if (!strcmp(ctx->inherit[i].app_id, item->app_id) && ctx->inherit[i].previous) {
			*backup = ctx->inherit[i].backup;
			return ctx->inherit[i].previous;
		}
	}
	return item->live;
}

/* ---- submitting --------------------------------------------------------- */

static int submit(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
                  struct json_object *body, struct pacer_deploy_ref *ref, struct pacer_error **err)
{
	memset(ref, 0, sizeof(*ref));
	switch (item->action) {
	case PACER_ACT_UPDATE:
		return ctx->m->put_app(ctx->m, item->app_id, body, PACER_MF_FORCE, ref, err);
	case PACER_ACT_CREATE:
		return ctx->m->create_app(ctx->m, body, PACER_MF_FORCE, ref, err);
	default:
		return ctx->m->delete_app(ctx->m, item->app_id, PACER_MF_FORCE, ref, err);
	}
}

/* The first deployment an app lists (GET /v2/apps/{id}), into ref. */
static void ref_from_app(struct json_object *app, struct pacer_deploy_ref *ref)
{
	struct json_object *d = json_object_array_get_idx(jsonutil_get(app, "deployments"), 0);
	const char *id = json_object_get_string(jsonutil_get(d, "id"));
	const char *v = json_object_get_string(jsonutil_get(app, "version"));

	memset(ref, 0, sizeof(*ref));
	snprintf(ref->deployment_id, sizeof(ref->deployment_id), "%s", id ? id : "");
	snprintf(ref->version, sizeof(ref->version), "%s", v ? v : "");
}

/*
 * After an unknown outcome: is the change there? For a create or update,
 * whether the app runs `body`; for a prune, whether the app is gone or
 * being deleted. ref gets the app's deployment when applied.
 */
static int read_back(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
                     struct json_object *body, int *applied, struct pacer_deploy_ref *ref,
                     struct pacer_error **err)
{
	struct json_object *app = NULL;
	int rc = ctx->m->get_app(ctx->m, item->app_id, &app, err);

	*applied = 0;
	memset(ref, 0, sizeof(*ref));
	if (rc == PACER_ENOTFOUND) {
		pacer_error_clear(err);
		*applied = item->action == PACER_ACT_PRUNE;
		return 0;
	}
	if (rc)
		return rc;
	ref_from_app(app, ref);
	if (item->action == PACER_ACT_PRUNE)
		*applied = ref->deployment_id[0] != '\0';
	else
		rc = converge_matches(body, app, ctx->opts->ignore_instances, applied, err);
	json_object_put(app);
	return rc;
}

/*
 * Submit, and when the outcome is unknown read the app back before
 * anything else: applied -> as if Marathon had answered; not applied ->
 * send again, at most EXEC_MAX_SUBMITS times in all. A 409 "already
 * exists" on a create after an unknown attempt is read back the same way.
 * Returns 0 (ref set), PACER_EUNKNOWN when it stays unknown, or
 * Marathon's refusal.
 */
int exec_submit_resolved(const struct exec_ctx *ctx, const struct pacer_plan_item *item,
                         struct json_object *body, struct pacer_deploy_ref *ref,
                         struct pacer_error **err)
{
	int rc = submit(ctx, item, body, ref, err), unknown = 0, applied = 0;

	CRASH_POINT("after-request");
	for (int n = 1; rc == PACER_EUNKNOWN || (unknown && rc == PACER_ECONFLICT); n++) {
		struct pacer_error *rerr = NULL;
		int rrc;

		unknown = 1;
		PLOG_WARN("app=%s %s; reading the app back before doing anything else",
		          item->app_id, err && *err ? (*err)->message : "outcome unknown");
		/* A request still queued in Marathon lands meanwhile. */
		pacer_sleep_ms(n * 1000LL);
		rrc = read_back(ctx, item, body, &applied, ref, &rerr);
		if (rrc) {
			char *why = pacer_error_format(rerr);

			pacer_error_free(rerr);
			pacer_error_clear(err);
			rc = pacer_error_set(
			    err, PACER_EUNKNOWN,
			    "the outcome of the %s of app %s is unknown (the reply "
			    "was lost) and the app cannot be read back (%s); the next "
			    "run reads it back and finishes or undoes it",
			    plan_action_name(item->action), item->app_id, why ? why : "?");
			free(why);
			return rc;
		}
		pacer_error_clear(err);
		if (applied)
			return 0;
		if (n >= EXEC_MAX_SUBMITS)
			return pacer_error_set(
			    err, PACER_EUNKNOWN,
			    "the %s of app %s was sent %d times without an answer "
			    "and has not taken effect; it may still do so: the next "
			    "run reads the app back",
			    plan_action_name(item->action), item->app_id, n);
		rc = submit(ctx, item, body, ref, err);
	}
	return rc;
}
