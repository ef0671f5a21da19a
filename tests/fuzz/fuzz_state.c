/*
 * fuzz_state: what pacer reads back from its state directory after a crash,
 * a full disk or a hand edit (backends/fs/state.c and the readers above it):
 * owned.json, last-revision, the run-to-run cache, the intent journal and
 * the --atomic record, held.json, suspended.json and history.json. The input
 * is written as every one of these files at once and each reader runs on
 * it: an error naming the file, never a crash. The cache, once every entry
 * it loaded has been asked for, must dump and load back to as many entries.
 */
#include "backends/fs/state.h"
#include "reconcile/base/strv.h"
#include "reconcile/cache.h"
#include "reconcile/held.h"
#include "reconcile/history.h"
#include "reconcile/journal.h"
#include "reconcile/suspend.h"
#include "tests/fuzz/fuzzlib.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CACHE_PREFIX "pacer-cache 1 "

static const char *const files[] = {"owned.json",     "last-revision",  "cache",
                                    "journal/a.json", "journal/b.json", "atomic.json",
                                    "held.json",      "suspended.json", "history.json"};

static const char *state_dir(void)
{
	static char dir[PATH_MAX];

	char sub[PATH_MAX + 16];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s/state", fuzz_tmpdir());
		snprintf(sub, sizeof(sub), "%s/journal", dir);
		if (mkdir(dir, 0700) || mkdir(sub, 0700))
			abort();
	}
	return dir;
}

/* The cache file's tag as written (so the entries are read), or "x". */
static char *cache_tag(const uint8_t *data, size_t size)
{
	size_t p = strlen(CACHE_PREFIX);
	const char *nl = memchr(data, '\n', size);

	if (!nl || size < p || memcmp(data, CACHE_PREFIX, p) || (size_t)(nl - (const char *)data) < p)
		return fuzz_strndup("x", 1);
	return fuzz_strndup(data + p, (size_t)(nl - (const char *)data) - p);
}

/* Ask the cache for every key the file's lines name, so that all of them are dumped again. */
static void use_keys(struct pacer_cache *c, const char *data, size_t len)
{
	const char *p = data, *end = data + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *tab;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if ((tab = memchr(p, '\t', n)) != NULL) {
			char *key = fuzz_strndup(p, (size_t)(tab - p));

			cache_get(c, key);
			free(key);
		}
		p += n + 1;
	}
}

static void read_cache(struct pacer_state_store *s, const uint8_t *data, size_t size)
{
	struct pacer_cache *c = cache_new(), *again = cache_new();
	char *bytes = NULL, *dump = NULL, *tag = cache_tag(data, size);
	size_t len = 0, dlen = 0;
	struct pacer_error *err = NULL;

	if (!c || !again)
		abort();
	if (!s->load_cache(s, &bytes, &len, &err) && bytes && !cache_load(c, tag, bytes, len)) {
		use_keys(c, bytes, len);
		if (cache_dump(c, tag, &dump, &dlen))
			abort();
		if (cache_load(again, tag, dump, dlen) || cache_count(again) != cache_count(c))
			abort(); /* the cache does not read back what it wrote */
	}
	pacer_error_clear(&err);
	free(dump);
	free(bytes);
	free(tag);
	cache_free(c);
	cache_free(again);
}

static void read_docs(struct pacer_state_store *s)
{
	struct journal_entry *entries = NULL;
	struct json_object *hist = NULL;
	struct held *held = NULL;
	struct suspend *susp = NULL;
	struct pacer_error *err = NULL;
	size_t n = 0;

	if (!journal_load(s, &entries, &n, &err))
		journal_entries_free(entries, n);
	pacer_error_clear(&err);
	free(journal_atomic_pending(s));
	if (!held_open(s, &held, &err)) {
		pacer_strv_free(held_ids(held));
		held_free(held);
	}
	pacer_error_clear(&err);
	if (!suspend_open(s, &susp, &err)) {
		pacer_strv_free(suspend_ids(susp));
		suspend_free(susp);
	}
	pacer_error_clear(&err);
	for (int i = 0; i < 2; i++) {
		if (!history_load(s, i ? "/a" : NULL, i ? 3 : 0, &hist, &err))
			json_object_put(hist);
		hist = NULL;
		pacer_error_clear(&err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = state_dir();
	struct pacer_state_store *s = NULL;
	struct pacer_error *err = NULL;
	char **owned = NULL, *rev = NULL;

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		fuzz_write_file(dir, files[i], data, size);
	if (fs_state_new(&s, dir, &err))
		abort();
	if (!s->load_owned(s, &owned, &err))
		pacer_strv_free(owned);
	pacer_error_clear(&err);
	if (!s->load_last_revision(s, &rev, &err))
		free(rev);
	pacer_error_clear(&err);
	read_cache(s, data, size);
	read_docs(s);
	s->free(s);
	return 0;
}
