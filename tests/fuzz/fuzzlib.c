/*
 * fuzzlib.c: helpers of the fuzz harnesses (fuzzlib.h).
 */
#include "tests/fuzz/fuzzlib.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fuzz_split(const uint8_t *data, size_t size, const char *sep, const char **a, size_t *alen,
               const char **b, size_t *blen)
{
	size_t n = strlen(sep);
	const char *p = size >= n ? memmem(data, size, sep, n) : NULL;

	*a = (const char *)data;
	if (!p) {
		*alen = size;
		*b = (const char *)data + size;
		*blen = 0;
		return 0;
	}
	*alen = (size_t)(p - (const char *)data);
	*b = p + n;
	*blen = size - *alen - n;
	return 1;
}

char *fuzz_strndup(const void *data, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		abort();
	if (len)
		memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

static char tmpdir[PATH_MAX];

static void remove_tmpdir(void)
{
	char cmd[PATH_MAX + 16];

	if (!tmpdir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", tmpdir);
}

const char *fuzz_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	if (tmpdir[0])
		return tmpdir;
	snprintf(tmpdir, sizeof(tmpdir), "%s/pacer-fuzz-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		abort();
	atexit(remove_tmpdir);
	return tmpdir;
}

void fuzz_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	while (len) {
		ssize_t w = write(fd, data, len);

		if (w <= 0)
			abort();
		data = (const char *)data + w;
		len -= (size_t)w;
	}
	close(fd);
}
