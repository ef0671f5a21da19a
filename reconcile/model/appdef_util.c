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

/*
 * Digits of u into the buffer ending at p, most significant first; at least
 * `min` digits (leading zeros). Returns where they start.
 */
static char *put_digits(char *p, uint64_t u, int min)
{
	int n = 0;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
		n++;
	} while (u || n < min);
	return p;
}

/*
 * "<whole>.<frac>" (frac written with `digits` digits, "0" when digits is
 * 0), with a minus sign when neg, ending at `end` (room for 40 bytes
 * before it). Returns where it starts.
 */
static char *decimal_text(char *end, uint64_t whole, uint64_t frac, int digits, int neg)
{
	char *p = end;

	*--p = '\0';
	p = put_digits(p, frac, digits ? digits : 1);
	*--p = '.';
	p = put_digits(p, whole, 1);
	if (neg)
		*--p = '-';
	return p;
}

/*
 * d as "%.15g" prints it when d is the double nearest to a decimal with at
 * most 4 fraction digits and below 1e11 (1.15, 0.5, 0.25: every fraction a
 * definition is likely to hold): that decimal has at most 15 significant
 * digits, so %.15g gives it back, without trailing zeros. Returns NULL for
 * any other d. Done by hand for the reason appdef__double() says.
 */
static const char *short_decimal(double d, char *buf, size_t len)
{
	double a = fabs(d);
	uint64_t r, frac;
	int digits = 4;

	if (!(a >= 1e-4 && a < 1e11))
		return NULL;
	r = (uint64_t)llround(a * 1e4);
	if ((double)r / 1e4 != a)
		return NULL;
	for (frac = r % 10000; frac && frac % 10 == 0; frac /= 10)
		digits--;
	return decimal_text(buf + len, r / 10000, frac, frac ? digits : 0, d < 0);
}

struct json_object *appdef__double(double d)
{
	char buf[40];
	const char *text;

	/*
	 * Whole numbers below 1e15 (cpus 2, mem 512, ...) print as "%.15g"
	 * would, digits only, then ".0": done by hand, as snprintf and strtod
	 * cost more than the rest of reading a number. -0.0 takes the slow path.
	 */
	if (d > -1e15 && d < 1e15 && d == (double)(int64_t)d && !(d == 0 && signbit(d))) {
		int64_t i = (int64_t)d;

		return json_object_new_double_s(
		    d, decimal_text(buf + sizeof(buf), i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i,
				    0, 0, i < 0));
	}
	if ((text = short_decimal(d, buf, sizeof(buf))))
		return json_object_new_double_s(d, text);
	return json_object_new_double_s(d, appdef__double_text(d, buf, sizeof(buf)));
}

const char *appdef__double_text(double d, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, len, "%.17g", d);
	if (!strpbrk(buf, ".eEn"))
		strncat(buf, ".0", len - strlen(buf) - 1);
	return buf;
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
