/*
 * watcher_drift.c: pacer watch's drift detection (see watcher.h): what
 * the events of Marathon's event stream mean (evstream.h follows it), and
 * the checks the runner's worker runs when an event (or a reconnect) says
 * apps may have changed.
 *
 * Drift is measured against the last sync, not against the source: the
 * apps its status lists as running their desired definition (the
 * runner's last status, runner_status_get()) are compared with what
 * Marathon holds now (envsync_drift()). A file edited since, or a commit not synced yet, is
 * not drift; it is the next sync's business.
 */
#include "cmd/pacer/watcher_int.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/marathon/events.h"
#include "cmd/pacer/evstream.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"
#include "reconcile/cluster.h"

/* ---- what the last sync left as desired ---- */

struct json_object *watcher__last_status(struct watcher *w)
{
	struct runner_status st;

	runner_status_get(w->runner, 1, &st);
	return st.last.status; /* the snapshot's deep copy, handed over */
}

/*
 * A row of the last sync's status ({"id", "outcome", ...}) whose app runs
 * its desired definition: outcomes where Marathon should now equal the
 * file. An app that failed, was rolled back, held or skipped is not
 * expected to match.
 */
static int row_settled(struct json_object *row)
{
	static const char *const ok[] = {"unchanged", "created",     "updated",
	                                 "degraded",  "progressing", NULL};
	struct json_object *v;
	const char *outcome;

	if (!json_object_object_get_ex(row, "outcome", &v) ||
	    !(outcome = json_object_get_string(v)))
		return 0;
	for (size_t k = 0; ok[k]; k++)
		if (!strcmp(outcome, ok[k]))
			return 1;
	return 0;
}

static struct json_object *status_rows(struct json_object *status)
{
	struct json_object *apps;

	if (!json_object_object_get_ex(status, "apps", &apps) ||
	    !json_object_is_type(apps, json_type_array))
		return NULL;
	return apps;
}

/* The app's id in Marathon: a blue/green app's row names its live colour's. */
static const char *row_id(struct json_object *row)
{
	struct json_object *v;

	if (json_object_object_get_ex(row, "live_id", &v) && json_object_get_string(v))
		return json_object_get_string(v);
	return json_object_object_get_ex(row, "id", &v) ? json_object_get_string(v) : NULL;
}

/* 1 when the last sync's status lists app `id` as settled. */
static int settled(struct json_object *status, const char *id)
{
	struct json_object *apps = status_rows(status);

	for (size_t i = 0; apps && i < json_object_array_length(apps); i++) {
		struct json_object *row = json_object_array_get_idx(apps, i);
		const char *rid = row_id(row);

		if (rid && !strcmp(rid, id))
			return row_settled(row);
	}
	return 0;
}

/* The ids of the settled apps (borrowed from status), NULL-terminated; caller frees the array. */
static const char **settled_ids(struct json_object *status, size_t *n)
{
	struct json_object *apps = status_rows(status);
	size_t len = apps ? json_object_array_length(apps) : 0;
	const char **ids;

	*n = 0;
	if (!apps || !(ids = calloc(len + 1, sizeof(*ids))))
		return NULL;
	for (size_t i = 0; i < len; i++) {
		struct json_object *row = json_object_array_get_idx(apps, i);

		if (row_id(row) && row_settled(row))
			ids[(*n)++] = row_id(row);
	}
	return ids;
}

/* ---- reporting, each drift once ---- */

void watcher__notes_clear(struct watcher *w)
{
	for (size_t i = 0; i < w->nnotes; i++) {
		free(w->notes[i].id);
		free(w->notes[i].what);
	}
	free(w->notes);
	w->notes = NULL;
	w->nnotes = 0;
}

/* Under mu: 1 when this drift of id was not reported yet (and now is). */
static int note_new(struct watcher *w, const char *id, const char *what)
{
	struct watcher_note *v;

	for (size_t i = 0; i < w->nnotes; i++) {
		if (strcmp(w->notes[i].id, id))
			continue;
		if (!strcmp(w->notes[i].what, what))
			return 0;
		free(w->notes[i].what);
		w->notes[i].what = strdup(what);
		return 1;
	}
	v = realloc(w->notes, (w->nnotes + 1) * sizeof(*v));
	if (!v)
		return 1;
	w->notes = v;
	v[w->nnotes].id = strdup(id);
	v[w->nnotes].what = strdup(what);
	if (v[w->nnotes].id && v[w->nnotes].what) {
		w->nnotes++;
	} else { /* out of memory: reported, not remembered */
		free(v[w->nnotes].id);
		free(v[w->nnotes].what);
	}
	return 1;
}

/* Under mu: id was found as desired; a later drift of it is news. */
static void note_gone(struct watcher *w, const char *id)
{
	for (size_t i = 0; i < w->nnotes; i++)
		if (!strcmp(w->notes[i].id, id)) {
			free(w->notes[i].id);
			free(w->notes[i].what);
			w->notes[i] = w->notes[--w->nnotes];
			return;
		}
}

/* Log a drift once; with --self-heal, ask for the sync that reverts it. paths NULL: deleted. */
static void report(struct watcher *w, const char *id, const char *paths)
{
	int fresh;

	pthread_mutex_lock(&w->mu);
	fresh = note_new(w, id, paths ? paths : "");
	pthread_mutex_unlock(&w->mu);
	if (fresh && paths)
		PLOG_WARN("drift: app=%s changed outside pacer (%s)%s", id, paths,
		          w->o.self_heal ? "; reverting (--self-heal)"
		                         : "; the next sync reverts it (or use --self-heal)");
	else if (fresh)
		PLOG_WARN("drift: app=%s was deleted outside pacer%s", id,
		          w->o.self_heal ? "; re-creating it (--self-heal)"
		                         : "; the next sync re-creates it (or use --self-heal)");
	if (w->o.self_heal)
		watcher__trigger(w, "drift", 0);
}

/* Compare one live definition (borrowed) with the last sync's. */
static void compare(struct watcher *w, struct json_object *live, const char *id)
{
	char *app = NULL, *paths = NULL;
	int rc = envsync_drift(w->sync, live, &app, &paths);

	if (rc == 1) {
		report(w, app, paths);
	} else if (rc == 0) {
		pthread_mutex_lock(&w->mu);
		note_gone(w, id);
		pthread_mutex_unlock(&w->mu);
	}
	free(app);
	free(paths);
}

/* ---- checks (the worker runs them) ---- */

/* The identity check of a reconnect; 0 when the cluster is ours. */
static int check_cluster(struct watcher *w)
{
	struct pacer_error *err = NULL;
	int rc = cluster_check(w->env->marathon, w->env->state, 0, &err);

	if (rc == PACER_ECLUSTER || !rc) {
		char *msg = rc ? pacer_error_format(err) : NULL;

		pthread_mutex_lock(&w->mu);
		watcher__set_foreign(w, rc != 0, msg);
		pthread_mutex_unlock(&w->mu);
		free(msg);
	} else {
		char *msg = pacer_error_format(err);

		PLOG_WARN(
		    "drift check: cannot check which cluster Marathon is (%s); the next sync does",
		    msg ? msg : "?");
		free(msg);
	}
	pacer_error_free(err);
	return rc;
}

/* Every settled app against one GET /v2/apps. */
static void check_all(struct watcher *w, struct json_object *status, const char *reason)
{
	struct json_object *list = NULL, *byid = json_object_new_object();
	struct pacer_error *err = NULL;
	size_t n = 0;
	const char **ids = NULL;

	if (check_cluster(w) || !byid)
		goto done;
	if (w->env->marathon->list_apps(w->env->marathon, &list, &err)) {
		char *msg = pacer_error_format(err);

		PLOG_WARN(
		    "drift check: cannot list the apps after %s (%s); the next resync compares "
		    "them",
		    reason, msg ? msg : "?");
		free(msg);
		goto done;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *a = json_object_array_get_idx(list, i), *id;

		if (json_object_object_get_ex(a, "id", &id))
			json_object_object_add(byid, json_object_get_string(id),
			                       json_object_get(a));
	}
	ids = settled_ids(status, &n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *live;

		if (json_object_object_get_ex(byid, ids[i], &live))
			compare(w, live, ids[i]);
		else
			report(w, ids[i], NULL);
	}
	PLOG_DEBUG("drift check: compared %zu apps after %s", n, reason);
done:
	free(ids);
	json_object_put(byid);
	json_object_put(list);
	pacer_error_free(err);
}

/* The named apps, one GET each. */
static void check_some(struct watcher *w, struct json_object *status, const struct watcher_check *c)
{
	for (size_t i = 0; i < c->nids && !*w->o.stop; i++) {
		struct json_object *live = NULL;
		struct pacer_error *err = NULL;
		int rc;

		if (!settled(status, c->ids[i]))
			continue;
		rc = w->env->marathon->get_app(w->env->marathon, c->ids[i], &live, &err);
		if (rc == PACER_ENOTFOUND)
			report(w, c->ids[i], NULL);
		else if (!rc)
			compare(w, live, c->ids[i]);
		else
			PLOG_DEBUG("drift check: cannot read app=%s after %s: %s", c->ids[i],
			           c->reason, err ? err->message : "?");
		json_object_put(live);
		pacer_error_free(err);
	}
}

void watcher__check(struct watcher *w, const struct watcher_check *c)
{
	/* Nothing synced yet: the first sync compares everything anyway. */
	struct json_object *status = watcher__last_status(w);

	if (!status)
		return;
	if (c->all)
		check_all(w, status, c->reason);
	else
		check_some(w, status, c);
	json_object_put(status);
}

/* ---- events ---- */

/* Events of a sync in flight are mostly its own; Marathon that is another cluster is not ours. */
static int deaf(struct watcher *w)
{
	int foreign;

	if (runner_busy(w->runner)) {
		PLOG_DEBUG("events: an event during a sync is not looked at");
		return 1;
	}
	pthread_mutex_lock(&w->mu);
	foreign = w->foreign;
	pthread_mutex_unlock(&w->mu);
	return foreign;
}

/* The stream is open (evstream.c logged it): what happened while it was not, compare all. */
static void attached(struct watcher *w)
{
	pthread_mutex_lock(&w->mu);
	w->stream_down_ms = 0;
	pthread_mutex_unlock(&w->mu);
	watcher__wake_loop(w);
	watcher__request_check(w, NULL, 0, "the event stream attached");
}

/* The apps an event names, kept when the last sync left them as desired. */
static void check_named(struct watcher *w, const char *const *ids, size_t n, const char *why)
{
	struct json_object *status = watcher__last_status(w);
	const char **keep = calloc(n + 1, sizeof(*keep));
	size_t k = 0;

	for (size_t i = 0; keep && i < n; i++)
		if (!status || settled(status, ids[i]))
			keep[k++] = ids[i];
	if (k)
		watcher__request_check(w, keep, k, why);
	free(keep);
	json_object_put(status);
}

/* A group changed: anything below it may have; compare everything when it holds settled apps. */
static void group_changed(struct watcher *w, const char *group)
{
	struct json_object *status = watcher__last_status(w);
	size_t n = 0, len = strlen(group);
	const char **ids = settled_ids(status, &n);
	int hit = !status;

	while (len && group[len - 1] == '/')
		len--; /* "/" is the root: every app */
	for (size_t i = 0; i < n && !hit; i++)
		hit = !strncmp(ids[i], group, len) && ids[i][len] == '/';
	if (hit)
		watcher__request_check(w, NULL, 0, "a group change");
	free(ids);
	json_object_put(status);
}

static int on_event(void *ctx, const char *type, struct json_object *data)
{
	struct watcher *w = ctx;
	struct marathon_event_info ev;

	if (marathon_event_classify(type, data, &ev))
		return 0;
	if (ev.kind == MARATHON_EVK_ATTACHED) {
		attached(w);
	} else if (ev.kind != MARATHON_EVK_OTHER && !deaf(w)) {
		switch (ev.kind) {
		case MARATHON_EVK_APP_DEF:
			compare(w, ev.def,
			        json_object_get_string(json_object_object_get(ev.def, "id")));
			break;
		case MARATHON_EVK_APP_GONE: /* checked with the rest of the same change */
		case MARATHON_EVK_APPS:
			check_named(w, ev.ids, ev.nids, type);
			break;
		default:
			group_changed(w, ev.group);
			break;
		}
	}
	marathon_event_info_release(&ev);
	return 0;
}

/* ---- the stream (evstream.h) ---- */

/* A connection ended: resyncs run more often until it is back. */
static void down(void *ctx, long long since)
{
	struct watcher *w = ctx;

	pthread_mutex_lock(&w->mu);
	if (!w->stream_down_ms)
		w->stream_down_ms = since;
	pthread_mutex_unlock(&w->mu);
	watcher__wake_loop(w);
}

int watcher__events_start(struct watcher *w, struct pacer_error **err)
{
	struct evstream_options eo = {0};

	eo.marathon = w->env->marathon;
	eo.event_types = marathon_definition_events;
	eo.cb = on_event;
	eo.down = down;
	eo.ctx = w;
	eo.stop = w->o.stop;
	eo.back_note = "; comparing every app for what was missed";
	eo.down_note = "; until it is back, changes outside pacer are only found by resyncs, "
	               "which run more often meanwhile";
	return evstream_start(&w->events, &eo, err);
}
