/*
 * layout.c: the pure rules of pacer's ZooKeeper layout (layout.h).
 */
#include "backends/zk/layout.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOB_MAGIC "pacer-blob 1 "
#define DEFAULT_ROOT "/pacer"

void zk_url_release(struct zk_url *u)
{
	if (!u)
		return;
	free(u->hosts);
	free(u->root);
	u->hosts = u->root = NULL;
}

/* hosts: "h:p,h:p", each non-empty, no '@' (credentials), no spaces. */
static int hosts_ok(const char *h, size_t n)
{
	size_t start = 0;

	if (!n || memchr(h, '@', n))
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && h[i] != ',') {
			if (isspace((unsigned char)h[i]))
				return 0;
			continue;
		}
		if (i == start)
			return 0; /* empty member: "h1,,h2" */
		start = i + 1;
	}
	return 1;
}

int zk_url_parse(const char *url, struct zk_url *out, struct pacer_error **err)
{
	const char *p, *slash;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (!url || strncmp(url, "zk://", 5))
		return pacer_error_set(err, PACER_EINVALID,
				       "--ha '%s': expected zk://HOST:PORT[,HOST:PORT...]/PATH",
				       url ? url : "");
	p = url + 5;
	slash = strchr(p, '/');
	hl = slash ? (size_t)(slash - p) : strlen(p);
	if (!hosts_ok(p, hl))
		return pacer_error_set(err, PACER_EINVALID,
				       "--ha '%s': the hosts must be HOST:PORT separated by ','; "
				       "credentials go in PACER_HA_AUTH or PACER_HA_AUTH_FILE, "
				       "never in the URL",
				       memchr(p, '@', hl) ? "zk://(credentials hidden)" : url);
	out->hosts = strndup(p, hl);
	if (!slash || !strcmp(slash, "/"))
		out->root = strdup(DEFAULT_ROOT);
	else {
		out->root = strdup(slash);
		if (out->root && out->root[strlen(out->root) - 1] == '/')
			out->root[strlen(out->root) - 1] = '\0';
	}
	if (!out->hosts || !out->root) {
		zk_url_release(out);
		return pacer_error_set(err, -1, "out of memory");
	}
	if (strstr(out->root, "//") || strstr(out->root, "/.") || strstr(out->root, "/zookeeper") == out->root) {
		pacer_error_set(err, PACER_EINVALID,
				"--ha '%s': the path '%s' is not a usable znode path", url,
				out->root);
		zk_url_release(out);
		return PACER_EINVALID;
	}
	return 0;
}

size_t zk_blob_nchunks(size_t len)
{
	/* Inline when value and header fit in one znode of ZK_CHUNK_MAX. */
	if (len + ZK_BLOB_HEADER_MAX <= ZK_CHUNK_MAX)
		return 0;
	return (len + ZK_CHUNK_MAX - 1) / ZK_CHUNK_MAX;
}

size_t zk_blob_header_format(char *buf, const struct zk_blob_header *h)
{
	int n = snprintf(buf, ZK_BLOB_HEADER_MAX, BLOB_MAGIC "%llu %zu %zu\n", h->gen, h->nchunks,
			 h->len);

	return n < 0 ? 0 : (size_t)n;
}

int zk_blob_header_parse(const char *path, const char *data, size_t len,
			 struct zk_blob_header *h, size_t *body, struct pacer_error **err)
{
	char line[ZK_BLOB_HEADER_MAX + 1];
	const char *nl = data ? memchr(data, '\n', len < ZK_BLOB_HEADER_MAX ? len : ZK_BLOB_HEADER_MAX) : NULL;
	char end;

	memset(h, 0, sizeof(*h));
	*body = 0;
	if (!nl || strncmp(data, BLOB_MAGIC, strlen(BLOB_MAGIC)))
		goto bad;
	memcpy(line, data, (size_t)(nl - data));
	line[nl - data] = '\0';
	if (sscanf(line + strlen(BLOB_MAGIC), "%llu %zu %zu%c", &h->gen, &h->nchunks, &h->len,
		   &end) != 3)
		goto bad;
	*body = (size_t)(nl - data) + 1;
	if (h->nchunks == 0 && len - *body != h->len)
		goto bad;
	if (h->nchunks && (h->nchunks != (h->len + ZK_CHUNK_MAX - 1) / ZK_CHUNK_MAX ||
			   len != *body))
		goto bad;
	return 0;
bad:
	return pacer_error_set(err, PACER_EIO,
			       "ZooKeeper node '%s' does not hold a pacer value (header "
			       "missing or inconsistent): restore it, or delete it",
			       path);
}

void zk_blob_chunk_name(char *buf, size_t cap, unsigned long long gen, size_t i)
{
	snprintf(buf, cap, "c%llu-%zu", gen, i);
}

int zk_blob_chunk_parse(const char *name, unsigned long long *gen, size_t *i)
{
	char end;

	if (name[0] != 'c' || !isdigit((unsigned char)name[1]))
		return -1;
	return sscanf(name + 1, "%llu-%zu%c", gen, i, &end) == 2 ? 0 : -1;
}

int zk_doc_name_ok(const char *name)
{
	int slashes = 0;

	if (!name || !*name || name[0] == '.' || strstr(name, "/.") ||
	    name[strlen(name) - 1] == '/')
		return 0;
	for (const char *p = name; *p; p++) {
		if (*p == '/')
			slashes++;
		else if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return 0;
	}
	return slashes <= 1;
}

long long zk_seq_of(const char *name, const char *prefix)
{
	size_t pl = strlen(prefix);
	char *end;
	long long v;

	if (strncmp(name, prefix, pl) || strlen(name + pl) != 10 ||
	    !isdigit((unsigned char)name[pl]))
		return -1;
	v = strtoll(name + pl, &end, 10);
	return *end ? -1 : v;
}

int zk_election_order(char *const *names, size_t n, const char *mine, const char **leader,
		      const char **pred)
{
	long long my = zk_seq_of(mine, "n_"), best = -1, below = -1;
	int found = 0;

	*leader = *pred = NULL;
	for (size_t i = 0; i < n; i++) {
		long long s = zk_seq_of(names[i], "n_");

		if (s < 0)
			continue; /* not an election node */
		if (!strcmp(names[i], mine))
			found = 1;
		if (best < 0 || s < best) {
			best = s;
			*leader = names[i];
		}
		if (s < my && s > below) {
			below = s;
			*pred = names[i];
		}
	}
	if (!found || my < 0) {
		*leader = *pred = NULL;
		return -1;
	}
	return 0;
}

int zk_backup_prefix(char *buf, size_t cap, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%d_%H:%M:%S-", &tm))
		return -1;
	return 0;
}

int zk_backup_parse(const char *name, char time[20], long long *seq)
{
	/* "YYYY-mm-dd_HH:MM:SS-0000000042": 19 + 1 + 10 */
	if (strlen(name) != 30 || name[10] != '_' || name[19] != '-')
		return -1;
	*seq = zk_seq_of(name + 20, "");
	if (*seq < 0)
		return -1;
	memcpy(time, name, 19);
	time[19] = '\0';
	return 0;
}

static long long seq_after_dash(const char *s)
{
	const char *d = strrchr(s, '-');

	return d ? zk_seq_of(d + 1, "") : -1;
}

static int cmp_seq(const void *a, const void *b)
{
	long long x = seq_after_dash(*(char *const *)a), y = seq_after_dash(*(char *const *)b);

	return x < y ? -1 : x > y;
}

void zk_sort_by_seq(char **names, size_t n)
{
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_seq);
}
