/*
 * backup.c: backups in ZooKeeper (backup.h).
 */
#include "backends/zk/backup.h"
#include "backends/zk/layout.h"
#include "backends/zk/zk_int.h"
#include "reconcile/base/buf.h"
#include "reconcile/model/appid.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct zk_backups {
	struct pacer_backup_store base;
	struct zkconn *c;
	char *dir; /* <root>/backups */
	int keep;
};

#define ZB(s) ((struct zk_backups *)(s))

/* "<dir>/<mangled id>"; caller frees; NULL for an id that is not absolute. */
static char *app_dir(struct zk_backups *b, const char *app_id)
{
	char *m, *p = NULL;

	if (!app_id || app_id[0] != '/' || !(m = appid_mangle(app_id)) )
		return NULL;
	if (!*m || asprintf(&p, "%s/%s", b->dir, m) < 0)
		p = NULL;
	free(m);
	return p;
}

/* Drop the oldest backups of the app beyond keep. Failures only leave more backups. */
static void trim(struct zk_backups *b, const char *dir)
{
	struct pacer_strvec kids;
	char t[20];
	long long seq;
	size_t n = 0;

	if (zk__children(b->c, dir, &kids, NULL))
		return;
	for (size_t i = 0; i < kids.n; i++)
		if (!zk_backup_parse(kids.v[i], t, &seq))
			kids.v[n++] = kids.v[i];
		else
			free(kids.v[i]);
	kids.n = n;
	zk_sort_by_seq(kids.v, n);
	for (size_t i = 0; n > (size_t)b->keep && i < n - (size_t)b->keep; i++) {
		char *p = NULL;

		if (asprintf(&p, "%s/%s", dir, kids.v[i]) >= 0)
			zk__delete_tree(b->c, p, NULL);
		free(p);
	}
	pacer_strvec_release(&kids);
}

static int zb_save(struct pacer_backup_store *s, const char *app_id, struct json_object *def,
		   char **out_path, struct pacer_error **err)
{
	struct zk_backups *b = ZB(s);
	char *dir = app_dir(b, app_id), *prefix = NULL, stamp[32];
	const char *text;
	int rc;

	if (out_path)
		*out_path = NULL;
	if (!dir || !def)
		return free(dir), pacer_error_set(err, PACER_EINVALID,
						  "cannot back up app '%s': not an absolute app id "
						  "such as \"/group/app\"",
						  app_id ? app_id : "(null)");
	text = json_object_to_json_string_ext(def, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	if (zk_backup_prefix(stamp, sizeof(stamp), (long long)time(NULL)) ||
	    asprintf(&prefix, "%s/%s", dir, stamp) < 0) {
		prefix = NULL;
		rc = pacer_error_set(err, -1, "out of memory");
		goto done;
	}
	if ((rc = zk__mkdirs(b->c, dir, err)) ||
	    (rc = zk__blob_create_seq(b->c, prefix, text, strlen(text), out_path, err))) {
		pacer_error_wrap(err, rc, "cannot back up app %s to ZooKeeper", app_id);
		goto done;
	}
	trim(b, dir);
done:
	free(prefix);
	free(dir);
	return rc;
}

/* Append the backups of the app whose node is dir (name: the mangled id) to v. */
static int list_app(struct zk_backups *b, const char *mangled, struct pacer_backup_entry **v,
		    size_t *n, size_t *cap, struct pacer_error **err)
{
	struct pacer_strvec kids;
	char *dir = NULL, *id = appid_unmangle(mangled);
	int rc = 0;

	if (!id)
		return 0; /* not a backup folder */
	if (asprintf(&dir, "%s/%s", b->dir, mangled) < 0 || (rc = zk__children(b->c, dir, &kids, err))) {
		free(id);
		free(dir);
		return rc ? rc : pacer_error_set(err, -1, "out of memory");
	}
	zk_sort_by_seq(kids.v, kids.n);
	for (size_t i = 0; !rc && i < kids.n; i++) {
		struct pacer_backup_entry *e;
		char t[20];
		long long seq;

		if (zk_backup_parse(kids.v[i], t, &seq))
			continue;
		{
			void *g = pacer_array_grow(*v, cap, *n + 1, sizeof(**v), 8);

			if (!g) {
				rc = pacer_error_set(err, -1, "out of memory");
				break;
			}
			*v = g;
		}
		e = &(*v)[(*n)++];
		memset(e, 0, sizeof(*e));
		e->app_id = strdup(id);
		e->time = strdup(t);
		if (asprintf(&e->path, "%s/%s", dir, kids.v[i]) < 0)
			e->path = NULL;
		if (!e->app_id || !e->time || !e->path)
			rc = pacer_error_set(err, -1, "out of memory");
	}
	pacer_strvec_release(&kids);
	free(dir);
	free(id);
	return rc;
}

static int zb_list(struct pacer_backup_store *s, const char *app_id,
		   struct pacer_backup_entry **out, size_t *count, struct pacer_error **err)
{
	struct zk_backups *b = ZB(s);
	struct pacer_backup_entry *v = NULL;
	struct pacer_strvec apps = {0};
	size_t n = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (app_id) {
		char *m = app_id[0] == '/' ? appid_mangle(app_id) : NULL;

		if (m)
			rc = list_app(b, m, &v, &n, &cap, err);
		free(m);
	} else if (!(rc = zk__children(b->c, b->dir, &apps, err))) {
		for (size_t i = 0; !rc && i < apps.n; i++)
			rc = list_app(b, apps.v[i], &v, &n, &cap, err);
	}
	pacer_strvec_release(&apps);
	if (rc) {
		pacer_backup_entries_free(v, n);
		return rc;
	}
	*out = v;
	*count = n;
	return 0;
}

static int zb_load(struct pacer_backup_store *s, const char *path, struct json_object **out,
		   struct pacer_error **err)
{
	struct zk_backups *b = ZB(s);
	size_t dl = strlen(b->dir), len = 0;
	char *data = NULL;
	int rc;

	*out = NULL;
	if (!path || strncmp(path, b->dir, dl) || path[dl] != '/' || strstr(path, "/.") ||
	    strstr(path, "//"))
		return pacer_error_set(err, PACER_ENOTFOUND,
				       "'%s' is not a backup in ZooKeeper (under %s/): list them "
				       "with pacer backups",
				       path ? path : "(null)", b->dir);
	if ((rc = zk__blob_read(b->c, path, &data, &len, err)))
		return rc;
	if (!(*out = json_tokener_parse(data)) || !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		rc = pacer_error_set(err, PACER_EIO,
				     "backup '%s' in ZooKeeper is not a JSON object: it cannot be "
				     "restored",
				     path);
	}
	free(data);
	return rc;
}

static void zb_free(struct pacer_backup_store *s)
{
	free(ZB(s)->dir);
	free(s);
}

int zk_backup_store_new(struct pacer_backup_store **out, struct zkconn *c, int keep,
			struct pacer_error **err)
{
	struct zk_backups *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (!b || !(b->dir = zk__path(c, "backups"))) {
		free(b);
		return pacer_error_set(err, -1, "out of memory");
	}
	b->c = c;
	b->keep = keep > 0 ? keep : ZK_BACKUPS_KEEP;
	b->base = (struct pacer_backup_store){
	    .save = zb_save, .list = zb_list, .load = zb_load, .free = zb_free};
	*out = &b->base;
	return 0;
}
