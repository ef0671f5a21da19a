/*
 * source.h: where the desired state comes from.
 *
 * A source hands every desired-state file (every *.json below its root, in
 * a stable order sorted by path) to a callback. Implementations:
 * backends/fs/source.c (a directory) and backends/git/source.c (a path in a
 * commit's tree). Hidden files and folders are skipped by the source.
 */
#ifndef PACER_SOURCE_H
#define PACER_SOURCE_H

#include <stddef.h>

#include "reconcile/base/error.h"

/*
 * Called once per file. `path` is relative to the source root, for messages.
 * `data` is borrowed for the duration of the call (not NUL-terminated
 * necessarily; use len). `key` identifies the content (a git blob id) so a
 * caller may cache what it parsed; NULL when the source has none.
 * Return 0 to go on, anything else stops the walk and is returned by read().
 */
typedef int (*pacer_source_file_cb)(void *ctx, const char *path, const char *data, size_t len,
				    const char *key);

/*
 * For read_lazy(): asked before a file's bytes are read, with its key.
 * Return 1 when the bytes are needed, 0 when the caller already knows that
 * content (the file callback then gets data NULL and len 0), anything
 * else stops the walk and is returned.
 */
typedef int (*pacer_source_want_cb)(void *ctx, const char *path, const char *key);

struct pacer_source {
	/*
	 * Bring the source up to date (git: fetch) and walk its files.
	 * On failure *err names the directory, remote or ref.
	 */
	int (*read)(struct pacer_source *s, pacer_source_file_cb cb, void *ctx,
		    struct pacer_error **err);
	/* What the source is, for messages: "/srv/apps" or "https://host/repo.git:path@ref". Borrowed. */
	const char *(*describe)(struct pacer_source *s);
	/* The revision last read (git commit id), or NULL. Borrowed until the next read(). */
	const char *(*revision)(struct pacer_source *s);
	void (*free)(struct pacer_source *s);
	/*
	 * Optional, for sources that know each file's key before reading it
	 * (git: the blob id), NULL otherwise: read() that reads only the files
	 * `want` asks for. Every file still reaches cb, in the same order.
	 */
	int (*read_lazy)(struct pacer_source *s, pacer_source_want_cb want,
			 pacer_source_file_cb cb, void *ctx, struct pacer_error **err);
	/*
	 * Optional, with read_lazy: the bytes of a file a read skipped, by its
	 * path and key. *data is the caller's (free()). May be called from any
	 * thread, also while another thread runs read(). PACER_ENOTFOUND when
	 * that content is gone.
	 */
	int (*load)(struct pacer_source *s, const char *path, const char *key, char **data,
		    size_t *len, struct pacer_error **err);
	/*
	 * Optional: read() for a caller that uses no keys (nothing to cache):
	 * cb gets key NULL, and a source whose keys cost work (a directory:
	 * SHA-256 of every file) does not make them.
	 */
	int (*read_unkeyed)(struct pacer_source *s, pacer_source_file_cb cb, void *ctx,
			    struct pacer_error **err);
};

static inline void pacer_source_free(struct pacer_source *s)
{
	if (s && s->free)
		s->free(s);
}

#endif
