/*
 * backendtest.c: helpers of the backend tests (backendtest.h).
 */
#include "tests/lib/backendtest.h"
#include "tests/lib/testlib.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *bt_tmp;

void bt_tmp_init(void)
{
	bt_tmp = test_tmpdir("pacer-backend");
	cr_assert_not_null(bt_tmp, "no scratch directory");
}

void bt_tmp_fini(void)
{
	if (bt_tmp)
		test_rmrf(bt_tmp);
	free(bt_tmp);
	bt_tmp = NULL;
}

char *bt_join(const char *a, const char *b)
{
	char *p = NULL;

	cr_assert(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

int bt_count_entries(const char *dir, int *hidden)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0, dots = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		dots += de->d_name[0] == '.';
	}
	closedir(d);
	if (hidden)
		*hidden = dots;
	return n;
}

int bt_count_visible(const char *dir)
{
	int hidden = 0, n = bt_count_entries(dir, &hidden);

	return n < 0 ? n : n - hidden;
}

struct json_object *bt_sim_requests(const struct test_sim *s)
{
	char *body = NULL;
	struct json_object *o, *arr;
	int st = test_sim_request(s, "GET", "/_sim/requests", NULL, &body);

	cr_assert_eq(st, 200, "GET /_sim/requests answered %d", st);
	o = json_tokener_parse(body);
	free(body);
	cr_assert(json_object_object_get_ex(o, "requests", &arr), "no requests array");
	arr = json_object_get(arr);
	json_object_put(o);
	return arr;
}

/* Whether r is `method path`; a NULL method matches every request. */
static int is_request(struct json_object *r, const char *method, const char *path)
{
	struct json_object *m, *p;

	if (!method)
		return 1;
	return json_object_object_get_ex(r, "method", &m) &&
	       json_object_object_get_ex(r, "path", &p) &&
	       !strcmp(json_object_get_string(m), method) &&
	       !strcmp(json_object_get_string(p), path);
}

int bt_sim_count(const struct test_sim *s, const char *method, const char *path)
{
	struct json_object *arr = bt_sim_requests(s);
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(arr); i++)
		n += is_request(json_object_array_get_idx(arr, i), method, path);
	json_object_put(arr);
	return n;
}

struct json_object *bt_sim_last(const struct test_sim *s, const char *method, const char *path)
{
	struct json_object *arr = bt_sim_requests(s), *found = NULL;

	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (is_request(json_object_array_get_idx(arr, i), method, path))
			found = json_object_array_get_idx(arr, i);
	json_object_get(found);
	json_object_put(arr);
	return found;
}

const char *bt_header(struct json_object *req, const char *name)
{
	struct json_object *h, *v;

	if (!json_object_object_get_ex(req, "headers", &h) ||
	    !json_object_object_get_ex(h, name, &v))
		return NULL;
	return json_object_get_string(v);
}
