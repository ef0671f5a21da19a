/*
 * desired.c: load the desired state (reconcile/desired.h).
 *
 * Each file is parsed by json-c in strict mode (no comments, no trailing
 * commas, valid UTF-8). json-c does not keep positions, so json_pos.c scans
 * the same bytes again to find where each app object and each offending
 * member starts; the scan is done only along the paths we need (the app
 * level, and members we complain about), so a well-formed file costs one
 * parse and one cheap pass over its group arrays.
 *
 * Apps are kept as the very json-c objects of the parse (a reference is
 * taken, then edited in place: id made absolute, dependencies made absolute,
 * read-only fields removed). Nothing is deep-copied.
 *
 * Every problem becomes a diagnostic and loading goes on, so a user sees all
 * of them at once. Only running out of memory stops a load.
 */
#include "reconcile/base/buf.h"
#include "reconcile/base/json_pos.h"
#include "reconcile/bluegreen.h"
#include "reconcile/cache.h"
#include "reconcile/desired.h"
#include "reconcile/desired_internal.h"
#include "reconcile/model/appdef.h"
#include "reconcile/model/appid.h"
#include "reconcile/normalize.h"

#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_POS SIZE_MAX

/* Fields Marathon computes; a file that carries them was copied from a GET. */
static const char *const readonly_fields[] = {
    "version",      "versionInfo",    "tasks",       "tasksRunning",    "tasksStaged",
    "tasksHealthy", "tasksUnhealthy", "deployments", "lastTaskFailure", "readinessCheckResults",
    "taskStats",    "tasksStats",     "storeUrls",
};

/* Number-typed app fields: a string there is always rejected by Marathon. */
static const char *const number_fields[] = {
    "cpus",
    "mem",
    "disk",
    "gpus",
    "backoffSeconds",
    "backoffFactor",
    "maxLaunchDelaySeconds",
    "taskKillGracePeriodSeconds",
};

/* One file being loaded. */
struct loadctx {
	struct pacer_desired *d;
	const struct desired_options *opts;
	const char *path;
	const char *data; /* after a UTF-8 BOM, if any */
	size_t len;
	struct json_pos_lines lines;
	int have_lines;
	int oom;
};

/* Grow a vector whose capacity is implied by its count: 8, 16, 32... */
static int grow(void **v, size_t n, size_t elem)
{
	void *p;

	if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
		return 0;
	p = realloc(*v, (n < 8 ? 8 : n * 2) * elem);
	if (!p)
		return -1;
	*v = p;
	return 0;
}

static void position(struct loadctx *c, size_t off, int *line, int *col)
{
	/* Most files hold one app near the top: a short scan beats an index. */
	if (!c->have_lines && off < 4096) {
		json_pos_linecol(c->data, c->len, off, line, col);
		return;
	}
	if (!c->have_lines && json_pos_lines_init(&c->lines, c->data, c->len) == 0)
		c->have_lines = 1;
	if (c->have_lines)
		json_pos_lines_get(&c->lines, off, line, col);
	else
		json_pos_linecol(c->data, c->len, off, line, col);
}

static int diag_add(struct pacer_desired *d, enum pacer_diag_severity severity,
		    struct pacer_error *e)
{
	if (grow((void **)&d->diags, d->ndiags, sizeof(*d->diags)) < 0) {
		pacer_error_free(e);
		return -1;
	}
	d->diags[d->ndiags].is_error = severity == PACER_DIAG_ERROR;
	d->diags[d->ndiags].error = e;
	d->ndiags++;
	if (severity == PACER_DIAG_ERROR)
		d->nerrors++;
	return 0;
}

/* Record a problem at byte offset off (NO_POS: the file as a whole). */
__attribute__((format(printf, 5, 6))) static void
diag(struct loadctx *c, enum pacer_diag_severity severity, size_t off, const char *app_id,
     const char *fmt, ...)
{
	struct pacer_error *e;
	int line = 0, col = 0;
	va_list ap;

	va_start(ap, fmt);
	e = pacer_error_newv(PACER_EINVALID, fmt, ap);
	va_end(ap);
	if (!e) {
		c->oom = 1;
		return;
	}
	if (off != NO_POS)
		position(c, off, &line, &col);
	pacer_error_set_file(e, c->path, line, col);
	if (app_id)
		pacer_error_set_app(e, app_id);
	if (diag_add(c->d, severity, e) < 0)
		c->oom = 1;
}

/* Offset of member key of the object at obj_off, or obj_off itself. */
static size_t member_pos(struct loadctx *c, size_t obj_off, const char *key)
{
	size_t off;

	if (obj_off == NO_POS || json_pos_member(c->data, c->len, obj_off, key, &off) < 0)
		return obj_off;
	return off;
}

static const char *type_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
	case json_type_int:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "a value";
}

static int is_number(struct json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

/*
 * The first template placeholder in s: ${VAR}, {{ x }} or {% x %}. Plain
 * $VAR is a shell variable (Marathon's cmd runs in a shell), not a template.
 */
static const char *find_template(const char *s)
{
	const char *best = NULL;
	const char *marks[] = {"${", "{{", "{%"};

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const char *p = strstr(s, marks[i]);

		if (p && (!best || p < best))
			best = p;
	}
	return best;
}

#define RENDER_HINT "render the template (envsubst, helm, jinja, ...) before pacer reads the file"

/* ---- the checks on one app ------------------------------------------------------------ */

/* What check_number() accepts: any number, or only a whole one. */
enum number_kind {
	NUMBER_ANY,
	NUMBER_WHOLE,
};

/* A number-typed field: absent/null is fine, a number is fine. */
static void check_number(struct loadctx *c, struct json_object *app, size_t off, const char *id,
                         const char *field, enum number_kind kind)
{
	struct json_object *v = NULL;
	double x;

	if (!json_object_object_get_ex(app, field, &v) || !v)
		return;
	/* Positions cost a scan of the app's text: only on the way to a message. */
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		if (find_template(s))
			diag(c, PACER_DIAG_ERROR, member_pos(c, off, field), id,
			     "unrendered template in \"%s\": \"%s\" is not a number; %s", field, s,
			     RENDER_HINT);
		else
			diag(c, PACER_DIAG_ERROR, member_pos(c, off, field), id,
			     "\"%s\" must be a number, not a string (\"%s\"): write it without "
			     "quotes",
			     field, s);
		return;
	}
	if (!is_number(v)) {
		diag(c, PACER_DIAG_ERROR, member_pos(c, off, field), id,
		     "\"%s\" must be a number, not %s", field, type_name(v));
		return;
	}
	x = json_object_get_double(v);
	if (!isfinite(x)) {
		diag(c, PACER_DIAG_ERROR, member_pos(c, off, field), id,
		     "\"%s\" is %s, which JSON does not allow (Marathon refuses it): write a "
		     "number",
		     field, json_object_to_json_string(v));
		return;
	}
	if (kind == NUMBER_WHOLE && (x < 0 || x != floor(x) || x > INT32_MAX))
		diag(c, PACER_DIAG_ERROR, member_pos(c, off, field), id,
		     "\"%s\" must be a whole number >= 0, not %s", field,
		     json_object_to_json_string(v));
}

/* What the values of a checked map may be: labels take strings, env also {"secret": name}. */
enum map_values {
	MAP_STRINGS,
	MAP_STRINGS_OR_SECRETS,
};

/* labels: strings only; env: strings or {"secret": "name"}. */
static void check_string_map(struct loadctx *c, struct json_object *app, size_t off, const char *id,
                             const char *field, enum map_values values)
{
	struct json_object *map = NULL;

	if (!json_object_object_get_ex(app, field, &map) || !map)
		return;
	if (!json_object_is_type(map, json_type_object)) {
		diag(c, PACER_DIAG_ERROR, member_pos(c, off, field), id,
		     "\"%s\" must be an object of strings, not %s", field, type_name(map));
		return;
	}
	json_object_object_foreach(map, key, v)
	{
		struct json_object *secret;

		if (json_object_is_type(v, json_type_string))
			continue;
		if (values == MAP_STRINGS_OR_SECRETS && json_object_is_type(v, json_type_object) &&
		    json_object_object_get_ex(v, "secret", &secret) &&
		    json_object_is_type(secret, json_type_string))
			continue;
		if (values == MAP_STRINGS_OR_SECRETS)
			diag(c, PACER_DIAG_ERROR, member_pos(c, member_pos(c, off, field), key), id,
			     "%s \"%s\" must be a string or {\"secret\": \"name\"}, not %s; quote "
			     "it "
			     "(\"%s\")",
			     field, key, type_name(v), v ? json_object_to_json_string(v) : "");
		else
			diag(c, PACER_DIAG_ERROR, member_pos(c, member_pos(c, off, field), key), id,
			     "label \"%s\" must be a string, not %s; quote it (\"%s\")", key,
			     type_name(v), v ? json_object_to_json_string(v) : "");
	}
}

static void check_array(struct loadctx *c, struct json_object *app, size_t off, const char *id,
                        const char *field)
{
	struct json_object *v;

	if (!json_object_object_get_ex(app, field, &v) || !v ||
	    json_object_is_type(v, json_type_array))
		return;
	diag(c, PACER_DIAG_ERROR, member_pos(c, off, field), id, "\"%s\" must be an array, not %s",
	     field, type_name(v));
}

/*
 * A placeholder left in an image: in the tag Marathon accepts it literally
 * (several real files carry a CI variable there) so it is a warning; in the
 * repository part the image cannot be meant literally, so it is an error.
 */
static void check_image(struct loadctx *c, struct json_object *app, size_t off, const char *id,
                        const char *kind)
{
	struct json_object *container, *sub, *image;
	const char *s, *t, *slash, *colon;
	size_t pos;

	if (!json_object_object_get_ex(app, "container", &container) ||
	    !json_object_is_type(container, json_type_object) ||
	    !json_object_object_get_ex(container, kind, &sub) ||
	    !json_object_is_type(sub, json_type_object) ||
	    !json_object_object_get_ex(sub, "image", &image) ||
	    !json_object_is_type(image, json_type_string))
		return;
	s = json_object_get_string(image);
	t = find_template(s);
	if (!t)
		return;
	pos = member_pos(c, member_pos(c, member_pos(c, off, "container"), kind), "image");
	slash = strrchr(s, '/');
	colon = strrchr(slash ? slash : s, ':');
	if (colon && t > colon)
		diag(c, PACER_DIAG_WARNING, pos, id,
		     "container.%s.image \"%s\" has an unrendered placeholder in its tag: Marathon "
		     "takes it literally and the pull fails unless such a tag exists; %s",
		     kind, s, RENDER_HINT);
	else
		diag(c, PACER_DIAG_ERROR, pos, id,
		     "unrendered template in container.%s.image \"%s\"; %s", kind, s, RENDER_HINT);
}

/* Whether s holds "{{" or "{%" (one pass: most values hold no '{' at all). */
static int has_template(const char *s)
{
	while ((s = strchr(s, '{')))
		if (*++s == '{' || *s == '%')
			return 1;
	return 0;
}

/* {{ }} or {% %} left in env or labels values: almost surely a template. */
static void warn_templates_in(struct loadctx *c, struct json_object *app, size_t off,
                              const char *id, const char *field)
{
	struct json_object *map;

	if (!json_object_object_get_ex(app, field, &map) ||
	    !json_object_is_type(map, json_type_object))
		return;
	json_object_object_foreach(map, key, v)
	{
		const char *s;

		if (!json_object_is_type(v, json_type_string))
			continue;
		s = json_object_get_string(v);
		if (has_template(s)) {
			diag(c, PACER_DIAG_WARNING, member_pos(c, member_pos(c, off, field), key),
			     id,
			     "%s \"%s\" holds template syntax (\"%s\") that Marathon will pass on "
			     "literally; %s",
			     field, key, s, RENDER_HINT);
			return; /* one warning per field is enough */
		}
	}
}

/* ---- fields Marathon would ignore ------------------------------------------ */

/* The opening quote of the key whose value starts at v; v itself if the text is not so. */
static size_t key_start(const struct loadctx *c, size_t v)
{
	size_t p = v;

	while (p > 0 && strchr(" \t\r\n", c->data[p - 1]))
		p--;
	if (p == 0 || c->data[--p] != ':')
		return v;
	while (p > 0 && strchr(" \t\r\n", c->data[p - 1]))
		p--;
	if (p == 0 || c->data[--p] != '"')
		return v;
	while (p > 0) {
		size_t bs = 0;

		p--;
		while (c->data[p] == '"' && bs < p && c->data[p - 1 - bs] == '\\')
			bs++;
		if (c->data[p] == '"' && bs % 2 == 0)
			return p;
	}
	return v;
}

/* Where the member named by segs (the last one a name) starts, below the app at off. */
static size_t segs_pos(struct loadctx *c, size_t off, const struct appdef_seg *segs, size_t n)
{
	size_t cur = off, next, *offs = NULL, k = 0;

	for (size_t i = 0; i < n && cur != NO_POS; i++) {
		if (segs[i].name) {
			if (json_pos_member(c->data, c->len, cur, segs[i].name, &next) < 0)
				return cur; /* as near as the text allows */
			cur = i + 1 == n ? key_start(c, next) : next;
			continue;
		}
		if (json_pos_elements(c->data, c->len, cur, &offs, &k) < 0 || segs[i].index >= k) {
			free(offs);
			return cur;
		}
		cur = offs[segs[i].index];
		free(offs);
		offs = NULL;
	}
	return cur;
}

/* "container.docker.forcePull", "fetch[0].outputFile": segs[0..n) dotted. */
static void segs_dotted(struct pacer_buf *b, const struct appdef_seg *segs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!segs[i].name)
			pacer_buf_printf(b, "[%zu]", segs[i].index);
		else
			pacer_buf_printf(b, "%s%s", i ? "." : "", segs[i].name);
	}
}

struct unknown_ctx {
	struct loadctx *c;
	size_t off;
	const char *id;
	size_t n; /* unknown fields seen in this app */
};

static int warn_unknown(void *ctx, const struct appdef_unknown *u)
{
	struct unknown_ctx *x = ctx;
	struct pacer_buf where = PACER_BUF_INIT, hint = PACER_BUF_INIT;
	const char *name = u->segs[u->nsegs - 1].name;

	/* Finding a field's line costs a scan of the app: past the cap, only count. */
	if (x->n++ >= DESIRED_UNKNOWN_LISTED)
		return 0;
	segs_dotted(&where, u->segs, u->nsegs);
	if (u->suggestion) {
		pacer_buf_puts(&hint, "; did you mean \"");
		segs_dotted(&hint, u->segs, u->nsegs - 1);
		pacer_buf_printf(&hint, "%s%s\"?", u->nsegs > 1 ? "." : "", u->suggestion);
	} else if (u->elsewhere && !*u->elsewhere) {
		pacer_buf_printf(&hint, "; \"%s\" is a field of the app itself: move it to the top "
					"level", name);
	} else if (u->elsewhere) {
		pacer_buf_printf(&hint, "; Marathon reads \"%s\" only as %s", name, u->elsewhere);
	}
	diag(x->c, PACER_DIAG_WARNING, segs_pos(x->c, x->off, u->segs, u->nsegs), x->id,
	     "unknown field \"%s\": Marathon ignores it silently%s", pacer_buf_cstr(&where),
	     pacer_buf_cstr(&hint));
	pacer_buf_release(&where);
	pacer_buf_release(&hint);
	return x->c->oom ? -1 : 0;
}

/* Every member Marathon's reader does not know (appdef.h), one warning each. */
static void warn_unknown_fields(struct loadctx *c, struct json_object *app, size_t off,
				const char *id)
{
	struct unknown_ctx x = {c, off, id, 0};

	if (appdef_unknown_fields(app, warn_unknown, &x) < 0)
		c->oom = 1;
	else if (x.n > DESIRED_UNKNOWN_LISTED)
		diag(c, PACER_DIAG_WARNING, off, id,
		     "%zu more unknown fields, not listed (Marathon ignores them silently): "
		     "fix the ones above and validate again",
		     x.n - DESIRED_UNKNOWN_LISTED);
}

/* Drop read-only fields, with one warning naming all of them. */
static void drop_readonly(struct loadctx *c, struct json_object *app, size_t off, const char *id)
{
	char names[512];
	size_t used = 0, n = 0;
	size_t first = NO_POS;

	names[0] = '\0';
	for (size_t i = 0; i < sizeof(readonly_fields) / sizeof(readonly_fields[0]); i++) {
		const char *f = readonly_fields[i];

		if (!json_object_object_get_ex(app, f, NULL))
			continue;
		if (first == NO_POS)
			first = member_pos(c, off, f);
		used +=
		    (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", n ? ", " : "", f);
		n++;
		json_object_object_del(app, f);
	}
	if (n)
		diag(c, PACER_DIAG_WARNING, first != NO_POS ? first : off, id,
		     "read-only field%s %s %s set by Marathon and ignored; remove %s from the file",
		     n > 1 ? "s" : "", names, n > 1 ? "are" : "is", n > 1 ? "them" : "it");
}

int desired_label_timeout(struct json_object *def, int *out_s, struct pacer_error **err)
{
	struct json_object *labels = NULL, *v = NULL;
	const char *s, *p;
	long n = 0;

	*out_s = 0;
	/* A label that is not a string is reported by check_string_map(). */
	if (!json_object_object_get_ex(def, "labels", &labels) ||
	    !json_object_object_get_ex(labels, "pacer.timeout", &v) ||
	    !json_object_is_type(v, json_type_string))
		return 0;
	s = json_object_get_string(v);
	/*
	 * Digits only: strtol() would also take " 90", "+90" and "0x5a". The
	 * bound keeps a typo ("6000000") from holding a run for months; n
	 * cannot overflow because it stops growing past the bound.
	 */
	for (p = s; *p >= '0' && *p <= '9' && n <= DESIRED_TIMEOUT_MAX; p++)
		n = n * 10 + (*p - '0');
	if (p > s && *p == 's')
		p++;
	if (p == s || *p || n < 1 || n > DESIRED_TIMEOUT_MAX)
		return pacer_error_set(
		    err, PACER_EINVALID,
		    "label \"pacer.timeout\" is \"%s\": write the deployment "
		    "timeout as a whole number of seconds from 1 to %d (7 days), "
		    "e.g. \"900\"",
		    s, DESIRED_TIMEOUT_MAX);
	*out_s = (int)n;
	return 0;
}

/* The label sync reads for the app's deployment timeout, checked as sync checks it. */
static void check_timeout_label(struct loadctx *c, struct json_object *app, size_t off,
                                const char *id)
{
	struct pacer_error *e = NULL;
	int secs;

	if (desired_label_timeout(app, &secs, &e) == 0)
		return;
	diag(c, PACER_DIAG_ERROR, member_pos(c, member_pos(c, off, "labels"), "pacer.timeout"), id,
	     "%s", e ? e->message : "invalid label \"pacer.timeout\"");
	pacer_error_free(e);
}

/* A blue/green app's labels (reconcile/bluegreen.h), checked as a release reads them. */
static void check_bluegreen_labels(struct loadctx *c, struct json_object *app, size_t off,
                                   const char *id)
{
	struct pacer_error *e = NULL;
	struct bluegreen_conf conf;
	const char *label = NULL;
	size_t pos;

	if (!bluegreen_enabled(app) || bluegreen_conf_read(app, &conf, &label, &e) == 0)
		return;
	pos = member_pos(c, off, "labels");
	if (label)
		pos = member_pos(c, pos, label);
	diag(c, PACER_DIAG_ERROR, pos, id, "%s", e ? e->message : "invalid blue/green labels");
	pacer_error_free(e);
}

/* Parent group of an absolute id: "/a/b" -> "/a", "/x" -> "/". Caller frees. */
static char *parent_of(const char *id)
{
	const char *slash = strrchr(id, '/');

	if (!slash || slash == id)
		return strdup("/");
	return strndup(id, (size_t)(slash - id));
}

/* Dependencies: an array of strings, made absolute against the app's group. */
static void resolve_dependencies(struct loadctx *c, struct json_object *app, size_t off,
                                 const char *id)
{
	struct json_object *deps = NULL, *out = NULL;
	char *parent = NULL;
	size_t n;

	if (!json_object_object_get_ex(app, "dependencies", &deps) || !deps)
		return;
	if (!json_object_is_type(deps, json_type_array)) {
		diag(c, PACER_DIAG_ERROR, member_pos(c, off, "dependencies"), id,
		     "\"dependencies\" must be an array of app ids, not %s", type_name(deps));
		return;
	}
	n = json_object_array_length(deps);
	parent = parent_of(id);
	out = json_object_new_array_ext((int)n);
	if (!parent || !out) {
		c->oom = 1;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *dep = json_object_array_get_idx(deps, i);
		char *abs;

		if (!json_object_is_type(dep, json_type_string)) {
			diag(c, PACER_DIAG_ERROR, member_pos(c, off, "dependencies"), id,
			     "\"dependencies\" must hold app ids as strings; element %zu is %s", i,
			     type_name(dep));
			goto done;
		}
		abs = appid_resolve(parent, json_object_get_string(dep));
		if (!abs) {
			diag(c, PACER_DIAG_ERROR, member_pos(c, off, "dependencies"), id,
			     "dependency \"%s\" climbs above the root group \"/\": write it as an "
			     "absolute id such as \"/group/app\"",
			     json_object_get_string(dep));
			goto done;
		}
		if (json_object_array_add(out, json_object_new_string(abs)) < 0)
			c->oom = 1;
		free(abs);
	}
	/* The object takes our reference. */
	json_object_object_add(app, "dependencies", out);
	out = NULL;
done:
	json_object_put(out);
	free(parent);
}

/*
 * Marathon's own pipeline with the server flags of "pacer validate". The
 * stored form it makes is returned (a new reference, NULL when rejected)
 * when a visit will compare the app and the normaliser would make the same
 * (normalize.h): the pipeline then runs once per app.
 */
static struct json_object *check_with_marathon(struct loadctx *c, struct json_object *app,
                                               size_t off, const char *id)
{
	struct json_object *stored = NULL, *body = NULL;
	char *text = NULL;
	int rc = appdef_submit(app, id, c->opts->flags, &stored, &body);

	if (rc == PACER_EINVALID) {
		text = body ? appdef_format_error(body) : NULL;
		diag(c, PACER_DIAG_ERROR, off, id, "Marathon would reject this app: %s",
		     text ? text : "(no reason given)");
	} else if (rc < 0) {
		c->oom = 1;
	}
	free(text);
	json_object_put(body);
	if (rc || !c->opts->visit || !normalize_submits_like(c->opts->flags)) {
		json_object_put(stored);
		stored = NULL;
	}
	return stored;
}

/* Add app (a reference is taken) and `submitted` (taken) as app `id`. */
static int add_app(struct loadctx *c, const char *id, struct json_object *app, size_t off,
                   struct json_object *submitted)
{
	struct pacer_desired *d = c->d;
	struct pacer_desired_app *a;
	int line = 0, col = 0;

	if (grow((void **)&d->apps, d->napps, sizeof(*d->apps)) < 0)
		return -1;
	a = &d->apps[d->napps];
	memset(a, 0, sizeof(*a));
	a->id = strdup(id);
	a->file = strdup(c->path);
	if (!a->id || !a->file) {
		free(a->id);
		free(a->file);
		json_object_put(submitted);
		return -1;
	}
	a->submitted = submitted;
	if (off != NO_POS)
		position(c, off, &line, &col);
	a->line = line;
	a->col = col;
	a->def = json_object_get(app);
	d->napps++;
	return 0;
}

/* pacer's own checks of one app's fields, in the order they are reported. */
static void check_fields(struct loadctx *c, struct json_object *app, size_t off, const char *id)
{
	drop_readonly(c, app, off, id);
	warn_unknown_fields(c, app, off, id);
	check_number(c, app, off, id, "instances", NUMBER_WHOLE);
	for (size_t i = 0; i < sizeof(number_fields) / sizeof(number_fields[0]); i++)
		check_number(c, app, off, id, number_fields[i], NUMBER_ANY);
	check_string_map(c, app, off, id, "labels", MAP_STRINGS);
	check_timeout_label(c, app, off, id);
	check_bluegreen_labels(c, app, off, id);
	check_string_map(c, app, off, id, "env", MAP_STRINGS_OR_SECRETS);
	check_array(c, app, off, id, "healthChecks");
	check_array(c, app, off, id, "constraints");
	resolve_dependencies(c, app, off, id);
	check_image(c, app, off, id, "docker");
	check_image(c, app, off, id, "appc");
	warn_templates_in(c, app, off, id, "env");
	warn_templates_in(c, app, off, id, "labels");
}

/*
 * 1 when the resolved id (which includes the enclosing groups, where a
 * template may hide too) is a valid app id, else 0 with an error.
 */
static int id_usable(struct loadctx *c, const char *id, size_t off)
{
	struct pacer_error *id_err = NULL;
	int ok = 0;

	if (find_template(id))
		diag(c, PACER_DIAG_ERROR, member_pos(c, off, "id"), id,
		     "unrendered template in \"id\" (\"%s\"); %s", id, RENDER_HINT);
	else if (appid_check(id, &id_err) < 0)
		diag(c, PACER_DIAG_ERROR, member_pos(c, off, "id"), id, "%s",
		     id_err && id_err->message ? id_err->message : "invalid app id");
	else
		ok = 1;
	pacer_error_free(id_err);
	return ok;
}

/*
 * One app object at offset off, relative ids resolved against base. An app
 * with a usable id is kept even when other checks fail, so that duplicates
 * are still reported; any error stops the run anyway.
 */
static void load_app(struct loadctx *c, struct json_object *app, size_t off, const char *base)
{
	struct json_object *idv, *submitted = NULL;
	const char *raw;
	char *id = NULL;
	size_t nerrors = c->d->nerrors;
	int id_ok;

	if (!json_object_is_type(app, json_type_object)) {
		diag(c, PACER_DIAG_ERROR, off, NULL,
		     "an app must be a JSON object, not %s; see the Marathon app format "
		     "(\"id\", \"cmd\" or \"container\", \"cpus\", \"mem\", \"instances\")",
		     type_name(app));
		return;
	}
	if (!json_object_object_get_ex(app, "id", &idv) || !idv) {
		diag(c, PACER_DIAG_ERROR, off, NULL,
		     "app has no \"id\": add one, e.g. \"id\": \"/group/name\"");
		return;
	}
	if (!json_object_is_type(idv, json_type_string)) {
		diag(c, PACER_DIAG_ERROR, member_pos(c, off, "id"), NULL,
		     "\"id\" must be a string such as \"/group/name\", not %s", type_name(idv));
		return;
	}
	raw = json_object_get_string(idv);
	id = appid_resolve(base, raw);
	if (!id) {
		diag(c, PACER_DIAG_ERROR, member_pos(c, off, "id"), NULL,
		     "id \"%s\" climbs above the root group \"/\" (too many \"..\"): write an "
		     "absolute id such as \"/group/name\"",
		     raw);
		return;
	}
	/* A bad id does not stop the other checks: the user fixes all at
	 * once. Only an app with a good id is kept. */
	id_ok = id_usable(c, id, off);
	if (id_ok && strcmp(raw, id) != 0)
		json_object_object_add(app, "id", json_object_new_string(id));

	check_fields(c, app, off, id);
	/* Marathon's own verdict only on apps pacer's checks let through. */
	if (c->opts->flags && c->d->nerrors == nerrors)
		submitted = check_with_marathon(c, app, off, id);
	if (id_ok && add_app(c, id, app, off, submitted) < 0)
		c->oom = 1;
	else if (!id_ok)
		json_object_put(submitted);
	free(id);
}

static int is_group(struct json_object *o)
{
	struct json_object *v;

	return (json_object_object_get_ex(o, "apps", &v) &&
	        json_object_is_type(v, json_type_array)) ||
	       (json_object_object_get_ex(o, "groups", &v) &&
	        json_object_is_type(v, json_type_array));
}

static void load_item(struct loadctx *c, struct json_object *o, size_t off, const char *base);

/* Which member array of a group load_members() walks. */
enum member_kind {
	MEMBERS_APPS,
	MEMBERS_GROUPS,
};

/* Walk the elements of array member `key` of the object at off. */
static void load_members(struct loadctx *c, struct json_object *grp, size_t off, const char *key,
                         const char *base, enum member_kind kind)
{
	struct json_object *arr;
	size_t *offs = NULL, noffs = 0, n;

	if (!json_object_object_get_ex(grp, key, &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	if (off != NO_POS &&
	    json_pos_elements(c->data, c->len, member_pos(c, off, key), &offs, &noffs) < 0) {
		c->oom = 1;
		return;
	}
	for (size_t i = 0; i < n && !c->oom; i++) {
		struct json_object *el = json_object_array_get_idx(arr, i);
		size_t eoff = i < noffs ? offs[i] : off;

		if (kind == MEMBERS_GROUPS)
			load_item(c, el, eoff, base);
		else
			load_app(c, el, eoff, base);
	}
	free(offs);
}

/*
 * A group: its id (relative to the enclosing group, absent = the enclosing
 * group itself) is the base of its apps' and sub-groups' ids. Group-level
 * settings have no equivalent once flattened: say so rather than lose them
 * silently.
 */
static void load_group(struct loadctx *c, struct json_object *grp, size_t off, const char *base)
{
	struct json_object *idv, *v;
	char *gid = NULL;

	if (json_object_object_get_ex(grp, "id", &idv) && idv) {
		if (!json_object_is_type(idv, json_type_string)) {
			diag(c, PACER_DIAG_ERROR, member_pos(c, off, "id"), NULL,
			     "group \"id\" must be a string such as \"/group\", not %s; its apps "
			     "were not loaded",
			     type_name(idv));
			return;
		}
		gid = appid_resolve(base, json_object_get_string(idv));
		if (!gid) {
			diag(c, PACER_DIAG_ERROR, member_pos(c, off, "id"), NULL,
			     "group id \"%s\" climbs above the root group \"/\"; its apps were not "
			     "loaded",
			     json_object_get_string(idv));
			return;
		}
	} else {
		gid = strdup(base);
		if (!gid) {
			c->oom = 1;
			return;
		}
	}
	if (json_object_object_get_ex(grp, "dependencies", &v) &&
	    json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0)
		diag(c, PACER_DIAG_WARNING, member_pos(c, off, "dependencies"), NULL,
		     "group %s has \"dependencies\", which pacer does not apply when it flattens "
		     "groups into apps; put them in the \"dependencies\" of its apps to keep the "
		     "order",
		     gid);
	if (json_object_object_get_ex(grp, "pods", &v) && json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) > 0)
		diag(c, PACER_DIAG_WARNING, member_pos(c, off, "pods"), NULL,
		     "group %s has pods, which pacer does not manage; they were ignored", gid);
	load_members(c, grp, off, "apps", gid, MEMBERS_APPS);
	load_members(c, grp, off, "groups", gid, MEMBERS_GROUPS);
	free(gid);
}

/* An app, an {"app": {...}} wrapper, or a group. */
static void load_item(struct loadctx *c, struct json_object *o, size_t off, const char *base)
{
	struct json_object *inner;

	if (json_object_is_type(o, json_type_object) && !json_object_object_get_ex(o, "id", NULL) &&
	    json_object_object_get_ex(o, "app", &inner) &&
	    json_object_is_type(inner, json_type_object)) {
		load_app(c, inner, member_pos(c, off, "app"), base);
		return;
	}
	if (json_object_is_type(o, json_type_object) && is_group(o)) {
		load_group(c, o, off, base);
		return;
	}
	load_app(c, o, off, base);
}

/* ---- parsing ------------------------------------------------------------------------- */

/* Explain json-c's complaint in terms of what people actually get wrong. */
static void parse_error(struct loadctx *c, struct json_tokener *tok)
{
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t off = json_tokener_get_parse_end(tok), ls, le, p;
	const char *s = c->data;

	if (off > c->len)
		off = c->len;
	if (jerr == json_tokener_continue) {
		if (json_pos_skip_ws(s, c->len, 0) >= c->len)
			diag(c, PACER_DIAG_ERROR, NO_POS, NULL,
			     "file is empty: a desired-state file holds one app, an array of apps "
			     "or a group; add an app or delete the file");
		else
			diag(c, PACER_DIAG_ERROR, c->len, NULL,
			     "unexpected end of file: the JSON is incomplete (a closing '}' or ']' "
			     "is missing?)");
		return;
	}
	if (off + 1 < c->len && s[off] == '/' && (s[off + 1] == '/' || s[off + 1] == '*')) {
		diag(c, PACER_DIAG_ERROR, off, NULL,
		     "JSON does not allow comments: remove the comment (or keep the note in a "
		     "label)");
		return;
	}
	if (off < c->len && (s[off] == '}' || s[off] == ']')) {
		p = off;
		while (p > 0 && (s[p - 1] == ' ' || s[p - 1] == '\t' || s[p - 1] == '\n' ||
		                 s[p - 1] == '\r'))
			p--;
		if (p > 0 && s[p - 1] == ',') {
			diag(c, PACER_DIAG_ERROR, p - 1, NULL,
			     "JSON does not allow trailing commas: remove this ',' before the '%c'",
			     s[off]);
			return;
		}
	}
	/* Template syntax on the offending line. */
	for (ls = off; ls > 0 && s[ls - 1] != '\n'; ls--)
		;
	for (le = off; le < c->len && s[le] != '\n'; le++)
		;
	for (p = ls; p + 1 < le; p++) {
		if ((s[p] == '$' || s[p] == '{') && (s[p + 1] == '{' || s[p + 1] == '%')) {
			diag(c, PACER_DIAG_ERROR, off, NULL,
			     "unrendered template: \"%.*s\" is template syntax, not JSON; %s",
			     (int)(le - p > 60 ? 60 : le - p), s + p, RENDER_HINT);
			return;
		}
	}
	if (jerr == json_tokener_error_parse_object_value_sep ||
	    jerr == json_tokener_error_parse_array)
		diag(c, PACER_DIAG_ERROR, off, NULL,
		     "malformed JSON: %s (is a ',' missing at the end of the previous line?)",
		     json_tokener_error_desc(jerr));
	else if (jerr == json_tokener_error_depth)
		diag(c, PACER_DIAG_ERROR, off, NULL,
		     "malformed JSON: nested too deeply; flatten the file");
	else if (off < c->len && s[off] == '\'')
		diag(c, PACER_DIAG_ERROR, off, NULL,
		     "malformed JSON: %s: JSON strings and keys take double quotes (\"), not '",
		     json_tokener_error_desc(jerr));
	else if (jerr == json_tokener_error_parse_utf8_string)
		diag(
		    c, PACER_DIAG_ERROR, off, NULL,
		    "malformed JSON: invalid UTF-8 here; save the file as UTF-8 (JSON's encoding)");
	else {
		/* Show what is there, up to the end of the line, in whole characters. */
		for (p = off; p < c->len && p - off < 20 && s[p] != '\n' && s[p] != '\r'; p++)
			;
		while (p > off && p < c->len && ((unsigned char)s[p] & 0xC0) == 0x80)
			p--;
		diag(c, PACER_DIAG_ERROR, off, NULL,
		     "malformed JSON: %s at \"%.*s\"; fix the syntax here",
		     json_tokener_error_desc(jerr), (int)(p - off), s + off);
	}
}

/*
 * One pass over strict JSON text. json-c accepts a raw tab or newline
 * inside a string even in strict mode; JSON (and Marathon's parser) do
 * not: returns the offset of the first one, or NO_POS. *members gets the
 * colons outside strings up to there: one per member written.
 */
static size_t scan_text(const char *s, size_t len, size_t *members)
{
	size_t at = json_pos_scan_strings(s, len, members);

	return at < len ? at : NO_POS;
}

/* Members of every object in the tree below o. */
static size_t tree_members(struct json_object *o)
{
	size_t n = 0;

	/* One type lookup per value, and calls only for containers: this runs
	 * over every member of every desired file. */
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, v) {
			enum json_type t = json_object_get_type(v);

			(void)key;
			n++;
			if (t == json_type_object || t == json_type_array)
				n += tree_members(v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0, len = json_object_array_length(o); i < len; i++) {
			struct json_object *v = json_object_array_get_idx(o, i);
			enum json_type t = json_object_get_type(v);

			if (t == json_type_object || t == json_type_array)
				n += tree_members(v);
		}
	}
	return n;
}

/*
 * A key written twice in one object: json-c keeps the last value without a
 * word (so does Marathon), and the first is lost. With different values the
 * file does not say what it means: an error naming both places. With the
 * same value nothing is lost: a warning (a real file of the corpus repeats
 * an env variable so, and Marathon runs it). `written` is the members the
 * text holds (scan_text()).
 */
static void check_duplicate_keys(struct loadctx *c, struct json_object *root, size_t written)
{
	struct json_pos_dup *v = NULL;
	size_t n = 0;

	/* A key written twice is one member json-c does not keep: as many
	 * members in the tree as written means none was, and spares the scan. */
	if (written == tree_members(root))
		return;
	if (json_pos_duplicates(c->data, c->len, &v, &n) < 0) {
		c->oom = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int line = 0, col = 0, klen = v[i].keylen > 100 ? 100 : (int)v[i].keylen;

		position(c, v[i].first, &line, &col);
		if (v[i].same_value)
			diag(c, PACER_DIAG_WARNING, v[i].again, NULL,
			     "key \"%.*s\" is written twice in one object, first at %s:%d:%d, with "
			     "the same value; remove one of them",
			     klen, v[i].key, c->path, line, col);
		else
			diag(c, PACER_DIAG_ERROR, v[i].again, NULL,
			     "key \"%.*s\" is written twice in one object, first at %s:%d:%d, with "
			     "different values: only this last one would be used, silently; keep "
			     "only the one you mean",
			     klen, v[i].key, c->path, line, col);
	}
	json_pos_dups_free(v, n);
}

/* The deepest nesting json-c parses; deeper is reported as "nested too deeply". */
#define DESIRED_MAX_DEPTH 64

/*
 * What loading keeps from file to file (pacer_desired.mem): one tokener,
 * and the bytes of the files kept for apps not parsed (struct
 * desired_bytes), packed into blocks freed with the state: at 10,000
 * files a malloc() per file, after the trees just freed, cost more than
 * copying the bytes.
 */
#define DESIRED_BLOCK (256 * 1024)

struct desired_block {
	struct desired_block *next;
	size_t used, size;
	max_align_t mem[];
};

struct desired_mem {
	struct json_tokener *tok;
	struct desired_block *blocks; /* the newest first */
};

static struct desired_mem *desired_mem(struct pacer_desired *d)
{
	if (!d->mem)
		d->mem = calloc(1, sizeof(*d->mem));
	return d->mem;
}

/* The loader's tokener, reset for a new file; NULL when out of memory. */
static struct json_tokener *desired_tokener(struct pacer_desired *d)
{
	struct desired_mem *m = desired_mem(d);

	if (m && !m->tok && (m->tok = json_tokener_new_ex(DESIRED_MAX_DEPTH)))
		json_tokener_set_flags(m->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	if (!m || !m->tok)
		return NULL;
	json_tokener_reset(m->tok);
	return m->tok;
}

/* n bytes that live as long as d; NULL when out of memory. */
static void *desired_alloc(struct pacer_desired *d, size_t n)
{
	struct desired_mem *m = desired_mem(d);
	struct desired_block *b = m ? m->blocks : NULL;

	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!m)
		return NULL;
	if (!b || b->size - b->used < n) {
		size_t size = n > DESIRED_BLOCK ? n : DESIRED_BLOCK;

		if (!(b = malloc(sizeof(*b) + size)))
			return NULL;
		b->used = 0;
		b->size = size;
		b->next = m->blocks;
		m->blocks = b;
	}
	b->used += n;
	return (char *)b->mem + b->used - n;
}

static void desired_mem_free(struct desired_mem *m)
{
	if (!m)
		return;
	while (m->blocks) {
		struct desired_block *next = m->blocks->next;

		free(m->blocks);
		m->blocks = next;
	}
	if (m->tok)
		json_tokener_free(m->tok); /* json-c 0.16 crashes on NULL */
	free(m);
}

/*
 * Parse c's bytes strictly (no trailing commas, valid UTF-8). NULL with a
 * diagnostic when the file is not one JSON value, or with c->oom set. The
 * caller puts the result.
 */
static struct json_object *parse_file(struct loadctx *c)
{
	struct json_tokener *tok = desired_tokener(c->d);
	struct json_object *root = NULL;

	if (!tok) {
		c->oom = 1;
		return NULL;
	}
	root = json_tokener_parse_ex(tok, c->data, (int)c->len);
	if (!root && json_tokener_get_error(tok) == json_tokener_continue &&
	    json_pos_skip_ws(c->data, c->len, 0) < c->len) {
		/* A bare number at the very end only ends at the next byte: feed one. */
		root = json_tokener_parse_ex(tok, " ", 1);
		if (!root && json_tokener_get_error(tok) != json_tokener_continue &&
		    json_tokener_get_error(tok) != json_tokener_success) {
			diag(c, PACER_DIAG_ERROR, c->len, NULL,
			     "malformed JSON: %s at the end of the file",
			     json_tokener_error_desc(json_tokener_get_error(tok)));
			return NULL;
		}
	}
	if (!root && json_tokener_get_error(tok) == json_tokener_success)
		/* The whole file is "null". */
		diag(c, PACER_DIAG_ERROR, 0, NULL,
		     "top level is null: a desired-state file holds one app object, "
		     "{\"app\": {...}}, an array of apps or a group");
	else if (!root)
		parse_error(c, tok);
	return root;
}

/*
 * json-c accepts a raw tab or line break inside a string, JSON does not
 * (and Marathon's parser refuses it): 1 with a diagnostic when there is one.
 */
static int raw_control_found(struct loadctx *c, size_t *members)
{
	size_t off = scan_text(c->data, c->len, members);
	char ch;

	if (off == NO_POS)
		return 0;
	ch = c->data[off];
	diag(c, PACER_DIAG_ERROR, off, NULL,
	     "malformed JSON: a raw %s inside a string; write it as %s",
	     ch == '\t' ? "tab" : ch == '\n' ? "line break" : "control character",
	     ch == '\t' ? "\\t" : ch == '\n' ? "\\n" : "a \\u00XX escape");
	return 1;
}

/* The apps of a parsed file: one per element of a top-level array, else
 * the top-level object (an app, {"app": ...} or a group). */
static void load_root(struct loadctx *c, struct json_object *root)
{
	size_t off = json_pos_skip_ws(c->data, c->len, 0);

	if (json_object_is_type(root, json_type_array)) {
		size_t *offs = NULL, n = 0, count = json_object_array_length(root);

		if (json_pos_elements(c->data, c->len, off, &offs, &n) < 0) {
			c->oom = 1;
			return;
		}
		for (size_t i = 0; i < count && !c->oom; i++)
			load_item(c, json_object_array_get_idx(root, i), i < n ? offs[i] : off, "/");
		free(offs);
	} else if (json_object_is_type(root, json_type_object)) {
		load_item(c, root, off, "/");
	} else {
		diag(c, PACER_DIAG_ERROR, off, NULL,
		     "top level is %s: a desired-state file holds one app object, "
		     "{\"app\": {...}}, an array of apps or a group",
		     type_name(root));
	}
}

int desired_add_file(struct pacer_desired *d, const char *path, const char *data, size_t len,
                     const struct desired_options *opts)
{
	static const struct desired_options defaults = DESIRED_OPTIONS_INIT;
	struct loadctx c = {0};
	struct json_object *root = NULL;
	size_t members = 0;

	c.d = d;
	c.opts = opts ? opts : &defaults;
	c.path = path ? path : "(unnamed)";
	c.data = data;
	c.len = len;
	/* Editors on Windows write a BOM; json-c calls it invalid UTF-8. */
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
		c.data += 3;
		c.len -= 3;
	}
	d->nfiles++;
	/* json-c takes the length as an int. */
	if (c.len > INT32_MAX)
		diag(&c, PACER_DIAG_ERROR, NO_POS, NULL,
		     "file is too large to be a desired-state file");
	else if ((root = parse_file(&c)) && !raw_control_found(&c, &members)) {
		check_duplicate_keys(&c, root, members);
		load_root(&c, root);
	}
	json_object_put(root);
	if (c.have_lines)
		json_pos_lines_release(&c.lines);
	return c.oom ? -1 : 0;
}

/* ---- the whole state ------------------------------------------------------------------ */

static int app_cmp(const void *pa, const void *pb)
{
	const struct pacer_desired_app *a = pa, *b = pb;
	int r = strcmp(a->id, b->id);

	/* Ties in source order (files come sorted by path), so the first one is kept. */
	if (!r)
		r = strcmp(a->file, b->file);
	if (!r)
		r = a->line != b->line ? (a->line < b->line ? -1 : 1) : 0;
	if (!r)
		r = a->col != b->col ? (a->col < b->col ? -1 : 1) : 0;
	return r;
}

/*
 * A cached file's bytes, shared by its apps (in the state's blocks, see
 * desired_alloc()); or, from a source that reads lazily, none: then src
 * reads them again.
 */
struct desired_bytes {
	struct pacer_source *src; /* borrowed; NULL when data holds the bytes */
	size_t len;
	char data[];
};

/*
 * What a cached app keeps until its definition is parsed (a->blob): the
 * file's bytes, and its dependencies as the cache entry gave them, so the
 * cycle check never has to parse the file.
 */
struct desired_blob {
	struct desired_bytes *bytes; /* one reference */
	char **deps;                 /* owned */
	size_t ndeps;
};

/*
 * A copy of a file's bytes (or, when data is NULL, none: src reads them
 * when an app needs them), freed with d; NULL when out of memory.
 */
static struct desired_bytes *bytes_new(struct pacer_desired *d, const char *data, size_t len,
                                       struct pacer_source *src)
{
	struct desired_bytes *bytes;

	if (!data)
		len = 0;
	if (!(bytes = desired_alloc(d, sizeof(*bytes) + len + 1)))
		return NULL;
	bytes->src = data ? NULL : src;
	bytes->len = len;
	if (len)
		memcpy(bytes->data, data, len);
	bytes->data[len] = '\0';
	return bytes;
}

static void blob_free(struct desired_blob *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->ndeps; i++)
		free(b->deps[i]);
	free(b->deps);
	free(b);
}

static void app_release(struct pacer_desired_app *a)
{
	free(a->id);
	free(a->file);
	free(a->key);
	blob_free(a->blob);
	json_object_put(a->def);
	json_object_put(a->submitted);
}

size_t desired__ndeps(const struct pacer_desired_app *a)
{
	struct json_object *deps = NULL;

	if (!a->def)
		return a->blob ? a->blob->ndeps : 0;
	if (!json_object_object_get_ex(a->def, "dependencies", &deps) ||
	    !json_object_is_type(deps, json_type_array))
		return 0;
	return json_object_array_length(deps);
}

const char *desired__dep(const struct pacer_desired_app *a, size_t i)
{
	struct json_object *deps = NULL, *v;

	if (!a->def)
		return a->blob && i < a->blob->ndeps ? a->blob->deps[i] : NULL;
	/* Made absolute by the loader; left as written only when that was an error. */
	json_object_object_get_ex(a->def, "dependencies", &deps);
	v = json_object_array_get_idx(deps, i);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int desired__diag_at(struct pacer_desired *d, const struct pacer_desired_app *a, const char *fmt,
                     ...)
{
	struct pacer_error *e;
	va_list ap;

	va_start(ap, fmt);
	e = pacer_error_newv(PACER_EINVALID, fmt, ap);
	va_end(ap);
	if (!e)
		return -1;
	pacer_error_set_file(e, a->file, a->line, a->col);
	pacer_error_set_app(e, a->id);
	return diag_add(d, PACER_DIAG_ERROR, e);
}

/*
 * An app whose id is a colour of a desired blue/green app (/x-blue beside
 * a blue/green /x) would be that app's colour in Marathon. Called on the
 * sorted apps; parses only the blue/green candidates.
 */
static int check_colour_ids(struct pacer_desired *d)
{
	int rc = 0;

	for (size_t i = 0; i < d->napps; i++) {
		const struct pacer_desired_app *pair = bluegreen_desired_of(d, d->apps[i].id, NULL);

		if (pair &&
		    desired__diag_at(d, &d->apps[i],
				     "app %s has the id of a colour of the blue/green app %s "
				     "(%s:%d:%d), which runs in Marathon as %s; rename one of them",
				     d->apps[i].id, pair->id, pair->file, pair->line, pair->col,
				     d->apps[i].id) < 0)
			rc = -1;
	}
	return rc;
}

int desired_finish(struct pacer_desired *d)
{
	size_t w = 0;
	int rc = 0;

	if (d->napps > 1)
		qsort(d->apps, d->napps, sizeof(*d->apps), app_cmp);
	/* Sorted, duplicates are neighbours: O(n log n) for any number of files. */
	for (size_t r = 0; r < d->napps; r++) {
		if (w > 0 && !strcmp(d->apps[w - 1].id, d->apps[r].id)) {
			const struct pacer_desired_app *first = &d->apps[w - 1];

			if (desired__diag_at(
			        d, &d->apps[r],
			        "app %s is defined twice: here and in %s:%d:%d; keep only one "
			        "definition",
			        d->apps[r].id, first->file, first->line, first->col) < 0)
				rc = -1;
			app_release(&d->apps[r]);
			continue;
		}
		d->apps[w++] = d->apps[r];
	}
	d->napps = w;
	/*
	 * An app may not share its id with a group, i.e. be a prefix of another
	 * app's id. Sorted, the ids below "/a/" follow each other, so one binary
	 * search per app finds the first of them.
	 */
	for (size_t i = 0; i < d->napps; i++) {
		const struct pacer_desired_app *a = &d->apps[i];
		size_t n = strlen(a->id), lo = i + 1, hi = d->napps;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int r = strncmp(d->apps[mid].id, a->id, n);

			if (r < 0 || (r == 0 && (unsigned char)d->apps[mid].id[n] < '/'))
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < d->napps && !strncmp(d->apps[lo].id, a->id, n) &&
		    d->apps[lo].id[n] == '/' &&
		    desired__diag_at(
		        d, a,
		        "app %s has the same id as the group of %s (%s:%d:%d): Marathon does "
		        "not allow an app and a group with one id; rename one of them",
		        a->id, d->apps[lo].id, d->apps[lo].file, d->apps[lo].line,
		        d->apps[lo].col) < 0)
			rc = -1;
	}
	if (desired__check_cycles(d) < 0 || check_colour_ids(d) < 0)
		rc = -1;
	return rc;
}

struct pacer_desired *desired_new(void)
{
	return calloc(1, sizeof(struct pacer_desired));
}

static int find_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct pacer_desired_app *)elem)->id);
}

const struct pacer_desired_app *desired_find(const struct pacer_desired *d, const char *id)
{
	if (!d || !id || !d->napps)
		return NULL;
	return bsearch(id, d->apps, d->napps, sizeof(*d->apps), find_cmp);
}

void desired_free(struct pacer_desired *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->napps; i++)
		app_release(&d->apps[i]);
	for (size_t i = 0; i < d->ndiags; i++)
		pacer_error_free(d->diags[i].error);
	free(d->apps);
	free(d->diags);
	free(d->revision);
	desired_mem_free(d->mem);
	free(d);
}

struct load_walk {
	struct pacer_desired *d;
	const struct desired_options *opts;
	struct pacer_source *src;
	/* read_lazy: want_file()'s lookup of the file about to be handed over,
	 * so load_file_cb() does not repeat it; hit is NULL on a miss. */
	char *ckey, *hit;
};

/* "F <file key> <flags>": the cache key of a file that loads cleanly. */
static char *file_cache_key(const char *key, const struct appdef_flags *f)
{
	char *s = NULL;

	if (!f) {
		if (asprintf(&s, "F %s -", key) < 0)
			return NULL;
	} else if (asprintf(&s, "F %s %s,%u,%s", key, f->mesos_role ? f->mesos_role : "*",
	                    f->features, f->default_network_name ? f->default_network_name : "-") < 0) {
		return NULL;
	}
	return s;
}

/*
 * One app of a cache entry, at *pp: "id line col", then " >dep" for each of
 * its dependencies (ids hold no spaces, and a dependency that does is never
 * cached), so the cycle check knows them without parsing the file.
 * Returns 1 when added (*pp moves past it), 0 when the entry cannot be
 * used, -1 when out of memory; an app added stays added either way.
 */
static int add_cached_app(struct pacer_desired *d, const char **pp, const char *path,
                          const char *key, struct desired_bytes *bytes)
{
	struct pacer_desired_app *a;
	struct desired_blob *blob;
	const char *p = *pp;
	int line, col, used = 0;
	char id[1024];

	if (sscanf(p, "%1023s %d %d%n", id, &line, &col, &used) != 3 || id[0] != '/')
		return 0;
	p += used;
	if (grow((void **)&d->apps, d->napps, sizeof(*d->apps)) < 0)
		return -1;
	a = &d->apps[d->napps];
	memset(a, 0, sizeof(*a));
	a->id = strdup(id);
	a->file = strdup(path);
	a->key = strdup(key);
	a->blob = blob = calloc(1, sizeof(*blob));
	if (!a->id || !a->file || !a->key || !blob) {
		app_release(a);
		return -1;
	}
	a->line = line;
	a->col = col;
	blob->bytes = bytes;
	d->napps++;
	for (;;) {
		size_t n;

		while (*p == ' ')
			p++;
		if (*p != '>')
			break;
		n = strcspn(++p, " ");
		if (!n)
			return 0;
		if (grow((void **)&blob->deps, blob->ndeps, sizeof(*blob->deps)) < 0 ||
		    !(blob->deps[blob->ndeps] = strndup(p, n)))
			return -1;
		blob->ndeps++;
		p += n;
	}
	*pp = p;
	return 1;
}

/*
 * A cached file: add its apps without parsing, sharing one copy of the
 * bytes. Returns 1 when added, 0 when the entry cannot be used (then the
 * file is loaded as usual), -1 when out of memory.
 */
static int add_cached(struct pacer_desired *d, const char *path, const char *data, size_t len,
                      const char *key, const char *apps, struct pacer_source *src)
{
	struct desired_bytes *bytes = bytes_new(d, data, len, src);
	const char *p = apps;
	size_t first = d->napps;
	int rc = 1;

	if (!bytes)
		return -1;
	while (*p && rc == 1)
		rc = add_cached_app(d, &p, path, key, bytes);
	if (rc == 1)
		d->nfiles++;
	else
		while (d->napps > first)
			app_release(&d->apps[--d->napps]);
	return rc;
}

/*
 * Remember a file that loaded with no diagnostic: its apps from `first` on,
 * as add_cached_app() reads them. An empty dependency, or one with a space
 * or a control character (Marathon refuses them, but the loader does not
 * check dependencies without server flags), could not be read back: such a
 * file is simply not remembered.
 */
static int remember_file(struct pacer_desired *d, size_t first, struct pacer_cache *cache,
                         const char *ckey)
{
	struct pacer_buf v = PACER_BUF_INIT;
	int rc = 0;

	for (size_t i = first; i < d->napps && !rc; i++) {
		const struct pacer_desired_app *a = &d->apps[i];
		size_t n = desired__ndeps(a);

		rc = pacer_buf_printf(&v, "%s%s %d %d", i > first ? " " : "", a->id, a->line,
		                      a->col);
		for (size_t k = 0; k < n && !rc; k++) {
			const char *dep = desired__dep(a, k);

			if (!dep || !*dep)
				goto done;
			for (const char *q = dep; *q; q++)
				if ((unsigned char)*q <= ' ')
					goto done;
			rc = pacer_buf_printf(&v, " >%s", dep);
		}
	}
	if (!rc && cache_put(cache, ckey, pacer_buf_cstr(&v)) < 0)
		rc = -1;
done:
	pacer_buf_release(&v);
	return rc;
}

/*
 * App a goes back to its file's bytes (*bytes, copied from data on first
 * use and shared by the file's apps), as an app from the cache: its
 * dependencies are kept for the cycle check and its definition released.
 * Returns 0 (a is unchanged when a dependency is not a string), -1 when
 * out of memory.
 */
static int compact_app(struct pacer_desired *d, struct pacer_desired_app *a,
                       struct desired_bytes **bytes, const char *data, size_t len)
{
	size_t n = desired__ndeps(a);
	struct desired_blob *blob;

	for (size_t i = 0; i < n; i++)
		if (!desired__dep(a, i))
			return 0;
	if (!*bytes && !(*bytes = bytes_new(d, data, len, NULL)))
		return -1;
	if (!(blob = calloc(1, sizeof(*blob))) || (n && !(blob->deps = calloc(n, sizeof(char *))))) {
		free(blob);
		return -1;
	}
	for (; blob->ndeps < n; blob->ndeps++) {
		if (!(blob->deps[blob->ndeps] = strdup(desired__dep(a, blob->ndeps)))) {
			blob_free(blob);
			return -1;
		}
	}
	blob->bytes = *bytes;
	a->blob = blob;
	json_object_put(a->def);
	a->def = NULL;
	return 0;
}

/*
 * opts->visit on each parsed app of a file, from `first` on, when the file
 * loaded with no error (`clean`): one with an error stops the run, so its
 * apps are never compared.
 */
static int visit_apps(struct pacer_desired *d, size_t first, const struct desired_options *o,
                      const char *data, size_t len, int clean)
{
	struct desired_bytes *bytes = NULL;
	int rc = 0;

	for (size_t i = first; i < d->napps; i++) {
		struct pacer_desired_app *a = &d->apps[i];

		if (!rc && clean && a->def && o->visit(o->visit_ctx, a) == 1)
			rc = compact_app(d, a, &bytes, data, len);
		json_object_put(a->submitted);
		a->submitted = NULL;
	}
	return rc;
}

/* read_lazy's question: are this file's bytes needed, or is it cached? */
static int want_file(void *ctx, const char *path, const char *key)
{
	struct load_walk *w = ctx;
	const char *hit;

	(void)path;
	free(w->ckey);
	free(w->hit);
	w->ckey = w->hit = NULL;
	if (!key || !w->opts->cache)
		return 1;
	if (!(w->ckey = file_cache_key(key, w->opts->flags)))
		return -1;
	hit = cache_get(w->opts->cache, w->ckey);
	if (!hit)
		return 1;
	return (w->hit = strdup(hit)) ? 0 : -1;
}

static int load_file_cb(void *ctx, const char *path, const char *data, size_t len, const char *key)
{
	struct load_walk *w = ctx;
	struct pacer_desired *d = w->d;
	struct pacer_cache *cache = key ? w->opts->cache : NULL;
	size_t first = d->napps, ndiags = d->ndiags, nerrors = d->nerrors;
	char *ckey = w->ckey, *hit = w->hit, *owned = NULL;
	int rc = 0, looked_up = ckey != NULL;

	w->ckey = w->hit = NULL; /* ours now */
	if (!data) {
		/* Skipped by read_lazy: want_file() found it in the cache. */
		rc = hit && key ? add_cached(d, path, NULL, 0, key, hit, w->src) : 0;
		if (rc != 0)
			goto done;
		/* An entry that cannot be used after all: read the bytes. */
		if (!key || w->src->load(w->src, path, key, &owned, &len, NULL)) {
			rc = -1;
			goto done;
		}
		data = owned;
	} else if (cache && !looked_up) {
		const char *entry;

		if (!(ckey = file_cache_key(key, w->opts->flags))) {
			rc = -1;
			goto done;
		}
		entry = cache_get(cache, ckey);
		if (entry && (rc = add_cached(d, path, data, len, key, entry, NULL)) != 0)
			goto done; /* 1: served from the cache */
	}
	if ((rc = desired_add_file(d, path, data, len, w->opts)) < 0)
		goto done;
	for (size_t i = first; key && i < d->napps; i++)
		if (!(d->apps[i].key = strdup(key))) {
			rc = -1;
			goto done;
		}
	if (cache && ckey && d->ndiags == ndiags)
		rc = remember_file(d, first, cache, ckey);
	if (!rc && w->opts->visit)
		rc = visit_apps(d, first, w->opts, data, len, d->nerrors == nerrors);
done:
	free(ckey);
	free(hit);
	free(owned);
	return rc < 0 ? -1 : 0;
}

int desired_app_def(struct pacer_desired_app *a, struct pacer_error **err)
{
	struct pacer_desired *tmp = NULL;
	char *bytes = NULL;
	size_t len = 0;
	int rc = -1;

	if (a->def)
		return 0;
	if (!a->blob)
		return pacer_error_set(err, PACER_EGENERIC, "app %s has no definition loaded", a->id);
	if (a->blob->bytes->src) {
		struct pacer_source *src = a->blob->bytes->src;

		rc = src->load(src, a->file, a->key, &bytes, &len, err);
		if (rc) {
			pacer_error_wrap(err, rc, "cannot read %s again for app %s", a->file, a->id);
			goto done;
		}
	}
	tmp = desired_new();
	if (!tmp || desired_add_file(tmp, a->file, bytes ? bytes : a->blob->bytes->data,
	                             bytes ? len : a->blob->bytes->len, NULL) < 0) {
		rc = pacer_error_set(err, -1, "out of memory reading %s", a->file);
		goto done;
	}
	for (size_t i = 0; i < tmp->napps; i++) {
		if (!strcmp(tmp->apps[i].id, a->id) && tmp->apps[i].line == a->line &&
		    tmp->apps[i].col == a->col) {
			a->def = tmp->apps[i].def;
			tmp->apps[i].def = NULL;
			break;
		}
	}
	if (!a->def) {
		rc = pacer_error_set(err, PACER_EINVALID,
		                     "%s no longer holds app %s where it did (%d:%d): delete the "
		                     "cache file in the state directory and run again",
		                     a->file, a->id, a->line, a->col);
		goto done;
	}
	blob_free(a->blob);
	a->blob = NULL;
	rc = 0;
done:
	desired_free(tmp);
	free(bytes);
	return rc;
}

int desired_warn_empty(struct pacer_desired *d, const char *where)
{
	struct pacer_error *e = pacer_error_new(PACER_EINVALID,
	                    "no app definitions found in %s: pacer reads *.json files (one app, "
	                    "an array of apps, or a group per file; YAML is not read), so this "
	                    "source asks for no apps at all",
	                    where);

	return e ? diag_add(d, PACER_DIAG_WARNING, e) : -1;
}

int desired_load(struct pacer_source *src, const struct desired_options *opts,
                 struct pacer_desired **out, struct pacer_error **err)
{
	static const struct desired_options defaults = DESIRED_OPTIONS_INIT;
	struct pacer_desired *d = NULL;
	struct load_walk w;
	const char *rev;
	int rc;

	*out = NULL;
	d = desired_new();
	if (!d) {
		rc = pacer_error_set(err, -1, "out of memory loading the desired state");
		goto done;
	}
	w.d = d;
	w.opts = opts ? opts : &defaults;
	w.src = src;
	w.ckey = w.hit = NULL;
	if (w.opts->cache && src->read_lazy && src->load)
		rc = src->read_lazy(src, want_file, load_file_cb, &w, err);
	else if (!w.opts->cache && src->read_unkeyed)
		rc = src->read_unkeyed(src, load_file_cb, &w, err);
	else
		rc = src->read(src, load_file_cb, &w, err);
	free(w.ckey);
	free(w.hit);
	if (rc != 0) {
		/* The source's own error says what failed; the caller says what for. */
		rc = rc < 0 ? rc : -1;
		pacer_error_set(err, rc, "cannot read the desired state from %s",
		                src->describe ? src->describe(src) : "the source");
		goto done;
	}
	/* Files that failed explain themselves; only a clean nothing is suspicious. */
	if (desired_finish(d) < 0 ||
	    (!d->napps && !d->nerrors &&
	     desired_warn_empty(d, src->describe ? src->describe(src) : "the source") < 0)) {
		rc = pacer_error_set(err, -1, "out of memory loading the desired state");
		goto done;
	}
	rev = src->revision ? src->revision(src) : NULL;
	if (rev && !(d->revision = strdup(rev))) {
		rc = pacer_error_set(err, -1, "out of memory loading the desired state");
		goto done;
	}
	*out = d;
	d = NULL;
	rc = 0;
done:
	desired_free(d);
	return rc;
}
