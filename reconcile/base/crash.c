/*
 * crash.c: the crash points of crash.h.
 *
 * The armed name is kept in a static buffer set once before any thread
 * starts; the hit counter is atomic because applies run on several
 * threads and a test names "the second hit" to crash in the middle of a
 * run rather than at its first app.
 */
#include "reconcile/base/crash.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char armed[64];
static long armed_hit = 1;
static atomic_long hits;

int crash_init(const char *spec)
{
	armed[0] = '\0';
	if (!spec || !*spec)
		return 0;
#ifndef PACER_CRASH_POINTS
	return -1;
#else
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);

	if (!len || len >= sizeof(armed))
		return -1;
	if (colon) {
		char *end;

		armed_hit = strtol(colon + 1, &end, 10);
		if (*end || armed_hit < 1)
			return -1;
	}
	memcpy(armed, spec, len);
	armed[len] = '\0';
	return 0;
#endif
}

void crash__point(const char *name)
{
	char line[128];
	int n;

	if (!armed[0] || strcmp(name, armed))
		return;
	if (atomic_fetch_add(&hits, 1) + 1 != armed_hit)
		return;
	/* write(2), not stdio: nothing buffered may be lost or flushed twice. */
	n = snprintf(line, sizeof(line), "pacer: crash point %s reached\n", name);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		line[0] = '\0';
	kill(getpid(), SIGKILL);
	pause();
}
