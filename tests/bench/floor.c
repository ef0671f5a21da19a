/*
 * floor.c: the least work any sync must do, for the benchmark to compare with.
 *
 *   bench-floor DIR MARATHON_URL
 *
 * Reads and parses (json-c) every *.json file below DIR, skipping hidden
 * files and folders as pacer's directory source does, keeps the parsed
 * documents, then makes one GET MARATHON_URL/v2/apps (libcurl) and parses
 * the reply. Nothing else: no normalising, no diff. It prints one JSON
 * object on stdout:
 *   {"files": N, "bytes": B, "apps_live": M, "body_bytes": L,
 *    "files_s": ..., "get_s": ..., "get_ttfb_s": ..., "body_parse_s": ...,
 *    "total_s": ..., "rss_after_files_kb": ..., "rss_peak_kb": ...}
 * files_s is reading + parsing the files, get_s the whole GET (connect to
 * last byte), get_ttfb_s the time to the first byte of the reply (the
 * simulator's own work), body_parse_s parsing the reply. Exit 1 on any error,
 * with a message naming the file or URL.
 *
 * It is meant to be a fair, competent minimal reader: one tokener reused for
 * all files, one read() per file into a reused buffer, one connection.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct floor_state {
	struct json_tokener *tok;
	char *buf;
	size_t cap;
	struct json_object **docs;
	size_t ndocs, capdocs;
	size_t bytes;
};

struct body {
	char *data;
	size_t len, cap;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Peak RSS so far, in kB. */
static long peak_rss_kb(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss;
}

static int ends_with_json(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".json");
}

/* Read and parse one file; keep the document. */
static int parse_file(struct floor_state *st, const char *path)
{
	struct json_object *doc;
	struct stat sb;
	size_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0 || fstat(fd, &sb)) {
		fprintf(stderr, "bench-floor: cannot read %s: %s\n", path, strerror(errno));
		goto done;
	}
	if ((size_t)sb.st_size + 1 > st->cap) {
		char *nb = realloc(st->buf, (size_t)sb.st_size + 1);
		if (!nb)
			goto done;
		st->buf = nb;
		st->cap = (size_t)sb.st_size + 1;
	}
	while (off < (size_t)sb.st_size) {
		ssize_t r = read(fd, st->buf + off, (size_t)sb.st_size - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "bench-floor: cannot read %s: %s\n", path, r ? strerror(errno) : "short read");
			goto done;
		}
		off += (size_t)r;
	}
	json_tokener_reset(st->tok);
	doc = json_tokener_parse_ex(st->tok, st->buf, (int)off);
	if (!doc) {
		fprintf(stderr, "bench-floor: %s is not valid JSON: %s\n", path,
			json_tokener_error_desc(json_tokener_get_error(st->tok)));
		goto done;
	}
	if (st->ndocs == st->capdocs) {
		size_t nc = st->capdocs ? st->capdocs * 2 : 1024;
		struct json_object **nd = realloc(st->docs, nc * sizeof(*nd));
		if (!nd) {
			json_object_put(doc);
			goto done;
		}
		st->docs = nd;
		st->capdocs = nc;
	}
	st->docs[st->ndocs++] = doc;
	st->bytes += off;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int walk(struct floor_state *st, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d) {
		fprintf(stderr, "bench-floor: cannot open directory %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while (!rc && (e = readdir(d))) {
		char path[4096];
		int isdir;

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path)) {
			fprintf(stderr, "bench-floor: path too long under %s\n", dir);
			rc = -1;
			break;
		}
		if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
			struct stat sb;
			if (stat(path, &sb))
				continue;
			isdir = S_ISDIR(sb.st_mode);
		} else {
			isdir = e->d_type == DT_DIR;
		}
		if (isdir)
			rc = walk(st, path);
		else if (ends_with_json(e->d_name))
			rc = parse_file(st, path);
	}
	closedir(d);
	return rc;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;

	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 1 << 16;
		char *nd;
		while (nc < b->len + n + 1)
			nc *= 2;
		nd = realloc(b->data, nc);
		if (!nd)
			return 0;
		b->data = nd;
		b->cap = nc;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	return n;
}

int main(int argc, char **argv)
{
	struct floor_state st = {0};
	struct body body = {0};
	struct json_object *live = NULL, *apps = NULL;
	CURL *curl = NULL;
	CURLcode cc;
	char url[2048];
	long status = 0, rss_files = 0;
	double t0, t1, t2, t3, ttfb = 0;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: bench-floor DIR MARATHON_URL\n");
		return 2;
	}
	snprintf(url, sizeof(url), "%s/v2/apps", argv[2]);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	t0 = now_s();
	st.tok = json_tokener_new();
	if (!st.tok || walk(&st, argv[1]))
		goto done;
	t1 = now_s();
	rss_files = peak_rss_kb();

	curl = curl_easy_init();
	if (!curl)
		goto done;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, NULL);
	cc = curl_easy_perform(curl);
	if (cc != CURLE_OK) {
		fprintf(stderr, "bench-floor: GET %s failed: %s (is marathon-sim running?)\n", url, curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		fprintf(stderr, "bench-floor: GET %s answered HTTP %ld\n", url, status);
		goto done;
	}
	curl_easy_getinfo(curl, CURLINFO_STARTTRANSFER_TIME, &ttfb);
	t2 = now_s();

	json_tokener_reset(st.tok);
	live = json_tokener_parse_ex(st.tok, body.data ? body.data : "", (int)body.len);
	if (!live || !json_object_object_get_ex(live, "apps", &apps) || !json_object_is_type(apps, json_type_array)) {
		fprintf(stderr, "bench-floor: GET %s: reply is not {\"apps\": [...]}\n", url);
		goto done;
	}
	t3 = now_s();

	printf("{\"files\": %zu, \"bytes\": %zu, \"apps_live\": %zu, \"body_bytes\": %zu, \"files_s\": %.6f, "
	       "\"get_s\": %.6f, \"get_ttfb_s\": %.6f, \"body_parse_s\": %.6f, \"total_s\": %.6f, "
	       "\"rss_after_files_kb\": %ld, \"rss_peak_kb\": %ld}\n",
	       st.ndocs, st.bytes, json_object_array_length(apps), body.len, t1 - t0, t2 - t1, ttfb, t3 - t2,
	       t3 - t0, rss_files, peak_rss_kb());
	rc = 0;
done:
	/* Freeing is part of the cost a real program pays too (or exits without). */
	json_object_put(live);
	for (size_t i = 0; i < st.ndocs; i++)
		json_object_put(st.docs[i]);
	free(st.docs);
	free(st.buf);
	free(body.data);
	if (st.tok)
		json_tokener_free(st.tok);
	if (curl)
		curl_easy_cleanup(curl);
	curl_global_cleanup();
	return rc;
}
