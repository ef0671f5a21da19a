/*
 * docmap.c: one JSON object in memory, written back whole after each
 * change: these maps hold a handful of entries (failed changes, apps an
 * operator suspended), so a rewrite costs less than any cleverness.
 */
#include "reconcile/docmap.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/jsonutil.h"

struct docmap {
	struct pacer_state_store *s; /* borrowed; NULL: memory only */
	char *doc;
	struct json_object *map;
	pthread_mutex_t mu;
};

int docmap_open(struct pacer_state_store *s, const char *doc, const char *what,
		struct docmap **out, struct pacer_error **err)
{
	struct docmap *m = calloc(1, sizeof(*m));
	char *data = NULL;
	size_t len = 0;
	int rc = 0;

	*out = NULL;
	if (!m || !(m->doc = strdup(doc))) {
		free(m);
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	}
	pthread_mutex_init(&m->mu, NULL);
	if (s && s->doc_load) {
		m->s = s;
		if ((rc = s->doc_load(s, doc, &data, &len, err)))
			goto done;
	}
	m->map = data ? json_tokener_parse(data) : json_object_new_object();
	if (!json_object_is_type(m->map, json_type_object)) {
		rc = pacer_error_set(err, PACER_EIO, "the state file %s (%s) is corrupt", doc, what);
		goto done;
	}
	*out = m;
	m = NULL;
done:
	free(data);
	docmap_free(m);
	return rc;
}

void docmap_free(struct docmap *m)
{
	if (!m)
		return;
	json_object_put(m->map);
	pthread_mutex_destroy(&m->mu);
	free(m->doc);
	free(m);
}

static int save_locked(struct docmap *m, struct pacer_error **err)
{
	const char *text;

	if (!m->s)
		return 0;
	text = json_object_to_json_string_ext(m->map, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	return m->s->doc_save(m->s, m->doc, text, strlen(text), err);
}

struct json_object *docmap_get(struct docmap *m, const char *key)
{
	struct json_object *v;

	if (!m)
		return NULL;
	pthread_mutex_lock(&m->mu);
	v = jsonutil_get(m->map, key);
	pthread_mutex_unlock(&m->mu);
	return v;
}

int docmap_put(struct docmap *m, const char *key, struct json_object *val,
	       struct pacer_error **err)
{
	int rc;

	if (!m) {
		json_object_put(val);
		return 0;
	}
	pthread_mutex_lock(&m->mu);
	json_object_object_add(m->map, key, val);
	rc = save_locked(m, err);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int docmap_drop(struct docmap *m, const char *key, struct pacer_error **err)
{
	int rc = 0;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->mu);
	if (json_object_object_get_ex(m->map, key, NULL)) {
		json_object_object_del(m->map, key);
		rc = save_locked(m, err);
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int docmap_prune(struct docmap *m, int (*keep)(void *ctx, const char *key), void *ctx,
		 struct pacer_error **err)
{
	char **keys;
	int rc = 0, changed = 0;

	if (!m)
		return 0;
	if (!(keys = docmap_keys(m)))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; keys[i]; i++) {
		if (!keep(ctx, keys[i])) {
			json_object_object_del(m->map, keys[i]);
			changed = 1;
		}
	}
	if (changed)
		rc = save_locked(m, err);
	pthread_mutex_unlock(&m->mu);
	pacer_strv_free(keys);
	return rc;
}

char **docmap_keys(struct docmap *m)
{
	const char **keys = NULL;
	char **ids;
	size_t n = 0;

	if (!m)
		return calloc(1, sizeof(char *));
	pthread_mutex_lock(&m->mu);
	if (jsonutil_sorted_keys(m->map, &keys, &n)) {
		pthread_mutex_unlock(&m->mu);
		return NULL;
	}
	ids = calloc(n + 1, sizeof(*ids));
	for (size_t i = 0; ids && i < n; i++) {
		if (!(ids[i] = strdup(keys[i]))) {
			pacer_strv_free(ids);
			ids = NULL;
		}
	}
	pthread_mutex_unlock(&m->mu);
	free(keys);
	return ids;
}
