/*
 * store.c: the backup directory.
 *
 * Names carry everything list() needs (app id, time, order within a
 * second), so listing never opens a file: `pacer backups` over years of
 * backups stays a readdir.
 *
 * Except for very long ids. Marathon puts no limit on an id's length, but a
 * file name has NAME_MAX (255) bytes, and the longest name a backup needs
 * is its temp file (".<stem>.json.tmp-XXXXXX", durable.c) while it is
 * written. An id whose mangled form does not fit is named by its first
 * bytes (for whoever reads the directory), '+' (which no mangled id holds,
 * so such a name is never read as an old-style one) and a SHA-256 of the
 * whole id (so two ids never share names). The id itself is in the backup
 * ("id", as Marathon returned the definition): listing one app compares
 * names and still opens nothing; only listing every app opens such files,
 * to read their id and check it against the name.
 */
#include "backends/backup/store.h"
#include "backends/fs/durable.h"
#include "backends/fs/source.h"
#include "reconcile/base/files.h"
#include "reconcile/base/json_pos.h"
#include "reconcile/model/appid.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TIME_LEN 19 /* "YYYY-mm-dd_HH:MM:SS" */
/* What a name adds to its id part: "_" + time, and for the temp file "." + ".json.tmp-XXXXXX". */
#define NAME_OVERHEAD (1 + TIME_LEN + 1 + 16)
/* The longest id part that fits: 218, as long as an id could be before hashing existed. */
#define ID_PART_MAX (NAME_MAX - NAME_OVERHEAD)
#define HASH_HEX 32 /* 128 bits of the SHA-256 */

struct backup_store {
	struct pacer_backup_store base;
	char *dir;
};

/*
 * The id part of a backup's name: the mangled id when it fits, else its
 * first bytes, '+' and the hash (see the top). NULL when the id has no file
 * name ("/" or "") or out of memory. Caller frees.
 */
static char *id_part(const char *id)
{
	static const char hex[] = "0123456789abcdef";
	char *m = appid_mangle(id), *out = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t keep = ID_PART_MAX - 1 - HASH_HEX;

	if (!m || strlen(m) <= ID_PART_MAX)
		return m;
	if (!EVP_Digest(id, strlen(id), md, &mdlen, EVP_sha256(), NULL) || mdlen < HASH_HEX / 2)
		goto done;
	/* Never cut a "%XX" escape in two: the prefix stays readable. */
	for (size_t i = keep - 2; i < keep; i++)
		if (m[i] == '%') {
			keep = i;
			break;
		}
	out = malloc(keep + 1 + HASH_HEX + 1);
	if (!out)
		goto done;
	memcpy(out, m, keep);
	out[keep] = '+';
	for (size_t i = 0; i < HASH_HEX / 2; i++) {
		out[keep + 1 + 2 * i] = hex[md[i] >> 4];
		out[keep + 2 + 2 * i] = hex[md[i] & 15];
	}
	out[keep + 1 + HASH_HEX] = '\0';
done:
	free(m);
	return out;
}

/*
 * The name of a backup of app_id made now, without the extension:
 * "<id part>_<UTC time>". NULL when out of memory. Caller frees.
 */
static char *backup_stem(const char *id_part_of_app)
{
	char stamp[TIME_LEN + 1], *stem = NULL;
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y-%m-%d_%H:%M:%S", &tm) ||
	    asprintf(&stem, "%s_%s", id_part_of_app, stamp) < 0)
		return NULL;
	return stem;
}

/* The file's content: the definition pretty-printed, and a newline. Caller frees. */
static char *backup_text(struct json_object *def)
{
	const char *json = json_object_to_json_string_ext(
	    def, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *text = NULL;

	if (!json || asprintf(&text, "%s\n", json) < 0)
		return NULL;
	return text;
}

static int bs_save(struct pacer_backup_store *s, const char *app_id, struct json_object *def,
                   char **out_path, struct pacer_error **err)
{
	struct backup_store *bs = (struct backup_store *)s;
	char *mangled = NULL, *stem = NULL, *text = NULL;
	int rc;

	if (out_path)
		*out_path = NULL;
	if (!app_id || !def)
		return pacer_error_set(err, PACER_EINVALID,
		                       "cannot back up: no app id or definition");
	mangled = id_part(app_id);
	if (!mangled || app_id[0] != '/') {
		/* Only "/" or "" mangle to nothing; live apps always have absolute ids. */
		rc = pacer_error_set(err, PACER_EINVALID,
		                     "cannot back up app '%s': not an absolute app id such as "
		                     "\"/group/app\"",
		                     app_id);
		goto done;
	}
	if (!(stem = backup_stem(mangled)) || !(text = backup_text(def))) {
		rc = pacer_error_set(err, -1, "cannot back up app %s: out of memory", app_id);
		goto done;
	}
	rc = durable_write_unique(bs->dir, stem, ".json", text, strlen(text), 0600, out_path, err);
	if (rc < 0) {
		pacer_error_wrap(err, rc,
		                 "cannot back up app %s to '%s': the app was not touched; fix the "
		                 "backup directory and retry",
		                 app_id, bs->dir);
		if (err && *err)
			pacer_error_set_app(*err, app_id);
	}
done:
	free(text);
	free(stem);
	free(mangled);
	return rc;
}

/* "dddd-dd-dd_dd:dd:dd" */
static int is_stamp(const char *p)
{
	static const char pat[] = "dddd-dd-dd_dd:dd:dd";

	for (size_t i = 0; i < TIME_LEN; i++) {
		if (pat[i] == 'd' ? !isdigit((unsigned char)p[i]) : p[i] != pat[i])
			return 0;
	}
	return 1;
}

/*
 * Split a backup file name into its mangled id, time and suffix number
 * (1 when none). Returns 0, or -1 when the name is not a backup's.
 */
static int parse_name(const char *name, char **mangled, char **stamp, unsigned long *seq)
{
	size_t n = strlen(name), end;

	*mangled = *stamp = NULL;
	*seq = 1;
	if (n <= 5 || strcmp(name + n - 5, ".json"))
		return -1;
	end = n - 5;
	/* Optional "_N" (N >= 2, no leading zero) after the time. */
	if (end > 0 && isdigit((unsigned char)name[end - 1])) {
		size_t d = end;

		while (d > 0 && isdigit((unsigned char)name[d - 1]))
			d--;
		if (d > TIME_LEN + 1 && name[d - 1] == '_' && name[d] != '0' && end - d < 10 &&
		    is_stamp(name + d - 1 - TIME_LEN) && name[d - 2 - TIME_LEN] == '_') {
			*seq = strtoul(name + d, NULL, 10);
			if (*seq < 2)
				return -1;
			end = d - 1;
		}
	}
	if (end < TIME_LEN + 2 || !is_stamp(name + end - TIME_LEN) ||
	    name[end - TIME_LEN - 1] != '_')
		return -1;
	*mangled = strndup(name, end - TIME_LEN - 1);
	if (*seq > 1)
		*stamp = strndup(name + end - TIME_LEN, n - 5 - (end - TIME_LEN));
	else
		*stamp = strndup(name + end - TIME_LEN, TIME_LEN);
	if (!*mangled || !*stamp) {
		free(*mangled);
		free(*stamp);
		*mangled = *stamp = NULL;
		return -1;
	}
	return 0;
}

/* Sequence number of an entry's time ("..._3" -> 3, none -> 1). */
static unsigned long entry_seq(const struct pacer_backup_entry *e)
{
	return strlen(e->time) > TIME_LEN + 1 ? strtoul(e->time + TIME_LEN + 1, NULL, 10) : 1;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct pacer_backup_entry *a = pa, *b = pb;
	unsigned long sa, sb;
	int r = strncmp(a->time, b->time, TIME_LEN);

	if (r)
		return r;
	sa = entry_seq(a);
	sb = entry_seq(b);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	r = strcmp(a->app_id, b->app_id);
	return r ? r : strcmp(a->path, b->path);
}

static int bs_load(struct pacer_backup_store *s, const char *path, struct json_object **out,
                   struct pacer_error **err);

/*
 * The id of a backup named with a hash: read from the file, and only if it
 * gives that very name back (a file renamed or edited by hand is not
 * trusted). NULL otherwise. Caller frees.
 */
static char *hashed_id(struct backup_store *bs, const char *name, const char *part)
{
	struct json_object *def = NULL, *idv;
	char *id = NULL, *check = NULL;

	if (bs_load(&bs->base, name, &def, NULL) < 0 ||
	    !json_object_object_get_ex(def, "id", &idv) ||
	    !json_object_is_type(idv, json_type_string))
		goto done;
	check = id_part(json_object_get_string(idv));
	if (check && !strcmp(check, part))
		id = strdup(json_object_get_string(idv));
done:
	free(check);
	json_object_put(def);
	return id;
}

/*
 * The app id of a backup whose name's id part is `part`; NULL when the name
 * is no backup's, or (want_part not NULL) not a backup of that app. Names
 * are compared, not ids: mangling is one-to-one and the hash unique, so the
 * names of one app are exactly those with its id part. Caller frees.
 */
static char *entry_id(struct backup_store *bs, const char *name, const char *part, const char *want,
                      const char *want_part)
{
	if (want_part)
		return strcmp(part, want_part) ? NULL : strdup(want);
	if (strchr(part, '+'))
		return hashed_id(bs, name, part);
	return appid_unmangle(part);
}

/* The entries list() is building. */
struct entries {
	struct pacer_backup_entry *v;
	size_t n, cap;
};

/* Append the backup file `name` of app `id` (both taken over: freed on failure). */
static int entries_add(struct entries *e, const char *dir, const char *name, char *id, char *stamp)
{
	if (e->n == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 16;
		struct pacer_backup_entry *nv = realloc(e->v, ncap * sizeof(*nv));

		if (!nv)
			goto oom;
		e->v = nv;
		e->cap = ncap;
	}
	if (asprintf(&e->v[e->n].path, "%s/%s", dir, name) < 0)
		goto oom;
	e->v[e->n].app_id = id;
	e->v[e->n].time = stamp;
	e->n++;
	return 0;
oom:
	free(id);
	free(stamp);
	return -1;
}

/*
 * The app list() looks for, as an id and as the id part of its names;
 * both NULL for every app. The caller frees both.
 */
static int wanted(const struct backup_store *bs, const char *app_id, char **want, char **want_part,
                  struct pacer_error **err)
{
	*want = *want_part = NULL;
	if (!app_id)
		return 0;
	/* "prod/web" and "/prod/web" name the same app. */
	if (!(*want = appid_resolve(NULL, app_id)) && !(*want = strdup(app_id)))
		return pacer_error_set(err, -1, "out of memory listing '%s'", bs->dir);
	/* "/" or "": no name has an empty id part, so nothing matches. */
	if (!(*want_part = id_part(*want)) && !(*want_part = strdup("")))
		return pacer_error_set(err, -1, "out of memory listing '%s'", bs->dir);
	return 0;
}

/* One directory entry: added to e when it is a backup of the wanted app. */
static int consider(struct backup_store *bs, const char *name, const char *want,
                    const char *want_part, struct entries *e, struct pacer_error **err)
{
	char *mangled = NULL, *stamp = NULL, *id;
	unsigned long seq;

	if (name[0] == '.' || parse_name(name, &mangled, &stamp, &seq) < 0)
		return 0;
	id = entry_id(bs, name, mangled, want, want_part);
	free(mangled);
	if (!id) {
		free(stamp);
		return 0;
	}
	if (entries_add(e, bs->dir, name, id, stamp) < 0)
		return pacer_error_set(err, -1, "out of memory listing '%s'", bs->dir);
	return 0;
}

/* Every backup in the directory that consider() keeps. */
static int scan_dir(struct backup_store *bs, const char *want, const char *want_part,
                    struct entries *e, struct pacer_error **err)
{
	DIR *dir = opendir(bs->dir);
	struct dirent *de;
	int rc = 0;

	if (!dir)
		return pacer_error_set(err, errno == ENOENT ? PACER_ENOTFOUND : PACER_EIO,
		                       "cannot list backups in '%s': %s", bs->dir,
		                       durable_strerror(errno));
	while (rc == 0) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				rc = pacer_error_set(err, PACER_EIO,
				                     "cannot list backups in '%s': %s", bs->dir,
				                     durable_strerror(errno));
			break;
		}
		rc = consider(bs, de->d_name, want, want_part, e, err);
	}
	closedir(dir);
	return rc;
}

static int bs_list(struct pacer_backup_store *s, const char *app_id,
                   struct pacer_backup_entry **out, size_t *count, struct pacer_error **err)
{
	struct backup_store *bs = (struct backup_store *)s;
	struct entries e = {0};
	char *want = NULL, *want_part = NULL;
	int rc;

	*out = NULL;
	*count = 0;
	if ((rc = wanted(bs, app_id, &want, &want_part, err)) < 0 ||
	    (rc = scan_dir(bs, want, want_part, &e, err)) < 0)
		goto done;
	if (e.n > 1)
		qsort(e.v, e.n, sizeof(*e.v), entry_cmp);
	*out = e.v;
	*count = e.n;
	e.v = NULL;
	e.n = 0;
done:
	pacer_backup_entries_free(e.v, e.n);
	free(want);
	free(want_part);
	return rc;
}

/* A backup's text as an app definition (a JSON object); path for messages. */
static int parse_backup(const char *path, const char *data, size_t len, struct json_object **out,
                        struct pacer_error **err)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root;
	int rc = 0, line, col;

	if (!tok)
		return pacer_error_set(err, -1, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, data, (int)len);
	if (!root) {
		json_pos_linecol(data, len, json_tokener_get_parse_end(tok), &line, &col);
		rc =
		    pacer_error_set(err, PACER_EINVALID,
		                    "backup '%s' is not valid JSON (%s): it was changed or damaged "
		                    "after pacer wrote it; pick another backup",
		                    path, json_tokener_error_desc(json_tokener_get_error(tok)));
		if (err && *err)
			pacer_error_set_file(*err, path, line, col);
	} else if (!json_object_is_type(root, json_type_object)) {
		rc = pacer_error_set(err, PACER_EINVALID,
		                     "backup '%s' does not hold an app definition (a JSON object): "
		                     "pick another backup",
		                     path);
		json_object_put(root);
	} else {
		*out = root;
	}
	json_tokener_free(tok); /* never NULL here: json-c 0.16 crashes on NULL */
	return rc;
}

static int bs_load(struct pacer_backup_store *s, const char *path, struct json_object **out,
                   struct pacer_error **err)
{
	struct backup_store *bs = (struct backup_store *)s;
	char *full = NULL, *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	/* A bare file name is one of this store's. */
	if (!strchr(path, '/')) {
		if (asprintf(&full, "%s/%s", bs->dir, path) < 0) {
			full = NULL;
			rc = pacer_error_set(err, -1, "out of memory");
			goto done;
		}
		path = full;
	}
	rc = fs_read_file(path, BACKUP_MAX_FILE, &data, &len, err);
	if (rc < 0) {
		pacer_error_wrap(err, rc, "cannot load backup '%s'%s", path,
		                 rc == PACER_ENOTFOUND ? ": list them with `pacer backups`" : "");
		goto done;
	}
	rc = parse_backup(path, data, len, out, err);
done:
	free(data);
	free(full);
	return rc;
}

static void bs_free(struct pacer_backup_store *s)
{
	struct backup_store *bs = (struct backup_store *)s;

	free(bs->dir);
	free(bs);
}

int backup_store_new(struct pacer_backup_store **out, const char *dir, struct pacer_error **err)
{
	struct backup_store *bs;
	int rc;

	*out = NULL;
	rc = pacer_mkdir_p(dir, 0700, err);
	if (rc < 0)
		return pacer_error_wrap(err, rc, "cannot use backup directory '%s'", dir);
	bs = calloc(1, sizeof(*bs));
	if (!bs || !(bs->dir = fs_dir_dup(dir))) {
		free(bs);
		return pacer_error_set(err, -1, "out of memory");
	}
	bs->base.save = bs_save;
	bs->base.list = bs_list;
	bs->base.load = bs_load;
	bs->base.free = bs_free;
	*out = &bs->base;
	return 0;
}
