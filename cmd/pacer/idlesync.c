/*
 * idlesync.c: serve's event-driven syncs and its interval poll (contract
 * in idlesync.h).
 *
 * The poll compares a git head with the commit the last sync read (its
 * status), not with the previous poll: a commit that arrived between a
 * sync's fetch and the next poll is still seen. A directory has no commit,
 * so its fingerprint is taken before the sync it triggers reads the files:
 * a change after that differs at the next poll.
 */
#include "cmd/pacer/idlesync.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backends/git/source.h"
#include "backends/marathon/events.h"
#include "cmd/pacer/evstream.h"
#include "cmd/pacer/runner.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"

struct idlesync {
	struct idlesync_options o;
	int is_dir;
	uint64_t files; /* the directory's fingerprint (the worker's) */
	long long resync_base;
	struct runner *runner;
	struct evstream *events;

	pthread_mutex_t mu; /* guards what follows */
	int up;             /* the stream is attached */
	int was_down;       /* it ended since it last attached */
};

/* ---- the poll ---- */

/* FNV-1a over every file's path and bytes. */
static int hash_file(void *ctx, const char *path, const char *data, size_t len, const char *key)
{
	uint64_t *h = ctx;

	(void)key;
	for (size_t i = 0; i <= strlen(path); i++)
		*h = (*h ^ (unsigned char)path[i]) * 1099511628211ULL;
	for (size_t i = 0; i < len; i++)
		*h = (*h ^ (unsigned char)data[i]) * 1099511628211ULL;
	*h = (*h ^ 0xff) * 1099511628211ULL;
	return 0;
}

/* The directory's fingerprint; 0 when it cannot be read (the sync says why). */
static uint64_t fingerprint(struct idlesync *is)
{
	struct pacer_source *src = is->o.env->source;
	struct pacer_error *err = NULL;
	uint64_t h = 14695981039346656037ULL;

	if (src->read(src, hash_file, &h, &err))
		h = 0;
	pacer_error_free(err);
	return h;
}

static const char *status_commit(struct json_object *st)
{
	struct json_object *v;

	if (st && json_object_object_get_ex(st, "commit", &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* A git source: 1 and the reason when the ref moved past the last sync's commit. */
static int git_moved(struct idlesync *is, struct json_object *last, char *reason, size_t size)
{
	char head[GITSRC_OID_HEXSZ + 1];
	const char *seen = status_commit(last);

	if (envsync_git_head(is->o.env->source, head, *is->o.stop))
		return 0;
	if (seen && !strncmp(head, seen, strlen(seen)))
		return 0;
	snprintf(reason, size, "commit %.12s", head);
	return 1;
}

void idlesync_poll(void *ctx, struct runner *r)
{
	struct idlesync *is = ctx;
	struct runner_status st;
	char reason[RUNNER_REASON_MAX];
	long long now = pacer_now_ms();
	unsigned flags = 0;
	int up;

	pthread_mutex_lock(&is->mu);
	up = is->up;
	pthread_mutex_unlock(&is->mu);
	runner_status_get(r, 1, &st);
	*reason = '\0';
	if (!up) {
		snprintf(reason, sizeof(reason), "interval (event stream down)");
	} else if (!st.have_last || !st.last.converged) {
		snprintf(reason, sizeof(reason), "interval (retry)");
	} else if (is->o.resync_interval_s > 0 &&
	           now - is->resync_base >= 1000LL * is->o.resync_interval_s) {
		snprintf(reason, sizeof(reason), "resync");
	} else if (is->is_dir) {
		uint64_t h = fingerprint(is);

		if (h != is->files)
			snprintf(reason, sizeof(reason), "files changed");
		flags = RUNNER_SUPERSEDE;
	} else if (git_moved(is, st.last.status, reason, sizeof(reason))) {
		flags = RUNNER_SUPERSEDE;
	}
	runner_status_release(&st);
	if (!*reason) {
		PLOG_DEBUG("serve: interval: the source did not change; nothing to sync");
		return;
	}
	/* Taken before the sync reads them: a later change differs at the next tick. */
	if (is->is_dir)
		is->files = fingerprint(is);
	is->resync_base = now;
	runner_trigger(r, reason, flags, NULL);
}

/* ---- the events ---- */

/* A sync of ids (NULL: every app). */
static void trigger(struct idlesync *is, const char *reason, const char *const *ids)
{
	runner_trigger(is->runner, reason, 0, ids);
}

/* The desired apps among ids, synced. */
static void sync_desired(struct idlesync *is, const char *const *ids, size_t n, const char *type)
{
	const char **keep = calloc(n + 1, sizeof(*keep));
	size_t k = 0;

	for (size_t i = 0; keep && i < n; i++)
		if (envsync_desires(is->o.sync, ids[i]))
			keep[k++] = ids[i];
	if (k) {
		PLOG_INFO("events: %s names %zu desired app(s) (%s%s); syncing them", type, k,
		          keep[0], k > 1 ? ", ..." : "");
		trigger(is, "drift", keep);
	}
	free(keep);
}

/* An app definition posted: synced when it differs from the desired one. */
static void app_def(struct idlesync *is, struct json_object *def)
{
	char *id = NULL, *paths = NULL;

	if (envsync_drift(is->o.sync, def, &id, &paths) == 1) {
		const char *only[] = {id, NULL};

		PLOG_WARN("drift: app=%s changed outside pacer (%s); reverting", id, paths);
		trigger(is, "drift", only);
	}
	free(id);
	free(paths);
}

static void attached(struct idlesync *is)
{
	int back;

	pthread_mutex_lock(&is->mu);
	back = is->was_down && is->up == 0;
	is->up = 1;
	is->was_down = 0;
	pthread_mutex_unlock(&is->mu);
	if (back)
		trigger(is, "resync (event stream back)", NULL);
}

static int on_event(void *ctx, const char *type, struct json_object *data)
{
	struct idlesync *is = ctx;
	struct marathon_event_info ev;

	if (marathon_event_classify(type, data, &ev))
		return 0;
	if (ev.kind == MARATHON_EVK_ATTACHED) {
		attached(is);
	} else if (ev.kind != MARATHON_EVK_OTHER && runner_busy(is->runner)) {
		PLOG_DEBUG("events: an event during a sync is not looked at");
	} else if (ev.kind == MARATHON_EVK_APP_DEF) {
		app_def(is, ev.def);
	} else if (ev.kind == MARATHON_EVK_APP_GONE || ev.kind == MARATHON_EVK_APPS) {
		sync_desired(is, ev.ids, ev.nids, type);
	} else if (ev.kind == MARATHON_EVK_GROUP) {
		trigger(is, "drift (group change)", NULL);
	}
	marathon_event_info_release(&ev);
	return 0;
}

static void down(void *ctx, long long since)
{
	struct idlesync *is = ctx;

	(void)since;
	pthread_mutex_lock(&is->mu);
	is->was_down = 1;
	is->up = 0;
	pthread_mutex_unlock(&is->mu);
}

/* ---- life cycle ---- */

int idlesync_new(struct idlesync **out, const struct idlesync_options *opts,
                 struct pacer_error **err)
{
	struct idlesync *is = calloc(1, sizeof(*is));
	struct stat st;

	*out = NULL;
	if (!is)
		return pacer_error_set(err, -1, "out of memory");
	is->o = *opts;
	is->is_dir = opts->source && !stat(opts->source, &st) && S_ISDIR(st.st_mode) &&
	             !strstr(opts->source, "://");
	if (is->is_dir)
		is->files = fingerprint(is);
	is->resync_base = pacer_now_ms();
	pthread_mutex_init(&is->mu, NULL);
	*out = is;
	return 0;
}

int idlesync_follow(struct idlesync *is, struct runner *r, struct pacer_error **err)
{
	struct evstream_options eo = {0};

	is->runner = r;
	eo.marathon = is->o.events ? is->o.events : is->o.env->marathon;
	eo.event_types = marathon_definition_events;
	eo.cb = on_event;
	eo.down = down;
	eo.ctx = is;
	eo.stop = is->o.stop;
	eo.back_note = "; one whole sync covers what was missed";
	eo.down_note = "; until it is back, every --interval tick is a whole sync";
	return evstream_start(&is->events, &eo, err);
}

void idlesync_free(struct idlesync *is)
{
	if (!is)
		return;
	*is->o.stop = 1;
	evstream_free(is->events);
	pthread_mutex_destroy(&is->mu);
	free(is);
}
