/*
 * held.c: the held changes, a docmap (docmap.h) of app id -> the failure.
 */
#include "reconcile/held.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/jsonutil.h"
#include "reconcile/docmap.h"

struct held {
	struct docmap *map;
};

int held_open(struct pacer_state_store *s, struct held **out, struct pacer_error **err)
{
	struct held *h = calloc(1, sizeof(*h));
	int rc;

	*out = NULL;
	if (!h)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	rc = docmap_open(s, "held.json",
			 "failed changes pacer holds; delete it to try every held change again",
			 &h->map, err);
	if (rc) {
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void held_free(struct held *h)
{
	if (!h)
		return;
	docmap_free(h->map);
	free(h);
}

struct json_object *held_get(struct held *h, const char *app_id)
{
	return h ? docmap_get(h->map, app_id) : NULL;
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
	struct json_object *v;
	int rc;

	if (!h)
		return 0;
	if (!(v = json_object_new_object()))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	json_object_object_add(v, "digest", json_object_new_string(digest ? digest : ""));
	if (commit)
		json_object_object_add(v, "commit", json_object_new_string(commit));
	json_object_object_add(v, "time", json_object_new_int64((long long)time(NULL)));
	json_object_object_add(v, "outcome", json_object_new_string(sync_outcome_name(outcome)));
	json_object_object_add(v, "reason", json_object_new_string(reason ? reason : ""));
	rc = docmap_put(h->map, app_id, v, err);
	if (rc)
		pacer_error_wrap(err, rc, "cannot record that the change of app %s is held",
				 app_id);
	return rc;
}

int held_drop(struct held *h, const char *app_id, struct pacer_error **err)
{
	return h ? docmap_drop(h->map, app_id, err) : 0;
}

int held_prune(struct held *h, int (*keep)(void *ctx, const char *app_id), void *ctx,
	       struct pacer_error **err)
{
	return h ? docmap_prune(h->map, keep, ctx, err) : 0;
}

char **held_ids(struct held *h)
{
	return h ? docmap_keys(h->map) : calloc(1, sizeof(char *));
}
