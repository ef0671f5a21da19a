/*
 * filestamp.h: has a file changed since the last look? Both front ends of
 * the runner (watch, serve) look at <state-dir>/suspended.json this way,
 * so that `pacer suspend` and `pacer resume` take effect at once rather
 * than at the next resync.
 *
 * A stamp is the file's mtime (nanoseconds), size and inode: a rewrite by
 * rename (a new inode) is seen even within the mtime's resolution. A file
 * that is absent has the empty stamp, so its appearance and its removal
 * are changes too. Caller-owned values; nothing to free.
 */
#ifndef PACER_CMD_FILESTAMP_H
#define PACER_CMD_FILESTAMP_H

/* "<mtime s>.<ns>:<size>:<inode>" fits with room to spare. */
#define FILESTAMP_MAX 96

struct filestamp {
	char sig[FILESTAMP_MAX]; /* "" = absent, or not looked at yet */
};
#define FILESTAMP_INIT                                                                             \
	{                                                                                          \
		.sig = ""                                                                          \
	}

/*
 * Look at path (borrowed; NULL: never changed) and remember what was seen.
 * Returns 1 when it differs from the stamp's last look, else 0.
 */
int filestamp_changed(const char *path, struct filestamp *st);

#endif
