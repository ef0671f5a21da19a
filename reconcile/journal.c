/*
 * journal.c: journal entries to and from their JSON documents.
 *
 * The document holds everything a later run needs without this run's
 * memory: the body that was (maybe) submitted, so that "did it apply?" is
 * answered by comparing the live app with it; the backup path, so that a
 * rollback can be finished; the wall-clock deadline, so that a resumed wait
 * keeps the original timeout instead of granting a fresh one.
 */
#include "reconcile/journal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/jsonutil.h"
#include "reconcile/base/log.h"
#include "reconcile/cache.h"

#define JOURNAL_FOLDER "journal"
/* "journal/" + 32 hex digits + ".json" + NUL, with room to spare. */
#define DOC_NAME_SIZE 64
#define NNAMES(v) (sizeof(v) / sizeof(*(v)))

/*
 * Enums are stored by name, never by number: a journal written by one
 * version of pacer is read by the next, and reordering an enum must not
 * turn a pending "prune" into an "update".
 */

static const char *const action_names[] = {"create",  "update",   "prune",    "undo",
					    "restart", "operator", "bluegreen"};
static const char *const phase_names[] = {"intent", "submitted", "unknown"};
static const char *const policy_names[] = {"rollback", "restart", "none"};

const char *journal_action_name(enum journal_action a)
{
	return (unsigned)a < NNAMES(action_names) ? action_names[a] : "?";
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

int journal_supported(const struct pacer_state_store *s)
{
	return s && s->doc_load && s->doc_save && s->doc_remove && s->doc_list;
}

/* "journal/<digest of the id>.json": ids may be longer than a file name. */
static void doc_name(const char *app_id, char out[DOC_NAME_SIZE])
{
	char d[33];

	cache_digest(app_id, strlen(app_id), d);
	snprintf(out, DOC_NAME_SIZE, "%s/%s.json", JOURNAL_FOLDER, d);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static struct json_object *entry_to_json(const struct journal_entry *e)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_str(o, "app", e->app_id);
	add_str(o, "action", journal_action_name(e->action));
	if (e->action == JOURNAL_UNDO ||
	    (e->action == JOURNAL_BLUEGREEN && e->undo == JOURNAL_BLUEGREEN))
		add_str(o, "undo", journal_action_name(e->undo));
	add_str(o, "phase", phase_names[e->phase]);
	if (e->body)
		json_object_object_add(o, "body", json_object_get(e->body));
	if (e->digest[0])
		add_str(o, "digest", e->digest);
	add_str(o, "backup", e->backup);
	add_str(o, "commit", e->commit);
	json_object_object_add(o, "started", json_object_new_int64(e->started));
	json_object_object_add(o, "deadline", json_object_new_int64(e->deadline));
	json_object_object_add(o, "timeout", json_object_new_int(e->timeout_s));
	add_str(o, "on_failure", policy_names[e->on_failure]);
	add_str(o, "deployment", e->deployment);
	add_str(o, "version", e->version);
	return o;
}

int journal_write(struct pacer_state_store *s, const struct journal_entry *e,
		  struct pacer_error **err)
{
	struct json_object *o;
	const char *text;
	char name[DOC_NAME_SIZE];
	int rc;

	if (!journal_supported(s))
		return 0;
	if (!(o = entry_to_json(e)))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory writing the journal");
	doc_name(e->app_id, name);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = s->doc_save(s, name, text, strlen(text), err);
	if (rc)
		pacer_error_wrap(err, rc, "cannot record pacer's intent for app %s in the journal",
				 e->app_id);
	json_object_put(o);
	return rc;
}

int journal_clear(struct pacer_state_store *s, const char *app_id, struct pacer_error **err)
{
	char name[DOC_NAME_SIZE];
	int rc;

	if (!journal_supported(s))
		return 0;
	doc_name(app_id, name);
	rc = s->doc_remove(s, name, err);
	if (rc)
		pacer_error_wrap(err, rc, "cannot clear the journal entry of app %s", app_id);
	return rc;
}

static char *dup_member(struct json_object *o, const char *k)
{
	struct json_object *v = jsonutil_get(o, k);

	return json_object_is_type(v, json_type_string) ? strdup(json_object_get_string(v)) : NULL;
}

static int entry_from_json(struct json_object *o, struct journal_entry *e)
{
	struct json_object *v;
	int a, u = 0, p, f;

	memset(e, 0, sizeof(*e));
	a = name_index(action_names, NNAMES(action_names),
		       json_object_get_string(jsonutil_get(o, "action")));
	p = name_index(phase_names, NNAMES(phase_names),
		       json_object_get_string(jsonutil_get(o, "phase")));
	f = name_index(policy_names, NNAMES(policy_names),
		       json_object_get_string(jsonutil_get(o, "on_failure")));
	/* Only a create, an update or a prune (the first three) is ever undone. */
	if (a == JOURNAL_UNDO)
		u = name_index(action_names, JOURNAL_PRUNE + 1,
			       json_object_get_string(jsonutil_get(o, "undo")));
	/* A blue/green release being reverted says so. */
	if (a == JOURNAL_BLUEGREEN && jsonutil_get(o, "undo"))
		u = JOURNAL_BLUEGREEN;
	if (!(e->app_id = dup_member(o, "app")) || a < 0 || p < 0 || u < 0)
		return -1;
	e->action = (enum journal_action)a;
	e->undo = (enum journal_action)u;
	e->phase = (enum journal_phase)p;
	/* An unknown policy (a newer pacer's) falls back to the default. */
	e->on_failure = f < 0 ? SYNC_ON_FAILURE_ROLLBACK : (enum sync_on_failure)f;
	if ((v = jsonutil_get(o, "body")))
		e->body = json_object_get(v);
	/* A digest of another length is not one of ours: the change is then not held. */
	if ((v = jsonutil_get(o, "digest")) && json_object_get_string_len(v) == 32)
		memcpy(e->digest, json_object_get_string(v), 33);
	e->backup = dup_member(o, "backup");
	e->commit = dup_member(o, "commit");
	e->deployment = dup_member(o, "deployment");
	e->version = dup_member(o, "version");
	e->started = json_object_get_int64(jsonutil_get(o, "started"));
	e->deadline = json_object_get_int64(jsonutil_get(o, "deadline"));
	e->timeout_s = json_object_get_int(jsonutil_get(o, "timeout"));
	return 0;
}

/* One document into out; an unreadable one is an error naming it. */
static int load_one(struct pacer_state_store *s, const char *name, struct journal_entry *out,
		    struct pacer_error **err)
{
	struct json_object *o = NULL;
	char *data = NULL;
	size_t len = 0;
	int rc = s->doc_load(s, name, &data, &len, err);

	if (rc || !data)
		goto done; /* cleared since it was listed */
	o = json_tokener_parse(data);
	if (!o || entry_from_json(o, out)) {
		journal_entry_release(out);
		rc = pacer_error_set(err, PACER_EIO,
				     "the journal entry '%s' in the state directory cannot be read; "
				     "it records a change pacer made: look at it, check the app in "
				     "Marathon, then delete the file",
				     name);
		goto done;
	}
	rc = 1;
done:
	json_object_put(o);
	free(data);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct journal_entry *)a)->app_id,
		      ((const struct journal_entry *)b)->app_id);
}

int journal_load(struct pacer_state_store *s, struct journal_entry **out, size_t *n,
		 struct pacer_error **err)
{
	struct journal_entry *v = NULL;
	char **names = NULL;
	size_t k = 0, count = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!journal_supported(s))
		return 0;
	if ((rc = s->doc_list(s, JOURNAL_FOLDER, &names, err)))
		goto done;
	while (names[count])
		count++;
	if (count && !(v = calloc(count, sizeof(*v)))) {
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory reading the journal");
		goto done;
	}
	for (size_t i = 0; i < count; i++) {
		rc = load_one(s, names[i], &v[k], err);
		if (rc < 0)
			goto done;
		k += rc == 1;
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), cmp_entry);
	*out = v;
	*n = k;
	v = NULL;
	rc = 0;
done:
	journal_entries_free(v, k);
	pacer_strv_free(names);
	return rc;
}

void journal_entry_release(struct journal_entry *e)
{
	if (!e)
		return;
	free(e->app_id);
	json_object_put(e->body);
	free(e->backup);
	free(e->commit);
	free(e->deployment);
	free(e->version);
	memset(e, 0, sizeof(*e));
}

void journal_entries_free(struct journal_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		journal_entry_release(&v[i]);
	free(v);
}

#define ATOMIC_DOC "atomic.json"

void journal_atomic_failed(struct pacer_state_store *s, const char *failed_app)
{
	struct json_object *o;
	const char *text;
	char *prev = journal_atomic_pending(s);

	/* The first failure is the one to report; it stays. */
	if (prev || !journal_supported(s)) {
		free(prev);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "failed", json_object_new_string(failed_app));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (s->doc_save(s, ATOMIC_DOC, text, strlen(text), NULL))
		PLOG_WARN("cannot record that this --atomic run failed (app %s)", failed_app);
	json_object_put(o);
}

char *journal_atomic_pending(struct pacer_state_store *s)
{
	struct json_object *o;
	char *data = NULL, *app = NULL;
	size_t len = 0;

	if (!journal_supported(s) || s->doc_load(s, ATOMIC_DOC, &data, &len, NULL) || !data)
		return NULL;
	if ((o = json_tokener_parse(data)) && jsonutil_get(o, "failed"))
		app = strdup(json_object_get_string(jsonutil_get(o, "failed")));
	json_object_put(o);
	free(data);
	return app;
}

void journal_atomic_settled(struct pacer_state_store *s)
{
	if (journal_supported(s))
		s->doc_remove(s, ATOMIC_DOC, NULL);
}
