/*
 * state.c: the state store in ZooKeeper (state.h). The owned set is one
 * JSON value ({"owned": [...]}, as owned.json on disk), read, changed and
 * written whole under the store's mutex: ZooKeeper is the one truth, so a
 * failed write never leaves memory and ZooKeeper disagreeing.
 */
#include "backends/zk/layout.h"
#include "backends/zk/state.h"
#include "backends/zk/zk_int.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct zk_state {
	struct pacer_state_store base;
	struct zkconn *c;
	struct pacer_state_store *local;
	char *owned, *rev, *docs;
	pthread_mutex_t mu;
};

#define ZS(s) ((struct zk_state *)(s))

/* A blob that may not exist yet: then 0 and *data NULL. */
static int read_optional(struct zkconn *c, const char *path, char **data, size_t *len,
			 struct pacer_error **err)
{
	struct pacer_error *e = NULL;
	int rc = zk__blob_read(c, path, data, len, &e);

	if (rc == PACER_ENOTFOUND) {
		pacer_error_free(e);
		return 0;
	}
	if (rc && err && !*err)
		*err = e;
	else
		pacer_error_free(e);
	return rc;
}

static int load_owned_vec(struct zk_state *st, struct pacer_strvec *out, struct pacer_error **err)
{
	struct json_object *root = NULL, *arr;
	char *data = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = read_optional(st->c, st->owned, &data, &len, err)) || !data)
		goto done;
	root = json_tokener_parse(data);
	if (!root || !json_object_object_get_ex(root, "owned", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		rc = pacer_error_set(err, PACER_EIO,
				     "ZooKeeper node '%s' has no \"owned\" array: restore it, or "
				     "delete it to make pacer forget which apps it owns",
				     st->owned);
		goto done;
	}
	for (size_t i = 0; !rc && i < json_object_array_length(arr); i++) {
		struct json_object *id = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(id, json_type_string))
			rc = pacer_error_set(err, PACER_EIO, "ZooKeeper node '%s': entry %zu of "
					     "\"owned\" is not an app id", st->owned, i);
		else if (pacer_strvec_add(out, json_object_get_string(id)) < 0)
			rc = pacer_error_set(err, -1, "out of memory");
	}
	pacer_strvec_normalize(out);
done:
	if (rc)
		pacer_strvec_release(out);
	json_object_put(root);
	free(data);
	return rc;
}

static int save_owned_vec(struct zk_state *st, const struct pacer_strvec *v,
			  struct pacer_error **err)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	const char *text;
	int rc;

	if (!root || !arr) {
		json_object_put(root);
		json_object_put(arr);
		return pacer_error_set(err, -1, "out of memory");
	}
	json_object_object_add(root, "owned", arr);
	for (size_t i = 0; i < v->n; i++)
		json_object_array_add(arr, json_object_new_string(v->v[i]));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = zk__blob_write(st->c, st->owned, text, strlen(text), err);
	json_object_put(root);
	return rc;
}

static int zs_load_owned(struct pacer_state_store *s, char ***ids, struct pacer_error **err)
{
	struct pacer_strvec v;
	int rc;

	*ids = NULL;
	pthread_mutex_lock(&ZS(s)->mu);
	rc = load_owned_vec(ZS(s), &v, err);
	pthread_mutex_unlock(&ZS(s)->mu);
	if (rc)
		return rc;
	if (!v.v && !(v.v = calloc(1, sizeof(*v.v))))
		return pacer_error_set(err, -1, "out of memory");
	*ids = v.v;
	return 0;
}

/* add (1) or remove (0) ids, writing only when the set changed. */
static int change_owned(struct zk_state *st, const char *const *ids, size_t n, int add,
			struct pacer_error **err)
{
	struct pacer_strvec v, w = {0};
	int rc;

	pthread_mutex_lock(&st->mu);
	if ((rc = load_owned_vec(st, &v, err)))
		goto done;
	if (add) {
		size_t before = v.n;

		for (size_t i = 0; !rc && i < n; i++)
			if (pacer_strvec_add(&v, ids[i]) < 0)
				rc = pacer_error_set(err, -1, "out of memory");
		pacer_strvec_normalize(&v);
		if (!rc && v.n != before)
			rc = save_owned_vec(st, &v, err);
		goto done;
	}
	for (size_t i = 0; !rc && i < n; i++)
		if (pacer_strvec_add(&w, ids[i]) < 0)
			rc = pacer_error_set(err, -1, "out of memory");
	pacer_strvec_normalize(&w);
	{
		struct pacer_strvec keep = {0};

		for (size_t i = 0; !rc && i < v.n; i++)
			if (!pacer_strvec_has(&w, v.v[i]) && pacer_strvec_add(&keep, v.v[i]) < 0)
				rc = pacer_error_set(err, -1, "out of memory");
		if (!rc && keep.n != v.n)
			rc = save_owned_vec(st, &keep, err);
		pacer_strvec_release(&keep);
	}
done:
	pacer_strvec_release(&v);
	pacer_strvec_release(&w);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int zs_add_owned(struct pacer_state_store *s, const char *const *ids, size_t n,
			struct pacer_error **err)
{
	return change_owned(ZS(s), ids, n, 1, err);
}

static int zs_remove_owned(struct pacer_state_store *s, const char *const *ids, size_t n,
			   struct pacer_error **err)
{
	return change_owned(ZS(s), ids, n, 0, err);
}

static int zs_load_rev(struct pacer_state_store *s, char **out, struct pacer_error **err)
{
	size_t len = 0;
	int rc = read_optional(ZS(s)->c, ZS(s)->rev, out, &len, err);

	if (!rc && *out && !len) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int zs_save_rev(struct pacer_state_store *s, const char *rev, struct pacer_error **err)
{
	if (!rev || !*rev || strchr(rev, '\n'))
		return pacer_error_set(err, PACER_EINVALID,
				       "cannot save revision '%s': a revision is one non-empty line",
				       rev ? rev : "(null)");
	return zk__blob_write(ZS(s)->c, ZS(s)->rev, rev, strlen(rev), err);
}

static int zs_load_cache(struct pacer_state_store *s, char **data, size_t *len,
			 struct pacer_error **err)
{
	struct pacer_state_store *l = ZS(s)->local;

	*data = NULL;
	*len = 0;
	return l && l->load_cache ? l->load_cache(l, data, len, err) : 0;
}

static int zs_save_cache(struct pacer_state_store *s, const char *data, size_t len,
			 struct pacer_error **err)
{
	struct pacer_state_store *l = ZS(s)->local;

	return l && l->save_cache ? l->save_cache(l, data, len, err) : 0;
}

static int doc_path(struct zk_state *st, const char *name, char **out, struct pacer_error **err)
{
	*out = NULL;
	if (!zk_doc_name_ok(name))
		return pacer_error_set(err, PACER_EINVALID, "'%s' is not a state document name",
				       name ? name : "(null)");
	if (asprintf(out, "%s/%s", st->docs, name) < 0) {
		*out = NULL;
		return pacer_error_set(err, -1, "out of memory");
	}
	return 0;
}

static int zs_doc_load(struct pacer_state_store *s, const char *name, char **data, size_t *len,
		       struct pacer_error **err)
{
	char *p = NULL;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = doc_path(ZS(s), name, &p, err)))
		return rc;
	rc = read_optional(ZS(s)->c, p, data, len, err);
	free(p);
	return rc;
}

static int zs_doc_save(struct pacer_state_store *s, const char *name, const char *data,
		       size_t len, struct pacer_error **err)
{
	char *p = NULL;
	int rc;

	if ((rc = doc_path(ZS(s), name, &p, err)))
		return rc;
	rc = zk__blob_write(ZS(s)->c, p, data, len, err);
	free(p);
	return rc;
}

static int zs_doc_remove(struct pacer_state_store *s, const char *name, struct pacer_error **err)
{
	char *p = NULL;
	int rc;

	if ((rc = doc_path(ZS(s), name, &p, err)))
		return rc;
	rc = zk__delete_tree(ZS(s)->c, p, err);
	free(p);
	return rc;
}

static int zs_doc_list(struct pacer_state_store *s, const char *folder, char ***names,
		       struct pacer_error **err)
{
	struct pacer_strvec kids, out = {0};
	char *p = NULL;
	int rc;

	*names = NULL;
	if ((rc = doc_path(ZS(s), folder, &p, err)) || (rc = zk__children(ZS(s)->c, p, &kids, err)))
		goto done;
	for (size_t i = 0; !rc && i < kids.n; i++) {
		char *n = NULL;
		size_t l = strlen(kids.v[i]);

		if (l < 6 || strcmp(kids.v[i] + l - 5, ".json"))
			continue; /* documents are *.json, as on disk */
		if (asprintf(&n, "%s/%s", folder, kids.v[i]) < 0 || pacer_strvec_add(&out, n) < 0)
			rc = pacer_error_set(err, -1, "out of memory");
		free(n);
	}
	pacer_strvec_release(&kids);
	if (!rc && !out.v && !(out.v = calloc(1, sizeof(*out.v))))
		rc = pacer_error_set(err, -1, "out of memory");
	if (!rc) {
		*names = out.v;
		out.v = NULL;
		out.n = 0;
	}
done:
	pacer_strvec_release(&out);
	free(p);
	return rc;
}

static void zs_free(struct pacer_state_store *s)
{
	struct zk_state *st = ZS(s);

	pacer_state_store_free(st->local);
	pthread_mutex_destroy(&st->mu);
	free(st->owned);
	free(st->rev);
	free(st->docs);
	free(st);
}

int zk_state_new(struct pacer_state_store **out, struct zkconn *c,
		 struct pacer_state_store *local, struct pacer_error **err)
{
	struct zk_state *st = calloc(1, sizeof(*st));

	*out = NULL;
	if (!st) {
		pacer_state_store_free(local);
		return pacer_error_set(err, -1, "out of memory");
	}
	st->c = c;
	st->local = local;
	pthread_mutex_init(&st->mu, NULL);
	st->owned = zk__path(c, "state/owned");
	st->rev = zk__path(c, "state/last-revision");
	st->docs = zk__path(c, "state/docs");
	if (!st->owned || !st->rev || !st->docs) {
		zs_free(&st->base);
		return pacer_error_set(err, -1, "out of memory");
	}
	st->base = (struct pacer_state_store){
	    .load_owned = zs_load_owned,
	    .add_owned = zs_add_owned,
	    .remove_owned = zs_remove_owned,
	    .load_last_revision = zs_load_rev,
	    .save_last_revision = zs_save_rev,
	    .load_cache = zs_load_cache,
	    .save_cache = zs_save_cache,
	    .doc_load = zs_doc_load,
	    .doc_save = zs_doc_save,
	    .doc_remove = zs_doc_remove,
	    .doc_list = zs_doc_list,
	    .free = zs_free,
	};
	*out = &st->base;
	return 0;
}

int zk_status_save(struct zkconn *c, const char *json, struct pacer_error **err)
{
	char *p = zk__path(c, "state/status");
	int rc = p ? zk__blob_write(c, p, json, strlen(json), err)
		   : pacer_error_set(err, -1, "out of memory");

	free(p);
	return rc;
}

int zk_status_load(struct zkconn *c, long long *seen, int *changed, char **json,
		   struct pacer_error **err)
{
	char *p = zk__path(c, "state/status");
	struct Stat st;
	size_t len = 0;
	int rc = 0, zrc;

	*json = NULL;
	*changed = 0;
	if (!p)
		return pacer_error_set(err, -1, "out of memory");
	/* A follower looks every second; the status of a large cluster is megabytes. */
	zrc = zoo_exists(zkconn__zh(c), p, 0, &st);
	if (zrc != ZOK && zrc != ZNONODE)
		rc = zk__fail(err, zrc, "cannot read", p);
	else if ((zrc == ZNONODE ? -1 : st.mzxid) != *seen) {
		rc = read_optional(c, p, json, &len, err);
		if (!rc) {
			*seen = zrc == ZNONODE ? -1 : st.mzxid;
			*changed = 1;
		}
	}
	free(p);
	return rc;
}
