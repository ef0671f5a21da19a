#include "backends/fs/watch.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reconcile/log.h"

/*
 * What we ask the kernel for. IN_CLOSE_WRITE rather than IN_MODIFY: one
 * event per save instead of one per write(). IN_MOVED_TO is how most
 * editors save (write a temp file, rename it over the original).
 * IN_EXCL_UNLINK: no events for files already unlinked but still open.
 */
#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF |   \
	 IN_MOVE_SELF | IN_EXCL_UNLINK | IN_ONLYDIR)

struct dirwatch {
	int wd;
	char *path; /* absolute, no trailing '/' */
};

struct fswatch {
	int fd;
	char *root;
	int root_lost; /* the root directory was deleted or moved away */
	struct dirwatch *v;
	size_t n, cap;
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

/* Forget (and stop watching) `path` and everything below it. */
static void forget_tree(struct fswatch *w, const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < w->n;) {
		const char *p = w->v[i].path;

		if (!strncmp(p, path, len) && (p[len] == '\0' || p[len] == '/')) {
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
 * Watch `path` and the directories below it; set *found_json when any
 * relevant file exists there. The watch is added before the directory is
 * read, so a file created in between is either seen by the scan or
 * reported by an event (possibly both, which is harmless).
 */
static int add_tree(struct fswatch *w, const char *path, int is_root, int depth, int *found_json,
                    struct pacer_error **err)
{
	DIR *dir = NULL;
	struct dirent *de;
	int wd, ret = 0;

	if (depth > 64) {
		PLOG_WARN("watch: %s is nested more than 64 levels deep; not watching below it",
		          path);
		return 0;
	}
	wd = inotify_add_watch(w->fd, path, WATCH_MASK | (is_root ? 0 : IN_DONT_FOLLOW));
	if (wd < 0) {
		if (!is_root && (errno == ENOENT || errno == ENOTDIR))
			return 0; /* gone again already, or a symlink: nothing to watch */
		return limit_error(err, path, errno);
	}
	if (remember(w, wd, path))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	dir = opendir(path);
	if (!dir) {
		if (!is_root && errno == ENOENT)
			return 0;
		return pacer_error_set(err, PACER_EIO, "cannot read directory %s: %s", path,
		                       strerror(errno));
	}
	while ((de = readdir(dir))) {
		char child[PATH_MAX];
		int isdir;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >= (int)sizeof(child))
			continue;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;

			if (lstat(child, &st))
				continue;
			isdir = S_ISDIR(st.st_mode);
		} else {
			isdir = de->d_type == DT_DIR;
		}
		if (isdir) {
			ret = add_tree(w, child, 0, depth + 1, found_json, err);
			if (ret)
				break;
		} else if (has_json_suffix(de->d_name)) {
			*found_json = 1;
		}
	}
	closedir(dir);
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
		w->fd = -1;
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
	ret = add_tree(w, w->root, 1, 0, &found, err);
	if (ret)
		goto done;
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

/* Start over from the root: after an overflow or when the root came back. */
static int rescan(struct fswatch *w, struct pacer_error **err)
{
	int found = 0;

	if (w->root_lost) {
		if (access(w->root, F_OK))
			return 0; /* still gone: try again on the next read */
		w->root_lost = 0;
	}
	return add_tree(w, w->root, 1, 0, &found, err);
}

static void handle(struct fswatch *w, const struct inotify_event *ev, int *changed, int *overflow,
                   int *need_rescan)
{
	struct dirwatch *d;
	char path[PATH_MAX];
	int found = 0;
	struct pacer_error *e = NULL;

	if (ev->mask & IN_Q_OVERFLOW) {
		PLOG_WARN("watch: %s: the inotify queue overflowed; resyncing everything", w->root);
		*overflow = 1;
		*need_rescan = 1;
		return;
	}
	d = find_wd(w, ev->wd);
	if (!d)
		return;
	if (ev->mask & IN_IGNORED) {
		forget_at(w, (size_t)(d - w->v));
		return;
	}
	if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
		if (!strcmp(d->path, w->root)) {
			PLOG_WARN("watch: %s was deleted or moved away; resyncing, and watching it "
			          "again when it is back",
			          w->root);
			*overflow = 1;
			*changed = 1;
			w->root_lost = 1;
			forget_tree(w, w->root);
		}
		/* A subdirectory: its parent reports the same change by name. */
		return;
	}
	if (!ev->len || ev->name[0] == '.')
		return;
	if (ev->mask & IN_ISDIR) {
		if (snprintf(path, sizeof(path), "%s/%s", d->path, ev->name) >= (int)sizeof(path))
			return;
		if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
			/* We cannot know whether it held definitions any more: assume so. */
			*changed = 1;
			forget_tree(w, path);
		}
		if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			if (add_tree(w, path, 0, 1, &found, &e)) {
				PLOG_WARN("watch: %s", e->message);
				pacer_error_free(e);
				*overflow =
				    1; /* part of the tree is unwatched: resync to be safe */
			}
			if (found)
				*changed = 1;
		}
		return;
	}
	if (has_json_suffix(ev->name) &&
	    (ev->mask & (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)))
		*changed = 1;
}

int fswatch_read(struct fswatch *w, int *changed, int *overflow, struct pacer_error **err)
{
	/* Aligned as the inotify man page asks. */
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	int need_rescan = w->root_lost;

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
	if (need_rescan) {
		int was_lost = w->root_lost, ret = rescan(w, err);

		if (ret)
			return ret;
		if (was_lost && !w->root_lost) {
			*changed = 1;
			*overflow = 1;
		}
		if (*overflow)
			*changed = 1;
	}
	return 0;
}

void fswatch_free(struct fswatch *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].path);
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

	return quiet < cap ? quiet : cap;
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

long long debounce_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
