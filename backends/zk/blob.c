/*
 * blob.c: values larger than a znode, written so that readers see the old
 * value or the new one (layout.h: header, inline value or chunks).
 *
 * A change writes the new generation's chunks first (children nobody reads
 * yet), then switches the header with a versioned set in a fenced
 * transaction, then deletes the old generation. A crash before the switch
 * leaves unreferenced chunks, which the next write sweeps; a reader that
 * meets a chunk deleted under it reads again.
 */
#include "backends/zk/layout.h"
#include "backends/zk/zk_int.h"
#include "reconcile/base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_TRIES 5

/* Append chunk i of gen under path to b. */
static int read_chunk(struct zkconn *c, const char *path, unsigned long long gen, size_t i,
		      struct pacer_buf *b, struct pacer_error **err)
{
	char name[64], *cp = NULL, *data = NULL;
	size_t len = 0;
	int rc;

	zk_blob_chunk_name(name, sizeof(name), gen, i);
	if (asprintf(&cp, "%s/%s", path, name) < 0)
		return pacer_error_set(err, -1, "out of memory");
	rc = zk__get(c, cp, &data, &len, NULL, err);
	if (!rc && pacer_buf_add(b, data, len) < 0)
		rc = pacer_error_set(err, -1, "out of memory");
	free(cp);
	free(data);
	return rc;
}

/* One attempt; PACER_ENOTFOUND for a missing chunk comes back as PACER_ECONFLICT. */
static int read_once(struct zkconn *c, const char *path, char **out, size_t *outlen,
		     struct pacer_error **err)
{
	struct pacer_buf b = PACER_BUF_INIT;
	struct zk_blob_header h;
	char *data = NULL;
	size_t len = 0, body;
	int rc;

	if ((rc = zk__get(c, path, &data, &len, NULL, err)) ||
	    (rc = zk_blob_header_parse(path, data, len, &h, &body, err)))
		goto done;
	if (!h.nchunks) {
		memmove(data, data + body, h.len + 1);
		*out = data;
		*outlen = h.len;
		return 0;
	}
	for (size_t i = 0; !rc && i < h.nchunks; i++)
		rc = read_chunk(c, path, h.gen, i, &b, err);
	if (rc == PACER_ENOTFOUND)
		rc = PACER_ECONFLICT; /* rewritten while read */
	if (!rc && b.len != h.len)
		rc = pacer_error_set(err, PACER_EIO,
				     "ZooKeeper node '%s': its chunks hold %zu bytes, its header "
				     "says %zu: restore it, or delete it",
				     path, b.len, h.len);
	if (!rc) {
		*outlen = h.len;
		*out = pacer_buf_detach(&b);
		if (!*out)
			rc = pacer_error_set(err, -1, "out of memory");
	}
done:
	pacer_buf_release(&b);
	free(data);
	return rc;
}

int zk__blob_read(struct zkconn *c, const char *path, char **data, size_t *len,
		  struct pacer_error **err)
{
	int rc = PACER_ECONFLICT;

	*data = NULL;
	*len = 0;
	for (int i = 0; i < READ_TRIES && rc == PACER_ECONFLICT; i++) {
		pacer_error_clear(err);
		rc = read_once(c, path, data, len, err);
	}
	return rc;
}

/* Create the chunks of gen under path (nothing reads them before the switch). */
static int write_chunks(struct zkconn *c, const char *path, unsigned long long gen,
			const char *data, size_t len, struct pacer_error **err)
{
	for (size_t i = 0, off = 0; off < len; i++, off += ZK_CHUNK_MAX) {
		size_t n = len - off < ZK_CHUNK_MAX ? len - off : ZK_CHUNK_MAX;
		char name[64], *cp = NULL;
		int zrc;

		zk_blob_chunk_name(name, sizeof(name), gen, i);
		if (asprintf(&cp, "%s/%s", path, name) < 0)
			return pacer_error_set(err, -1, "out of memory");
		zrc = zoo_create(zkconn__zh(c), cp, data + off, (int)n, zkconn__acl(c),
				 ZOO_PERSISTENT, NULL, 0);
		if (zrc != ZOK) {
			zk__fail(err, zrc, "cannot write", cp);
			free(cp);
			return zrc == ZNOAUTH ? PACER_EAUTH : PACER_EIO;
		}
		free(cp);
	}
	return 0;
}

/* Delete path's chunks of every generation but keep (0: all). */
static int sweep_chunks(struct zkconn *c, const char *path, unsigned long long keep,
			struct pacer_error **err)
{
	struct pacer_strvec kids;
	int rc;

	if ((rc = zk__children(c, path, &kids, err)))
		return rc;
	for (size_t i = 0; !rc && i < kids.n; i++) {
		unsigned long long g;
		size_t idx;
		char *cp = NULL;
		int zrc;

		if (zk_blob_chunk_parse(kids.v[i], &g, &idx) || (keep && g == keep))
			continue;
		if (asprintf(&cp, "%s/%s", path, kids.v[i]) < 0) {
			rc = pacer_error_set(err, -1, "out of memory");
			break;
		}
		zrc = zoo_delete(zkconn__zh(c), cp, -1);
		if (zrc != ZOK && zrc != ZNONODE)
			rc = zk__fail(err, zrc, "cannot delete", cp);
		free(cp);
	}
	pacer_strvec_release(&kids);
	return rc;
}

/* The header (and inline value) for len bytes of data as generation gen, into *out. */
static int make_head(const char *data, size_t len, unsigned long long gen, char **out,
		     size_t *outlen, struct pacer_error **err)
{
	struct zk_blob_header h = {.gen = 0, .nchunks = zk_blob_nchunks(len), .len = len};
	char line[ZK_BLOB_HEADER_MAX];
	size_t hl;

	if (h.nchunks)
		h.gen = gen;
	hl = zk_blob_header_format(line, &h);
	*outlen = hl + (h.nchunks ? 0 : len);
	if (!(*out = malloc(*outlen + 1)))
		return pacer_error_set(err, -1, "out of memory");
	memcpy(*out, line, hl);
	if (!h.nchunks && len)
		memcpy(*out + hl, data, len);
	return 0;
}

int zk__blob_write(struct zkconn *c, const char *path, const char *data, size_t len,
		   struct pacer_error **err)
{
	struct zk_blob_header old = {0, 0, 0};
	char *cur = NULL, *head = NULL;
	size_t curlen = 0, body, hl = 0;
	struct Stat st = {0};
	unsigned long long gen;
	zoo_op_t op;
	int rc, exists;

	rc = zk__get(c, path, &cur, &curlen, &st, err);
	exists = rc == 0;
	if (rc == PACER_ENOTFOUND) {
		pacer_error_clear(err);
		rc = 0;
	}
	if (rc)
		goto done;
	/* A node that is not a blob yet (an empty folder) is overwritten. */
	if (exists && zk_blob_header_parse(path, cur, curlen, &old, &body, NULL))
		memset(&old, 0, sizeof(old));
	/* A generation never reused, even after a crash left its chunks: the node's version. */
	gen = (unsigned long long)(exists ? st.version : 0) + 1 + old.gen;
	if ((rc = make_head(data, len, gen, &head, &hl, err)))
		goto done;
	if (zk_blob_nchunks(len)) {
		/* A new node starts empty (version 0): the header is set below. */
		if (!exists && (rc = zk__mkdirs(c, path, err)))
			goto done;
		if (!exists)
			st.version = 0;
		exists = 1;
		if ((rc = sweep_chunks(c, path, old.gen, err)) ||
		    (rc = write_chunks(c, path, gen, data, len, err)))
			goto done;
	}
	if (exists)
		zoo_set_op_init(&op, path, head, (int)hl, st.version, NULL);
	else
		zoo_create_op_init(&op, path, head, (int)hl, zkconn__acl(c), ZOO_PERSISTENT, NULL, 0);
	if (!exists && strrchr(path, '/') != path) {
		char *parent = strndup(path, (size_t)(strrchr(path, '/') - path));

		rc = parent ? zk__mkdirs(c, parent, err) : pacer_error_set(err, -1, "out of memory");
		free(parent);
		if (rc)
			goto done;
	}
	if ((rc = zk__commit(c, &op, 1, NULL, err)))
		goto done;
	/* The old generation is unreferenced now; a failure here only leaves garbage. */
	if (old.nchunks || zk_blob_nchunks(len))
		sweep_chunks(c, path, zk_blob_nchunks(len) ? gen : 0, NULL);
done:
	free(cur);
	free(head);
	return rc;
}

int zk__blob_create_seq(struct zkconn *c, const char *prefix, const char *data, size_t len,
			char **created, struct pacer_error **err)
{
	static const char pending[] = "pacer-blob pending\n";
	char *head = NULL, made[1024];
	size_t hl = 0;
	zoo_op_t op;
	int rc, big = zk_blob_nchunks(len) != 0;

	if (created)
		*created = NULL;
	if ((rc = make_head(data, len, 1, &head, &hl, err)))
		return rc;
	zoo_create_op_init(&op, prefix, big ? pending : head, big ? (int)strlen(pending) : (int)hl,
			   zkconn__acl(c), ZOO_PERSISTENT_SEQUENTIAL, made, sizeof(made));
	if ((rc = zk__commit(c, &op, 1, NULL, err)))
		goto done;
	if (big) {
		zoo_op_t set;

		if ((rc = write_chunks(c, made, 1, data, len, err)))
			goto done;
		zoo_set_op_init(&set, made, head, (int)hl, 0, NULL);
		if ((rc = zk__commit(c, &set, 1, NULL, err)))
			goto done;
	}
	if (created && !(*created = strdup(made)))
		rc = pacer_error_set(err, -1, "out of memory");
done:
	free(head);
	return rc;
}
