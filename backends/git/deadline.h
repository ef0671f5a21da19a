/*
 * deadline.h: a libgit2 network operation that cannot hang.
 *
 * libgit2 1.5 has no network timeout: a remote that accepts the connection
 * and never answers blocks recv() for ever, and a signal delivered to
 * another thread does not wake it. A deadline runs a watchdog thread beside
 * the operation. When no progress was seen for idle_s seconds, or *cancel
 * becomes non-zero (SIGTERM), the watchdog marks the deadline fired and
 * interrupts the operating thread with SIGURG (its handler does nothing and
 * is installed without SA_RESTART, so the blocking call fails with EINTR;
 * libgit2's socket and TLS streams then return an error), again every
 * 200 ms until the operation returns. The progress callbacks also stop the
 * operation once the deadline fired. SIGURG is otherwise ignored by
 * default, and nothing else in pacer uses it.
 */
#ifndef PACER_GITSRC_DEADLINE_H
#define PACER_GITSRC_DEADLINE_H

struct gitsrc__deadline;

enum gitsrc__deadline_state {
	GITSRC_DEADLINE_RUNNING = 0,
	GITSRC_DEADLINE_IDLE,      /* no progress for idle_s seconds */
	GITSRC_DEADLINE_CANCELLED, /* *cancel was set */
};

/*
 * Start watching the calling thread. idle_s <= 0 means only cancel counts.
 * cancel may be NULL. The caller owns the result and ends it with
 * gitsrc__deadline_stop() once the operation returned. Returns NULL when
 * out of memory or no thread could be started (the operation then runs
 * unguarded, as before; every function here accepts NULL).
 */
struct gitsrc__deadline *gitsrc__deadline_start(int idle_s, const volatile int *cancel);

/* Progress was seen: the idle time starts again. NULL-safe, thread-safe. */
void gitsrc__deadline_poke(struct gitsrc__deadline *d);

/* Whether and why it fired. NULL-safe, thread-safe. */
enum gitsrc__deadline_state gitsrc__deadline_state(struct gitsrc__deadline *d);

/* Stop the watchdog and free (after the operation returned). NULL-safe. */
void gitsrc__deadline_stop(struct gitsrc__deadline *d);

#endif
