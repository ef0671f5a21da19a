/*
 * zk_int.h: what the files of backends/zk share: the raw handle, error
 * mapping, and values stored as blobs (layout.h). Not for other folders.
 */
#ifndef PACER_ZK_INT_H
#define PACER_ZK_INT_H

#include <signal.h>
#include <stddef.h>
#include <zookeeper/proto.h>
#include <zookeeper/zookeeper.h>

#include "backends/zk/conn.h"
#include "reconcile/base/error.h"
#include "reconcile/base/strv.h"

zhandle_t *zkconn__zh(struct zkconn *c);
const struct ACL_vector *zkconn__acl(struct zkconn *c);

/*
 * Watches: zk__watcher (ctx: the zkconn, which outlives every watch)
 * counts the watches fired; zk__wait_event() waits until the count
 * differs from seen, ms pass, *stop is set (then call zk__wake()) or the
 * session dies.
 */
void zk__watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx);
unsigned long zk__events(struct zkconn *c);
void zk__wait_event(struct zkconn *c, unsigned long seen, int ms,
		    const volatile sig_atomic_t *stop);
void zk__wake(struct zkconn *c);

/* A ZooKeeper return code as a pacer error about `what` on path; returns the code. */
int zk__fail(struct pacer_error **err, int zrc, const char *what, const char *path);

/* "<root>/<rel>" (rel without a leading '/'); caller frees. NULL: out of memory. */
char *zk__path(struct zkconn *c, const char *rel);

/* Create path and its missing parents as empty persistent nodes. */
int zk__mkdirs(struct zkconn *c, const char *path, struct pacer_error **err);

/* A node's data (caller frees, NUL-terminated) and stat; PACER_ENOTFOUND when missing. */
int zk__get(struct zkconn *c, const char *path, char **data, size_t *len, struct Stat *st,
	    struct pacer_error **err);

/* A node's children, sorted; an empty list when it does not exist. */
int zk__children(struct zkconn *c, const char *path, struct pacer_strvec *out,
		 struct pacer_error **err);

/*
 * Run ops as one transaction, preceded by the fence's check when one is
 * set (zkconn_set_fence()); results (may be NULL) get n entries. A refused
 * fence is PACER_ECANCELLED ("not the leader any more").
 */
int zk__commit(struct zkconn *c, zoo_op_t *ops, int n, zoo_op_result_t *results,
	       struct pacer_error **err);

/* Delete path and everything below it (fenced); 0 also when it did not exist. */
int zk__delete_tree(struct zkconn *c, const char *path, struct pacer_error **err);

/* A blob's value (caller frees, NUL-terminated); PACER_ENOTFOUND when missing. */
int zk__blob_read(struct zkconn *c, const char *path, char **data, size_t *len,
		  struct pacer_error **err);

/* Replace (or create) the blob at path with data; fenced; the old value or the new one, never a mix. */
int zk__blob_write(struct zkconn *c, const char *path, const char *data, size_t len,
		   struct pacer_error **err);

/*
 * Create a new blob under the sequential name prefix ("<dir>/x-"), fenced;
 * *created (caller frees; may be NULL) is its full path. A value too large
 * for one znode is written as "pending" first and completed after its
 * chunks: a crash in between leaves a node that reads as an error.
 */
int zk__blob_create_seq(struct zkconn *c, const char *prefix, const char *data, size_t len,
			char **created, struct pacer_error **err);

#endif
