/*
 * fuzz_knownhosts: a known_hosts file, which any user or tool may have
 * written, through the host key check of the git source
 * (backends/git/knownhosts.c): both checks (the key, its SHA-1), for a host
 * and key taken from the file's first line (so the "listed" paths are
 * reached) and for a fixed host, plus the base64 decoder on every field.
 * The input is the file.
 */
#include "backends/git/knownhosts.h"
#include "tests/fuzz/fuzzlib.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Host, port and key of the first line ("host[,...] type base64"), into the caller's buffers. */
static void first_entry(const char *text, char host[256], int *port, unsigned char **key,
                        size_t *key_len)
{
	char line[1024], *save = NULL, *f1, *f3;
	size_t n = strcspn(text, "\n");

	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, text, n);
	line[n] = '\0';
	f1 = strtok_r(line, " \t", &save);
	if (f1 && f1[0] == '@')
		f1 = strtok_r(NULL, " \t", &save);
	strtok_r(NULL, " \t", &save);
	f3 = strtok_r(NULL, " \t", &save);
	*port = 22;
	snprintf(host, 256, "%s", f1 ? f1 : "example.org");
	host[strcspn(host, ",")] = '\0';
	if (host[0] == '[' && strchr(host, ']')) {
		char *close = strchr(host, ']');

		if (close[1] == ':')
			*port = atoi(close + 2);
		*close = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if (!f3 || gitsrc__base64_decode(f3, strlen(f3), key, key_len)) {
		*key = NULL;
		*key_len = 0;
	}
}

static void check_both(const char *path, const char *host, int port, const unsigned char *key,
                       size_t key_len)
{
	unsigned char sha1[GITSRC_SHA1_LEN];
	struct pacer_error *err = NULL;

	gitsrc_knownhosts_check(path, host, port, key, key_len, "SHA256:fuzz", &err);
	pacer_error_clear(&err);
	gitsrc__sha1(key, key_len, sha1);
	gitsrc_knownhosts_check_sha1(path, host, port, sha1, NULL, &err);
	pacer_error_clear(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char fixed_key[] = "\0\0\0\x0bssh-ed25519\0\0\0\x20"
	                                         "0123456789abcdef0123456789abcdef";
	char *text = fuzz_strndup(data, size), host[256], path[PATH_MAX];
	unsigned char *key = NULL;
	size_t key_len = 0;
	int port;

	fuzz_write_file(fuzz_tmpdir(), "known_hosts", data, size);
	snprintf(path, sizeof(path), "%s/known_hosts", fuzz_tmpdir());
	first_entry(text, host, &port, &key, &key_len);
	if (key)
		check_both(path, host, port, key, key_len);
	check_both(path, "git.example.org", size % 2 ? 2222 : 22, fixed_key,
	           sizeof(fixed_key) - 1);
	free(key);
	free(text);
	return 0;
}
