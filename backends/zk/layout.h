/*
 * layout.h: where pacer keeps its state in ZooKeeper, and the pure rules
 * of that layout (no ZooKeeper call here, so the tests need no server).
 *
 *   <root>/leader/n_0000000007      election: one ephemeral sequential node
 *                                   per replica; data: the replica's name
 *   <root>/state/owned              {"owned": [...]} (as owned.json on disk)
 *   <root>/state/last-revision      one line
 *   <root>/state/docs/<name>        the state store's documents: the intent
 *                                   journal (docs/journal/<x>.json),
 *                                   held.json, suspended.json,
 *                                   history.json, cluster.json
 *   <root>/state/status             the leader's last /status
 *   <root>/backups/<mangled id>/<YYYY-mm-dd_HH:MM:SS>-0000000042
 *                                   a backup (persistent sequential: the
 *                                   suffix orders them)
 *   <root>/queue/q-0000000003       triggers and actions handed to the
 *                                   leader by a follower
 *
 * Every value above is a blob: a znode whose data starts with the header
 * line "pacer-blob 1 <gen> <nchunks> <len>\n". With nchunks 0 the value
 * follows the header in the same znode; a larger value lives in nchunks
 * child znodes "c<gen>-<i>" of ZK_CHUNK_MAX bytes at most, and the header
 * is switched to the new generation only once every chunk is written (a
 * crash leaves the old value or the new, never a torn one). ZooKeeper's
 * default limit per znode (jute.maxbuffer) is 1 MiB: chunks stay at a
 * quarter of it.
 */
#ifndef PACER_ZK_LAYOUT_H
#define PACER_ZK_LAYOUT_H

#include <stddef.h>

#include "reconcile/base/error.h"

/* The largest value kept in one znode (header, inline value, or chunk). */
#define ZK_CHUNK_MAX ((size_t)256 << 10)
/* The longest header line, "\n" included. */
#define ZK_BLOB_HEADER_MAX 96

/* A parsed --ha URL: zk://h1:2181,h2:2181/pacer. */
struct zk_url {
	char *hosts; /* "h1:2181,h2:2181", owned */
	char *root;  /* "/pacer": absolute, no trailing '/', owned */
};

/*
 * Parse "zk://HOST:PORT[,HOST:PORT...]/PATH". PATH defaults to "/pacer"
 * when absent or "/"; credentials in the URL ("user:pw@") are refused
 * (they would show in ps and logs: use the environment). Returns 0, or
 * PACER_EINVALID with a message naming the URL and what is wrong.
 */
int zk_url_parse(const char *url, struct zk_url *out, struct pacer_error **err);
void zk_url_release(struct zk_url *u);

struct zk_blob_header {
	unsigned long long gen; /* generation of the chunks; 0 when inline */
	size_t nchunks;         /* 0: the value follows the header */
	size_t len;             /* the value's length */
};

/* How many chunks a value of len bytes takes: 0 when it fits inline. */
size_t zk_blob_nchunks(size_t len);

/* Write h's header line into buf (ZK_BLOB_HEADER_MAX); returns its length. */
size_t zk_blob_header_format(char *buf, const struct zk_blob_header *h);

/*
 * Parse the header at the start of data. Returns 0 and *body (the offset
 * of an inline value), or PACER_EIO when data is not a blob or an inline
 * value's length does not match (the message names path).
 */
int zk_blob_header_parse(const char *path, const char *data, size_t len,
			 struct zk_blob_header *h, size_t *body, struct pacer_error **err);

/* "c<gen>-<i>" into buf (at least 48 bytes). */
void zk_blob_chunk_name(char *buf, size_t cap, unsigned long long gen, size_t i);
/* 0 and gen/i when name is a chunk name, else -1. */
int zk_blob_chunk_parse(const char *name, unsigned long long *gen, size_t *i);

/*
 * State documents' names: [A-Za-z0-9._-], not starting with '.', at most
 * one '/' (a folder), as the fs store takes them. 1 when name is one.
 */
int zk_doc_name_ok(const char *name);

/* The sequence number of an election node "n_0000000012", or -1. */
long long zk_seq_of(const char *name, const char *prefix);

/*
 * The election recipe: among the nodes (names, any order) the lowest
 * sequence leads; every other node watches the node just below its own,
 * so that one deletion wakes one replica (no herd). *leader and *pred are
 * borrowed from names (pred NULL: mine leads). Returns 0, or -1 when mine
 * is not among names (our node is gone: the session expired).
 */
int zk_election_order(char *const *names, size_t n, const char *mine, const char **leader,
		      const char **pred);

/* A backup's node name prefix for the UTC time t: "YYYY-mm-dd_HH:MM:SS-". */
int zk_backup_prefix(char *buf, size_t cap, long long t);
/*
 * Split a backup node name into its time ("YYYY-mm-dd_HH:MM:SS", 20 bytes
 * with the NUL) and sequence. 0, or -1 when it is not a backup name.
 */
int zk_backup_parse(const char *name, char time[20], long long *seq);

/* Sort names (e.g. of backups) by the sequence number after their last '-'. */
void zk_sort_by_seq(char **names, size_t n);

#endif
