/*
 * appdef_util.c: the leaf helpers of the appdef module (appdef_internal.h),
 * used by the pipeline (appdef.c), the reader (appdef_read.c) and the
 * validators (appdef_validate.c). Keeping them in a file of their own lets
 * the three call down into this one instead of into each other.
 */
#include "reconcile/model/appdef_internal.h"

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/base/jsonutil.h"

struct json_object *appdef__double(double d)
{
	char buf[40];

	/*
	 * Whole numbers below 1e15 (cpus 2, mem 512, ...) print as "%.15g"
	 * would, digits only, then ".0": done by hand, as snprintf and strtod
	 * cost more than the rest of reading a number. -0.0 takes the slow path.
	 */
	if (d > -1e15 && d < 1e15 && d == (double)(int64_t)d && !(d == 0 && signbit(d))) {
		char *p = buf + sizeof(buf);
		int64_t i = (int64_t)d;
		uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;

		*--p = '\0';
		*--p = '0';
		*--p = '.';
		do {
			*--p = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (i < 0)
			*--p = '-';
		return json_object_new_double_s(d, p);
	}
	snprintf(buf, sizeof(buf), "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, sizeof(buf), "%.17g", d);
	if (!strpbrk(buf, ".eEn"))
		strcat(buf, ".0");
	return json_object_new_double_s(d, buf);
}

int appdef__err(struct json_object *errs, const char *path, const char *msg)
{
	struct json_object *list = jsonutil_get(errs, path);
	struct json_object *s;
	size_t i, n;

	if (!list) {
		list = json_object_new_array();
		if (!list || json_object_object_add(errs, path, list) < 0) {
			json_object_put(list);
			return -1;
		}
	}
	/* Marathon's violations are a set per path. */
	n = json_object_array_length(list);
	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(list, i)), msg) == 0)
			return 0;
	s = json_object_new_string(msg);
	if (!s || json_object_array_add(list, s) < 0) {
		json_object_put(s);
		return -1;
	}
	return 0;
}

struct json_object *appdef__body(const char *message, struct json_object *errs)
{
	struct json_object *body = json_object_new_object();
	struct json_object *details = json_object_new_array();

	if (!body || !details) {
		json_object_put(body);
		json_object_put(details);
		return NULL;
	}
	json_object_object_foreach(errs, path, list) {
		struct json_object *d = json_object_new_object();

		if (!d)
			continue;
		json_object_object_add(d, "path", json_object_new_string(path));
		json_object_object_add(d, "errors", json_object_get(list));
		json_object_array_add(details, d);
	}
	json_object_object_add(body, "message", json_object_new_string(message));
	json_object_object_add(body, "details", details);
	return body;
}

bool appdef__is_persistent(struct json_object *vol)
{
	return jsonutil_get(vol, "persistent") != NULL;
}

bool appdef__is_host(struct json_object *networks)
{
	size_t i, n;

	if (!networks)
		return true;
	n = json_object_array_length(networks);
	if (n == 0)
		return true;
	for (i = 0; i < n; i++) {
		struct json_object *m = jsonutil_get(json_object_array_get_idx(networks, i), "mode");

		if (m && strcmp(json_object_get_string(m), "host") == 0)
			return true;
	}
	return false;
}
