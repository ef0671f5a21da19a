/*
 * suspend.c: the suspended apps, a docmap (docmap.h).
 */
#include "reconcile/suspend.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "reconcile/base/jsonutil.h"
#include "reconcile/docmap.h"

struct suspend {
	struct docmap *map;
};

int suspend_open(struct pacer_state_store *s, struct suspend **out, struct pacer_error **err)
{
	struct suspend *sp = calloc(1, sizeof(*sp));
	int rc;

	*out = NULL;
	if (!sp)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	rc = docmap_open(s, "suspended.json",
			 "apps pacer must not change; fix it, or delete it to resume every app",
			 &sp->map, err);
	if (rc) {
		free(sp);
		return rc;
	}
	*out = sp;
	return 0;
}

void suspend_free(struct suspend *s)
{
	if (!s)
		return;
	docmap_free(s->map);
	free(s);
}

struct json_object *suspend_find(struct suspend *s, const char *app_id)
{
	struct json_object *v;

	if (!s)
		return NULL;
	if (app_id && (v = docmap_get(s->map, app_id)))
		return v;
	return docmap_get(s->map, SUSPEND_ALL);
}

int suspend_put(struct suspend *s, const char *app_id, const char *by, const char *reason,
		struct pacer_error **err)
{
	struct json_object *v = json_object_new_object();

	if (!v)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	json_object_object_add(v, "by", json_object_new_string(by ? by : "unknown"));
	json_object_object_add(v, "time", json_object_new_int64((long long)time(NULL)));
	json_object_object_add(v, "reason", json_object_new_string(reason ? reason : ""));
	return docmap_put(s->map, app_id ? app_id : SUSPEND_ALL, v, err);
}

int suspend_drop(struct suspend *s, const char *app_id, struct pacer_error **err)
{
	return docmap_drop(s->map, app_id ? app_id : SUSPEND_ALL, err);
}

char **suspend_ids(struct suspend *s)
{
	return docmap_keys(s ? s->map : NULL);
}

void suspend_describe(struct json_object *rec, char *out, size_t len)
{
	const char *by = json_object_get_string(jsonutil_get(rec, "by"));
	const char *why = json_object_get_string(jsonutil_get(rec, "reason"));
	time_t t = (time_t)json_object_get_int64(jsonutil_get(rec, "time"));
	char when[32] = "?";
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(out, len, "by %s at %s%s%s", by ? by : "?", when, why && *why ? ": " : "",
		 why && *why ? why : "");
}
