/*
 * replay.c: the main() of a fuzz harness built without libFuzzer (gcc, or a
 * clang without it): runs LLVMFuzzerTestOneInput once on every file named
 * on the command line, directories read recursively in name order. A
 * crash, a sanitizer report or a leak fails the run, as under libFuzzer;
 * nothing is mutated. Prints how many inputs ran.
 */
#include "tests/fuzz/fuzzlib.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path, size_t *count)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		perror(path);
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	(*count)++;
	return 0;
}

static int run_path(const char *path, size_t *count);

static int run_dir(const char *path, size_t *count)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, alphasort), rc = 0;

	if (n < 0) {
		perror(path);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char sub[PATH_MAX];

		if (ents[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path, ents[i]->d_name);
			if (run_path(sub, count))
				rc = -1;
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int run_path(const char *path, size_t *count)
{
	struct stat st;

	if (stat(path, &st)) {
		perror(path);
		return -1;
	}
	return S_ISDIR(st.st_mode) ? run_dir(path, count) : run_file(path, count);
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue; /* libFuzzer flags: nothing to do here */
		if (run_path(argv[i], &count))
			rc = 1;
	}
	printf("%s: %zu inputs replayed\n", argc ? argv[0] : "replay", count);
	return rc;
}
