/*
 * state.c: owned apps and last revision in the state directory.
 *
 * add/remove are read-modify-write of a small sorted list; the whole file
 * is rewritten durably each time. A run records ownership before it creates
 * an app, so a handful of writes per run is the expected load.
 */
#include "backends/fs/durable.h"
#include "backends/fs/source.h"
#include "backends/fs/state.h"
#include "reconcile/base/strv.h"
#include "reconcile/base/files.h"
#include "reconcile/base/json_pos.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Caps on what is read back: far above any real state (a million app ids
 * fit in 64 MiB), low enough that a file replaced by something else fails
 * with a message instead of exhausting memory.
 */
#define STATE_MAX_FILE ((size_t)64 << 20)
#define STATE_MAX_CACHE ((size_t)256 << 20)
/* last-revision holds one line: a commit id or a short description. */
#define REV_MAX_FILE 4096

struct fs_state {
	struct pacer_state_store base;
	char *owned_path;
	char *rev_path;
	char *cache_path;
	char *dir;
	pthread_mutex_t mu;
};

/* Read a file that may not exist yet: then 0 and *out NULL. */
static int read_optional(const char *path, size_t max, char **out, size_t *len,
                         struct pacer_error **err)
{
	struct pacer_error *e = NULL;
	int rc = fs_read_file(path, max, out, len, &e);

	if (rc == PACER_ENOTFOUND) {
		pacer_error_free(e);
		return 0;
	}
	if (rc < 0 && err && !*err)
		*err = e;
	else
		pacer_error_free(e);
	return rc;
}

/* The app ids of the "owned" array into out (unsorted). */
static int collect_owned(const struct fs_state *st, struct json_object *owned,
                         struct pacer_strvec *out, struct pacer_error **err)
{
	for (size_t i = 0; i < json_object_array_length(owned); i++) {
		struct json_object *id = json_object_array_get_idx(owned, i);

		if (!json_object_is_type(id, json_type_string))
			return pacer_error_set(
			    err, PACER_EIO,
			    "state file '%s': entry %zu of \"owned\" is not an app "
			    "id string; fix or delete the file",
			    st->owned_path, i);
		if (pacer_strvec_add(out, json_object_get_string(id)) < 0)
			return pacer_error_set(err, -1, "out of memory reading '%s'",
			                       st->owned_path);
	}
	return 0;
}

/*
 * Parse owned.json's text into out. Strict JSON, and a corrupt file is an
 * error with line:column, never an empty set: pacer would forget apps it
 * must be able to prune.
 */
static int parse_owned(const struct fs_state *st, const char *data, size_t len,
                       struct pacer_strvec *out, struct pacer_error **err)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root = NULL, *owned;
	int rc, line, col;

	if (!tok)
		return pacer_error_set(err, -1, "out of memory reading '%s'", st->owned_path);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, data, (int)len);
	if (!root) {
		json_pos_linecol(data, len, json_tokener_get_parse_end(tok), &line, &col);
		rc = pacer_error_set(err, PACER_EIO,
		                     "state file '%s' is corrupt (%s at %d:%d): restore it from a "
		                     "backup, or delete it to make pacer forget which apps it owns "
		                     "(it then prunes nothing until it applies them again)",
		                     st->owned_path,
		                     json_tokener_error_desc(json_tokener_get_error(tok)), line,
		                     col);
	} else if (!json_object_object_get_ex(root, "owned", &owned) ||
	           !json_object_is_type(owned, json_type_array)) {
		rc =
		    pacer_error_set(err, PACER_EIO,
		                    "state file '%s' has no \"owned\" array: restore it, or delete "
		                    "it to make pacer forget which apps it owns",
		                    st->owned_path);
	} else {
		rc = collect_owned(st, owned, out, err);
	}
	json_object_put(root);
	json_tokener_free(tok); /* never NULL here: json-c 0.16 crashes on NULL */
	return rc;
}

static int load_locked(struct fs_state *st, struct pacer_strvec *out, struct pacer_error **err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = read_optional(st->owned_path, STATE_MAX_FILE, &data, &len, err);
	if (rc < 0 || !data)
		goto done; /* no file: pacer owns nothing yet */
	rc = parse_owned(st, data, len, out, err);
	if (rc == 0)
		pacer_strvec_normalize(out);
done:
	if (rc < 0)
		pacer_strvec_release(out);
	free(data);
	return rc;
}

static int save_locked(struct fs_state *st, const struct pacer_strvec *s, struct pacer_error **err)
{
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	const char *text;
	int rc;

	if (!root || !arr) {
		json_object_put(arr);
		rc = pacer_error_set(err, -1, "out of memory writing '%s'", st->owned_path);
		goto done;
	}
	json_object_object_add(root, "owned", arr);
	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(arr, json_object_new_string(s->v[i]));
	text =
	    json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                             JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = durable_write_file(st->owned_path, text, strlen(text), 0600, err);
done:
	json_object_put(root);
	return rc;
}

static int st_load_owned(struct pacer_state_store *s, char ***ids, struct pacer_error **err)
{
	struct fs_state *st = (struct fs_state *)s;
	struct pacer_strvec v;
	int rc;

	*ids = NULL;
	pthread_mutex_lock(&st->mu);
	rc = load_locked(st, &v, err);
	pthread_mutex_unlock(&st->mu);
	if (rc < 0)
		return rc;
	if (!v.v) {
		/* An empty list is still a NULL-terminated array. */
		v.v = calloc(1, sizeof(*v.v));
		if (!v.v)
			return pacer_error_set(err, -1, "out of memory");
	}
	*ids = v.v;
	return 0;
}

/* Append ids[0..n) to v, the owned set or what leaves it. */
static int add_ids(const struct fs_state *st, struct pacer_strvec *v, const char *const *ids,
                   size_t n, struct pacer_error **err)
{
	for (size_t i = 0; i < n; i++)
		if (pacer_strvec_add(v, ids[i]) < 0)
			return pacer_error_set(err, -1, "out of memory updating '%s'",
			                       st->owned_path);
	return 0;
}

static int st_add_owned(struct pacer_state_store *s, const char *const *ids, size_t n,
                        struct pacer_error **err)
{
	struct fs_state *st = (struct fs_state *)s;
	struct pacer_strvec v;
	size_t before;
	int rc;

	/*
	 * Read-modify-write under the mutex, from the file rather than a copy
	 * in memory: the file is the one truth, so a write that failed half
	 * way never leaves memory and disk disagreeing.
	 */
	pthread_mutex_lock(&st->mu);
	rc = load_locked(st, &v, err);
	if (rc < 0)
		goto done;
	before = v.n;
	rc = add_ids(st, &v, ids, n, err);
	if (rc < 0)
		goto done;
	pacer_strvec_normalize(&v);
	/* Already owned: no write, no fsync. */
	if (v.n != before)
		rc = save_locked(st, &v, err);
done:
	pacer_strvec_release(&v);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int st_remove_owned(struct pacer_state_store *s, const char *const *ids, size_t n,
                           struct pacer_error **err)
{
	struct fs_state *st = (struct fs_state *)s;
	struct pacer_strvec v, gone = {0};
	size_t w = 0, before;
	int rc;

	pthread_mutex_lock(&st->mu);
	rc = load_locked(st, &v, err);
	if (rc < 0)
		goto done;
	rc = add_ids(st, &gone, ids, n, err);
	if (rc < 0)
		goto done;
	/* Sorted, so each owned id is looked up in O(log n): prunes remove many at once. */
	pacer_strvec_normalize(&gone);
	before = v.n;
	for (size_t r = 0; r < v.n; r++) {
		if (pacer_strvec_has(&gone, v.v[r])) {
			free(v.v[r]);
			continue;
		}
		v.v[w++] = v.v[r];
	}
	v.n = w;
	if (v.v)
		v.v[w] = NULL;
	if (v.n != before)
		rc = save_locked(st, &v, err);
done:
	pacer_strvec_release(&v);
	pacer_strvec_release(&gone);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int st_load_last_revision(struct pacer_state_store *s, char **out, struct pacer_error **err)
{
	struct fs_state *st = (struct fs_state *)s;
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = read_optional(st->rev_path, REV_MAX_FILE, &data, &len, err);
	if (rc < 0 || !data)
		return rc;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		data[--len] = '\0';
	if (!len || memchr(data, '\n', len)) {
		free(data);
		if (!len)
			return 0;
		return pacer_error_set(err, PACER_EIO,
		                       "state file '%s' should hold one revision on one line: fix "
		                       "or delete it",
		                       st->rev_path);
	}
	*out = data;
	return 0;
}

static int st_save_last_revision(struct pacer_state_store *s, const char *rev,
                                 struct pacer_error **err)
{
	struct fs_state *st = (struct fs_state *)s;
	char *line = NULL;
	int rc;

	if (!rev || !*rev || strchr(rev, '\n'))
		return pacer_error_set(err, PACER_EINVALID,
		                       "cannot save revision '%s' in '%s': a revision is one "
		                       "non-empty line",
		                       rev ? rev : "(null)", st->rev_path);
	if (asprintf(&line, "%s\n", rev) < 0)
		return pacer_error_set(err, -1, "out of memory writing '%s'", st->rev_path);
	rc = durable_write_file(st->rev_path, line, strlen(line), 0600, err);
	free(line);
	return rc;
}

static int st_load_cache(struct pacer_state_store *s, char **data, size_t *len,
                         struct pacer_error **err)
{
	struct fs_state *st = (struct fs_state *)s;

	*data = NULL;
	*len = 0;
	return read_optional(st->cache_path, STATE_MAX_CACHE, data, len, err);
}

static int st_save_cache(struct pacer_state_store *s, const char *data, size_t len,
                         struct pacer_error **err)
{
	struct fs_state *st = (struct fs_state *)s;

	return durable_write_file(st->cache_path, data, len, 0600, err);
}

/*
 * Named documents (reconcile/sync.h): <state-dir>/<name>. A name is checked
 * here too, so that no caller can reach outside the state directory.
 */
static int doc_name_ok(const char *name)
{
	int slashes = 0;

	if (!name || !*name || name[0] == '.' || strstr(name, "/."))
		return 0;
	for (const char *p = name; *p; p++) {
		if (*p == '/')
			slashes++;
		else if (!strchr(
		             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
		             *p))
			return 0;
	}
	return slashes <= 1 && name[strlen(name) - 1] != '/';
}

static int doc_path(struct fs_state *st, const char *name, char **out, struct pacer_error **err)
{
	*out = NULL;
	if (!doc_name_ok(name))
		return pacer_error_set(err, PACER_EINVALID, "'%s' is not a state document name",
		                       name ? name : "(null)");
	if (asprintf(out, "%s/%s", st->dir, name) < 0) {
		*out = NULL;
		return pacer_error_set(err, -1, "out of memory");
	}
	return 0;
}

static int st_doc_load(struct pacer_state_store *s, const char *name, char **data, size_t *len,
                       struct pacer_error **err)
{
	char *path = NULL;
	int rc;

	*data = NULL;
	*len = 0;
	if ((rc = doc_path((struct fs_state *)s, name, &path, err)))
		return rc;
	rc = read_optional(path, STATE_MAX_FILE, data, len, err);
	free(path);
	return rc;
}

static int st_doc_save(struct pacer_state_store *s, const char *name, const char *data, size_t len,
                       struct pacer_error **err)
{
	char *path = NULL, *slash;
	int rc;

	if ((rc = doc_path((struct fs_state *)s, name, &path, err)))
		return rc;
	/* A document in a folder: the folder is made on first use. */
	slash = strrchr(path, '/');
	if (strchr(name, '/')) {
		*slash = '\0';
		rc = pacer_mkdir_p(path, 0700, err);
		*slash = '/';
	}
	if (!rc)
		rc = durable_write_file(path, data, len, 0600, err);
	free(path);
	return rc;
}

static int st_doc_remove(struct pacer_state_store *s, const char *name, struct pacer_error **err)
{
	char *path = NULL, *slash;
	int rc;

	if ((rc = doc_path((struct fs_state *)s, name, &path, err)))
		return rc;
	if (unlink(path) && errno != ENOENT) {
		rc = pacer_error_set(err, PACER_EIO, "cannot remove '%s': %s", path,
		                     durable_strerror(errno));
		goto done;
	}
	/* The removal must survive a crash as the write did. */
	slash = strrchr(path, '/');
	*slash = '\0';
	rc = durable_sync_dir(path, err);
done:
	free(path);
	return rc;
}

/* "<folder>/<name>" of every document (a visible *.json) of d into v. -1: out of memory. */
static int add_doc_names(DIR *d, const char *folder, struct pacer_strvec *v)
{
	struct dirent *de;

	while ((de = readdir(d))) {
		char *name = NULL;
		int rc;

		/* Temp files of an interrupted write (".tmp") are not documents. */
		if (de->d_name[0] == '.' || !strstr(de->d_name, ".json") ||
		    strcmp(de->d_name + strlen(de->d_name) - 5, ".json"))
			continue;
		if (asprintf(&name, "%s/%s", folder, de->d_name) < 0)
			return -1;
		rc = pacer_strvec_add(v, name);
		free(name);
		if (rc)
			return -1;
	}
	return 0;
}

static int st_doc_list(struct pacer_state_store *s, const char *folder, char ***names,
                       struct pacer_error **err)
{
	struct fs_state *st = (struct fs_state *)s;
	struct pacer_strvec v;
	char *path = NULL;
	DIR *d = NULL;
	int rc;

	*names = NULL;
	memset(&v, 0, sizeof(v));
	if ((rc = doc_path(st, folder, &path, err)))
		return rc;
	if (!(d = opendir(path))) {
		if (errno == ENOENT)
			goto empty;
		rc = pacer_error_set(err, PACER_EIO, "cannot read the folder '%s': %s", path,
		                     durable_strerror(errno));
		goto done;
	}
	if (add_doc_names(d, folder, &v) < 0) {
		rc = pacer_error_set(err, -1, "out of memory");
		goto done;
	}
	pacer_strvec_normalize(&v);
empty:
	if (!v.v && !(v.v = calloc(1, sizeof(*v.v)))) {
		rc = pacer_error_set(err, -1, "out of memory");
		goto done;
	}
	*names = v.v;
	v.v = NULL;
	v.n = 0;
	rc = 0;
done:
	if (d)
		closedir(d);
	pacer_strvec_release(&v);
	free(path);
	return rc;
}

static void st_free(struct pacer_state_store *s)
{
	struct fs_state *st = (struct fs_state *)s;

	pthread_mutex_destroy(&st->mu);
	free(st->dir);
	free(st->owned_path);
	free(st->rev_path);
	free(st->cache_path);
	free(st);
}

void fs_state_sweep(const char *state_dir)
{
	char *journal = NULL;

	durable_sweep_temps(state_dir, 0);
	if (asprintf(&journal, "%s/journal", state_dir) >= 0) {
		durable_sweep_temps(journal, 0);
		free(journal);
	}
}

int fs_state_new(struct pacer_state_store **out, const char *state_dir, struct pacer_error **err)
{
	struct fs_state *st = NULL;
	int rc;

	*out = NULL;
	rc = pacer_mkdir_p(state_dir, 0700, err);
	if (rc < 0)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return pacer_error_set(err, -1, "out of memory");
	if (asprintf(&st->owned_path, "%s/owned.json", state_dir) < 0) {
		st->owned_path = NULL;
		goto oom;
	}
	if (asprintf(&st->rev_path, "%s/last-revision", state_dir) < 0) {
		st->rev_path = NULL;
		goto oom;
	}
	if (asprintf(&st->cache_path, "%s/cache", state_dir) < 0) {
		st->cache_path = NULL;
		goto oom;
	}
	if (!(st->dir = strdup(state_dir)))
		goto oom;

	pthread_mutex_init(&st->mu, NULL);
	st->base.doc_load = st_doc_load;
	st->base.doc_save = st_doc_save;
	st->base.doc_remove = st_doc_remove;
	st->base.doc_list = st_doc_list;
	st->base.load_owned = st_load_owned;
	st->base.add_owned = st_add_owned;
	st->base.remove_owned = st_remove_owned;
	st->base.load_last_revision = st_load_last_revision;
	st->base.save_last_revision = st_save_last_revision;
	st->base.load_cache = st_load_cache;
	st->base.save_cache = st_save_cache;
	st->base.free = st_free;
	*out = &st->base;
	return 0;
oom:
	free(st->owned_path);
	free(st->rev_path);
	free(st->cache_path);
	free(st);
	return pacer_error_set(err, -1, "out of memory");
}
