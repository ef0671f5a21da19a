/*
 * The state and backup stores in a real ZooKeeper (backends/zk/state.h,
 * backup.h): what a replica writes, another reads; large values are
 * chunked below ZooKeeper's 1 MiB per znode; backups are bounded per app,
 * oldest dropped first; a fenced write of a replica that is not the
 * leader changes nothing; with credentials, nodes are closed to others.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "backends/zk/backup.h"
#include "backends/zk/conn.h"
#include "backends/zk/state.h"
#include "reconcile/base/strv.h"
#include "tests/lib/zkserver.h"

static struct zkserver zk;

static void up(void)
{
	cr_assert_eq(zks_start(&zk, 1), 0, "ZooKeeper did not start");
}

static void down(void)
{
	zks_stop(&zk);
}

static struct zkconn *conn(const char *root, const char *auth)
{
	struct zkconn_options o = {0};
	struct pacer_error *err = NULL;
	struct zkconn *c = NULL;
	char *url = zks_url(&zk, 0, root);

	o.url = url;
	o.auth = auth;
	o.session_ms = 4000;
	cr_assert_eq(zkconn_new(&c, &o, &err), 0, "connect: %s", err ? err->message : "");
	free(url);
	return c;
}

static struct pacer_state_store *state(struct zkconn *c)
{
	struct pacer_state_store *s = NULL;

	cr_assert_eq(zk_state_new(&s, c, NULL, NULL), 0);
	return s;
}

/* No .timeout: CTest's bounds the program (Criterion 2.4 leaks with more timed tests than jobs). */
TestSuite(zk_store, .init = up, .fini = down);

Test(zk_store, owned_revision_and_docs_shared_between_replicas)
{
	struct zkconn *a = conn("/p", NULL), *b = conn("/p", NULL);
	struct pacer_state_store *sa = state(a), *sb = state(b);
	const char *ids[] = {"/b", "/a", "/c"}, *gone[] = {"/a"};
	char **owned = NULL, *rev = NULL, *data = NULL, **names = NULL;
	size_t len = 0;

	cr_assert_eq(sb->load_owned(sb, &owned, NULL), 0);
	cr_assert_null(owned[0], "nothing owned yet");
	pacer_strv_free(owned);
	cr_assert_eq(sa->add_owned(sa, ids, 3, NULL), 0);
	cr_assert_eq(sa->remove_owned(sa, gone, 1, NULL), 0);
	cr_assert_eq(sb->load_owned(sb, &owned, NULL), 0);
	cr_assert_str_eq(owned[0], "/b");
	cr_assert_str_eq(owned[1], "/c");
	cr_assert_null(owned[2]);
	pacer_strv_free(owned);

	cr_assert_eq(sb->load_last_revision(sb, &rev, NULL), 0);
	cr_assert_null(rev);
	cr_assert_eq(sa->save_last_revision(sa, "1a2b3c", NULL), 0);
	cr_assert_eq(sb->load_last_revision(sb, &rev, NULL), 0);
	cr_assert_str_eq(rev, "1a2b3c");
	free(rev);

	cr_assert_eq(sa->doc_save(sa, "journal/x1.json", "{\"a\":1}", 7, NULL), 0);
	cr_assert_eq(sa->doc_save(sa, "journal/x2.json", "{\"a\":2}", 7, NULL), 0);
	cr_assert_eq(sa->doc_save(sa, "held.json", "{}", 2, NULL), 0);
	cr_assert_eq(sb->doc_list(sb, "journal", &names, NULL), 0);
	cr_assert_str_eq(names[0], "journal/x1.json");
	cr_assert_str_eq(names[1], "journal/x2.json");
	cr_assert_null(names[2]);
	pacer_strv_free(names);
	cr_assert_eq(sb->doc_load(sb, "journal/x2.json", &data, &len, NULL), 0);
	cr_assert_eq(len, 7);
	cr_assert_str_eq(data, "{\"a\":2}");
	free(data);
	cr_assert_eq(sa->doc_remove(sa, "journal/x2.json", NULL), 0);
	cr_assert_eq(sa->doc_remove(sa, "journal/x2.json", NULL), 0, "removing twice is fine");
	cr_assert_eq(sb->doc_load(sb, "journal/x2.json", &data, &len, NULL), 0);
	cr_assert_null(data);
	cr_assert_eq(sb->doc_load(sb, "../escape", &data, &len, NULL), PACER_EINVALID);

	pacer_state_store_free(sa);
	pacer_state_store_free(sb);
	zkconn_free(a);
	zkconn_free(b);
}

/* A value of n bytes that differs everywhere (a chunk put in the wrong place shows). */
static char *pattern(size_t n, unsigned seed)
{
	char *s = malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + (i * 7 + seed + i / 4099) % 26);
	s[n] = '\0';
	return s;
}

Test(zk_store, large_values_are_chunked_and_replaced_whole)
{
	struct zkconn *a = conn("/p", NULL);
	struct pacer_state_store *s = state(a);
	size_t big = (size_t)2500 << 10, len = 0, bytes = 0, nodes = 0, max = 0;
	char *v1 = pattern(big, 1), *v2 = pattern(big / 2, 2), *data = NULL;

	cr_assert_eq(s->doc_save(s, "history.json", v1, big, NULL), 0);
	cr_assert_eq(s->doc_load(s, "history.json", &data, &len, NULL), 0);
	cr_assert_eq(len, big);
	cr_assert(!memcmp(data, v1, big), "chunks reassembled in order");
	free(data);
	cr_assert_eq(zkconn_tree_size(a, "state/docs/history.json", &bytes, &nodes, &max, NULL), 0);
	cr_assert_eq(nodes, 1 + 10, "header and 10 chunks, got %zu nodes", nodes);
	cr_assert_leq(max, (size_t)256 << 10, "no znode over 256 KiB (%zu)", max);

	/* Smaller now: the old generation's chunks are gone, nothing else left. */
	cr_assert_eq(s->doc_save(s, "history.json", v2, big / 2, NULL), 0);
	cr_assert_eq(zkconn_tree_size(a, "state/docs/history.json", &bytes, &nodes, &max, NULL), 0);
	cr_assert_eq(nodes, 1 + 5, "old chunks swept: %zu nodes", nodes);
	cr_assert_eq(s->doc_load(s, "history.json", &data, &len, NULL), 0);
	cr_assert_eq(len, big / 2);
	cr_assert(!memcmp(data, v2, big / 2));
	free(data);
	/* And back inline. */
	cr_assert_eq(s->doc_save(s, "history.json", "[]", 2, NULL), 0);
	cr_assert_eq(zkconn_tree_size(a, "state/docs/history.json", &bytes, &nodes, NULL, NULL), 0);
	cr_assert_eq(nodes, 1);
	free(v1);
	free(v2);
	pacer_state_store_free(s);
	zkconn_free(a);
}

static struct json_object *def(int mem)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string("/shop/api"));
	json_object_object_add(o, "mem", json_object_new_int(mem));
	return o;
}

Test(zk_store, backups_bounded_oldest_dropped_first)
{
	struct zkconn *a = conn("/p", NULL);
	struct pacer_backup_store *b = NULL;
	struct pacer_backup_entry *v = NULL;
	struct json_object *got = NULL, *mem;
	size_t n = 0;
	char *path = NULL;

	cr_assert_eq(zk_backup_store_new(&b, a, 3, NULL), 0);
	for (int i = 1; i <= 5; i++) {
		struct json_object *d = def(100 * i);

		cr_assert_eq(b->save(b, "/shop/api", d, i == 5 ? &path : NULL, NULL), 0);
		json_object_put(d);
	}
	cr_assert_eq(b->list(b, "/shop/api", &v, &n, NULL), 0);
	cr_assert_eq(n, 3, "kept 3 of 5, got %zu", n);
	cr_assert_str_eq(v[2].path, path, "newest last");
	cr_assert_str_eq(v[0].app_id, "/shop/api");
	cr_assert_eq(b->load(b, v[0].path, &got, NULL), 0);
	cr_assert(json_object_object_get_ex(got, "mem", &mem));
	cr_assert_eq(json_object_get_int(mem), 300, "the two oldest were dropped");
	json_object_put(got);
	pacer_backup_entries_free(v, n);
	cr_assert_eq(b->list(b, NULL, &v, &n, NULL), 0);
	cr_assert_eq(n, 3);
	pacer_backup_entries_free(v, n);
	cr_assert_eq(b->load(b, "/etc/passwd", &got, NULL), PACER_ENOTFOUND);
	cr_assert_eq(b->list(b, "/other", &v, &n, NULL), 0);
	cr_assert_eq(n, 0);
	free(v);
	free(path);
	pacer_backup_store_free(b);
	zkconn_free(a);
}

Test(zk_store, fenced_writes_of_a_deposed_replica_change_nothing)
{
	struct zkconn *a = conn("/p", NULL);
	struct pacer_state_store *s = state(a);
	struct pacer_backup_store *b = NULL;
	struct pacer_error *err = NULL;
	struct json_object *d = def(1);
	const char *ids[] = {"/x"};
	char **owned = NULL;

	cr_assert_eq(zk_backup_store_new(&b, a, 0, NULL), 0);
	/* The leader's election node that no longer exists. */
	cr_assert_eq(zkconn_set_fence(a, "/p/leader/n_0000000001"), 0);
	cr_assert_eq(s->add_owned(s, ids, 1, &err), PACER_ECANCELLED);
	cr_assert(strstr(err->message, "not the leader"), "%s", err->message);
	pacer_error_clear(&err);
	cr_assert_eq(b->save(b, "/shop/api", d, NULL, &err), PACER_ECANCELLED,
		     "no backup, so no change either");
	pacer_error_clear(&err);
	cr_assert_eq(zkconn_set_fence(a, NULL), 0);
	cr_assert_eq(s->load_owned(s, &owned, NULL), 0);
	cr_assert_null(owned[0]);
	pacer_strv_free(owned);
	json_object_put(d);
	pacer_backup_store_free(b);
	pacer_state_store_free(s);
	zkconn_free(a);
}

Test(zk_store, credentials_close_the_nodes_to_others)
{
	struct zkconn *a = conn("/sec", "pacer:s3cret"), *other = NULL;
	struct pacer_state_store *s = state(a);
	struct zkconn_options o = {0};
	struct pacer_error *err = NULL;
	char *url = zks_url(&zk, 0, "/sec");
	const char *ids[] = {"/x"};

	cr_assert_eq(s->add_owned(s, ids, 1, NULL), 0);
	o.url = url;
	o.auth = "intruder:guess";
	o.session_ms = 4000;
	cr_assert_eq(zkconn_new(&other, &o, &err), PACER_EAUTH,
		     "another identity cannot use pacer's tree: %s", err ? err->message : "ok");
	pacer_error_free(err);
	free(url);
	pacer_state_store_free(s);
	zkconn_free(a);
}
