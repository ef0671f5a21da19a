/*
 * held.c: the held changes, one JSON object in memory, written back whole
 * after each change (there are few: a hold is a failed deployment).
 */
#include "reconcile/held.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/jsonutil.h"

#define HELD_DOC "held.json"

struct held {
	struct pacer_state_store *s; /* borrowed; NULL: nothing is kept */
	struct json_object *apps;    /* app id -> hold */
	pthread_mutex_t mu;
};

int held_open(struct pacer_state_store *s, struct held **out, struct pacer_error **err)
{
	struct held *h = calloc(1, sizeof(*h));
	char *data = NULL;
	size_t len = 0;
	int rc = 0;

	*out = NULL;
	if (!h)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	pthread_mutex_init(&h->mu, NULL);
	if (s && s->doc_load) {
		h->s = s;
		if ((rc = s->doc_load(s, HELD_DOC, &data, &len, err)))
			goto done;
	}
	h->apps = data ? json_tokener_parse(data) : json_object_new_object();
	if (!json_object_is_type(h->apps, json_type_object)) {
		rc = pacer_error_set(err, PACER_EIO,
				     "the state file %s (failed changes pacer holds) is corrupt: "
				     "delete it to try every held change again",
				     HELD_DOC);
		goto done;
	}
	*out = h;
	h = NULL;
done:
	free(data);
	held_free(h);
	return rc;
}

void held_free(struct held *h)
{
	if (!h)
		return;
	json_object_put(h->apps);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

static int save_locked(struct held *h, struct pacer_error **err)
{
	const char *text;

	if (!h->s)
		return 0;
	text = json_object_to_json_string_ext(h->apps, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_SPACED |
								JSON_C_TO_STRING_NOSLASHESCAPE);
	return h->s->doc_save(h->s, HELD_DOC, text, strlen(text), err);
}

struct json_object *held_get(struct held *h, const char *app_id)
{
	struct json_object *v;

	if (!h)
		return NULL;
	pthread_mutex_lock(&h->mu);
	v = jsonutil_get(h->apps, app_id);
	pthread_mutex_unlock(&h->mu);
	return v;
}

struct json_object *held_find(struct held *h, const char *app_id, const char *digest)
{
	struct json_object *v = held_get(h, app_id);
	const char *d = json_object_get_string(jsonutil_get(v, "digest"));

	return v && d && digest && !strcmp(d, digest) ? v : NULL;
}

int held_put(struct held *h, const char *app_id, const char *digest, const char *commit,
	     enum sync_outcome outcome, const char *reason, struct pacer_error **err)
{
	struct json_object *v = json_object_new_object();
	int rc;

	if (!h || !v) {
		json_object_put(v);
		return h ? pacer_error_set(err, PACER_EGENERIC, "out of memory") : 0;
	}
	json_object_object_add(v, "digest", json_object_new_string(digest ? digest : ""));
	if (commit)
		json_object_object_add(v, "commit", json_object_new_string(commit));
	json_object_object_add(v, "time", json_object_new_int64((long long)time(NULL)));
	json_object_object_add(v, "outcome", json_object_new_string(sync_outcome_name(outcome)));
	json_object_object_add(v, "reason", json_object_new_string(reason ? reason : ""));
	pthread_mutex_lock(&h->mu);
	json_object_object_add(h->apps, app_id, v);
	rc = save_locked(h, err);
	pthread_mutex_unlock(&h->mu);
	if (rc)
		pacer_error_wrap(err, rc, "cannot record that the change of app %s is held",
				 app_id);
	return rc;
}

int held_drop(struct held *h, const char *app_id, struct pacer_error **err)
{
	int rc = 0;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->mu);
	if (json_object_object_get_ex(h->apps, app_id, NULL)) {
		json_object_object_del(h->apps, app_id);
		rc = save_locked(h, err);
	}
	pthread_mutex_unlock(&h->mu);
	return rc;
}

int held_prune(struct held *h, int (*keep)(void *ctx, const char *app_id), void *ctx,
	       struct pacer_error **err)
{
	char **ids;
	int rc = 0, changed = 0;

	if (!h)
		return 0;
	if (!(ids = held_ids(h)))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; ids[i]; i++) {
		if (!keep(ctx, ids[i])) {
			json_object_object_del(h->apps, ids[i]);
			changed = 1;
		}
	}
	if (changed)
		rc = save_locked(h, err);
	pthread_mutex_unlock(&h->mu);
	pacer_strv_free(ids);
	return rc;
}

char **held_ids(struct held *h)
{
	const char **keys = NULL;
	char **ids;
	size_t n = 0;

	if (!h)
		return calloc(1, sizeof(char *));
	pthread_mutex_lock(&h->mu);
	if (jsonutil_sorted_keys(h->apps, &keys, &n)) {
		pthread_mutex_unlock(&h->mu);
		return NULL;
	}
	ids = calloc(n + 1, sizeof(*ids));
	for (size_t i = 0; ids && i < n; i++) {
		if (!(ids[i] = strdup(keys[i]))) {
			pacer_strv_free(ids);
			ids = NULL;
		}
	}
	pthread_mutex_unlock(&h->mu);
	free(keys);
	return ids;
}
