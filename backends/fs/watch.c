/*
 * watch.c: inotify over a directory tree, and the debounce (see watch.h).
 *
 * Besides the tree, the watcher keeps "anchors": watches on the directory
 * holding the root (and, when the root is a symlink, on the directory
 * holding its target). A watch follows an inode, not a name, so once the
 * root is deleted, renamed away or a symlink to it switched elsewhere,
 * the tree's watches see nothing of the directory that now has the name:
 * only the anchor hears the name come back, and the root is then resolved
 * again by name and watched from scratch.
 */
#include "backends/fs/watch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reconcile/base/log.h"

/*
 * What we ask the kernel for. IN_CLOSE_WRITE says a save is complete;
 * IN_CREATE and IN_MODIFY without it yet say a file is still being
 * written (the sync must not read it half-way). IN_MOVED_TO is how most
 * editors save (write a temp file, rename it over the original).
 * IN_EXCL_UNLINK: no events for files already unlinked but still open.
 * Anchors use the same mask: a directory watched twice (an anchor that is
 * also in the tree) has one watch descriptor and one mask.
 */
#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |        \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_EXCL_UNLINK | IN_ONLYDIR)

/* While the root is gone, look for it this often (anchors tell sooner). */
#define LOST_ROOT_RETRY_MS 1000

struct dirwatch {
	int wd;
	char *path; /* the root as given, then "/name" per level; no trailing '/' */
};

/* A name in a directory that leads to the root; wd -1 when not watched. */
struct anchor {
	int wd;
	char *dir, *name;
};

/* A relevant file created or written and not closed yet. */
struct writer {
	char *path;
	long long last_ms; /* its latest IN_CREATE/IN_MODIFY */
};

struct fswatch {
	int fd;
	char *root;
	int root_lost;     /* the root is gone (deleted, renamed away, a dangling symlink) */
	int need_resolve;  /* something happened to the root's name or inode: look again */
	int root_dead;     /* the watched root was deleted: a new inode may reuse its number */
	dev_t root_dev;    /* the directory watched as the root */
	ino_t root_ino;
	struct anchor anchor[2]; /* [0] the root as given, [1] where its symlinks lead */
	struct dirwatch *v;
	size_t n, cap;
	struct writer *wr;
	size_t nwr, capwr;
};

static int has_json_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".json");
}

static struct dirwatch *find_wd(struct fswatch *w, int wd)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].wd == wd)
			return &w->v[i];
	return NULL;
}

static void forget_at(struct fswatch *w, size_t i)
{
	free(w->v[i].path);
	w->v[i] = w->v[--w->n];
}

static int under(const char *p, const char *path, size_t len)
{
	return !strncmp(p, path, len) && (p[len] == '\0' || p[len] == '/');
}

/* ---- files being written ---- */

/* What writer_forget() drops: the file itself, or everything below a directory. */
enum forget_scope {
	FORGET_FILE,
	FORGET_TREE,
};

static void writer_forget(struct fswatch *w, const char *path, enum forget_scope scope)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < w->nwr;) {
		if (scope == FORGET_TREE ? under(w->wr[i].path, path, len)
		                         : !strcmp(w->wr[i].path, path)) {
			free(w->wr[i].path);
			w->wr[i] = w->wr[--w->nwr];
		} else {
			i++;
		}
	}
}

static void writer_note(struct fswatch *w, const char *path)
{
	long long now = pacer_now_ms();
	struct writer *v;

	for (size_t i = 0; i < w->nwr; i++)
		if (!strcmp(w->wr[i].path, path)) {
			w->wr[i].last_ms = now;
			return;
		}
	if (w->nwr == w->capwr) {
		size_t cap = w->capwr ? w->capwr * 2 : 8;

		if (!(v = realloc(w->wr, cap * sizeof(*v))))
			return; /* then it is only not waited for */
		w->wr = v;
		w->capwr = cap;
	}
	if (!(w->wr[w->nwr].path = strdup(path)))
		return;
	w->wr[w->nwr++].last_ms = now;
}

/* Forget (and stop watching) `path` and everything below it. */
static void forget_tree(struct fswatch *w, const char *path)
{
	size_t len = strlen(path);

	writer_forget(w, path, FORGET_TREE);
	for (size_t i = 0; i < w->n;) {
		if (under(w->v[i].path, path, len)) {
			/* The kernel answers with IN_IGNORED, which finds nothing. */
			inotify_rm_watch(w->fd, w->v[i].wd);
			forget_at(w, i);
		} else {
			i++;
		}
	}
}

static int remember(struct fswatch *w, int wd, const char *path)
{
	struct dirwatch *d = find_wd(w, wd);
	char *copy = strdup(path);

	if (!copy)
		return -1;
	if (d) { /* the same directory under a new name (renamed, or a rescan) */
		free(d->path);
		d->path = copy;
		return 0;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct dirwatch *v = realloc(w->v, cap * sizeof(*v));

		if (!v) {
			free(copy);
			return -1;
		}
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n].wd = wd;
	w->v[w->n].path = copy;
	w->n++;
	return 0;
}

static int limit_error(struct pacer_error **err, const char *path, int e)
{
	if (e == ENOSPC)
		return pacer_error_set(
		    err, PACER_EIO,
		    "cannot watch %s: the inotify watch limit is reached; raise it "
		    "with 'sysctl fs.inotify.max_user_watches=524288'",
		    path);
	if (e == EMFILE)
		return pacer_error_set(err, PACER_EIO,
		                       "cannot watch %s: too many inotify instances; raise "
		                       "fs.inotify.max_user_instances",
		                       path);
	return pacer_error_set(err, PACER_EIO, "cannot watch %s: %s", path, strerror(e));
}

/*
 * The root is watched through symlinks (the user named it); below it a
 * symlinked directory is not followed, as the source does not watch what
 * it would refuse to read.
 */
enum tree_kind {
	TREE_ROOT,
	TREE_BELOW,
};

/* Deeper than this is a loop or a mistake: such a tree is watched down to here. */
#define MAX_WATCH_DEPTH 64

/*
 * Whether the entry de (at path) is a directory, not following symlinks:
 * 1 yes, 0 no, -1 gone already.
 */
static int entry_is_dir(const struct dirent *de, const char *path)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	/* Some file systems (XFS without ftype, some FUSE) leave d_type unset. */
	if (lstat(path, &st))
		return -1;
	return S_ISDIR(st.st_mode);
}

static int add_tree(struct fswatch *w, const char *path, enum tree_kind kind, int depth,
                    int *found_json, struct pacer_error **err);

/* Watch every directory below the (already watched) dir; set *found_json as add_tree(). */
static int add_children(struct fswatch *w, DIR *dir, const char *path, int depth, int *found_json,
                        struct pacer_error **err)
{
	struct dirent *de;
	int ret = 0;

	while (!ret && (de = readdir(dir))) {
		char child[PATH_MAX];
		int isdir;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >= (int)sizeof(child))
			continue;
		isdir = entry_is_dir(de, child);
		if (isdir > 0)
			ret = add_tree(w, child, TREE_BELOW, depth + 1, found_json, err);
		else if (isdir == 0 && has_json_suffix(de->d_name))
			*found_json = 1;
	}
	return ret;
}

/*
 * Watch `path` and the directories below it; set *found_json when any
 * relevant file exists there. The watch is added before the directory is
 * read, so a file created in between is either seen by the scan or
 * reported by an event (possibly both, which is harmless).
 */
static int add_tree(struct fswatch *w, const char *path, enum tree_kind kind, int depth,
                    int *found_json, struct pacer_error **err)
{
	DIR *dir = NULL;
	int wd, ret;

	if (depth > MAX_WATCH_DEPTH) {
		PLOG_WARN("watch: %s is nested more than %d levels deep; not watching below it",
		          path, MAX_WATCH_DEPTH);
		return 0;
	}
	wd = inotify_add_watch(w->fd, path, WATCH_MASK | (kind == TREE_ROOT ? 0 : IN_DONT_FOLLOW));
	if (wd < 0) {
		if (kind == TREE_BELOW && (errno == ENOENT || errno == ENOTDIR))
			return 0; /* gone again already, or a symlink: nothing to watch */
		return limit_error(err, path, errno);
	}
	if (remember(w, wd, path))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	dir = opendir(path);
	if (!dir) {
		if (kind == TREE_BELOW && errno == ENOENT)
			return 0;
		return pacer_error_set(err, PACER_EIO, "cannot read directory %s: %s", path,
		                       strerror(errno));
	}
	ret = add_children(w, dir, path, depth, found_json, err);
	closedir(dir);
	return ret;
}

/* ---- anchors: the root's name in its parent directory ---- */

static int wd_in_use(const struct fswatch *w, int wd, const struct anchor *except)
{
	for (size_t i = 0; i < 2; i++)
		if (&w->anchor[i] != except && w->anchor[i].wd == wd)
			return 1;
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].wd == wd)
			return 1;
	return 0;
}

static void anchor_clear(struct fswatch *w, struct anchor *a)
{
	if (a->wd >= 0 && !wd_in_use(w, a->wd, a))
		inotify_rm_watch(w->fd, a->wd);
	a->wd = -1;
	free(a->dir);
	free(a->name);
	a->dir = a->name = NULL;
}

/*
 * Watch the directory holding `path` for its last component. None for a
 * path whose last component cannot be replaced by name ("/", ".", "..").
 */
static void anchor_set(struct fswatch *w, struct anchor *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	int wd;

	if (!dir || !*name || !strcmp(name, ".") || !strcmp(name, "..")) {
		free(dir);
		anchor_clear(w, a);
		return;
	}
	wd = inotify_add_watch(w->fd, dir, WATCH_MASK);
	if (wd < 0)
		PLOG_DEBUG("watch: cannot watch %s for %s coming back: %s", dir, name,
		           strerror(errno));
	if (a->wd >= 0 && a->wd != wd && !wd_in_use(w, a->wd, a))
		inotify_rm_watch(w->fd, a->wd);
	free(a->dir);
	free(a->name);
	a->wd = wd;
	a->dir = dir;
	a->name = strdup(name);
}

/* Anchor the root's name, and its symlinks' target when that is elsewhere. */
static void anchors_update(struct fswatch *w)
{
	char *real = realpath(w->root, NULL);
	struct anchor *a0 = &w->anchor[0];

	anchor_set(w, a0, w->root);
	if (real && a0->name) {
		const char *slash = strrchr(real, '/');

		/* The same directory entry (no symlink on the way): one anchor is enough. */
		if (slash && !strcmp(slash + 1, a0->name) && a0->wd >= 0) {
			char *dir = strndup(real, slash == real ? 1 : (size_t)(slash - real));
			struct stat s1, s2;
			int same = dir && !stat(dir, &s1) && !stat(a0->dir, &s2) &&
			           s1.st_dev == s2.st_dev && s1.st_ino == s2.st_ino;

			free(dir);
			if (same) {
				anchor_clear(w, &w->anchor[1]);
				free(real);
				return;
			}
		}
	}
	if (real)
		anchor_set(w, &w->anchor[1], real);
	else
		anchor_clear(w, &w->anchor[1]);
	free(real);
}

/*
 * Look at the root by name again: gone (forget its watches), back or now
 * another directory (watch it from scratch). Sets *changed and *overflow
 * when what the root holds may differ from before: everything must be
 * read again.
 */
static int resolve_root(struct fswatch *w, int *changed, int *overflow, struct pacer_error **err)
{
	struct stat st;
	int found = 0, was_lost = w->root_lost, ret = 0;

	w->need_resolve = 0;
	if (stat(w->root, &st) || !S_ISDIR(st.st_mode)) {
		if (!w->root_lost) {
			PLOG_WARN("watch: %s is gone (deleted, renamed or a dangling link); "
			          "resyncing, and watching it again when it is back",
			          w->root);
			forget_tree(w, w->root);
			w->root_lost = 1;
			*changed = *overflow = 1;
		}
		anchors_update(w); /* the parents may be back before the root is */
		return 0;
	}
	/* The same directory (a symlink replaced by an equal one, or renamed
	 * away and back): its watches never stopped. Not when it was deleted:
	 * rm -rf apps && mkdir apps may give the new one the old inode number. */
	if (!w->root_lost && !w->root_dead && st.st_dev == w->root_dev &&
	    st.st_ino == w->root_ino)
		return 0;
	w->root_dead = 0;
	forget_tree(w, w->root);
	w->root_dev = st.st_dev;
	w->root_ino = st.st_ino;
	w->root_lost = 0;
	ret = add_tree(w, w->root, TREE_ROOT, 0, &found, err);
	if (ret) {
		forget_tree(w, w->root);
		w->root_lost = 1; /* try again on the next read */
	} else {
		PLOG_INFO("watch: %s %s; watching it again (%zu directories) and resyncing",
		          w->root, was_lost ? "is back" : "is now another directory", w->n);
	}
	anchors_update(w);
	*changed = *overflow = 1;
	return ret;
}

int fswatch_new(struct fswatch **out, const char *dir, struct pacer_error **err)
{
	struct fswatch *w = NULL;
	struct stat st;
	int found = 0, ret = 0;
	size_t len;

	*out = NULL;
	if (stat(dir, &st))
		return pacer_error_set(err, errno == ENOENT ? PACER_ENOTFOUND : PACER_EIO,
		                       "cannot watch %s: %s; check --source", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pacer_error_set(err, PACER_EINVALID,
		                       "cannot watch %s: not a directory; --source must name the "
		                       "folder holding the definitions",
		                       dir);
	w = calloc(1, sizeof(*w));
	if (w)
		w->fd = w->anchor[0].wd = w->anchor[1].wd = -1;
	if (!w || !(w->root = strdup(dir))) {
		ret = pacer_error_set(err, PACER_EGENERIC, "out of memory");
		goto done;
	}
	len = strlen(w->root);
	while (len > 1 && w->root[len - 1] == '/')
		w->root[--len] = '\0';
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		ret = limit_error(err, dir, errno);
		goto done;
	}
	w->root_dev = st.st_dev;
	w->root_ino = st.st_ino;
	ret = add_tree(w, w->root, TREE_ROOT, 0, &found, err);
	if (ret)
		goto done;
	anchors_update(w);
	PLOG_DEBUG("watch: %s: %zu directories watched", w->root, w->n);
	*out = w;
	w = NULL;
done:
	fswatch_free(w);
	return ret;
}

int fswatch_fd(struct fswatch *w)
{
	return w->fd;
}

int fswatch_count(const struct fswatch *w)
{
	return (int)w->n;
}

int fswatch_timeout_ms(const struct fswatch *w)
{
	/* Also with anchors: they may be gone with the root, or watching it
	 * again may have failed (the watch limit) and need another try. */
	return w->root_lost ? LOST_ROOT_RETRY_MS : -1;
}

size_t fswatch_writing(const struct fswatch *w, long long *latest_ms, const char **path)
{
	size_t latest = 0;

	for (size_t i = 1; i < w->nwr; i++)
		if (w->wr[i].last_ms > w->wr[latest].last_ms)
			latest = i;
	if (latest_ms)
		*latest_ms = w->nwr ? w->wr[latest].last_ms : 0;
	if (path)
		*path = w->nwr ? w->wr[latest].path : NULL;
	return w->nwr;
}

/* An event on an anchor: the root's name came, went or was replaced. */
static void handle_anchor(struct fswatch *w, const struct inotify_event *ev)
{
	for (size_t i = 0; i < 2; i++) {
		struct anchor *a = &w->anchor[i];

		if (a->wd != ev->wd)
			continue;
		if (ev->mask & IN_IGNORED)
			a->wd = -1;
		if ((ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) ||
		    (ev->len && a->name && !strcmp(ev->name, a->name)))
			w->need_resolve = 1;
	}
}

/*
 * A new regular file is being written until it is closed; a hard link or
 * a symlink made with that name is complete at once.
 */
static int is_being_written(const char *path)
{
	struct stat st;

	return !lstat(path, &st) && S_ISREG(st.st_mode) && st.st_nlink == 1;
}

static void handle_dir(struct fswatch *w, const struct inotify_event *ev, const char *path,
                       int *changed, int *overflow)
{
	struct pacer_error *e = NULL;
	int found = 0;

	if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
		/* We cannot know whether it held definitions any more: assume so. */
		*changed = 1;
		forget_tree(w, path);
	}
	if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
		if (add_tree(w, path, TREE_BELOW, 1, &found, &e)) {
			PLOG_WARN("watch: %s", e->message);
			pacer_error_free(e);
			*overflow = 1; /* part of the tree is unwatched: resync to be safe */
		}
		if (found)
			*changed = 1;
	}
}

static void handle_file(struct fswatch *w, const struct inotify_event *ev, const char *path,
                        int *changed)
{
	if (!has_json_suffix(ev->name))
		return;
	if (ev->mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))
		writer_forget(w, path, FORGET_FILE);
	else if ((ev->mask & IN_MODIFY) || ((ev->mask & IN_CREATE) && is_being_written(path)))
		writer_note(w, path);
	*changed = 1;
}

static void handle(struct fswatch *w, const struct inotify_event *ev, int *changed, int *overflow,
                   int *need_rescan)
{
	struct dirwatch *d;
	char path[PATH_MAX];

	if (ev->mask & IN_Q_OVERFLOW) {
		PLOG_WARN("watch: %s: the inotify queue overflowed; resyncing everything", w->root);
		*overflow = 1;
		*need_rescan = 1;
		w->need_resolve = 1; /* the root's own events may be among the lost ones */
		return;
	}
	handle_anchor(w, ev);
	d = find_wd(w, ev->wd);
	if (!d)
		return;
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
		/* The root: look at its name again once the batch is read. A
		 * subdirectory: its parent reports the same change by name. */
		if (!strcmp(d->path, w->root)) {
			w->need_resolve = 1;
			w->root_dead |= !(ev->mask & IN_MOVE_SELF);
		}
		if (ev->mask & IN_IGNORED)
			forget_at(w, (size_t)(d - w->v));
		return;
	}
	if (!ev->len || ev->name[0] == '.')
		return;
	if (snprintf(path, sizeof(path), "%s/%s", d->path, ev->name) >= (int)sizeof(path))
		return;
	if (ev->mask & IN_ISDIR)
		handle_dir(w, ev, path, changed, overflow);
	else
		handle_file(w, ev, path, changed);
}

int fswatch_read(struct fswatch *w, int *changed, int *overflow, struct pacer_error **err)
{
	/* Aligned as the inotify man page asks. */
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int need_rescan = 0, found = 0, ret = 0;

	*changed = 0;
	*overflow = 0;
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return pacer_error_set(err, PACER_EIO,
			                       "cannot read inotify events for %s: %s", w->root,
			                       strerror(errno));
		}
		if (n == 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			handle(w, ev, changed, overflow, &need_rescan);
			p += sizeof(struct inotify_event) + ev->len;
		}
	}
	/* A lost root is looked for on every read: an anchor may not exist. */
	if (w->need_resolve || w->root_lost)
		ret = resolve_root(w, changed, overflow, err);
	if (!ret && need_rescan && !w->root_lost) /* watch what the lost events created */
		ret = add_tree(w, w->root, TREE_ROOT, 0, &found, err);
	if (*overflow)
		*changed = 1;
	return ret;
}

void fswatch_free(struct fswatch *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < 2; i++) {
		free(w->anchor[i].dir);
		free(w->anchor[i].name);
	}
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].path);
	for (size_t i = 0; i < w->nwr; i++)
		free(w->wr[i].path);
	free(w->wr);
	free(w->v);
	free(w->root);
	free(w);
}

/* ---- debounce ---- */

void debounce_init(struct debounce *d, long long delay_ms)
{
	memset(d, 0, sizeof(*d));
	d->delay_ms = delay_ms < 0 ? 0 : delay_ms;
	d->max_wait_ms = d->delay_ms * 10 < 1000 ? 1000 : d->delay_ms * 10;
}

void debounce_set_max_wait(struct debounce *d, long long max_wait_ms)
{
	d->max_wait_ms = max_wait_ms;
}

void debounce_note(struct debounce *d, long long now_ms)
{
	if (!d->pending) {
		d->pending = 1;
		d->first_ms = now_ms;
	}
	d->last_ms = now_ms;
}

static long long due_at(const struct debounce *d)
{
	long long quiet = d->last_ms + d->delay_ms, cap = d->first_ms + d->max_wait_ms;

	return d->max_wait_ms < 0 || quiet < cap ? quiet : cap;
}

int debounce_due(struct debounce *d, long long now_ms)
{
	if (!d->pending || now_ms < due_at(d))
		return 0;
	d->pending = 0;
	return 1;
}

int debounce_timeout_ms(const struct debounce *d, long long now_ms)
{
	long long t;

	if (!d->pending)
		return -1;
	t = due_at(d) - now_ms;
	if (t < 0)
		return 0;
	return t > INT_MAX ? INT_MAX : (int)t;
}
