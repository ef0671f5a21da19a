/*
 * filestamp.c: has a file changed since the last look (filestamp.h)?
 *
 * One stat(2) per look: cheap enough for a loop tick. A stamp compares as
 * a string so that "absent" (empty) needs no flag of its own.
 */
#include "cmd/pacer/filestamp.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int filestamp_changed(const char *path, struct filestamp *st)
{
	char now[FILESTAMP_MAX] = "";
	struct stat sb;

	if (!path)
		return 0;
	if (!stat(path, &sb))
		snprintf(now, sizeof(now), "%lld.%09ld:%lld:%llu", (long long)sb.st_mtim.tv_sec,
		         sb.st_mtim.tv_nsec, (long long)sb.st_size, (unsigned long long)sb.st_ino);
	if (!strcmp(now, st->sig))
		return 0;
	memcpy(st->sig, now, sizeof(now));
	return 1;
}
