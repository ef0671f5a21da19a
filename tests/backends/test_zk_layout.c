/*
 * The pure rules of pacer's ZooKeeper layout (backends/zk/layout.h): the
 * --ha URL, blob headers and chunking, document names, the election order
 * and backup names. No server.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

#include "backends/zk/layout.h"

struct url_case {
	char url[48], hosts[32], root[16]; /* hosts "": refused */
};

static struct url_case url_cases[] = {
    {"zk://h1:2181,h2:2181,h3:2181/pacer", "h1:2181,h2:2181,h3:2181", "/pacer"},
    {"zk://h1:2181", "h1:2181", "/pacer"},
    {"zk://h1:2181/", "h1:2181", "/pacer"},
    {"zk://h1:2181/a/b/", "h1:2181", "/a/b"},
    {"zk://user:pw@h1:2181/pacer", "", ""},
    {"http://h1:2181/pacer", "", ""},
    {"zk://h1,,h2/pacer", "", ""},
    {"zk:///pacer", "", ""},
    {"zk://h1/a//b", "", ""},
    {"zk://h1/zookeeper", "", ""},
    {"zk://h1/a/../b", "", ""},
};

ParameterizedTestParameters(zk_layout, url)
{
	return cr_make_param_array(struct url_case, url_cases,
				   sizeof(url_cases) / sizeof(*url_cases));
}

ParameterizedTest(struct url_case *c, zk_layout, url)
{
	struct pacer_error *err = NULL;
	struct zk_url u;
	int rc = zk_url_parse(c->url, &u, &err);

	if (!*c->hosts) {
		cr_assert_eq(rc, PACER_EINVALID, "%s accepted", c->url);
		cr_assert(err && !strstr(err->message, "pw@"), "credentials echoed: %s",
			  err ? err->message : "");
		pacer_error_free(err);
		return;
	}
	cr_assert_eq(rc, 0, "%s: %s", c->url, err ? err->message : "");
	cr_assert_str_eq(u.hosts, c->hosts);
	cr_assert_str_eq(u.root, c->root);
	zk_url_release(&u);
}

Test(zk_layout, chunk_counts)
{
	cr_assert_eq(zk_blob_nchunks(0), 0);
	cr_assert_eq(zk_blob_nchunks(ZK_CHUNK_MAX - ZK_BLOB_HEADER_MAX), 0);
	cr_assert_eq(zk_blob_nchunks(ZK_CHUNK_MAX - ZK_BLOB_HEADER_MAX + 1), 1);
	cr_assert_eq(zk_blob_nchunks(ZK_CHUNK_MAX), 1);
	cr_assert_eq(zk_blob_nchunks(ZK_CHUNK_MAX + 1), 2);
	cr_assert_eq(zk_blob_nchunks(10 * ZK_CHUNK_MAX), 10);
	/* Well under ZooKeeper's 1 MiB per znode. */
	cr_assert_leq(ZK_CHUNK_MAX, (size_t)512 << 10);
}

Test(zk_layout, header_round_trip)
{
	struct zk_blob_header h = {7, 3, 2 * ZK_CHUNK_MAX + 5}, g;
	char buf[ZK_BLOB_HEADER_MAX + 16];
	size_t n = zk_blob_header_format(buf, &h), body;

	cr_assert_gt(n, 0);
	cr_assert_eq(zk_blob_header_parse("/p", buf, n, &g, &body, NULL), 0);
	cr_assert_eq(g.gen, 7);
	cr_assert_eq(g.nchunks, 3);
	cr_assert_eq(g.len, h.len);
	cr_assert_eq(body, n);
}

Test(zk_layout, header_inline_and_refusals)
{
	struct zk_blob_header h = {0, 0, 5}, g;
	struct pacer_error *err = NULL;
	char buf[128];
	size_t n = zk_blob_header_format(buf, &h), body;

	memcpy(buf + n, "hello", 5);
	cr_assert_eq(zk_blob_header_parse("/p", buf, n + 5, &g, &body, NULL), 0);
	cr_assert_eq(body, n);
	/* Truncated inline value, wrong chunk count, foreign data. */
	cr_assert_eq(zk_blob_header_parse("/p", buf, n + 4, &g, &body, NULL), PACER_EIO);
	cr_assert_eq(zk_blob_header_parse("/p", "pacer-blob 1 3 2 5\n", 19, &g, &body, NULL),
		     PACER_EIO);
	cr_assert_eq(zk_blob_header_parse("/x/y", "{\"owned\":[]}", 12, &g, &body, &err),
		     PACER_EIO);
	cr_assert(strstr(err->message, "/x/y"));
	pacer_error_free(err);
	cr_assert_eq(zk_blob_header_parse("/p", "pacer-blob pending\n", 19, &g, &body, NULL),
		     PACER_EIO);
}

Test(zk_layout, chunk_names)
{
	char name[64];
	unsigned long long gen;
	size_t i;

	zk_blob_chunk_name(name, sizeof(name), 12, 3);
	cr_assert_str_eq(name, "c12-3");
	cr_assert_eq(zk_blob_chunk_parse(name, &gen, &i), 0);
	cr_assert_eq(gen, 12);
	cr_assert_eq(i, 3);
	cr_assert_eq(zk_blob_chunk_parse("c12-3x", &gen, &i), -1);
	cr_assert_eq(zk_blob_chunk_parse("journal", &gen, &i), -1);
	cr_assert_eq(zk_blob_chunk_parse("c-1", &gen, &i), -1);
}

Test(zk_layout, doc_names)
{
	cr_assert(zk_doc_name_ok("held.json"));
	cr_assert(zk_doc_name_ok("journal/ab12.json"));
	cr_assert(!zk_doc_name_ok("a/b/c.json"));
	cr_assert(!zk_doc_name_ok("../x"));
	cr_assert(!zk_doc_name_ok(".hidden"));
	cr_assert(!zk_doc_name_ok("journal/"));
	cr_assert(!zk_doc_name_ok("a b"));
	cr_assert(!zk_doc_name_ok(""));
}

Test(zk_layout, election_order)
{
	/* Children come back in any order; foreign nodes are ignored. */
	char *names[] = {"n_0000000012", "n_0000000003", "other", "n_0000000007",
			 "n_0000000020"};
	const char *leader, *pred;

	cr_assert_eq(zk_election_order(names, 5, "n_0000000003", &leader, &pred), 0);
	cr_assert_str_eq(leader, "n_0000000003");
	cr_assert_null(pred, "the lowest leads and watches nobody");
	cr_assert_eq(zk_election_order(names, 5, "n_0000000012", &leader, &pred), 0);
	cr_assert_str_eq(leader, "n_0000000003");
	/* The node just below, not the leader: one deletion wakes one replica. */
	cr_assert_str_eq(pred, "n_0000000007");
	cr_assert_eq(zk_election_order(names, 5, "n_0000000020", &leader, &pred), 0);
	cr_assert_str_eq(pred, "n_0000000012");
	/* Our node is gone: the session expired. */
	cr_assert_eq(zk_election_order(names, 5, "n_0000000004", &leader, &pred), -1);
	cr_assert_eq(zk_seq_of("n_000000001", "n_"), -1);
	cr_assert_eq(zk_seq_of("n_0000000042", "n_"), 42);
}

Test(zk_layout, backup_names)
{
	char prefix[32], t[20];
	long long seq;
	char *v[] = {strdup("2026-01-01_00:00:09-0000000010"),
		     strdup("2026-01-01_00:00:10-0000000002"),
		     strdup("2025-12-31_23:59:59-0000000009")};

	cr_assert_eq(zk_backup_prefix(prefix, sizeof(prefix), 0), 0);
	cr_assert_str_eq(prefix, "1970-01-01_00:00:00-");
	cr_assert_eq(zk_backup_parse("2026-01-01_00:00:09-0000000010", t, &seq), 0);
	cr_assert_str_eq(t, "2026-01-01_00:00:09");
	cr_assert_eq(seq, 10);
	cr_assert_eq(zk_backup_parse("c1-0", t, &seq), -1);
	/* Order is ZooKeeper's sequence, not the clock (clocks of replicas differ). */
	zk_sort_by_seq(v, 3);
	cr_assert_str_eq(v[0], "2026-01-01_00:00:10-0000000002");
	cr_assert_str_eq(v[2], "2026-01-01_00:00:09-0000000010");
	for (int i = 0; i < 3; i++)
		free(v[i]);
}
