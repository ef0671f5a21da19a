/*
 * Helpers for the pacer end-to-end tests; see clitest.h.
 */
#include "tests/lib/clitest.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The cts of the running test (one test per process), for ct_fini(). */
#define CT_MAX_LIVE 4
static struct ct *ct_live[CT_MAX_LIVE];

/* A sentinel: compared by address only. */
const char *const CT_NO_SIM[] = {"(no simulator)", NULL};

static char *join(const char *a, const char *b)
{
	char *s = NULL;

	cr_assert(asprintf(&s, "%s/%s", a, b) >= 0, "out of memory");
	return s;
}

void ct_setup(struct ct *t, const char *const *sim_extra)
{
	const char *args[40] = {"--task-launch-ms", "50", "--health-ms", "50"};
	size_t n = 4;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < CT_MAX_LIVE; i++)
		if (!ct_live[i] || ct_live[i] == t) {
			ct_live[i] = t;
			break;
		}
	t->dir = test_tmpdir("pacer-cli");
	cr_assert(t->dir, "cannot make a scratch directory under $TMPDIR");
	t->src = join(t->dir, "src");
	t->state = join(t->dir, "state");
	t->backups = join(t->dir, "backups");
	/* The source directory exists even when empty. */
	{
		char *keep = join(t->src, ".keep");

		cr_assert_eq(test_write_file(keep, ""), 0, "cannot write %s", keep);
		free(keep);
	}
	if (sim_extra == CT_NO_SIM)
		return;
	for (size_t i = 0; sim_extra && sim_extra[i] && n < 39; i++)
		args[n++] = sim_extra[i];
	args[n] = NULL;
	cr_assert_eq(test_sim_start(&t->sim, args), 0,
	             "marathon-sim did not start (is it built? PACER_SIM_BIN=%s)", test_sim_bin());
	t->sim_up = 1;
}

void ct_teardown(struct ct *t)
{
	if (t->sim_up) {
		int rc = test_sim_stop(&t->sim);

		t->sim_up = 0;
		cr_expect_eq(rc, 0, "marathon-sim did not exit cleanly on SIGTERM (status %d)", rc);
	}
	if (t->dir && !getenv("PACER_TEST_KEEP"))
		test_rmrf(t->dir);
	free(t->dir);
	free(t->src);
	free(t->state);
	free(t->backups);
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < CT_MAX_LIVE; i++)
		if (ct_live[i] == t)
			ct_live[i] = NULL;
}

void ct_fini(void)
{
	for (size_t i = 0; i < CT_MAX_LIVE; i++)
		if (ct_live[i])
			ct_teardown(ct_live[i]);
}

void ct_write(struct ct *t, const char *rel, const char *content)
{
	char *p = join(t->src, rel);

	cr_assert_eq(test_write_file(p, content), 0, "cannot write %s", p);
	free(p);
}

void ct_unlink(struct ct *t, const char *rel)
{
	char *p = join(t->src, rel);

	cr_assert_eq(unlink(p), 0, "cannot remove %s", p);
	free(p);
}

/* The definition of ct_write_app() into buf. */
static void app_json(char *buf, size_t len, const char *id, int mem, const char *k)
{
	int n = snprintf(buf, len,
	                 "{\n  \"id\": \"%s\",\n  \"cmd\": \"sleep 1000\",\n  \"cpus\": 0.1,\n"
	                 "  \"mem\": %d,\n  \"instances\": 1,\n  \"env\": {\"K\": \"%s\"}\n}\n",
	                 id, mem, k);

	cr_assert(n >= 0 && (size_t)n < len, "the definition of %s is too long", id);
}

void ct_write_app(struct ct *t, const char *file, const char *id, int mem, const char *k)
{
	char buf[512];

	app_json(buf, sizeof(buf), id, mem, k);
	ct_write(t, file, buf);
}

void ct_put_app(struct ct *t, const char *id, int mem, const char *k)
{
	char buf[512], *path = NULL;
	int status;

	app_json(buf, sizeof(buf), id, mem, k);
	cr_assert(asprintf(&path, "/v2/apps%s?force=true", id) >= 0, "out of memory");
	status = ct_http(t, "PUT", path, buf, NULL);
	cr_assert_eq(status, 200, "PUT %s behind pacer's back: HTTP %d", path, status);
	free(path);
	cr_assert(ct_wait_idle(t, 20000), "the deployment of %s behind pacer's back did not end",
	          id);
}

struct ct_run ct_pacer(const char *const *args, const char *const *env_extra)
{
	struct ct_run r = {-1, NULL, NULL};
	const char **argv;
	size_t n = 0, count = 0;

	while (args && args[count])
		count++;
	argv = calloc(count + 2, sizeof(*argv));
	cr_assert(argv, "out of memory");
	argv[n++] = test_pacer_bin();
	for (size_t i = 0; i < count; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	r.rc = test_run(argv, env_extra, &r.out, &r.err, 120);
	free(argv);
	if (!r.out)
		r.out = strdup("");
	if (!r.err)
		r.err = strdup("");
	cr_assert(r.out && r.err, "out of memory");
	return r;
}

void ct_write_def(struct ct *t, const struct ct_def *d)
{
	static const char *const health =
	    "\"healthChecks\": [{\"protocol\": \"COMMAND\", \"command\": {\"value\": \"true\"}, "
	    "\"gracePeriodSeconds\": 1, \"intervalSeconds\": 1}]";
	char buf[1024], beh[96] = "", file[64];
	int n;

	if (d->behavior)
		snprintf(beh, sizeof(beh), ", \"SIM_BEHAVIOR\": \"%s\"", d->behavior);
	n = snprintf(buf, sizeof(buf),
	             "{\"id\": \"%s\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": 32, "
	             "\"instances\": %d, \"env\": {\"K\": \"%s\"%s}, %s%s%s%s}\n",
	             d->id, d->instances ? d->instances : 2, d->k, beh,
	             d->fast ? "\"labels\": {\"pacer.timeout\": \"1\"}, " : "",
	             d->extra ? d->extra : "", d->extra ? ", " : "",
	             d->checks ? d->checks : health);
	cr_assert(n >= 0 && (size_t)n < sizeof(buf), "the definition of %s is too long", d->id);
	snprintf(file, sizeof(file), "%s.json", d->id + 1);
	ct_write(t, file, buf);
}

void ct_write_checked_app(struct ct *t, const char *id, const char *k, const char *behavior,
                          int fast)
{
	const struct ct_def d = {.id = id, .k = k, .behavior = behavior, .fast = fast};

	ct_write_def(t, &d);
}

void ct_sync_expect(struct ct *t, const char *const *extra, int want, const char *what)
{
	struct ct_run r = ct_cmd(t, "sync", extra);

	if (r.rc != want)
		ct_run_dump(what, &r);
	cr_assert_eq(r.rc, want, "%s exited %d, expected %d", what, r.rc, want);
	ct_run_free(&r);
}

struct ct_run ct_sync_run(struct ct *t, const char *const *extra, int want, const char *what)
{
	struct ct_run r = ct_cmd(t, "sync", extra);

	if (r.rc != want)
		ct_run_dump(what, &r);
	cr_expect_eq(r.rc, want, "%s: exit %d, expected %d", what, r.rc, want);
	return r;
}

void ct_sync_ok(struct ct *t, const char *what)
{
	ct_sync_expect(t, NULL, 0, what);
}

void ct_setup_synced(struct ct *t, const char *group, int n)
{
	char file[8], id[128];

	cr_assert(n >= 1 && n <= 26, "ct_setup_synced: %d apps", n);
	ct_setup(t, NULL);
	for (int i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%c.json", 'a' + i);
		snprintf(id, sizeof(id), "/%s/%c", group, 'a' + i);
		ct_write_app(t, file, id, 32, "v1");
	}
	ct_sync_ok(t, "the sync creating the apps");
}

void ct_prepare(struct ct *t, enum ct_scene scene)
{
	/* What the source changes once the cluster runs /a v1 (the create: from nothing). */
	static const struct {
		const char *id, *k, *behavior;
		int fast;
	} change[] = {
		[CT_SCENE_CREATE] = {"/a", "v1", NULL, 0},
		[CT_SCENE_UPDATE] = {"/a", "v2", NULL, 0},
		[CT_SCENE_CREATE_BESIDE] = {"/n", "v1", NULL, 0},
		[CT_SCENE_FAILING_UPDATE] = {"/a", "v2", "unhealthy", 0},
		[CT_SCENE_ATOMIC] = {"/a", "v2", NULL, 0},
		[CT_SCENE_FAILING_CREATE] = {"/z", "v1", "unhealthy", 1},
		[CT_SCENE_UPDATED] = {"/a", "v2", NULL, 0},
	};

	if (scene != CT_SCENE_CREATE) {
		ct_write_checked_app(t, "/a", "v1", NULL, 0);
		if (scene == CT_SCENE_PRUNE)
			ct_write_checked_app(t, "/b", "v1", NULL, 0);
		ct_sync_ok(t, "the sync creating the apps the case starts from");
	}
	if (scene == CT_SCENE_PRUNE) {
		ct_unlink(t, "b.json");
		return;
	}
	ct_write_checked_app(t, change[scene].id, change[scene].k, change[scene].behavior,
	                     change[scene].fast);
	if (scene == CT_SCENE_ATOMIC) /* fails: every change of the run is undone */
		ct_write_checked_app(t, "/z", "v1", "unhealthy", 1);
	if (scene == CT_SCENE_UPDATED)
		ct_sync_ok(t, "the sync updating /a to v2");
}

struct ct_run ct_cmd(struct ct *t, const char *cmd, const char *const *extra)
{
	return ct_cmd_env(t, cmd, extra, NULL);
}

struct ct_run ct_cmd_env(struct ct *t, const char *cmd, const char *const *extra,
                         const char *const *env_extra)
{
	const char *args[64] = {cmd,           "--source", t->src,         "--marathon", t->sim.url,
	                        "--state-dir", t->state,   "--backup-dir", t->backups};
	size_t n = 9;

	for (size_t i = 0; extra && extra[i] && n < 63; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	return ct_pacer(args, env_extra);
}

void ct_run_free(struct ct_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void ct_run_dump(const char *what, const struct ct_run *r)
{
	fprintf(stderr, "---- %s: exit %d\n---- stdout:\n%s---- stderr:\n%s----\n", what, r->rc,
	        r->out ? r->out : "", r->err ? r->err : "");
}

int ct_http(struct ct *t, const char *method, const char *path, const char *body, char **resp)
{
	const char *hdr[] = {"Content-Type: application/json", NULL};
	char *url = NULL;
	int status = 0;

	cr_assert(asprintf(&url, "%s%s", t->sim.url, path) >= 0, "out of memory");
	if (resp)
		*resp = NULL;
	test_http(method, url, body, hdr, &status, resp);
	free(url);
	return status;
}

struct json_object *ct_get_json(struct ct *t, const char *path)
{
	char *body = NULL;
	struct json_object *j = NULL;

	if (ct_http(t, "GET", path, NULL, &body) == 200 && body)
		j = json_tokener_parse(body);
	free(body);
	return j;
}

struct json_object *ct_app(struct ct *t, const char *id)
{
	char *path = NULL;
	struct json_object *j, *app = NULL;

	cr_assert(asprintf(&path, "/v2/apps%s", id) >= 0, "out of memory");
	j = ct_get_json(t, path);
	free(path);
	if (j && json_object_object_get_ex(j, "app", &app))
		json_object_get(app);
	else
		app = NULL;
	json_object_put(j);
	return app;
}

int ct_has_app(struct ct *t, const char *id)
{
	struct json_object *app = ct_app(t, id);

	json_object_put(app);
	return app != NULL;
}

int ct_napps(struct ct *t)
{
	struct json_object *j = ct_get_json(t, "/v2/apps"), *apps;
	int n = -1;

	if (j && json_object_object_get_ex(j, "apps", &apps))
		n = (int)json_object_array_length(apps);
	json_object_put(j);
	return n;
}

struct json_object *ct_requests(struct ct *t)
{
	struct json_object *j = ct_get_json(t, "/_sim/requests"), *reqs = NULL;

	cr_assert(j && json_object_object_get_ex(j, "requests", &reqs) &&
	              json_object_is_type(reqs, json_type_array),
	          "GET %s/_sim/requests failed", t->sim.url);
	json_object_get(reqs);
	json_object_put(j);
	return reqs;
}

int ct_count_requests(struct ct *t, const char *method, const char *prefix)
{
	struct json_object *reqs = ct_requests(t);
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(reqs); i++) {
		struct json_object *r = json_object_array_get_idx(reqs, i);
		const char *m = ct_str(r, "method"), *p = ct_str(r, "path");

		if (method && (!m || strcmp(m, method)))
			continue;
		if (prefix && (!p || strncmp(p, prefix, strlen(prefix))))
			continue;
		n++;
	}
	json_object_put(reqs);
	return n;
}

int ct_count_writes(struct ct *t)
{
	return ct_count_requests(t, "PUT", "/v2/") + ct_count_requests(t, "POST", "/v2/") +
	       ct_count_requests(t, "DELETE", "/v2/") + ct_count_requests(t, "PATCH", "/v2/");
}

void ct_inject(struct ct *t, const char *fault)
{
	char *resp = NULL;
	int status = ct_http(t, "POST", "/_sim/faults", fault, &resp);

	cr_assert_eq(status, 201, "POST /_sim/faults %s: HTTP %d %s", fault, status,
	             resp ? resp : "");
	free(resp);
}

void ct_clear_requests(struct ct *t)
{
	cr_assert_eq(ct_http(t, "DELETE", "/_sim/requests", NULL, NULL), 200,
	             "DELETE /_sim/requests failed");
}

int ct_wait_idle(struct ct *t, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		struct json_object *d = ct_get_json(t, "/v2/deployments");
		int idle = d && json_object_is_type(d, json_type_array) &&
		           json_object_array_length(d) == 0;

		json_object_put(d);
		if (idle)
			return 1;
		ct_sleep_ms(20);
	}
	return 0;
}

const char *ct_str(struct json_object *o, const char *path)
{
	struct json_object *v = test_json_get(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

long long ct_int(struct json_object *o, const char *path)
{
	struct json_object *v = test_json_get(o, path);

	return v ? (long long)json_object_get_int64(v) : -999;
}

int ct_has(const char *haystack, const char *needle)
{
	return haystack && needle && strstr(haystack, needle) != NULL;
}

void ct_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

struct json_object *ct_expect_runs(struct ct *t, const char *id, const char *k, const char *count,
                                   long long n)
{
	struct json_object *app = ct_app(t, id);

	cr_assert(app, "Marathon has no app %s", id);
	cr_expect_str_eq(ct_str(app, "env.K"), k, "%s runs K=%s, expected %s", id,
	                 ct_str(app, "env.K"), k);
	cr_expect_null(ct_str(app, "env.SIM_BEHAVIOR"), "%s runs SIM_BEHAVIOR=%s", id,
	               ct_str(app, "env.SIM_BEHAVIOR"));
	cr_expect_eq(ct_int(app, count), n, "%s has %s %lld, expected %lld", id, count,
	             ct_int(app, count), n);
	return app;
}

int ct_versions(struct ct *t, const char *id)
{
	char *path = NULL;
	struct json_object *j, *v;
	int n = -1;

	cr_assert(asprintf(&path, "/v2/apps%s/versions", id) >= 0, "out of memory");
	j = ct_get_json(t, path);
	free(path);
	if (j && json_object_object_get_ex(j, "versions", &v) &&
	    json_object_is_type(v, json_type_array))
		n = (int)json_object_array_length(v);
	json_object_put(j);
	return n;
}

int ct_settled(struct json_object *app)
{
	struct json_object *deps = NULL;
	long long inst = ct_int(app, "instances");

	if (!app || !json_object_object_get_ex(app, "deployments", &deps))
		return 0;
	return ct_int(app, "tasksHealthy") == inst && ct_int(app, "tasksRunning") == inst &&
	       json_object_array_length(deps) == 0;
}

/* ---- pacer's state directory ------------------------------------------ */

static const char *const ct_outcome_names[] = {
	"unchanged", "created", "updated", "pruned",  "planned",     "failed",  "rolled_back",
	"restarted", "rollback_failed", "skipped", "held", "degraded", "progressing", "unknown",
	"interrupted", "suspended", NULL,
};

char *ct_outcomes(const char *out, const char *app_id)
{
	size_t cap = 1, len = 0, idlen = strlen(app_id);
	char *acc = calloc(1, cap);

	cr_assert(acc, "out of memory");
	for (const char *line = out; line && *line;) {
		const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);

		for (size_t k = 0; ct_outcome_names[k]; k++) {
			size_t n = strlen(ct_outcome_names[k]);
			const char *p = line + n;

			/* "%-16s %s": the name, spaces, the id, then a space or the end. */
			if ((size_t)(end - line) <= n || strncmp(line, ct_outcome_names[k], n) || *p != ' ')
				continue;
			while (p < end && *p == ' ')
				p++;
			if ((size_t)(end - p) < idlen || strncmp(p, app_id, idlen) ||
			    (p + idlen < end && p[idlen] != ' '))
				continue;
			cap += n + 1;
			acc = realloc(acc, cap);
			cr_assert(acc, "out of memory");
			len += (size_t)sprintf(acc + len, "%s%s", len ? " " : "", ct_outcome_names[k]);
			break;
		}
		line = nl ? nl + 1 : end;
	}
	return acc;
}

/* A file that must hold one JSON value of `type`, parsed strictly (nothing after it); NULL otherwise. */
static struct json_object *ct_json_file(const char *path, enum json_type type, int *missing)
{
	struct json_tokener *tok;
	struct json_object *j;
	size_t len = 0;
	char *text = test_read_file(path, &len);

	*missing = text == NULL && access(path, F_OK) != 0;
	if (!text)
		return NULL;
	tok = json_tokener_new();
	cr_assert(tok, "out of memory");
	j = json_tokener_parse_ex(tok, text, (int)len);
	if (j && (json_tokener_get_error(tok) != json_tokener_success ||
	          !json_object_is_type(j, type) ||
	          strspn(text + json_tokener_get_parse_end(tok), " \t\r\n") !=
	              len - json_tokener_get_parse_end(tok))) {
		json_object_put(j);
		j = NULL;
	}
	json_tokener_free(tok);
	free(text);
	return j;
}

static struct json_object *ct_state_json(struct ct *t, const char *name, int *missing)
{
	char *p = join(t->state, name);
	struct json_object *j = ct_json_file(p, json_type_object, missing);

	free(p);
	return j;
}

int ct_owned(struct ct *t, const char *id)
{
	int missing = 0, found = 0;
	struct json_object *j = ct_state_json(t, "owned.json", &missing), *arr;

	if (!j)
		return missing ? 0 : -1;
	if (!json_object_object_get_ex(j, "owned", &arr) || !json_object_is_type(arr, json_type_array))
		found = -1;
	for (size_t i = 0; found == 0 && i < json_object_array_length(arr); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

		found = s && !strcmp(s, id);
	}
	json_object_put(j);
	return found;
}

int ct_held(struct ct *t, const char *id)
{
	int missing = 0, found;
	struct json_object *j = ct_state_json(t, "held.json", &missing);

	if (!j)
		return missing ? 0 : -1;
	found = json_object_object_get_ex(j, id, NULL);
	json_object_put(j);
	return found;
}

/* Names in dir that end in ".json" (not hidden), or -1 when dir is missing. */
static int ct_count_json(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] != '.' && l > 5 && !strcmp(de->d_name + l - 5, ".json"))
			n++;
	}
	closedir(d);
	return n;
}

int ct_journal_count(struct ct *t)
{
	char *p = join(t->state, "journal");
	int n = ct_count_json(p);

	free(p);
	return n < 0 ? 0 : n;
}

/* Append "what" to *msg ("; " between problems). */
static void ct_problem(char **msg, const char *fmt, const char *a, const char *b)
{
	char *more = NULL, *joined = NULL;

	cr_assert(asprintf(&more, fmt, a, b ? b : "") >= 0, "out of memory");
	if (*msg) {
		cr_assert(asprintf(&joined, "%s; %s", *msg, more) >= 0, "out of memory");
		free(*msg);
		free(more);
		*msg = joined;
	} else {
		*msg = more;
	}
}

/*
 * Check every entry of dir: temp files are problems; with `kind` "journal"
 * or "backup", each *.json must parse (and name its app).
 */
static void ct_check_dir(const char *dir, const char *kind, char **msg)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		char *p;
		struct json_object *j;
		int missing = 0;

		if (strstr(de->d_name, ".tmp-")) {
			ct_problem(msg, "temp file %s/%s left behind", dir, de->d_name);
			continue;
		}
		if (!kind || de->d_name[0] == '.' || l <= 5 || strcmp(de->d_name + l - 5, ".json"))
			continue;
		p = join(dir, de->d_name);
		j = ct_json_file(p, json_type_object, &missing);
		if (!j)
			ct_problem(msg, "%s %s does not parse as a JSON object", kind, p);
		else if (!strcmp(kind, "journal entry") &&
		         (!ct_str(j, "app") || !ct_str(j, "action") || !ct_str(j, "phase")))
			ct_problem(msg, "journal entry %s lacks app, action or phase%s", p, NULL);
		else if (!strcmp(kind, "backup") && !ct_str(j, "id"))
			ct_problem(msg, "backup %s names no app id%s", p, NULL);
		json_object_put(j);
		free(p);
	}
	closedir(d);
}

char *ct_check_state(struct ct *t)
{
	static const char *const docs[] = {"owned.json", "held.json", "cluster.json",
	                                   "suspended.json", NULL};
	char *msg = NULL, *journal = join(t->state, "journal"), *cache = join(t->state, "cache");
	char *history = join(t->state, "history.json"), *text;
	struct json_object *h;
	size_t len = 0;
	int missing = 0;

	for (size_t i = 0; docs[i]; i++) {
		struct json_object *j = ct_state_json(t, docs[i], &missing);

		if (!j && !missing)
			ct_problem(&msg, "%s/%s does not parse as a JSON object", t->state, docs[i]);
		else if (j && !i && ct_owned(t, "/") < 0)
			ct_problem(&msg, "%s/owned.json has no \"owned\" array of app ids%s", t->state,
			           NULL);
		json_object_put(j);
	}
	if (!(h = ct_json_file(history, json_type_array, &missing)) && !missing)
		ct_problem(&msg, "%s does not parse as a JSON array%s", history, NULL);
	json_object_put(h);
	if ((text = test_read_file(cache, &len))) {
		const char *nl = memchr(text, '\n', len);

		if (strncmp(text, "pacer-cache 1 ", 14) || !nl)
			ct_problem(&msg, "%s has no \"pacer-cache 1 <tag>\" header line%s", cache, NULL);
		else if (text[len - 1] != '\n')
			ct_problem(&msg, "%s ends in a torn line%s", cache, NULL);
		for (const char *l = nl ? nl + 1 : text + len; l < text + len;) {
			const char *e = memchr(l, '\n', (size_t)(text + len - l));

			if (!e)
				break;
			if (!memchr(l, '\t', (size_t)(e - l))) {
				ct_problem(&msg, "%s has a line that is not key<TAB>value%s", cache, NULL);
				break;
			}
			l = e + 1;
		}
		free(text);
	}
	ct_check_dir(t->state, NULL, &msg);
	ct_check_dir(journal, "journal entry", &msg);
	ct_check_dir(t->backups, "backup", &msg);
	free(journal);
	free(cache);
	free(history);
	return msg;
}

int ct_expect_sound_state(struct ct *t, const char *what)
{
	char *problems = ct_check_state(t);

	if (!problems)
		return 0;
	cr_expect(0, "[%s] state after the run: %s", what, problems);
	free(problems);
	return 1;
}
