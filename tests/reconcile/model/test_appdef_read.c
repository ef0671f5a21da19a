/*
 * The RAML reader (reconcile/appdef_read.c) seen through appdef_submit():
 * what it produces must not depend on the order of the input's members
 * (members and errors come out in the type's order), error paths are
 * rendered right however deep and cut at 511 characters, null members are
 * absent, and asking without an error body (the early-rejection path) gives
 * the same answer as asking with one.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/model/appdef.h"
#include "reconcile/model/appdef_internal.h"
#include "tests/lib/testlib.h"

#define J(sq) test_json(sq)

static const char *text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* The "path" of every detail of a 422 body, joined by spaces. */
static char *detail_paths(struct json_object *body)
{
	struct json_object *details = json_object_object_get(body, "details");
	size_t i, n = json_object_array_length(details), len = 1;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(json_object_get_string(json_object_object_get(json_object_array_get_idx(details, i), "path"))) + 1;
	s = calloc(1, len);
	cr_assert_not_null(s);
	for (i = 0; i < n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, json_object_get_string(json_object_object_get(json_object_array_get_idx(details, i), "path")));
	}
	return s;
}

/* Position of key among obj's members, -1 when absent. */
static int key_pos(struct json_object *obj, const char *key)
{
	int i = 0;

	json_object_object_foreach(obj, k, v) {
		(void)v;
		if (!strcmp(k, key))
			return i;
		i++;
	}
	return -1;
}

Test(appdef_read, output_in_type_order_whatever_the_input_order)
{
	struct json_object *a = J("{'mem': 64, 'labels': {'b': '1', 'a': '2'}, 'cmd': 'sleep 1', 'id': '/a', 'cpus': 0.5,"
				  " 'healthChecks': [{'timeoutSeconds': 5, 'protocol': 'TCP', 'gracePeriodSeconds': 9}]}");
	struct json_object *b = J("{'id': '/a', 'healthChecks': [{'gracePeriodSeconds': 9, 'protocol': 'TCP', 'timeoutSeconds': 5}],"
				  " 'cpus': 0.5, 'cmd': 'sleep 1', 'labels': {'b': '1', 'a': '2'}, 'mem': 64}");
	struct json_object *oa = NULL, *ob = NULL, *hc;

	cr_assert_eq(appdef_submit(a, NULL, NULL, &oa, NULL), 0);
	cr_assert_eq(appdef_submit(b, NULL, NULL, &ob, NULL), 0);
	cr_expect_str_eq(text(oa), text(ob));
	/* App's RAML order: id, ..., cmd, ..., cpus, ..., labels, ..., mem. */
	cr_expect(key_pos(oa, "id") == 0, "%s", text(oa));
	cr_expect(key_pos(oa, "cmd") < key_pos(oa, "cpus"), "%s", text(oa));
	cr_expect(key_pos(oa, "cpus") < key_pos(oa, "labels"), "%s", text(oa));
	cr_expect(key_pos(oa, "labels") < key_pos(oa, "mem"), "%s", text(oa));
	/* A map keeps the input's order: it is not a type. */
	cr_expect(key_pos(json_object_object_get(oa, "labels"), "b") == 0, "%s", text(oa));
	/* HealthCheck's order: gracePeriodSeconds, ..., protocol, ..., timeoutSeconds. */
	hc = json_object_array_get_idx(json_object_object_get(oa, "healthChecks"), 0);
	cr_expect(key_pos(hc, "gracePeriodSeconds") < key_pos(hc, "protocol"), "%s", text(hc));
	cr_expect(key_pos(hc, "protocol") < key_pos(hc, "timeoutSeconds"), "%s", text(hc));
	json_object_put(oa);
	json_object_put(ob);
	json_object_put(a);
	json_object_put(b);
}

/* A large map (the reader sizes it up front) keeps every member, in order. */
Test(appdef_read, large_maps_keep_their_order)
{
	struct json_object *a = J("{'id': '/a', 'cmd': 'x'}"), *env = json_object_new_object(), *out = NULL;
	char key[32], val[32];
	int i = 0;

	for (int k = 0; k < 300; k++) {
		/* Keys in no sorted order: Z299, A298, ... */
		snprintf(key, sizeof(key), "%c%03d", k % 2 ? 'A' : 'Z', 299 - k);
		snprintf(val, sizeof(val), "v%d", k);
		json_object_object_add(env, key, json_object_new_string(val));
	}
	json_object_object_add(a, "env", env);
	cr_assert_eq(appdef_submit(a, NULL, NULL, &out, NULL), 0);
	json_object_object_foreach(json_object_object_get(out, "env"), k, v) {
		snprintf(key, sizeof(key), "%c%03d", i % 2 ? 'A' : 'Z', 299 - i);
		snprintf(val, sizeof(val), "v%d", i);
		cr_expect_str_eq(k, key);
		cr_expect_str_eq(json_object_get_string(v), val);
		i++;
	}
	cr_expect_eq(i, 300);
	json_object_put(out);
	json_object_put(a);
}

Test(appdef_read, errors_in_type_order_whatever_the_input_order)
{
	/* No id (POST): a missing required field is reported in its place. */
	struct json_object *a = J("{'mem': 'x', 'instances': 'z', 'cpus': 'y'}");
	struct json_object *out = NULL, *err = NULL;
	char *paths;

	cr_assert_eq(appdef_submit(a, NULL, NULL, &out, &err), PACER_EINVALID);
	cr_assert_null(out);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(err, "message")), "Invalid JSON");
	paths = detail_paths(err);
	cr_expect_str_eq(paths, "/id /cpus /instances /mem", "%s", text(err));
	free(paths);
	json_object_put(err);
	json_object_put(a);
}

Test(appdef_read, nested_paths)
{
	struct json_object *a = J("{'id': '/a', 'cmd': 'x', 'healthChecks': [{'protocol': 'HTTP'}, {'portIndex': 'x'}],"
				  " 'env': {'OK': 'v', 'A': 1},"
				  " 'container': {'docker': {'image': 'i', 'portMappings': [{}, {'labels': {'k': 5}}]}},"
				  " 'fetch': [{'uri': 'u'}, null]}");
	struct json_object *out = NULL, *err = NULL;
	char *paths;

	cr_assert_eq(appdef_submit(a, NULL, NULL, &out, &err), PACER_EINVALID);
	paths = detail_paths(err);
	cr_expect_str_eq(paths, "/container/docker/portMappings(1)/labels/k /env/A /fetch(1) /healthChecks(1)/portIndex",
			 "%s", text(err));
	free(paths);
	json_object_put(err);
	json_object_put(a);
}

Test(appdef_read, long_paths_are_cut_at_511_characters)
{
	char key[700], body[800];
	struct json_object *a, *out = NULL, *err = NULL, *d;
	const char *path;

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"id\": \"/a\", \"cmd\": \"x\", \"env\": {\"%s\": 5}}", key);
	a = json_tokener_parse(body);
	cr_assert_not_null(a);
	cr_assert_eq(appdef_submit(a, NULL, NULL, &out, &err), PACER_EINVALID);
	d = json_object_array_get_idx(json_object_object_get(err, "details"), 0);
	path = json_object_get_string(json_object_object_get(d, "path"));
	cr_expect_eq(strlen(path), 511u);
	cr_expect(strncmp(path, "/env/kkkk", 9) == 0, "%s", path);
	json_object_put(err);
	json_object_put(a);
}

Test(appdef_read, null_members_are_absent)
{
	struct json_object *a = J("{'id': '/a', 'cmd': 'x', 'cpus': null, 'labels': null}");
	struct json_object *b = J("{'cmd': 'x', 'id': null}");
	struct json_object *out = NULL, *err = NULL;
	char *paths;

	cr_assert_eq(appdef_submit(a, NULL, NULL, &out, NULL), 0);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(out, "cpus")), "1.0", "%s", text(out));
	json_object_put(out);
	cr_assert_eq(appdef_submit(b, NULL, NULL, &out, &err), PACER_EINVALID);
	paths = detail_paths(err);
	cr_expect_str_eq(paths, "/id");
	free(paths);
	json_object_put(err);
	json_object_put(a);
	json_object_put(b);
}

struct verdict {
	const char *body;
	const char *url_id; /* NULL: POST */
	int dcos;           /* 1: APPDEF_FLAGS_DCOS, 0: defaults */
	int rc;             /* expected answer */
};

static const struct verdict verdicts[] = {
	{"{'id': '/a', 'cmd': 'x', 'role': '*'}", NULL, 0, 0},
	{"{'id': '/a', 'cmd': 'x', 'role': '*'}", NULL, 1, PACER_EINVALID},
	{"{'id': '/a', 'cmd': 'x', 'role': 'slave_public'}", NULL, 1, 0},
	{"{'id': '/a', 'cmd': 'x'}", NULL, 1, 0},
	{"{'id': '/prod/web', 'cmd': 'x', 'role': 'prod'}", NULL, 0, 0},
	{"{'id': 'prod/web', 'cmd': 'x', 'role': 'prod'}", NULL, 1, 0},
	{"{'id': '/prod/web', 'cmd': 'x', 'role': 'other'}", NULL, 0, PACER_EINVALID},
	{"{'id': '/prod/web', 'cmd': 'x', 'role': ''}", NULL, 0, PACER_EINVALID},
	{"{'id': '/prod/web', 'cmd': 'x', 'role': 5}", NULL, 0, PACER_EINVALID},
	{"{'id': '/a', 'cmd': 'x', 'role': 'prod'}", "/prod/x", 0, 0},
	{"{'id': '/prod/x', 'cmd': 'x', 'role': 'prod'}", "/x", 0, PACER_EINVALID},
	{"{'id': '/a/../..', 'cmd': 'x', 'role': 'zzz'}", NULL, 0, PACER_EINVALID},
	{"{'cmd': 'x', 'role': 'zzz'}", NULL, 0, PACER_EINVALID},
	{"{'id': '/prod/web', 'cmd': 'x', 'role': 'prod', 'cpus': 'x'}", NULL, 0, PACER_EINVALID},
	{"{'id': '/prod/web', 'role': 'prod'}", NULL, 0, PACER_EINVALID},
};

ParameterizedTestParameters(appdef_read, answer_without_error_body_is_the_same)
{
	static size_t idx[sizeof(verdicts) / sizeof(verdicts[0])];

	for (size_t i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, sizeof(idx) / sizeof(idx[0]));
}

ParameterizedTest(size_t *idx, appdef_read, answer_without_error_body_is_the_same)
{
	static const struct appdef_flags dcos = APPDEF_FLAGS_DCOS;
	const struct verdict *v = &verdicts[*idx];
	struct json_object *body = J(v->body), *with = NULL, *without = NULL, *err = NULL;
	int rc_with = appdef_submit(body, v->url_id, v->dcos ? &dcos : NULL, &with, &err);
	int rc_without = appdef_submit(body, v->url_id, v->dcos ? &dcos : NULL, &without, NULL);

	cr_expect_eq(rc_with, v->rc, "%s: %s", v->body, err ? text(err) : "accepted");
	cr_expect_eq(rc_without, rc_with, "%s", v->body);
	if (rc_with == 0 && rc_without == 0) {
		char *a = strdup(text(with));

		cr_expect_str_eq(a, text(without));
		free(a);
	} else {
		cr_expect_null(without);
	}
	json_object_put(with);
	json_object_put(without);
	json_object_put(err);
	json_object_put(body);
}

/*
 * appdef__double() prints most values by hand (whole numbers, decimals of up
 * to 4 fraction digits); every text must be the one the general "%.15g" /
 * "%.17g" path gives. Decimals that are not doubles exactly (1.15, 0.1) and
 * the edges of the short path (1e-4, 1e11, 4 fraction digits) included.
 */
Test(appdef_double, hand_printed_texts_match_the_general_path)
{
	static const double fixed[] = {1.15, 0.1, 0.2, 0.3, 0.25, 0.5, 0.001, 0.0001, 0.00011, 0.00009,
				       99999999999.9999, 1e11, 1e11 - 0.5, 123456.0001, 2.675, 1.0005,
				       1e-5, 3.14159, 0.12345, 1e15 + 0.5, -0.0, -1.15, -0.0001, 1e300};
	unsigned seed = 12345;
	char want[64], hand[64];
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]) + 200000; i++) {
		double d;
		struct json_object *o;

		if (i < sizeof(fixed) / sizeof(fixed[0])) {
			d = fixed[i];
		} else {
			/* A decimal with 0-5 fraction digits, as a file would write it. */
			long long units = (long long)(rand_r(&seed) % 2000000000) * (rand_r(&seed) % 50 + 1);
			static const double scale[] = {1, 10, 100, 1000, 10000, 100000};
			int k = rand_r(&seed) % 6;

			snprintf(hand, sizeof(hand), "%lld", units);
			d = strtod(hand, NULL) / scale[k];
			if (rand_r(&seed) % 4 == 0)
				d = -d;
		}
		o = appdef__double(d);
		cr_assert_not_null(o);
		snprintf(hand, sizeof(hand), "%s", json_object_to_json_string(o));
		appdef__double_text(d, want, sizeof(want));
		cr_assert_str_eq(hand, want, "%.17g: printed %s, the general path gives %s", d, hand, want);
		json_object_put(o);
	}
}
