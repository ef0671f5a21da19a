/*
 * source.c: walk a directory of desired-state files.
 *
 * The walk first collects every path, then sorts them once and reads them in
 * that order: the order must not depend on readdir(), or two runs over the
 * same tree could report problems (and keep duplicate apps) differently.
 *
 * Symlinks are resolved with realpath() and the result must stay below the
 * root's own realpath. Directory loops are caught by keeping the (dev, ino)
 * of every directory on the current path.
 */
#include "backends/fs/source.h"
#include "reconcile/base/strv.h"
#include "backends/fs/durable.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The content key handed to the callback: "sha256:" and the hex digest of
 * the bytes, so a caller can cache what it parsed (reconcile/cache.h).
 * NULL when hashing failed (the caller then just does not cache).
 */
#define SHA256_LEN 32
#define CONTENT_KEY_SIZE (sizeof("sha256:") + 2 * SHA256_LEN)

/* A read buffer: room for alloc bytes and a NUL. */
struct fs_buf {
	char *p;
	size_t alloc;
};

/*
 * What one read of the tree reuses from file to file: SHA-256 fetched once
 * per source and one context (at 10,000 files, EVP_Digest()'s implicit
 * fetch and context for each file cost more than hashing their bytes), and
 * one buffer for the bytes (a malloc() per file cost more than reading it).
 */
struct fs_hash {
	EVP_MD *md;      /* the source's (fs_source.md), borrowed; NULL: no keys */
	EVP_MD_CTX *ctx; /* owned by the read */
	struct fs_buf buf; /* owned by the read */
	int dirfd;         /* the root, owned by the read; AT_FDCWD: open by full path */
};

static const char *content_key(struct fs_hash *h, const char *data, size_t len,
                               char out[CONTENT_KEY_SIZE])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!h->md)
		return NULL;
	if (!h->ctx || !EVP_DigestInit_ex2(h->ctx, h->md, NULL) ||
	    !EVP_DigestUpdate(h->ctx, data, len) || !EVP_DigestFinal_ex(h->ctx, md, &n) ||
	    n != SHA256_LEN)
		return NULL;
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n; i++) {
		out[7 + 2 * i] = "0123456789abcdef"[md[i] >> 4];
		out[8 + 2 * i] = "0123456789abcdef"[md[i] & 15];
	}
	out[7 + 2 * n] = '\0';
	return out;
}

struct fs_source {
	struct pacer_source base;
	char *root;
	EVP_MD *md; /* SHA-256, or NULL (then files have no key) */
};

struct dirid {
	dev_t dev;
	ino_t ino;
};

struct walk {
	const char *root;        /* as given, for messages and for opening */
	char *real_root;         /* realpath of the root */
	struct pacer_strvec paths; /* relative paths found */
	struct dirid *stack;     /* directories on the current path */
	size_t depth, stack_cap;
	struct pacer_error **err;
};

static int too_big(struct pacer_error **err, const char *path, size_t max)
{
	return pacer_error_set(err, PACER_EINVALID,
	                       "'%s' is more than the limit of %zu bytes: split it into smaller "
	                       "files",
	                       path, max);
}

/* b with room for at least want bytes (and the NUL). */
static int reserve(struct fs_buf *b, size_t want, const char *path, struct pacer_error **err)
{
	char *nb;

	if (b->p && b->alloc >= want)
		return 0;
	if (!(nb = realloc(b->p, want + 1)))
		return pacer_error_set(err, -1, "cannot read '%s': out of memory", path);
	b->p = nb;
	b->alloc = want;
	return 0;
}

/*
 * Double b's room, but never past max + 1 bytes: reading one byte more
 * than max is how a file that grew past its stat() size is caught. A
 * buffer already at that cap means "too big".
 */
static int grow(struct fs_buf *b, size_t max, const char *path, struct pacer_error **err)
{
	size_t nalloc = b->alloc * 2 > max + 1 ? max + 1 : b->alloc * 2;

	if (nalloc <= b->alloc)
		return too_big(err, path, max);
	return reserve(b, nalloc, path, err);
}

/* Read fd to its end into b (room for alloc bytes first); b stays the caller's. */
static int read_fd(int fd, const char *path, size_t max, size_t alloc, struct fs_buf *b,
                   size_t *len, struct pacer_error **err)
{
	size_t used = 0;
	int rc = reserve(b, alloc, path, err);

	while (rc == 0) {
		ssize_t n;

		if (used == b->alloc && (rc = grow(b, max, path, err)))
			break;
		n = read(fd, b->p + used, b->alloc - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = pacer_error_set(err, PACER_EIO, "cannot read '%s': %s", path,
			                     durable_strerror(errno));
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	if (rc == 0 && used > max)
		rc = too_big(err, path, max);
	if (rc)
		return rc;
	b->p[used] = '\0';
	*len = used;
	return 0;
}

char *fs_dir_dup(const char *dir)
{
	char *d = strdup(dir);
	size_t n = d ? strlen(d) : 0;

	while (n > 1 && d[n - 1] == '/')
		d[--n] = '\0';
	return d;
}

/*
 * fs_read_file() of name below directory dirfd (or AT_FDCWD) into b (the
 * caller's, also on error); path names it in messages.
 */
static int read_file_into(int dirfd, const char *name, const char *path, size_t max,
                          struct fs_buf *b, size_t *len, struct pacer_error **err)
{
	struct stat st;
	size_t alloc;
	int fd, rc;

	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return pacer_error_set(err, PACER_ENOTFOUND, "'%s' does not exist", path);
		return pacer_error_set(err, PACER_EIO, "cannot open '%s': %s", path,
		                       durable_strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = pacer_error_set(err, PACER_EIO, "cannot stat '%s': %s", path,
		                     durable_strerror(errno));
		goto done;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max) {
		rc = pacer_error_set(
		    err, PACER_EINVALID,
		    "'%s' is %lld bytes, more than the limit of %zu bytes: split it "
		    "into smaller files",
		    path, (long long)st.st_size, max);
		goto done;
	}
	/* The size may change while we read: never trust it beyond max. Pipes
	 * and other files without a size start small and grow. */
	alloc = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
	if (alloc > max + 1)
		alloc = max + 1;
	rc = read_fd(fd, path, max, alloc, b, len, err);
done:
	close(fd);
	return rc;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct pacer_error **err)
{
	struct fs_buf b = {NULL, 0};
	size_t ignored;
	int rc = read_file_into(AT_FDCWD, path, path, max, &b, len ? len : &ignored, err);

	*out = rc ? NULL : b.p;
	if (rc)
		free(b.p);
	return rc;
}

static int ends_with_json(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".json");
}

static char *join(const char *a, const char *b)
{
	char *s;

	if (!*a)
		return strdup(b);
	return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

static int oom(struct walk *w)
{
	return pacer_error_set(w->err, -1, "out of memory reading '%s'", w->root);
}

static int walk_dir(struct walk *w, const char *rel);

/* Enter directory rel (whose identity is st) unless it is already on the path. */
static int enter_dir(struct walk *w, const char *rel, const struct stat *st, const char *link)
{
	int rc;

	for (size_t i = 0; i < w->depth; i++) {
		if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino)
			return pacer_error_set(w->err, PACER_EINVALID,
			                       "'%s/%s' is a symlink loop (it points back to a "
			                       "directory that contains it): remove the link",
			                       w->root, link ? link : rel);
	}
	if (w->depth == w->stack_cap) {
		size_t ncap = w->stack_cap ? w->stack_cap * 2 : 16;
		struct dirid *ns = realloc(w->stack, ncap * sizeof(*ns));

		if (!ns)
			return oom(w);
		w->stack = ns;
		w->stack_cap = ncap;
	}
	w->stack[w->depth].dev = st->st_dev;
	w->stack[w->depth].ino = st->st_ino;
	w->depth++;
	rc = walk_dir(w, rel);
	w->depth--;
	return rc;
}

/*
 * What rel (at full, st being what it is or points to) is to the walk: a
 * directory to enter (via: the link it was reached by, or NULL), a
 * desired-state file to collect, or nothing.
 */
static int take(struct walk *w, const char *rel, const char *full, const char *name,
                const struct stat *st, const char *via)
{
	if (S_ISDIR(st->st_mode))
		return enter_dir(w, rel, st, via);
	if (!ends_with_json(name))
		return 0;
	if (!S_ISREG(st->st_mode))
		return pacer_error_set(
		    w->err, PACER_EINVALID,
		    "'%s' is not a regular file: a desired-state file must be one", full);
	return pacer_strvec_add(&w->paths, rel) < 0 ? oom(w) : 0;
}

/* A symlink rel: follow it when its target stays inside the root. */
static int follow_link(struct walk *w, const char *rel, const char *full, const char *name)
{
	char *target = realpath(full, NULL);
	size_t n = strlen(w->real_root);
	struct stat st;
	int rc = 0;

	if (!target) {
		if (errno == ENOENT)
			return pacer_error_set(
			    w->err, PACER_EINVALID,
			    "'%s' is a broken symlink (its target does not exist): "
			    "fix or remove it",
			    full);
		if (errno == ELOOP)
			return pacer_error_set(w->err, PACER_EINVALID,
			                       "'%s' is a symlink loop: remove the link", full);
		return pacer_error_set(w->err, PACER_EIO, "cannot resolve symlink '%s': %s", full,
		                       durable_strerror(errno));
	}
	/* "/" as root contains everything. */
	if (!(n == 1 ||
	      (!strncmp(target, w->real_root, n) && (target[n] == '/' || target[n] == '\0')))) {
		rc = pacer_error_set(w->err, PACER_EINVALID,
		                     "symlink '%s' points outside the source directory (to '%s'): "
		                     "pacer refuses to follow it; copy the file into '%s' instead",
		                     full, target, w->root);
		goto done;
	}
	if (stat(target, &st) < 0) {
		rc = pacer_error_set(w->err, PACER_EIO, "cannot stat '%s' (target of '%s'): %s",
		                     target, full, durable_strerror(errno));
		goto done;
	}
	rc = take(w, rel, full, name, &st, rel);
done:
	free(target);
	return rc;
}

/*
 * One directory entry `name` of dirpath (rel below the root): follow a
 * link, enter a directory, collect a "*.json" file.
 */
static int visit(struct walk *w, const char *dirpath, const char *rel, const struct dirent *de)
{
	const char *name = de->d_name;
	char *full, *sub;
	struct stat st;
	int rc = 0;

	/* A regular file is all the type says: "*.json" is collected, the rest
	 * needs no lstat() (thousands of them in a large tree). */
	if (de->d_type == DT_REG && !ends_with_json(name))
		return 0;
	full = join(dirpath, name);
	sub = join(rel, name);
	if (!full || !sub)
		rc = oom(w);
	else if (de->d_type == DT_REG)
		rc = pacer_strvec_add(&w->paths, sub) < 0 ? oom(w) : 0;
	else if (lstat(full, &st) < 0)
		rc = pacer_error_set(w->err, PACER_EIO, "cannot stat '%s': %s", full,
		                     durable_strerror(errno));
	else if (S_ISLNK(st.st_mode))
		rc = follow_link(w, sub, full, name);
	else
		rc = take(w, sub, full, name, &st, NULL);
	free(full);
	free(sub);
	return rc;
}

static int walk_dir(struct walk *w, const char *rel)
{
	char *dirpath = *rel ? join(w->root, rel) : strdup(w->root);
	DIR *dir = NULL;
	struct dirent *de;
	int rc = 0;

	if (!dirpath)
		return oom(w);
	dir = opendir(dirpath);
	if (!dir) {
		rc = pacer_error_set(w->err, PACER_EIO, "cannot read directory '%s': %s", dirpath,
		                     durable_strerror(errno));
		goto done;
	}
	while (rc == 0) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno)
				rc = pacer_error_set(w->err, PACER_EIO,
				                     "cannot read directory '%s': %s", dirpath,
				                     durable_strerror(errno));
			break;
		}
		/* Hidden: ".git", editor swap files, our own temp files; also "." and "..". */
		if (de->d_name[0] != '.')
			rc = visit(w, dirpath, rel, de);
	}
done:
	if (dir)
		closedir(dir);
	free(dirpath);
	return rc;
}

/* Read one file (full is its path, rel what the callback is told) and hand it over. */
static int hand_over(struct fs_hash *h, const char *full, const char *rel, pacer_source_file_cb cb,
                     void *ctx, struct pacer_error **err)
{
	char key[CONTENT_KEY_SIZE];
	size_t len;
	int rc = read_file_into(h->dirfd, h->dirfd == AT_FDCWD ? full : rel, full,
	                        FS_SOURCE_MAX_FILE, &h->buf, &len, err);

	if (rc == 0)
		rc = cb(ctx, rel, h->buf.p, len, content_key(h, h->buf.p, len, key));
	return rc;
}

static void walk_release(struct walk *w)
{
	pacer_strvec_release(&w->paths);
	free(w->stack);
	free(w->real_root);
}

/* Every "*.json" below the root (st is the root's), in strcmp order of their paths. */
static int read_tree(struct fs_source *fs, struct fs_hash *h, const struct stat *st,
                     pacer_source_file_cb cb, void *ctx, struct pacer_error **err)
{
	struct walk w = {.root = fs->root, .err = err};
	int rc;

	w.real_root = realpath(fs->root, NULL);
	if (!w.real_root) {
		rc = pacer_error_set(err, PACER_EIO, "cannot resolve source directory '%s': %s",
		                     fs->root, durable_strerror(errno));
		goto done;
	}
	rc = enter_dir(&w, "", st, NULL);
	if (rc != 0)
		goto done;
	pacer_strvec_normalize(&w.paths);
	/* Each file opened below the root, not from "/" again (path lookups cost). */
	h->dirfd = open(fs->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (h->dirfd < 0)
		h->dirfd = AT_FDCWD;
	for (size_t i = 0; i < w.paths.n && rc == 0; i++) {
		char *full = join(fs->root, w.paths.v[i]);

		rc = full ? hand_over(h, full, w.paths.v[i], cb, ctx, err) : oom(&w);
		free(full);
	}
done:
	walk_release(&w);
	return rc;
}

/* The root, a directory or a single file, through h. */
static int read_root(struct fs_source *fs, struct fs_hash *h, pacer_source_file_cb cb, void *ctx,
                     struct pacer_error **err)
{
	struct stat st;

	if (stat(fs->root, &st) < 0) {
		if (errno == ENOENT)
			return pacer_error_set(err, PACER_ENOTFOUND,
			                       "source directory '%s' does not exist: check the "
			                       "--source path",
			                       fs->root);
		return pacer_error_set(err, PACER_EIO, "cannot read source '%s': %s", fs->root,
		                       durable_strerror(errno));
	}
	/* A single file (pacer validate FILE) is read under the path it was given. */
	if (S_ISREG(st.st_mode))
		return hand_over(h, fs->root, fs->root, cb, ctx, err);
	if (!S_ISDIR(st.st_mode))
		return pacer_error_set(err, PACER_EINVALID,
		                       "source '%s' is neither a directory nor a file", fs->root);
	return read_tree(fs, h, &st, cb, ctx, err);
}

/* read(), with keys (SHA-256 of each file) or without. */
static int read_keyed(struct pacer_source *s, int keyed, pacer_source_file_cb cb, void *ctx,
                      struct pacer_error **err)
{
	struct fs_source *fs = (struct fs_source *)s;
	struct fs_hash h = {keyed ? fs->md : NULL, keyed ? EVP_MD_CTX_new() : NULL, {NULL, 0},
	                    AT_FDCWD};
	int rc = read_root(fs, &h, cb, ctx, err);

	if (h.dirfd != AT_FDCWD)
		close(h.dirfd);
	EVP_MD_CTX_free(h.ctx);
	free(h.buf.p);
	return rc;
}

static int fs_read(struct pacer_source *s, pacer_source_file_cb cb, void *ctx,
                   struct pacer_error **err)
{
	return read_keyed(s, 1, cb, ctx, err);
}

static int fs_read_unkeyed(struct pacer_source *s, pacer_source_file_cb cb, void *ctx,
                           struct pacer_error **err)
{
	return read_keyed(s, 0, cb, ctx, err);
}

static const char *fs_describe(struct pacer_source *s)
{
	return ((struct fs_source *)s)->root;
}

static const char *fs_revision(struct pacer_source *s)
{
	(void)s;
	return NULL;
}

static void fs_free(struct pacer_source *s)
{
	struct fs_source *fs = (struct fs_source *)s;

	free(fs->root);
	EVP_MD_free(fs->md);
	free(fs);
}

int fs_source_new(struct pacer_source **out, const char *dir, struct pacer_error **err)
{
	struct fs_source *fs = calloc(1, sizeof(*fs));

	*out = NULL;
	if (!fs || !(fs->root = fs_dir_dup(dir))) {
		free(fs);
		return pacer_error_set(err, -1, "out of memory");
	}
	fs->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	fs->base.read = fs_read;
	fs->base.read_unkeyed = fs_read_unkeyed;
	fs->base.describe = fs_describe;
	fs->base.revision = fs_revision;
	fs->base.free = fs_free;
	*out = &fs->base;
	return 0;
}
