/*
 * bench-zksize: how much of ZooKeeper pacer serve --ha uses for N apps.
 *
 *   bench-zksize zk://127.0.0.1:2181/bench APPS.json
 *
 * APPS.json is gen.py's --sim-load file ({"apps": [...]}). Through the
 * stores pacer uses (backends/zk), it writes what a replica keeps for a
 * cluster of those apps after its first sync: every app owned, a
 * revision, the cluster identity, a history whose newest entry lists every
 * app (the first sync, which created them all) behind 499 no-op runs, the
 * leader's /status with a row per app, and one backup per app. Then it
 * prints the bytes and znodes under <root>/state and <root>/backups, the
 * largest znode, and how long a backup took to save (each is committed
 * by the ensemble before the change it protects).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/zk/backup.h"
#include "backends/zk/conn.h"
#include "backends/zk/state.h"
#include "reconcile/base/clock.h"

static struct json_object *row(const char *id, int full)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "id", json_object_new_string(id));
	json_object_object_add(r, "outcome", json_object_new_string(full ? "created" : "unchanged"));
	json_object_object_add(r, "deployment",
			       json_object_new_string("5f0c8f6e-6a3d-4c1b-9d3e-1b2a3c4d5e6f"));
	if (!full) {
		json_object_object_add(r, "seconds", json_object_new_double(0.0));
		json_object_object_add(r, "version", json_object_new_string("2026-12-03T02:57:35.830Z"));
	}
	return r;
}

/* The history (newest entry: every app) and the status (a row per app). */
static int write_docs(struct zkconn *c, struct pacer_state_store *s, struct json_object *apps)
{
	struct json_object *hist = json_object_new_array(), *st = json_object_new_object();
	struct json_object *harr = json_object_new_array(), *sarr = json_object_new_array(), *e;
	size_t n = json_object_array_length(apps);
	const char *t;
	int rc;

	for (int i = 0; i < 499; i++) {
		e = json_object_new_object();
		json_object_object_add(e, "start", json_object_new_double(1764690000.1 + i));
		json_object_object_add(e, "end", json_object_new_double(1764690000.4 + i));
		json_object_object_add(e, "trigger", json_object_new_string("interval"));
		json_object_object_add(e, "result", json_object_new_string("converged"));
		json_object_object_add(e, "apps", json_object_new_array());
		json_object_array_add(hist, e);
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = json_object_get_string(
		    json_object_object_get(json_object_array_get_idx(apps, i), "id"));

		json_object_array_add(harr, row(id, 1));
		json_object_array_add(sarr, row(id, 0));
	}
	e = json_object_new_object();
	json_object_object_add(e, "trigger", json_object_new_string("startup"));
	json_object_object_add(e, "result", json_object_new_string("converged"));
	json_object_object_add(e, "apps", harr);
	json_object_array_add(hist, e);
	t = json_object_to_json_string_ext(hist, JSON_C_TO_STRING_PLAIN);
	rc = s->doc_save(s, "history.json", t, strlen(t), NULL);
	json_object_object_add(st, "apps", sarr);
	t = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN);
	rc = rc ? rc : zk_status_save(c, t, NULL);
	t = "{\"frameworkId\": \"159613b9-37ab-4513-8d37-553ef2260d76-0000\"}";
	rc = rc ? rc : s->doc_save(s, "cluster.json", t, strlen(t), NULL);
	rc = rc ? rc : s->save_last_revision(s, "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", NULL);
	json_object_put(hist);
	json_object_put(st);
	return rc;
}

static void report(struct zkconn *c, const char *what)
{
	size_t bytes = 0, nodes = 0, max = 0;

	if (zkconn_tree_size(c, what, &bytes, &nodes, &max, NULL))
		fprintf(stderr, "bench-zksize: cannot measure %s\n", what);
	printf("%s_bytes=%zu %s_znodes=%zu %s_largest_znode=%zu ", what, bytes, what, nodes, what,
	       max);
}

int main(int argc, char **argv)
{
	struct zkconn_options o = {0};
	struct pacer_state_store *s = NULL;
	struct pacer_backup_store *b = NULL;
	struct pacer_error *err = NULL;
	struct json_object *root, *apps;
	struct zkconn *c = NULL;
	const char **ids;
	size_t n;
	double t0, t1;

	if (argc != 3 || !(root = json_object_from_file(argv[2])) ||
	    !json_object_object_get_ex(root, "apps", &apps)) {
		fprintf(stderr, "usage: bench-zksize zk://HOST:PORT/ROOT APPS.json (gen.py --sim-load)\n");
		return 64;
	}
	o.url = argv[1];
	if (zkconn_new(&c, &o, &err) || zk_state_new(&s, c, NULL, &err) ||
	    zk_backup_store_new(&b, c, 0, &err)) {
		fprintf(stderr, "bench-zksize: %s\n", err->message);
		return 1;
	}
	n = json_object_array_length(apps);
	ids = calloc(n, sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = json_object_get_string(
		    json_object_object_get(json_object_array_get_idx(apps, i), "id"));
	if (s->add_owned(s, ids, n, &err) || write_docs(c, s, apps)) {
		fprintf(stderr, "bench-zksize: %s\n", err ? err->message : "cannot write the state");
		return 1;
	}
	t0 = pacer_now_s();
	for (size_t i = 0; i < n; i++)
		if (b->save(b, ids[i], json_object_array_get_idx(apps, i), NULL, &err)) {
			fprintf(stderr, "bench-zksize: %s\n", err->message);
			return 1;
		}
	t1 = pacer_now_s();
	printf("apps=%zu ", n);
	report(c, "state");
	report(c, "state/owned");
	report(c, "state/status");
	report(c, "state/docs/history.json");
	report(c, "backups");
	printf("backup_save_ms=%.2f\n", (t1 - t0) * 1000.0 / (double)(n ? n : 1));
	free(ids);
	json_object_put(root);
	pacer_backup_store_free(b);
	pacer_state_store_free(s);
	zkconn_free(c);
	return 0;
}
