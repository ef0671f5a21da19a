/*
 * watch.h: notice changes to the desired-state files of a directory tree
 * (inotify), and a debounce helper that turns a burst of changes into one
 * sync.
 *
 * The watcher only answers "did anything that matters change?"; it never
 * says what. The watch command then re-reads the whole source (cheap next
 * to a Marathon round trip) so nothing can be missed or applied out of
 * order. What matters: *.json files that are not hidden, and directories
 * (which may hold such files). Editors' temporary and backup files
 * (.foo.json.swp, foo.json~, 4913) and hidden folders (.git) are ignored.
 *
 * The root is followed by name: when the directory is deleted, renamed
 * away or replaced (rm -rf apps && cp -r new apps; mv apps old && mv next
 * apps), or a symlinked root is switched to another target (ln -sfn t
 * link.tmp && mv -T link.tmp link), the watcher notices through a watch on
 * the directory holding the root's name (and on the one holding its
 * symlink's target), watches whatever has the name now from scratch and
 * reports an overflow: everything must be read again. Only the root's last
 * component is followed so; a parent directory replaced above it is not.
 *
 * It also knows which relevant files are still being written (created or
 * written to, not yet closed), so that the caller does not read one
 * half-way: fswatch_writing().
 *
 * Usage from an event loop (cmd/pacer watch):
 *
 *   fswatch_new(&w, dir, &err);
 *   debounce_init(&d, 500);
 *   loop:
 *     poll({fswatch_fd(w), POLLIN}, min(debounce_timeout_ms(&d, now),
 *                                       fswatch_timeout_ms(w)));
 *     if readable or fswatch_timeout_ms() passed:
 *                  fswatch_read(w, &changed, &overflow, &err);
 *                  if (changed || overflow) debounce_note(&d, now);
 *     if (debounce_due(&d, now) && !fswatch_writing(w, ...)) sync();
 *
 * Threads: a watcher belongs to one thread.
 */
#ifndef PACER_FSWATCH_H
#define PACER_FSWATCH_H

#include <stddef.h>

#include "reconcile/base/clock.h" /* pacer_now_ms(): the clock of every time below */
#include "reconcile/base/error.h"

struct fswatch;

/*
 * Watch `dir` and every non-hidden directory below it (symlinks to
 * directories are not followed, except `dir` itself). Returns 0 and *out
 * (free with fswatch_free()), or PACER_ENOTFOUND when dir does not exist,
 * PACER_EINVALID when it is not a directory, PACER_EIO when inotify fails
 * (the message says how to raise fs.inotify.max_user_watches /
 * max_user_instances when those limits are hit).
 */
int fswatch_new(struct fswatch **out, const char *dir, struct pacer_error **err);

/* The inotify descriptor, to poll() for POLLIN. Non-blocking, close-on-exec. */
int fswatch_fd(struct fswatch *w);

/*
 * Drain every pending event without blocking. Sets *changed = 1 when a
 * relevant file or directory was created, written, renamed in or out, or
 * deleted, else 0. New directories are watched at once and rescanned, so
 * files written into them before the watch existed still count (mkdir -p
 * a/b && echo > a/b/x.json). Sets *overflow = 1 (and *changed) when the
 * kernel queue overflowed (IN_Q_OVERFLOW), or the root went away, came
 * back or now names another directory: events were lost or the whole
 * content may differ, so the caller must resync everything; the watcher
 * rescans the tree itself. While the root is gone, call this again after
 * fswatch_timeout_ms() even without events.
 * Returns 0, PACER_EIO when reading inotify fails, or the error of
 * watching a root that came back (it is tried again on the next read;
 * watches that cannot be added for new subdirectories are logged, not
 * fatal).
 */
int fswatch_read(struct fswatch *w, int *changed, int *overflow, struct pacer_error **err);

/*
 * -1 normally; while the root is gone, the milliseconds after which
 * fswatch_read() should be called even if the descriptor stays quiet (the
 * directories that would tell when it is back may be gone with it).
 */
int fswatch_timeout_ms(const struct fswatch *w);

/*
 * How many relevant files are being written now: created or written to
 * (IN_CREATE, IN_MODIFY) and not yet closed after writing (IN_CLOSE_WRITE),
 * deleted or renamed. A file made as a hard link or a symlink is complete
 * at once. *latest_ms (may be NULL; pacer_now_ms() clock) gets the time
 * of the latest write among them, *path (may be NULL; borrowed until the
 * next fswatch_read()) that file. A writer that keeps a file open for ever
 * stays counted: the caller decides how long to wait (e.g. until no write
 * came for a while).
 */
size_t fswatch_writing(const struct fswatch *w, long long *latest_ms, const char **path);

/* How many directories are watched now (for tests and the debug log). */
int fswatch_count(const struct fswatch *w);

/* Stop watching and free. NULL is a no-op. */
void fswatch_free(struct fswatch *w);

/*
 * Debounce: wait until changes have stopped for `delay_ms`, but never more
 * than `max_wait_ms` after the first change of a burst (so a file rewritten
 * every 100 ms still gets synced). Pure arithmetic on a caller-given
 * monotonic clock in milliseconds: tests pass a fake one. A plain value;
 * no release needed.
 */
struct debounce {
	long long delay_ms;
	long long max_wait_ms; /* < 0: no cap */
	int pending;        /* a change was noted and has not fired yet */
	long long first_ms; /* when the pending burst began */
	long long last_ms;  /* the latest change of the burst */
};

/* delay_ms >= 0; max_wait_ms = 10 * delay_ms (at least 1 s). */
void debounce_init(struct debounce *d, long long delay_ms);

/*
 * Change the cap; max_wait_ms < 0: none, a burst fires only once quiet
 * (pacer watch --prune: a sync of a half-written picture would delete apps).
 */
void debounce_set_max_wait(struct debounce *d, long long max_wait_ms);

/* A change happened at now_ms. */
void debounce_note(struct debounce *d, long long now_ms);

/*
 * 1 when a burst is pending and quiet for delay_ms (or, with a cap,
 * max_wait_ms passed since it began); firing clears it, so each burst fires once. 0 otherwise.
 */
int debounce_due(struct debounce *d, long long now_ms);

/* Milliseconds until debounce_due() would fire (0 if now), or -1 when nothing is pending. */
int debounce_timeout_ms(const struct debounce *d, long long now_ms);

#endif
