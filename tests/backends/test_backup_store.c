/*
 * The backup store on a real directory: content round trip, reversible and
 * safe names, no overwrite within a second or between concurrent savers,
 * and a failed write (file size limit) that leaves nothing behind.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/backup/store.h"
#include "backends/fs/durable.h"
#include "reconcile/model/appid.h"
#include "tests/lib/backendtest.h"
#include "tests/lib/testlib.h"

static const char *live_app =
    "{\"id\": \"/prod/web\", \"cmd\": \"python3 -m http.server $PORT0\", \"cpus\": 0.1,\n"
    " \"mem\": 64.0, \"instances\": 2, \"env\": {\"URL\": \"http://db/x\", \"NAME\": "
    "\"caf\xc3\xa9\"},\n"
    " \"portDefinitions\": [{\"port\": 10000, \"protocol\": \"tcp\", \"name\": \"http\"}],\n"
    " \"version\": \"2026-11-27T18:30:57.123Z\", \"tasksRunning\": 2, \"container\": null}";

static struct pacer_backup_store *open_store(const char *dir)
{
	struct pacer_backup_store *bs = NULL;
	struct pacer_error *err = NULL;

	cr_assert_eq(backup_store_new(&bs, dir, &err), 0, "%s", err ? err->message : "");
	return bs;
}

TestSuite(backup_store, .init = bt_tmp_init, .fini = bt_tmp_fini);

Test(backup_store, saved_content_is_what_was_saved)
{
	const char *tmp = bt_tmp;
	char *dir = NULL, *path = NULL, *text;
	struct pacer_backup_store *bs;
	struct pacer_error *err = NULL;
	struct json_object *def = json_tokener_parse(live_app), *back = NULL;
	struct stat st;
	const char *base;

	cr_assert_not_null(def);
	cr_assert(asprintf(&dir, "%s/nested/backups", tmp) > 0);
	bs = open_store(dir); /* created, with its parents */
	cr_assert_eq(stat(dir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);

	cr_assert_eq(bs->save(bs, "/prod/web", def, &path, &err), 0, "%s", err ? err->message : "");
	cr_assert_not_null(path);
	/* <dir>/prod~web_YYYY-mm-dd_HH:MM:SS.json */
	cr_assert_eq(strncmp(path, dir, strlen(dir)), 0);
	base = path + strlen(dir) + 1;
	cr_assert_eq(strncmp(base, "prod~web_", 9), 0, "%s", base);
	cr_assert_eq(strlen(base), strlen("prod~web_2026-11-27_18:30:57.json"), "%s", base);
	cr_assert_str_eq(base + strlen(base) - 5, ".json");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);

	/* Pretty-printed, as returned: every field kept, read-only ones included. */
	text = test_read_file(path, NULL);
	cr_assert_not_null(text);
	cr_assert(strstr(text, "\n  \"cmd\": \"python3 -m http.server $PORT0\",\n"), "%s", text);
	cr_assert(strstr(text, "\"URL\": \"http://db/x\""), "%s", text); /* no "\\/" */
	cr_assert(strstr(text, "\"version\": \"2026-11-27T18:30:57.123Z\""), "%s", text);
	free(text);

	cr_assert_eq(bs->load(bs, path, &back, &err), 0);
	cr_assert(json_object_equal(def, back), "loaded %s", json_object_to_json_string(back));
	json_object_put(back);
	back = NULL;
	/* A bare file name is looked up in the store's directory. */
	cr_assert_eq(bs->load(bs, base, &back, &err), 0);
	cr_assert(json_object_equal(def, back));
	json_object_put(back);

	free(path);
	json_object_put(def);
	pacer_backup_store_free(bs);
	free(dir);
}

Test(backup_store, names_are_reversible_and_never_escape)
{
	static const char *const ids[] = {
	    "/prod/web",
	    "/a.b/c-d",
	    "/../etc/passwd",
	    "/a/../../b",
	    "/.hidden",
	    "/x/./y",
	    "/with space/caf\xc3\xa9",
	    "/%2F..",
	    "/a//b",
	    "/~tilde",
	    "/UPPER_case",
	    "/..",
	};
	size_t nids = sizeof(ids) / sizeof(ids[0]);
	const char *tmp = bt_tmp;
	char *dir = NULL, *real_dir;
	struct pacer_backup_store *bs;
	struct pacer_error *err = NULL;
	struct pacer_backup_entry *v = NULL;
	struct json_object *def = json_tokener_parse("{\"cmd\": \"sleep 1\"}");
	size_t n = 0;
	int hidden;

	cr_assert(asprintf(&dir, "%s/backups", tmp) > 0);
	bs = open_store(dir);
	real_dir = realpath(dir, NULL);
	for (size_t i = 0; i < nids; i++) {
		char *path = NULL, *copy, *real_parent;
		const char *name;

		cr_assert_eq(bs->save(bs, ids[i], def, &path, &err), 0, "%s: %s", ids[i],
		             err ? err->message : "");
		name = strrchr(path, '/') + 1;
		cr_assert_neq(name[0], '.', "%s -> hidden name %s", ids[i], name);
		/* The file is directly inside the store's directory. */
		copy = strdup(path);
		real_parent = realpath(dirname(copy), NULL);
		cr_assert_str_eq(real_parent, real_dir, "%s -> %s", ids[i], path);
		free(real_parent);
		free(copy);
		free(path);
	}
	/* Nothing was written anywhere else: the parent holds only "backups". */
	cr_assert_eq(bt_count_entries(tmp, &hidden), 1);
	cr_assert_eq(bt_count_entries(dir, &hidden), nids);
	cr_assert_eq(hidden, 0);

	/* Every name turns back into the exact id. */
	cr_assert_eq(bs->list(bs, NULL, &v, &n, &err), 0);
	cr_assert_eq(n, nids);
	for (size_t i = 0; i < nids; i++) {
		size_t found = 0;

		for (size_t j = 0; j < n; j++)
			found += !strcmp(v[j].app_id, ids[i]);
		cr_assert_eq(found, 1, "%s listed %zu times", ids[i], found);
	}
	pacer_backup_entries_free(v, n);

	/* Filter by app, with or without the leading slash. */
	cr_assert_eq(bs->list(bs, "prod/web", &v, &n, &err), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(v[0].app_id, "/prod/web");
	cr_assert_eq(strlen(v[0].time), 19);
	pacer_backup_entries_free(v, n);

	/* A relative or empty id is refused, not guessed. */
	cr_assert_eq(bs->save(bs, "", def, NULL, &err), PACER_EINVALID);
	pacer_error_clear(&err);
	cr_assert_eq(bs->save(bs, "/", def, NULL, &err), PACER_EINVALID);
	pacer_error_clear(&err);

	json_object_put(def);
	pacer_backup_store_free(bs);
	free(real_dir);
	free(dir);
}

Test(backup_store, list_parses_names_and_orders_oldest_first)
{
	static const char *const files[] = {
	    "prod~web_2026-01-02_00:00:00.json",
	    "prod~web_2026-01-01_10:00:00_10.json",
	    "prod~web_2026-01-01_10:00:00.json",
	    "prod~web_2026-01-01_10:00:00_2.json",
	    "db_2025-12-31_23:59:59.json",
	    /* Not backups: ignored. */
	    "random.json",
	    "prod~web_2026-01-01_10:00:00.txt",
	    ".prod~web_2026-01-01_10:00:00.json",
	    "prod~web_2026-01-01_10:00:00_1.json",
	    "prod~web_2026-01-01_10:00:00_02.json",
	    "prod~web_2026-1-01_10:00:00.json",
	    "_2026-01-01_10:00:00.json",
	    "bad%zz_2026-01-01_10:00:00.json",
	};
	static const char *const want[] = {
	    "db_2025-12-31_23:59:59.json",         "prod~web_2026-01-01_10:00:00.json",
	    "prod~web_2026-01-01_10:00:00_2.json", "prod~web_2026-01-01_10:00:00_10.json",
	    "prod~web_2026-01-02_00:00:00.json",
	};
	const char *dir = bt_tmp;
	struct pacer_backup_store *bs = open_store(dir);
	struct pacer_backup_entry *v = NULL;
	struct pacer_error *err = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = NULL;

		cr_assert(asprintf(&p, "%s/%s", dir, files[i]) > 0);
		cr_assert_eq(test_write_file(p, "{}"), 0);
		free(p);
	}
	cr_assert_eq(bs->list(bs, NULL, &v, &n, &err), 0);
	cr_assert_eq(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(strrchr(v[i].path, '/') + 1, want[i]);
		cr_assert_eq(strncmp(v[i].path, dir, strlen(dir)), 0);
	}
	cr_assert_str_eq(v[0].app_id, "/db");
	cr_assert_str_eq(v[1].app_id, "/prod/web");
	cr_assert_str_eq(v[2].time, "2026-01-01_10:00:00_2");
	cr_assert_str_eq(v[3].time, "2026-01-01_10:00:00_10");
	pacer_backup_entries_free(v, n);

	cr_assert_eq(bs->list(bs, "/nothing", &v, &n, &err), 0);
	cr_assert_eq(n, 0);
	pacer_backup_entries_free(v, n);

	pacer_backup_store_free(bs);
}

/* The no-overwrite rule itself, deterministically: one stem, many files. */
Test(backup_store, unique_names_never_overwrite)
{
	const char *dir = bt_tmp;
	struct pacer_error *err = NULL;
	char *paths[4], *text;

	for (int i = 0; i < 4; i++) {
		char body[16];

		snprintf(body, sizeof(body), "{\"n\": %d}", i);
		cr_assert_eq(durable_write_unique(dir, "app_2026-01-01_00:00:00", ".json", body,
		                                  strlen(body), 0600, &paths[i], &err),
		             0);
	}
	cr_assert(strstr(paths[0], "/app_2026-01-01_00:00:00.json"));
	cr_assert(strstr(paths[1], "/app_2026-01-01_00:00:00_2.json"));
	cr_assert(strstr(paths[3], "/app_2026-01-01_00:00:00_4.json"));
	for (int i = 0; i < 4; i++) {
		char want[16];

		snprintf(want, sizeof(want), "{\"n\": %d}", i);
		text = test_read_file(paths[i], NULL);
		cr_assert_str_eq(text, want);
		free(text);
		free(paths[i]);
	}
}

/* Several processes back up the same app at once: every backup survives. */
Test(backup_store, concurrent_savers_keep_every_backup)
{
	enum { PROCS = 4, EACH = 6 };
	const char *dir = bt_tmp;
	struct pacer_backup_store *bs = open_store(dir);
	struct pacer_backup_entry *v = NULL;
	struct pacer_error *err = NULL;
	pid_t pids[PROCS];
	size_t n = 0;
	int seen[PROCS][EACH] = {{0}};

	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		cr_assert_geq(pids[p], 0);
		if (pids[p] == 0) {
			int bad = 0;

			for (int i = 0; i < EACH; i++) {
				char body[64];
				struct json_object *def;

				snprintf(body, sizeof(body), "{\"proc\": %d, \"i\": %d}", p, i);
				def = json_tokener_parse(body);
				bad |= bs->save(bs, "/shared/app", def, NULL, NULL) != 0;
				json_object_put(def);
			}
			_exit(bad);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int status;

		cr_assert_eq(waitpid(pids[p], &status, 0), pids[p]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	cr_assert_eq(bs->list(bs, "/shared/app", &v, &n, &err), 0);
	cr_assert_eq(n, PROCS * EACH);
	for (size_t i = 0; i < n; i++) {
		struct json_object *def = NULL, *pv, *iv;

		cr_assert_eq(bs->load(bs, v[i].path, &def, &err), 0);
		cr_assert(json_object_object_get_ex(def, "proc", &pv));
		cr_assert(json_object_object_get_ex(def, "i", &iv));
		seen[json_object_get_int(pv)][json_object_get_int(iv)]++;
		json_object_put(def);
	}
	for (int p = 0; p < PROCS; p++)
		for (int i = 0; i < EACH; i++)
			cr_assert_eq(seen[p][i], 1, "backup %d/%d kept %d times", p, i, seen[p][i]);
	pacer_backup_entries_free(v, n);
	pacer_backup_store_free(bs);
}

/* A write that fails (file size limit) names the path and leaves no file at all. */
Test(backup_store, failed_write_leaves_nothing_behind)
{
	const char *dir = bt_tmp;
	struct pacer_backup_store *bs = open_store(dir);
	struct pacer_error *err = NULL;
	struct json_object *def = json_tokener_parse(live_app);
	struct rlimit old, small;
	char *path = (char *)"unset", *text;
	int hidden, rc;

	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 64; /* the app is several hundred bytes */
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = bs->save(bs, "/prod/web", def, &path, &err);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);

	cr_assert_eq(rc, PACER_EIO);
	cr_assert_null(path);
	cr_assert_not_null(err);
	text = pacer_error_format(err);
	cr_assert(strstr(text, "cannot back up app /prod/web"), "%s", text);
	cr_assert(strstr(text, "the app was not touched"), "%s", text);
	cr_assert(strstr(text, dir), "%s", text);
	cr_assert(strstr(text, "prod~web_"), "%s", text);
	cr_assert(strstr(text, "file too large"), "%s", text);
	cr_assert_str_eq(err->app_id, "/prod/web");
	free(text);
	pacer_error_free(err);
	err = NULL;
	cr_assert_eq(bt_count_entries(dir, &hidden), 0, "a file was left behind");

	/* The same save works once the limit is gone. */
	cr_assert_eq(bs->save(bs, "/prod/web", def, &path, &err), 0);
	free(path);
	cr_assert_eq(bt_count_entries(dir, &hidden), 1);
	cr_assert_eq(hidden, 0);

	json_object_put(def);
	pacer_backup_store_free(bs);
}

Test(backup_store, load_errors_say_what_to_do)
{
	const char *dir = bt_tmp;
	struct pacer_backup_store *bs = open_store(dir);
	struct pacer_error *err = NULL;
	struct json_object *def = NULL;
	char *p = NULL, *text;

	cr_assert_eq(bs->load(bs, "nope_2026-01-01_00:00:00.json", &def, &err), PACER_ENOTFOUND);
	cr_assert_null(def);
	text = pacer_error_format(err);
	cr_assert(strstr(text, "nope_2026-01-01_00:00:00.json"), "%s", text);
	cr_assert(strstr(text, "pacer backups"), "%s", text);
	free(text);
	pacer_error_clear(&err);

	cr_assert(asprintf(&p, "%s/x_2026-01-01_00:00:00.json", dir) > 0);
	cr_assert_eq(test_write_file(p, "{\n  \"id\": \"/x\",\n  \"cmd\": \n"), 0);
	cr_assert_eq(bs->load(bs, p, &def, &err), PACER_EINVALID);
	cr_assert_str_eq(err->file, p);
	cr_assert_eq(err->line, 4);
	cr_assert(strstr(err->message, "pick another backup"));
	pacer_error_clear(&err);

	cr_assert_eq(test_write_file(p, "[1, 2]"), 0);
	cr_assert_eq(bs->load(bs, p, &def, &err), PACER_EINVALID);
	cr_assert(strstr(err->message, "does not hold an app definition"));
	pacer_error_clear(&err);

	free(p);
	pacer_backup_store_free(bs);
}

Test(backup_store, unusable_directory_is_an_error)
{
	const char *dir = bt_tmp;
	char *file = NULL, *under = NULL;
	struct pacer_backup_store *bs = NULL;
	struct pacer_error *err = NULL;
	char *text;

	cr_assert(asprintf(&file, "%s/a-file", dir) > 0);
	cr_assert(asprintf(&under, "%s/a-file/backups", dir) > 0);
	cr_assert_eq(test_write_file(file, "x"), 0);
	cr_assert_eq(backup_store_new(&bs, file, &err), PACER_EIO);
	cr_assert_null(bs);
	text = pacer_error_format(err);
	cr_assert(strstr(text, "is not a directory"), "%s", text);
	free(text);
	pacer_error_clear(&err);
	cr_assert_eq(backup_store_new(&bs, under, &err), PACER_EIO);
	text = pacer_error_format(err);
	cr_assert(strstr(text, "cannot use backup directory"), "%s", text);
	cr_assert(strstr(text, "a-file"), "%s", text);
	free(text);
	pacer_error_clear(&err);
	free(file);
	free(under);
}

/* A valid id of segments "/aaa...", `len` bytes long, whose last segment is `tail`. */
static char *long_id(size_t len, const char *tail)
{
	char *id = malloc(len + 1);
	size_t t = strlen(tail);

	cr_assert_not_null(id);
	cr_assert_gt(len, t + 3);
	for (size_t i = 0; i < len - t; i++)
		id[i] = i % 64 == 0 ? '/' : 'a';
	id[len - t - 2] = 'a'; /* no empty segment before the tail */
	id[len - t - 1] = '/';
	memcpy(id + len - t, tail, t + 1);
	return id;
}

static const char *base_name(const char *path)
{
	return strrchr(path, '/') + 1;
}

/*
 * Marathon accepts ids of any length; their backups must be written (the
 * temp file's name included) within NAME_MAX, stay apart from every other
 * app's, and be found by list() for that app and for all apps.
 */
Test(backup_store, ids_of_any_length_are_backed_up_and_found)
{
	char *fits = long_id(219, "x"); /* mangled: 218 bytes, the longest plain name */
	char *over = long_id(220, "x");
	char *huge1 = long_id(4000, "one");
	char *huge2 = long_id(4000, "two"); /* same 185-byte prefix as huge1 */
	const char *ids[] = {fits, over, huge1, huge2};
	const char *dir = bt_tmp;
	struct pacer_backup_store *bs = open_store(dir);
	struct json_object *def = NULL;
	struct pacer_backup_entry *v = NULL;
	struct pacer_error *err = NULL;
	char *paths[4][2], *mangled;
	size_t n = 0;
	int hidden;

	for (size_t i = 0; i < 4; i++) {
		char *text = NULL;

		cr_assert(asprintf(&text, "{\"id\": \"%s\", \"cmd\": \"sleep %zu\"}", ids[i], i) >
		          0);
		def = json_tokener_parse(text);
		free(text);
		/* Twice: the second one in the same second takes "_2". */
		for (int k = 0; k < 2; k++) {
			cr_assert_eq(bs->save(bs, ids[i], def, &paths[i][k], &err), 0,
			             "id of %zu bytes: %s", strlen(ids[i]),
			             err ? err->message : "");
			cr_assert_leq(strlen(base_name(paths[i][k])), NAME_MAX);
		}
		json_object_put(def);
	}
	/* The longest id that fitted before keeps its plain name. */
	mangled = appid_mangle(fits);
	cr_assert_eq(strlen(mangled), 218);
	cr_assert_eq(strncmp(base_name(paths[0][0]), mangled, 218), 0);
	cr_assert_eq(base_name(paths[0][0])[218], '_');
	free(mangled);
	/* Longer ones: a prefix, '+' and the hash; the two huge ids apart. */
	cr_assert(strchr(base_name(paths[1][0]), '+'));
	cr_assert(strchr(base_name(paths[2][0]), '+'));
	cr_assert_str_neq(base_name(paths[2][0]), base_name(paths[3][0]));
	cr_assert_eq(bt_count_entries(dir, &hidden), 8);
	cr_assert_eq(hidden, 0, "no temp file left");

	/* One app's backups: both of its own, none of the other's. */
	for (size_t i = 0; i < 4; i++) {
		cr_assert_eq(bs->list(bs, ids[i], &v, &n, &err), 0);
		cr_assert_eq(n, 2, "id %zu: %zu backups", i, n);
		for (size_t j = 0; j < n; j++) {
			cr_assert_str_eq(v[j].app_id, ids[i]);
			cr_assert_str_eq(v[j].path, paths[i][j]);
		}
		pacer_backup_entries_free(v, n);
	}
	/* Every app's: the full ids, read back from the files. */
	cr_assert_eq(bs->list(bs, NULL, &v, &n, &err), 0);
	cr_assert_eq(n, 8);
	for (size_t i = 0; i < 4; i++) {
		size_t found = 0;

		for (size_t j = 0; j < n; j++)
			found += !strcmp(v[j].app_id, ids[i]);
		cr_assert_eq(found, 2, "id %zu listed %zu times", i, found);
	}
	pacer_backup_entries_free(v, n);
	cr_assert_eq(bs->load(bs, base_name(paths[3][1]), &def, &err), 0);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(def, "id")), huge2);
	json_object_put(def);

	for (size_t i = 0; i < 4; i++) {
		free(paths[i][0]);
		free(paths[i][1]);
		free((char *)ids[i]);
	}
	pacer_backup_store_free(bs);
}

/* A hashed name whose file does not hold that id (edited by hand) is not listed as some app's. */
Test(backup_store, a_hashed_name_is_checked_against_its_file)
{
	char *id = long_id(300, "x"), *text = NULL, *path = NULL;
	const char *dir = bt_tmp;
	struct pacer_backup_store *bs = open_store(dir);
	struct json_object *def;
	struct pacer_backup_entry *v = NULL;
	struct pacer_error *err = NULL;
	size_t n = 0;

	cr_assert(asprintf(&text, "{\"id\": \"%s\"}", id) > 0);
	def = json_tokener_parse(text);
	cr_assert_eq(bs->save(bs, id, def, &path, &err), 0);
	cr_assert_eq(test_write_file(path, "{\"id\": \"/other\"}"), 0);
	cr_assert_eq(bs->list(bs, NULL, &v, &n, &err), 0);
	cr_assert_eq(n, 0);
	pacer_backup_entries_free(v, n);
	json_object_put(def);
	free(path);
	free(text);
	free(id);
	pacer_backup_store_free(bs);
}
