/*
 * appdef_read.c: the shape checks of Marathon's generated RAML reader.
 *
 * Marathon 1.10 parses an App with Play JSON readers generated from the RAML
 * under shared/marathon-api/raml/v2/types. Their behaviour, reproduced here:
 * unknown fields are ignored; null is the same as absent; every field is
 * checked and all errors are reported together (Play accumulates), keyed by
 * the JSON path with array indices as "(n)"; enum values match
 * case-insensitively; integer fields accept 2.0 but not 2.5
 * ("error.expected.int"); a string where a number belongs is
 * "error.expected.jsnumber".
 *
 * The types are described by static tables (struct field), so the reader is
 * one generic walk: O(size of the input), which matters when marathon-sim
 * loads 10,000 apps and pacer normalises every desired and live app.
 *
 * Why it is written the way it is (it is the hottest code of a no-op sync):
 *   - read_obj() walks the keys the input has, not every field of the type:
 *     a json-c lookup of an absent key probes with a strcmp per slot, and
 *     most schema fields are absent. The keys land in a slot array indexed
 *     by field, which is then walked in schema order, so the output keys and
 *     the order of the errors are the type's order, whatever the input's;
 *   - the JSON path of a value ("/healthChecks(0)/port") is a chain of
 *     stack records (struct rpath) rendered only when an error is reported;
 *   - output members are added as new keys (no lookup), the field names as
 *     constant keys (no copy).
 */
#include "reconcile/base/strdist.h"
#include "reconcile/model/appdef_internal.h"

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "reconcile/base/jsonutil.h"

enum kind {
	/* The scalar kinds come first: kind < K_OBJ means "no members". */
	K_STR,    /* string, optional minlen/maxlen/pattern */
	K_NUM,    /* number (double) with optional min/max */
	K_INT,    /* integer with optional min/max */
	K_BOOL,
	K_ENUM,   /* string from enums[], case-insensitive */
	K_OBJ,    /* object described by sub[] */
	K_ARR,    /* array of elem */
	K_MAP,    /* object whose values are elem */
	K_CUSTOM, /* read by fn */
	K_ANYOBJ, /* any object, copied as is */
};

struct rd {
	struct json_object *errs;
};

/*
 * Where a value is: a chain of records on the reader's stack, from the value
 * up to the root (up == NULL). Rendered by path_render() only when there is
 * something to report.
 */
struct rpath {
	const struct rpath *up;
	const char *name; /* member name; NULL for an array element */
	size_t idx;       /* array index when name is NULL */
};

/* Paths are cut at 511 characters, as the reader always did (it printed
 * them into 512-byte buffers); only a very long map key gets there. */
#define PATH_MAX_LEN 511

struct field;
typedef struct json_object *(*read_fn)(struct rd *r, struct json_object *v, const struct rpath *path);

struct field {
	const char *name;
	enum kind kind;
	bool required;
	bool has_min, has_max;
	double min, max;
	size_t minlen, maxlen; /* strings and arrays; 0 = none */
	bool (*pattern)(const char *s);
	const char *const *enums;
	const struct field *sub;  /* K_OBJ: fields, ended by {NULL} */
	const struct field *elem; /* K_ARR, K_MAP: element */
	read_fn fn;               /* K_CUSTOM */
};

static struct json_object *read_value(struct rd *r, struct json_object *v, const struct rpath *path,
				      const struct field *f);

struct pathbuf {
	char s[PATH_MAX_LEN + 1];
	size_t len;
};

static void pathbuf_add(struct pathbuf *b, const char *s, size_t n)
{
	if (n > PATH_MAX_LEN - b->len)
		n = PATH_MAX_LEN - b->len;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/*
 * "/a/b(2)/c": the root is "/", a member of the root "/name", any other
 * member "<parent>/name", an element "<parent>(n)". Cut at PATH_MAX_LEN.
 */
static void path_render(struct pathbuf *b, const struct rpath *p)
{
	char idx[32];
	int n;

	if (!p->up) {
		pathbuf_add(b, "/", 1);
		return;
	}
	if (p->up->up)
		path_render(b, p->up);
	if (p->name) {
		pathbuf_add(b, "/", 1);
		pathbuf_add(b, p->name, strlen(p->name));
	} else {
		n = snprintf(idx, sizeof(idx), "(%zu)", p->idx);
		pathbuf_add(b, idx, (size_t)n);
	}
}

static void bad(struct rd *r, const struct rpath *path, const char *key)
{
	struct pathbuf b;

	b.len = 0;
	b.s[0] = '\0';
	path_render(&b, path);
	appdef__err(r->errs, b.s, key);
}

/* --- patterns ----------------------------------------------------------- */

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (extra allows '_' inside, for NetworkName) */
static bool name_like(const char *s, bool underscore)
{
	size_t n = strlen(s), i;

	if (n == 0 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
		return false;
	for (i = 1; i + 1 < n; i++)
		if (!lower_alnum(s[i]) && s[i] != '-' && !(underscore && s[i] == '_'))
			return false;
	return true;
}

static bool pat_name(const char *s)
{
	return name_like(s, false);
}

static bool pat_network_name(const char *s)
{
	return name_like(s, true);
}

/* One dotted label run: label(.label)* where label = [a-z0-9]([-a-z0-9]*[a-z0-9])? */
static bool dotted_labels(const char *s, size_t len)
{
	size_t i, start = 0;

	if (len == 0)
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			size_t j;

			if (i == start || !lower_alnum(s[start]) || !lower_alnum(s[i - 1]))
				return false;
			for (j = start; j < i; j++)
				if (!lower_alnum(s[j]) && s[j] != '-')
					return false;
			start = i + 1;
		}
	}
	return true;
}

/*
 * strings.PathId: ^(\/?((\.\.)|(labels))?($|\/))+$ -- slash-separated
 * segments, each empty, ".." or dotted labels. "." is not matched.
 */
static bool pat_path_id(const char *s)
{
	const char *p = s;

	for (;;) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len && !(len == 2 && p[0] == '.' && p[1] == '.') && !dotted_labels(p, len))
			return false;
		if (!end)
			return true;
		p = end + 1;
	}
}

/* --- scalars ------------------------------------------------------------ */

static bool is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

/*
 * Whether v has type t (string, object, array or boolean); when not, Play's
 * error is recorded.
 */
static bool expect_type(struct rd *r, struct json_object *v, const struct rpath *path,
			enum json_type t)
{
	static const char *const expected[] = {
	    [json_type_boolean] = "error.expected.jsboolean",
	    [json_type_string] = "error.expected.jsstring",
	    [json_type_object] = "error.expected.jsobject",
	    [json_type_array] = "error.expected.jsarray",
	};

	if (json_object_is_type(v, t))
		return true;
	bad(r, path, expected[t]);
	return false;
}

/* v's text; NULL, with Play's error, when v is not a string. */
static const char *expect_string(struct rd *r, struct json_object *v, const struct rpath *path)
{
	return expect_type(r, v, path, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Whether v is a number; when not, Play's error is recorded. */
static bool expect_number(struct rd *r, struct json_object *v, const struct rpath *path)
{
	if (!is_number(v)) {
		bad(r, path, "error.expected.jsnumber");
		return false;
	}
	return true;
}

/* A string's or an array's length n within f's bounds; when not, Play's error is recorded. */
static bool check_length(struct rd *r, const struct rpath *path, const struct field *f, size_t n)
{
	if (f->minlen && n < f->minlen) {
		bad(r, path, "error.minLength");
		return false;
	}
	if (f->maxlen && n > f->maxlen) {
		bad(r, path, "error.maxLength");
		return false;
	}
	return true;
}

/*
 * The output's value for the input string v (text s, n bytes up to its first
 * NUL): v itself, shared, when that is all of it. The reader's output only
 * ever gains or loses members, it never changes a value in place, so a
 * shared leaf is safe and saves a copy per string (the hot path of a no-op
 * sync reads every desired app).
 */
static struct json_object *share_string(struct json_object *v, const char *s, size_t n)
{
	if ((size_t)json_object_get_string_len(v) == n)
		return json_object_get(v);
	return json_object_new_string_len(s, (int)n);
}

static struct json_object *read_str(struct rd *r, struct json_object *v, const struct rpath *path, const struct field *f)
{
	const char *s = expect_string(r, v, path);
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	if (!check_length(r, path, f, n))
		return NULL;
	if (f->pattern && !f->pattern(s)) {
		bad(r, path, "error.pattern");
		return NULL;
	}
	return share_string(v, s, n);
}

static bool check_range(struct rd *r, const struct rpath *path, const struct field *f, double d)
{
	if (f->has_min && d < f->min) {
		bad(r, path, "error.min");
		return false;
	}
	if (f->has_max && d > f->max) {
		bad(r, path, "error.max");
		return false;
	}
	return true;
}

static struct json_object *read_num(struct rd *r, struct json_object *v, const struct rpath *path, const struct field *f)
{
	double d;

	if (!expect_number(r, v, path))
		return NULL;
	d = json_object_get_double(v);
	if (!check_range(r, path, f, d))
		return NULL;
	return appdef__double(d);
}

static struct json_object *read_int(struct rd *r, struct json_object *v, const struct rpath *path, const struct field *f)
{
	double d;
	int64_t i;

	if (!expect_number(r, v, path))
		return NULL;
	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		/* Play's IntReads takes 2.0 (a valid int as BigDecimal) but not 2.5. */
		if (d != floor(d) || d < -2147483648.0 || d > 2147483647.0) {
			bad(r, path, "error.expected.int");
			return NULL;
		}
		i = (int64_t)d;
	} else {
		i = json_object_get_int64(v);
		if (i < INT32_MIN || i > INT32_MAX) {
			bad(r, path, "error.expected.int");
			return NULL;
		}
	}
	if (!check_range(r, path, f, (double)i))
		return NULL;
	/* An integer read as one is shared (see share_string()). */
	if (json_object_is_type(v, json_type_int))
		return json_object_get(v);
	return json_object_new_int64(i);
}

static struct json_object *read_enum(struct rd *r, struct json_object *v, const struct rpath *path, const struct field *f)
{
	const char *s = expect_string(r, v, path);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; f->enums[i]; i++)
		if (strcasecmp(s, f->enums[i]) == 0)
			return strcmp(s, f->enums[i]) ? json_object_new_string(f->enums[i])
						       : share_string(v, s, strlen(s));
	bad(r, path, "error.unknown.enum.literal");
	return NULL;
}

/* --- containers --------------------------------------------------------- */

/* More fields than any RAML type here has (App, the largest, has 39). */
#define READ_MAX_FIELDS 48

/*
 * The field of sub named key, or -1. The scan starts after the previous
 * match (*cursor) and wraps: inputs mostly list members in the type's order
 * (Marathon's own output always does), so the first comparison usually hits.
 */
static int field_index(const struct field *sub, size_t n, const char *key, size_t *cursor)
{
	size_t i, k;

	for (k = 0, i = *cursor; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
		if (sub[i].name[0] == key[0] && strcmp(sub[i].name, key) == 0) {
			*cursor = i + 1 == n ? 0 : i + 1;
			return (int)i;
		}
	}
	return -1;
}

static struct json_object *read_obj(struct rd *r, struct json_object *v, const struct rpath *path,
				    const struct field *sub)
{
	struct json_object *slot[READ_MAX_FIELDS] = {NULL};
	struct json_object *out;
	size_t n, i, cursor = 0, present = 0;

	if (!expect_type(r, v, path, json_type_object))
		return NULL;
	for (n = 0; sub[n].name; n++)
		;
	/* Unknown members are ignored; a null member is absent (slot stays NULL). */
	json_object_object_foreach(v, key, val) {
		int idx;

		if (!val)
			continue;
		idx = field_index(sub, n, key, &cursor);
		if (idx >= 0) {
			slot[idx] = val;
			present++;
		}
	}
	/* The app itself gets up to ~16 defaults (instances, cpus, ...) next. */
	out = jsonutil_new_object_sized(path->up ? present : present + 16);
	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		const struct field *f = &sub[i];
		struct rpath p = {path, f->name, 0};
		struct json_object *got;

		if (!slot[i]) {
			if (f->required)
				bad(r, &p, "error.path.missing");
			continue;
		}
		got = read_value(r, slot[i], &p, f);
		if (got && json_object_object_add_ex(out, f->name, got,
						     JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT) < 0) {
			json_object_put(got);
			json_object_put(out);
			return NULL;
		}
	}
	return out;
}

static struct json_object *read_arr(struct rd *r, struct json_object *v, const struct rpath *path, const struct field *f)
{
	struct json_object *out;
	size_t i, n;

	if (!expect_type(r, v, path, json_type_array))
		return NULL;
	n = json_object_array_length(v);
	if (!check_length(r, path, f, n))
		return NULL;
	out = json_object_new_array_ext((int)n);
	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i), *got;
		struct rpath p = {path, NULL, i};

		if (!e) {
			/* null inside an array is not "absent": the element reader refuses it */
			bad(r, &p, f->elem->kind == K_NUM || f->elem->kind == K_INT ? "error.expected.jsnumber"
				  : f->elem->kind == K_STR || f->elem->kind == K_ENUM ? "error.expected.jsstring"
				  : f->elem->kind == K_ARR ? "error.expected.jsarray" : "error.expected.jsobject");
			continue;
		}
		got = read_value(r, e, &p, f->elem);
		if (got)
			json_object_array_add(out, got);
	}
	return out;
}

static bool plain_string_map(struct json_object *v);
static const struct field f_string, f_env_value; /* defined with the types below */

static struct json_object *read_map(struct rd *r, struct json_object *v, const struct rpath *path, const struct field *f)
{
	struct json_object *out;

	if (!expect_type(r, v, path, json_type_object))
		return NULL;
	/* Labels and env as most files have them: every value would be shared,
	 * so the map is (see share_string()); nothing changes a map's members. */
	if ((f->elem == &f_string || f->elem == &f_env_value) && plain_string_map(v))
		return json_object_get(v);
	out = jsonutil_new_object_sized((size_t)json_object_object_length(v));
	if (!out)
		return NULL;
	json_object_object_foreach(v, key, val) {
		struct rpath p = {path, key, 0};
		struct json_object *got;

		if (!val) {
			bad(r, &p, "error.expected.jsstring");
			continue;
		}
		got = read_value(r, val, &p, f->elem);
		/* The input's keys are distinct, so each is new in out: no lookup. */
		if (got && json_object_object_add_ex(out, key, got, JSON_C_OBJECT_ADD_KEY_IS_NEW) < 0) {
			json_object_put(got);
			json_object_put(out);
			return NULL;
		}
	}
	return out;
}

/* Every member of object v is a string without a NUL inside. */
static bool plain_string_map(struct json_object *v)
{
	json_object_object_foreach(v, key, val) {
		(void)key;
		if (!json_object_is_type(val, json_type_string) ||
		    strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val))
			return false;
	}
	return true;
}

static struct json_object *read_value(struct rd *r, struct json_object *v, const struct rpath *path,
				      const struct field *f)
{
	struct json_object *copy = NULL;

	switch (f->kind) {
	case K_STR:
		return read_str(r, v, path, f);
	case K_NUM:
		return read_num(r, v, path, f);
	case K_INT:
		return read_int(r, v, path, f);
	case K_BOOL:
		if (!expect_type(r, v, path, json_type_boolean))
			return NULL;
		return json_object_get(v);
	case K_ENUM:
		return read_enum(r, v, path, f);
	case K_OBJ:
		return read_obj(r, v, path, f->sub);
	case K_ARR:
		return read_arr(r, v, path, f);
	case K_MAP:
		return read_map(r, v, path, f);
	case K_CUSTOM:
		return f->fn(r, v, path);
	case K_ANYOBJ:
		if (!expect_type(r, v, path, json_type_object))
			return NULL;
		if (json_object_deep_copy(v, &copy, NULL) < 0)
			return NULL;
		return copy;
	}
	return NULL;
}

/* --- the RAML types ----------------------------------------------------- */

#define END {NULL, K_STR, false, false, false, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}
#define STR(n) {n, K_STR, false, false, false, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}
#define STR_REQ(n) {n, K_STR, true, false, false, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}
#define STR_MIN1(n) {n, K_STR, false, false, false, 0, 0, 1, 0, NULL, NULL, NULL, NULL, NULL}
#define STR_MIN1_REQ(n) {n, K_STR, true, false, false, 0, 0, 1, 0, NULL, NULL, NULL, NULL, NULL}
#define STR_PAT(n, pat) {n, K_STR, false, false, false, 0, 0, 1, 0, pat, NULL, NULL, NULL, NULL}
#define STR_LIM(n, lo, hi, req) {n, K_STR, req, false, false, 0, 0, lo, hi, NULL, NULL, NULL, NULL, NULL}
#define NUM_MIN(n, lo) {n, K_NUM, false, true, false, lo, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}
#define NUM_RANGE_REQ(n, lo, hi) {n, K_NUM, true, true, true, lo, hi, 0, 0, NULL, NULL, NULL, NULL, NULL}
#define INT_ANY(n) {n, K_INT, false, false, false, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}
#define INT_MIN(n, lo) {n, K_INT, false, true, false, lo, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}
#define INT_MIN_REQ(n, lo) {n, K_INT, true, true, false, lo, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}
#define PORT(n) {n, K_INT, false, true, true, 0, 65535, 0, 0, NULL, NULL, NULL, NULL, NULL}
#define BOOL(n) {n, K_BOOL, false, false, false, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}
#define ENUM(n, e) {n, K_ENUM, false, false, false, 0, 0, 0, 0, NULL, e, NULL, NULL, NULL}
#define ENUM_REQ(n, e) {n, K_ENUM, true, false, false, 0, 0, 0, 0, NULL, e, NULL, NULL, NULL}
#define OBJ(n, s) {n, K_OBJ, false, false, false, 0, 0, 0, 0, NULL, NULL, s, NULL, NULL}
#define OBJ_REQ(n, s) {n, K_OBJ, true, false, false, 0, 0, 0, 0, NULL, NULL, s, NULL, NULL}
#define ARR(n, e) {n, K_ARR, false, false, false, 0, 0, 0, 0, NULL, NULL, NULL, e, NULL}
#define ARR_LIM(n, e, lo, hi) {n, K_ARR, false, false, false, 0, 0, lo, hi, NULL, NULL, NULL, e, NULL}
#define MAP(n, e) {n, K_MAP, false, false, false, 0, 0, 0, 0, NULL, NULL, NULL, e, NULL}
#define CUSTOM(n, f) {n, K_CUSTOM, false, false, false, 0, 0, 0, 0, NULL, NULL, NULL, NULL, f}
#define ANYOBJ(n) {n, K_ANYOBJ, false, false, false, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL}

static const char *const e_engine[] = {"MESOS", "DOCKER", NULL};
static const char *const e_docker_net[] = {"BRIDGE", "HOST", "NONE", "USER", NULL};
static const char *const e_net_mode[] = {"container", "container/bridge", "host", NULL};
static const char *const e_proto[] = {"tcp", "udp", "udp,tcp", NULL};
static const char *const e_hc_proto[] = {"HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_TCP", "MESOS_HTTP",
					 "MESOS_HTTPS", NULL};
static const char *const e_ip_proto[] = {"IPv4", "IPv6", NULL};
static const char *const e_http_scheme[] = {"HTTP", "HTTPS", NULL};
static const char *const e_kill[] = {"YOUNGEST_FIRST", "OLDEST_FIRST", NULL};
static const char *const e_read_mode[] = {"RO", "RW", NULL};
static const char *const e_pv_type[] = {"root", "path", "mount", NULL};
static const char *const e_task_lost[] = {"WAIT_FOREVER", "RELAUNCH_AFTER_TIMEOUT", NULL};

static const struct field f_string = STR("");
static const struct field f_port = PORT("");
static const struct field f_name = STR_PAT("", pat_name);
static const struct field f_path_id = STR_PAT("", pat_path_id);
static const struct field f_uri = STR_LIM("", 1, 1024, false);

static const struct field f_constraint = ARR_LIM("", &f_string, 2, 3);

static const struct field t_port_mapping[] = {
	PORT("containerPort"), PORT("hostPort"), MAP("labels", &f_string), STR_PAT("name", pat_name),
	ENUM("protocol", e_proto), PORT("servicePort"), ARR("networkNames", &f_name), END,
};
static const struct field f_port_mapping = OBJ("", t_port_mapping);

static const struct field t_docker_param[] = {STR_MIN1_REQ("key"), STR_REQ("value"), END};
static const struct field f_docker_param = OBJ("", t_docker_param);
static const struct field t_credential[] = {STR_REQ("principal"), STR("secret"), END};
static const struct field t_pull_config[] = {STR_MIN1_REQ("secret"), END};

static const struct field t_docker[] = {
	OBJ("credential", t_credential), OBJ("pullConfig", t_pull_config), BOOL("forcePullImage"),
	STR_MIN1_REQ("image"), ENUM("network", e_docker_net), ARR("parameters", &f_docker_param),
	ARR("portMappings", &f_port_mapping), BOOL("privileged"), END,
};

static const struct field t_pv_info[] = {
	ENUM("type", e_pv_type), INT_MIN_REQ("size", 0), INT_MIN("maxSize", 0), STR("profileName"),
	ARR("constraints", &f_constraint), END,
};
static const struct field t_ext_info[] = {
	INT_MIN("size", 0), STR("name"), STR("provider"), MAP("options", &f_string), BOOL("shared"), END,
};
static const struct field t_vol_persistent[] = {
	STR_MIN1_REQ("containerPath"), OBJ_REQ("persistent", t_pv_info), ENUM_REQ("mode", e_read_mode), END,
};
static const struct field t_vol_external[] = {
	STR_MIN1_REQ("containerPath"), OBJ_REQ("external", t_ext_info), ENUM_REQ("mode", e_read_mode), END,
};
static const struct field t_vol_secret[] = {STR_MIN1_REQ("containerPath"), STR_MIN1_REQ("secret"), END};
static const struct field t_vol_host[] = {
	STR_MIN1_REQ("containerPath"), STR_MIN1_REQ("hostPath"), ENUM_REQ("mode", e_read_mode), END,
};

/*
 * AppVolume is a union; the generated reader tries the alternatives in
 * order. The discriminating member decides which one's errors we report.
 */
static struct json_object *read_volume(struct rd *r, struct json_object *v, const struct rpath *path)
{
	if (!expect_type(r, v, path, json_type_object))
		return NULL;
	if (jsonutil_get(v, "persistent"))
		return read_obj(r, v, path, t_vol_persistent);
	if (jsonutil_get(v, "external"))
		return read_obj(r, v, path, t_vol_external);
	if (jsonutil_get(v, "secret"))
		return read_obj(r, v, path, t_vol_secret);
	return read_obj(r, v, path, t_vol_host);
}
static const struct field f_volume = CUSTOM("", read_volume);

static const struct field t_container[] = {
	ENUM("type", e_engine), OBJ("docker", t_docker), ANYOBJ("linuxInfo"), ARR("volumes", &f_volume),
	ARR("portMappings", &f_port_mapping), END,
};

static const struct field t_network[] = {
	STR_PAT("name", pat_network_name), ENUM("mode", e_net_mode), MAP("labels", &f_string), END,
};
static const struct field f_network = OBJ("", t_network);

static const struct field t_discovery_port[] = {
	PORT("number"), {"name", K_STR, true, false, false, 0, 0, 1, 0, pat_name, NULL, NULL, NULL, NULL},
	ENUM("protocol", e_proto), MAP("labels", &f_string), END,
};
static const struct field f_discovery_port = OBJ("", t_discovery_port);
static const struct field t_discovery[] = {ARR("ports", &f_discovery_port), END};
static const struct field t_ip_address[] = {
	OBJ("discovery", t_discovery), ARR("groups", &f_string), MAP("labels", &f_string),
	STR_MIN1("networkName"), END,
};

static const struct field t_port_def[] = {
	PORT("port"), MAP("labels", &f_string), STR_PAT("name", pat_name), ENUM("protocol", e_proto), END,
};
static const struct field f_port_def = OBJ("", t_port_def);

static const struct field t_command[] = {STR_REQ("value"), END};
static const struct field t_health[] = {
	OBJ("command", t_command), INT_MIN("gracePeriodSeconds", 0), BOOL("ignoreHttp1xx"),
	INT_MIN("intervalSeconds", 0), INT_MIN("maxConsecutiveFailures", 0), STR("path"), PORT("port"),
	PORT("portIndex"), ENUM("protocol", e_hc_proto), ENUM("ipProtocol", e_ip_proto), INT_ANY("timeoutSeconds"),
	INT_MIN("delaySeconds", 0), END,
};
static const struct field f_health = OBJ("", t_health);

static const struct field f_status_code = {"", K_INT, false, true, true, 100, 999, 0, 0, NULL, NULL, NULL, NULL, NULL};
static const struct field t_readiness[] = {
	STR_MIN1("name"), ENUM("protocol", e_http_scheme), STR_LIM("path", 1, 1024, false),
	STR_PAT("portName", pat_name), INT_MIN("intervalSeconds", 0), INT_MIN("timeoutSeconds", 1),
	ARR_LIM("httpStatusCodesForReady", &f_status_code, 1, 0), BOOL("preserveLastResponse"), END,
};
static const struct field f_readiness = OBJ("", t_readiness);

static const struct field t_artifact[] = {
	STR_LIM("uri", 1, 1024, true), BOOL("extract"), BOOL("executable"), BOOL("cache"),
	STR_LIM("destPath", 1, 1024, false), END,
};
static const struct field f_artifact = OBJ("", t_artifact);

static const struct field t_residency[] = {
	INT_MIN("relaunchEscalationTimeoutSeconds", 0), ENUM("taskLostBehavior", e_task_lost), END,
};
static const struct field t_upgrade[] = {
	NUM_RANGE_REQ("maximumOverCapacity", 0.0, 1.0), NUM_RANGE_REQ("minimumHealthCapacity", 0.0, 1.0), END,
};
static const struct field t_executor_res[] = {NUM_MIN("cpus", 0.1), NUM_MIN("mem", 32), NUM_MIN("disk", 10.0), END};
static const struct field t_secret_def[] = {STR_MIN1_REQ("source"), END};
static const struct field f_secret_def = OBJ("", t_secret_def);
static const struct field t_env_secret[] = {STR_REQ("secret"), END};

/* EnvVarValueOrSecret: a string, or {"secret": "<name>"}. */
static struct json_object *read_env_value(struct rd *r, struct json_object *v, const struct rpath *path)
{
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		return share_string(v, s, strlen(s));
	}
	if (json_object_is_type(v, json_type_object))
		return read_obj(r, v, path, t_env_secret);
	bad(r, path, "error.expected.jsstring");
	return NULL;
}
static const struct field f_env_value = CUSTOM("", read_env_value);

static const struct field t_unreachable[] = {INT_MIN("inactiveAfterSeconds", 0), INT_MIN("expungeAfterSeconds", 0), END};

/* UnreachableStrategy: the string "disabled" or an object. */
static struct json_object *read_unreachable(struct rd *r, struct json_object *v, const struct rpath *path)
{
	if (json_object_is_type(v, json_type_string)) {
		if (strcasecmp(json_object_get_string(v), "disabled") == 0)
			return json_object_new_string("disabled");
		bad(r, path, "error.unknown.enum.literal");
		return NULL;
	}
	return read_obj(r, v, path, t_unreachable);
}

/* ResourceLimit: "unlimited" or a number, for cpus and mem. */
static struct json_object *read_limit(struct rd *r, struct json_object *v, const struct rpath *path)
{
	if (json_object_is_type(v, json_type_string)) {
		if (strcasecmp(json_object_get_string(v), "unlimited") == 0)
			return json_object_new_string("unlimited");
		bad(r, path, "error.unknown.enum.literal");
		return NULL;
	}
	if (!expect_number(r, v, path))
		return NULL;
	return appdef__double(json_object_get_double(v));
}
static const struct field t_limits[] = {CUSTOM("cpus", read_limit), CUSTOM("mem", read_limit), END};

static const struct field t_app[] = {
	{"id", K_STR, true, false, false, 0, 0, 1, 0, pat_path_id, NULL, NULL, NULL, NULL},
	ARR("acceptedResourceRoles", &f_string),
	ARR("args", &f_string),
	NUM_MIN("backoffFactor", 1.0),
	INT_MIN("backoffSeconds", 0),
	STR_MIN1("cmd"),
	ARR("constraints", &f_constraint),
	OBJ("container", t_container),
	NUM_MIN("cpus", 0.001),
	ARR("dependencies", &f_path_id),
	NUM_MIN("disk", 0),
	MAP("env", &f_env_value),
	STR("executor"),
	OBJ("executorResources", t_executor_res),
	ARR("fetch", &f_artifact),
	ARR("healthChecks", &f_health),
	ANYOBJ("check"),
	INT_MIN("instances", 0),
	MAP("labels", &f_string),
	INT_MIN("maxLaunchDelaySeconds", 0),
	NUM_MIN("mem", 0),
	INT_MIN("gpus", 0),
	OBJ("ipAddress", t_ip_address),
	ARR("networks", &f_network),
	ARR("ports", &f_port),
	ARR("portDefinitions", &f_port_def),
	ARR("readinessChecks", &f_readiness),
	OBJ("residency", t_residency),
	OBJ("resourceLimits", t_limits),
	BOOL("requirePorts"),
	MAP("secrets", &f_secret_def),
	INT_MIN("taskKillGracePeriodSeconds", 0),
	OBJ("upgradeStrategy", t_upgrade),
	ARR("uris", &f_uri),
	STR("user"),
	ENUM("killSelection", e_kill),
	CUSTOM("unreachableStrategy", read_unreachable),
	BOOL("tty"),
	STR_MIN1("role"),
	END,
};

/* read_obj() has one slot per field on its stack; App is the largest type. */
_Static_assert(sizeof(t_app) / sizeof(t_app[0]) <= READ_MAX_FIELDS, "READ_MAX_FIELDS too small for App");

struct json_object *appdef__read(struct json_object *raw, struct json_object *errs)
{
	struct rd r = {errs};
	const struct rpath root = {NULL, NULL, 0};

	if (!json_object_is_type(raw, json_type_object)) {
		bad(&r, &root, "error.expected.jsobject");
		return json_object_new_object();
	}
	return read_obj(&r, raw, &root, t_app);
}

/* --- members the reader does not know ------------------------------------ */

/*
 * The same tables, walked for what they do not name. The walk follows the
 * reader's choices (a volume's type by its discriminating member, an env
 * value that is a secret reference, an unreachableStrategy object) so that
 * it never reports a member the reader would have read.
 */

#define UNKNOWN_MAX_DEPTH 16

struct uwalk {
	appdef_unknown_fn fn;
	void *ctx;
	struct appdef_seg segs[UNKNOWN_MAX_DEPTH];
	size_t n;
	int rc;
	char home[128]; /* appdef_unknown.elsewhere of the member being reported */
};

static void unknown_obj(struct uwalk *u, struct json_object *v, const struct field *sub);

/* The table a custom reader reads an object value with, or NULL. */
static const struct field *custom_table(const struct field *f, struct json_object *v)
{
	if (!json_object_is_type(v, json_type_object))
		return NULL;
	if (f->fn == read_volume)
		return jsonutil_get(v, "persistent") ? t_vol_persistent
		       : jsonutil_get(v, "external") ? t_vol_external
		       : jsonutil_get(v, "secret")   ? t_vol_secret
						    : t_vol_host;
	if (f->fn == read_env_value)
		return t_env_secret;
	if (f->fn == read_unreachable)
		return t_unreachable;
	return NULL;
}

static void unknown_value(struct uwalk *u, struct json_object *v, const struct field *f)
{
	const struct field *sub;

	if (u->rc || u->n >= UNKNOWN_MAX_DEPTH)
		return;
	switch (f->kind) {
	case K_OBJ:
		unknown_obj(u, v, f->sub);
		return;
	case K_CUSTOM:
		if ((sub = custom_table(f, v)))
			unknown_obj(u, v, sub);
		return;
	case K_ARR:
		if (!json_object_is_type(v, json_type_array))
			return;
		for (size_t i = 0; i < json_object_array_length(v) && !u->rc; i++) {
			u->segs[u->n++] = (struct appdef_seg){NULL, i};
			unknown_value(u, json_object_array_get_idx(v, i), f->elem);
			u->n--;
		}
		return;
	case K_MAP:
		/* Labels and the like: scalar values hold no fields to check. */
		if (!json_object_is_type(v, json_type_object) || f->elem->kind < K_OBJ)
			return;
		json_object_object_foreach(v, key, val) {
			if (u->rc)
				break;
			u->segs[u->n++] = (struct appdef_seg){key, 0};
			unknown_value(u, val, f->elem);
			u->n--;
		}
		return;
	default:
		return; /* scalars; K_ANYOBJ is free-form */
	}
}


/*
 * The field of sub that name is a near miss of: another case, one or two
 * typos (one in a name of four letters or less, so that "port" is not
 * "path"), or a truncation of at least four letters ("forcePull").
 */
static const char *near_miss(const struct field *sub, const char *name)
{
	size_t len = strlen(name), best_d = (size_t)-1;
	const char *best = NULL;

	for (const struct field *f = sub; f->name; f++) {
		size_t d = strdist(name, f->name, STRDIST_FOLD_CASE);
		int ok = d <= (len <= 4 ? 1u : 2u) ||
			 (len >= 4 && !strncasecmp(f->name, name, len));

		if (ok && d < best_d) {
			best = f->name;
			best_d = d;
		}
	}
	return best;
}

/* The object table below field f, for the search of where a name belongs. */
static const struct field *inner_table(const struct field *f)
{
	if (f->kind == K_OBJ)
		return f->sub;
	if ((f->kind == K_ARR || f->kind == K_MAP) && f->elem->kind == K_OBJ)
		return f->elem->sub;
	if (f->kind == K_ARR && f->elem->kind == K_CUSTOM && f->elem->fn == read_volume)
		return t_vol_host;
	return NULL;
}

/*
 * Where the app reads a field called name, as a dotted path into *out: at
 * the top level (""), else the first place one or two objects down
 * ("container.volumes", "container.docker.parameters"). 0 when found.
 */
static int find_home(const char *name, char *out, size_t size)
{
	for (const struct field *f = t_app; f->name; f++)
		if (!strcmp(f->name, name)) {
			snprintf(out, size, "%s", "");
			return 0;
		}
	for (const struct field *f = t_app; f->name; f++) {
		const struct field *sub = inner_table(f), *g2;

		for (const struct field *g = sub; g && g->name; g++) {
			if (!strcmp(g->name, name)) {
				snprintf(out, size, "%s.%s", f->name, g->name);
				return 0;
			}
			for (g2 = inner_table(g); g2 && g2->name; g2++)
				if (!strcmp(g2->name, name)) {
					snprintf(out, size, "%s.%s.%s", f->name, g->name, g2->name);
					return 0;
				}
		}
	}
	return -1;
}

/*
 * Whether the place where `key` is read is worth naming: a top-level
 * member that belongs deeper, a member that belongs at the top level, or
 * one put in the wrong object below its own ("container.network" for
 * "container.docker.network"). Not a sibling structure: "portName" in a
 * health check is no misplaced readiness check field.
 */
static int home_worth_naming(const struct uwalk *u, const char *home)
{
	char parent[128] = "";
	size_t used = 0;

	if (u->n == 1 || !*home)
		return 1;
	for (size_t i = 0; i + 1 < u->n && used < sizeof(parent); i++)
		if (u->segs[i].name)
			used += (size_t)snprintf(parent + used, sizeof(parent) - used, "%s.",
						 u->segs[i].name);
	return used < sizeof(parent) && !strncmp(home, parent, used);
}

static void report_unknown(struct uwalk *u, const struct field *sub, const char *key)
{
	struct appdef_unknown un;

	u->segs[u->n++] = (struct appdef_seg){key, 0};
	un.segs = u->segs;
	un.nsegs = u->n;
	un.suggestion = near_miss(sub, key);
	un.elsewhere = NULL;
	if (!un.suggestion && find_home(key, u->home, sizeof(u->home)) == 0 &&
	    home_worth_naming(u, u->home))
		un.elsewhere = u->home;
	u->rc = u->fn(u->ctx, &un);
	u->n--;
}

static void unknown_obj(struct uwalk *u, struct json_object *v, const struct field *sub)
{
	size_t n = 0, cursor = 0;

	if (!json_object_is_type(v, json_type_object) || u->n >= UNKNOWN_MAX_DEPTH - 1)
		return;
	while (sub[n].name)
		n++;
	json_object_object_foreach(v, key, val) {
		int idx = field_index(sub, n, key, &cursor);

		if (u->rc)
			return;
		if (idx < 0) {
			report_unknown(u, sub, key);
			continue;
		}
		if (!val)
			continue;
		u->segs[u->n++] = (struct appdef_seg){key, 0};
		unknown_value(u, val, &sub[idx]);
		u->n--;
	}
}

int appdef_unknown_fields(struct json_object *raw, appdef_unknown_fn fn, void *ctx)
{
	struct uwalk u;

	memset(&u, 0, sizeof(u));
	u.fn = fn;
	u.ctx = ctx;
	unknown_obj(&u, raw, t_app);
	return u.rc;
}
