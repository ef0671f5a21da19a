/*
 * api_apps.c: /v2/apps and everything below it (SPEC.md §3): list/get with
 * embeds and filters, POST, PUT (partialUpdate merge, version rollback),
 * PATCH, bulk PUT/PATCH, DELETE, restart, versions and tasks. Validation and
 * defaults come from appdef_submit(); the change itself from sim_apply().
 * Runs with the state lock held.
 */
#include "cmd/marathon-sim/sim.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	EMB_TASKS = 1,
	EMB_COUNTS = 2,
	EMB_DEPLOYMENTS = 4,
	EMB_READINESS = 8,
	EMB_LTF = 16,
	EMB_STATS = 32,
};

static unsigned parse_embeds(struct sim_req *r)
{
	const char **v = req_args(r, "embed");
	unsigned e = 0;

	for (size_t i = 0; v && v[i]; i++) {
		const char *x = v[i], *rest;
		/* Marathon accepts the embed names of /v2/groups and of one app too. */
		if ((rest = sim_after_prefix(x, "group.apps.")) ||
		    (rest = sim_after_prefix(x, "apps.")) || (rest = sim_after_prefix(x, "app.")))
			x = rest;
		if (!strcmp(x, "tasks"))
			e |= EMB_TASKS | EMB_DEPLOYMENTS;
		else if (!strcmp(x, "counts"))
			e |= EMB_COUNTS;
		else if (!strcmp(x, "deployments"))
			e |= EMB_DEPLOYMENTS;
		else if (!strcmp(x, "readiness"))
			e |= EMB_READINESS;
		else if (!strcmp(x, "lastTaskFailure"))
			e |= EMB_LTF;
		else if (!strcmp(x, "failures"))
			e |= EMB_TASKS | EMB_LTF | EMB_DEPLOYMENTS;
		else if (!strcmp(x, "taskStats"))
			e |= EMB_STATS;
	}
	free(v);
	return e;
}

/* AppInfo: the cached definition plus server fields, appended to b. */
void api_app_info(struct sim *s, struct sim_app *a, unsigned emb, struct pacer_buf *b)
{
	size_t len;
	const char *j = sim_app_json(a, &len);

	pacer_buf_add(b, j, len - 1); /* without the closing brace */
	if (emb & EMB_COUNTS) {
		int staged = 0, running = 0, healthy = 0, unhealthy = 0, hc = sim_app_has_health(a);
		for (size_t i = 0; i < a->ntasks; i++) {
			struct sim_task *t = a->tasks[i];
			staged += t->state == SIM_TASK_STAGING;
			running += t->state == SIM_TASK_RUNNING;
			healthy += hc && t->health > 0;
			unhealthy += hc && t->health < 0;
		}
		pacer_buf_printf(b, ",\"tasksStaged\":%d,\"tasksRunning\":%d,\"tasksHealthy\":%d,\"tasksUnhealthy\":%d",
				 staged, running, healthy, unhealthy);
	}
	if (emb & EMB_DEPLOYMENTS) {
		pacer_buf_puts(b, ",\"deployments\":[");
		for (size_t i = 0; i < a->ndeps; i++)
			pacer_buf_printf(b, "%s{\"id\":\"%s\"}", i ? "," : "", a->deps[i]);
		pacer_buf_puts(b, "]");
	}
	if (emb & EMB_READINESS) {
		struct json_object *rr = deploy_readiness_json(s, a);
		pacer_buf_printf(b, ",\"readinessCheckResults\":%s", sim_json_text(rr));
		json_object_put(rr);
	}
	if (emb & EMB_TASKS) {
		pacer_buf_puts(b, ",\"tasks\":[");
		for (size_t i = 0; i < a->ntasks; i++) {
			struct json_object *t = tasks_json(s, a, a->tasks[i]);
			if (i)
				pacer_buf_putc(b, ',');
			pacer_buf_puts(b, sim_json_text(t));
			json_object_put(t);
		}
		pacer_buf_puts(b, "]");
	}
	if ((emb & EMB_LTF) && a->last_failure)
		pacer_buf_printf(b, ",\"lastTaskFailure\":%s", sim_json_text(a->last_failure));
	if (emb & EMB_STATS)
		pacer_buf_puts(b, ",\"tasksStats\":{}");
	pacer_buf_putc(b, '}');
}

/* ------------------------------------------------------- label selectors */

struct label_term {
	char *key;
	int op; /* 0 exists, 1 ==, 2 !=, 3 in, 4 notin */
	char **vals;
	size_t nvals;
};

static char *trim_dup(const char *s, size_t n)
{
	char *out;
	size_t j = 0;

	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n)
			i++;
		out[j++] = s[i];
	}
	out[j] = '\0';
	return out;
}

static void terms_free(struct label_term *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].key);
		for (size_t j = 0; j < t[i].nvals; j++)
			free(t[i].vals[j]);
		free(t[i].vals);
	}
	free(t);
}

static int add_val(struct label_term *t, const char *s, size_t n)
{
	char **v = realloc(t->vals, (t->nvals + 1) * sizeof(*v));

	if (!v)
		return -1;
	t->vals = v;
	t->vals[t->nvals++] = trim_dup(s, n);
	return 0;
}

static int parse_term(const char *s, size_t n, struct label_term *t)
{
	const char *p;
	char *tmp = trim_dup(s, n), *q;
	int rc = -1;

	if (!tmp || !*tmp)
		goto done;
	if ((q = strstr(tmp, " notin ")) || (q = strstr(tmp, " in "))) {
		int notin = !strncmp(q, " notin ", 7);
		char *open = strchr(q, '('), *close = strrchr(q, ')');
		if (!open || !close || close < open)
			goto done;
		t->key = trim_dup(tmp, (size_t)(q - tmp));
		t->op = notin ? 4 : 3;
		p = open + 1;
		while (p < close) {
			const char *c = p;
			while (c < close && *c != ',')
				c++;
			add_val(t, p, (size_t)(c - p));
			p = c + 1;
		}
	} else if ((q = strstr(tmp, "=="))) {
		t->key = trim_dup(tmp, (size_t)(q - tmp));
		t->op = 1;
		add_val(t, q + 2, strlen(q + 2));
	} else if ((q = strstr(tmp, "!="))) {
		t->key = trim_dup(tmp, (size_t)(q - tmp));
		t->op = 2;
		add_val(t, q + 2, strlen(q + 2));
	} else {
		for (p = tmp; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
				goto done;
		t->key = strdup(tmp);
		t->op = 0;
	}
	rc = t->key && *t->key ? 0 : -1;
done:
	free(tmp);
	return rc;
}

static int parse_selector(const char *sel, struct label_term **out, size_t *nout)
{
	struct label_term *t = NULL;
	size_t n = 0;
	const char *p = sel;

	while (*p) {
		const char *e = p;
		int depth = 0;
		struct label_term *nt;
		while (*e && (depth || *e != ',')) {
			if (*e == '\\' && e[1])
				e++;
			else if (*e == '(')
				depth++;
			else if (*e == ')')
				depth--;
			e++;
		}
		nt = realloc(t, (n + 1) * sizeof(*t));
		if (!nt)
			break;
		t = nt;
		memset(&t[n], 0, sizeof(t[n]));
		if (parse_term(p, (size_t)(e - p), &t[n++])) {
			terms_free(t, n);
			return -1;
		}
		p = *e ? e + 1 : e;
	}
	*out = t;
	*nout = n;
	return 0;
}

static int labels_match(struct json_object *def, struct label_term *t, size_t n)
{
	struct json_object *labels = NULL;

	json_object_object_get_ex(def, "labels", &labels);
	for (size_t i = 0; i < n; i++) {
		const char *v = sim_json_str(labels, t[i].key);
		int in = 0;
		if (!v)
			return 0;
		for (size_t j = 0; j < t[i].nvals; j++)
			in |= !strcmp(v, t[i].vals[j]);
		if ((t[i].op == 1 || t[i].op == 3) && !in)
			return 0;
		if ((t[i].op == 2 || t[i].op == 4) && in)
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------- GET */

static void list_apps(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *group)
{
	unsigned emb = parse_embeds(r) | EMB_COUNTS | EMB_DEPLOYMENTS;
	const char *idf = req_arg(r, "id"), *cmdf = req_arg(r, "cmd"), *label = req_arg(r, "label");
	struct label_term *terms = NULL;
	size_t nterms = 0, glen = group ? strlen(group) : 0;
	struct pacer_buf b = PACER_BUF_INIT;
	int first = 1;

	if (label && parse_selector(label, &terms, &nterms)) {
		resp_message(resp, 422, "Invalid label selector: '%s'. Use key, key==value, key!=value, key in (a,b) or key notin (a,b), comma-separated", label);
		return;
	}
	pacer_buf_puts(&b, group ? "{\"*\":[" : "{\"apps\":[");
	for (size_t i = 0; i < s->napps; i++) {
		struct sim_app *a = s->apps[i];
		if (group && (strncmp(a->id, group, glen) || (glen > 1 && a->id[glen] != '/')))
			continue;
		if (idf && !strcasestr(a->id, idf))
			continue;
		if (cmdf && (!sim_json_str(a->def, "cmd") || !strcasestr(sim_json_str(a->def, "cmd"), cmdf)))
			continue;
		if (label && !labels_match(a->def, terms, nterms))
			continue;
		if (!first)
			pacer_buf_putc(&b, ',');
		first = 0;
		api_app_info(s, a, emb, &b);
	}
	pacer_buf_puts(&b, "]}");
	terms_free(terms, nterms);
	resp_text(resp, 200, pacer_buf_detach(&b));
}

/* GET /v2/apps/{id}: Marathon always embeds counts, tasks, lastTaskFailure and deployments here. */
static void get_app(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *id)
{
	struct sim_app *a = sim_app_find(s, id);
	struct pacer_buf b = PACER_BUF_INIT;

	if (!a) {
		resp_message(resp, 404, "App '%s' does not exist", id);
		return;
	}
	pacer_buf_puts(&b, "{\"app\":");
	api_app_info(s, a, parse_embeds(r) | EMB_COUNTS | EMB_TASKS | EMB_LTF | EMB_DEPLOYMENTS, &b);
	pacer_buf_putc(&b, '}');
	resp_text(resp, 200, pacer_buf_detach(&b));
}

/* -------------------------------------------------------------- changes */

/* The Location header of a created app. */
static void set_location(struct sim *s, struct sim_resp *resp, const char *id)
{
	size_t n = strlen(id) + 64;

	resp->location = malloc(n);
	if (resp->location)
		snprintf(resp->location, n, "http://127.0.0.1:%d%s", s->port, id);
}

/* api_post_event for a changed definition: a copy, since def goes on to sim_apply(). */
static void post_event(struct sim *s, struct sim_req *r, struct json_object *def)
{
	struct json_object *o = json_object_new_object();
	char uri[1024];

	snprintf(uri, sizeof(uri), "%s", r->path);
	json_object_object_add(o, "clientIp", json_object_new_string(r->client_ip));
	json_object_object_add(o, "uri", json_object_new_string(uri));
	json_object_object_add(o, "appDefinition", sim_json_copy(def));
	events_emit(s->events, "api_post_event", o);
}

/*
 * Apply one definition as submitted (POST, PUT, PATCH) and post its
 * api_post_event: 0, or -1 with resp set.
 */
static int apply_submitted(struct sim *s, struct sim_req *r, const char *id, struct json_object *def,
			   struct sim_result *res, struct sim_resp *resp)
{
	struct sim_edit e = {id, def, 0, 0}; /* not donated: post_event() shows def as submitted */

	if (resp_apply(s, &e, 1, req_bool(r, "force", 0), res, resp))
		return -1;
	post_event(s, r, def);
	return 0;
}

/* Marathon keeps apps and groups apart: /a cannot be an app if /a/b is, and vice versa. */
static int group_clash(struct sim *s, const char *id, struct sim_resp *resp)
{
	char *tmp = strdup(id), *slash;
	int clash = sim_is_group(s, id);

	while (!clash && tmp && (slash = strrchr(tmp, '/')) && slash != tmp) {
		*slash = '\0';
		clash = sim_app_find(s, tmp) != NULL;
	}
	free(tmp);
	if (clash)
		resp_text(resp, 422,
			  strdup("{\"message\":\"Object is not valid\",\"details\":[{\"path\":\"/\",\"errors\":[\"Groups and "
				 "Applications may not have the same identifier.\"]}]}"));
	return clash;
}

/* appdef's refusal (422, takes err); without one only memory can have run out. */
static void reply_invalid(struct sim_resp *resp, struct json_object *err)
{
	if (err)
		resp_json(resp, 422, err);
	else
		resp_message(resp, 500, "marathon-sim: validation failed without a reason (out of memory?)");
}

/* Play's reader refuses a body that is not an object before any validation. */
static int check_object(struct json_object *o, struct sim_resp *resp)
{
	if (json_object_is_type(o, json_type_object))
		return 0;
	resp_text(resp, 422, strdup("{\"message\":\"Invalid JSON\",\"details\":[{\"path\":\"/\",\"errors\":[\"error.expected.jsobject\"]}]}"));
	return -1;
}

static void post_app(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	struct json_object *raw = req_json(r, resp), *def = NULL, *err = NULL, *shown = NULL;
	struct sim_result res;
	const char *id;
	struct pacer_buf b = PACER_BUF_INIT;

	if (!raw || check_object(raw, resp))
		goto done;
	if (sim_submit(s, raw, NULL, &def, &err)) {
		reply_invalid(resp, err);
		goto done;
	}
	id = sim_json_str(def, "id");
	if (sim_app_find(s, id)) {
		resp_message(resp, 409, "An app with id [%s] already exists.", id);
		goto done;
	}
	if (group_clash(s, id, resp))
		goto done;
	shown = sim_json_copy(def);
	if (apply_submitted(s, r, id, def, &res, resp))
		goto done;
	/* The answer shows the app as submitted: service ports not yet assigned. */
	sim_setlike(shown);
	json_object_object_add(shown, "version", json_object_new_string(res.version));
	{
		const char *txt = sim_json_text(shown);
		pacer_buf_add(&b, txt, strlen(txt) - 1);
	}
	pacer_buf_printf(&b, ",\"tasksStaged\":0,\"tasksRunning\":0,\"tasksHealthy\":0,\"tasksUnhealthy\":0,"
			 "\"deployments\":[{\"id\":\"%s\"}]}", res.dep_id);
	resp_text(resp, 201, pacer_buf_detach(&b));
	memcpy(resp->dep_id, res.dep_id, 37);
	set_location(s, resp, id);
done:
	json_object_put(raw);
	json_object_put(def);
	json_object_put(shown);
}

/*
 * The definition a PUT/PATCH asks for. partial: merge the body's top-level
 * fields onto the stored app (SPEC §3.4); a lone "version" is a rollback.
 * Returns the new definition (caller puts) or NULL with resp filled.
 */
static struct json_object *update_def(struct sim *s, struct sim_app *a, struct json_object *body, const char *id,
				      int partial, struct sim_resp *resp)
{
	struct json_object *merged = NULL, *def = NULL, *err = NULL, *v;

	if (check_object(body, resp))
		return NULL;
	if (!a || !partial) {
		if (sim_submit(s, body, id, &def, &err))
			reply_invalid(resp, err);
		return def;
	}
	if (json_object_object_get_ex(body, "version", &v) && v) {
		const char *want = json_object_get_string(v);
		json_object_object_foreach(body, k, val) {
			(void)val;
			if (strcmp(k, "id") && strcmp(k, "version")) {
				resp_text(resp, 422,
					  strdup("{\"message\":\"Object is not valid\",\"details\":[{\"path\":\"/\",\"errors\":"
						 "[\"The 'version' field may only be combined with the 'id' field.\"]}]}"));
				return NULL;
			}
		}
		for (size_t i = 0; i < a->nversions; i++)
			if (!strcmp(a->versions[i].version, want)) {
				def = json_tokener_parse(a->versions[i].text);
				if (!def) {
					resp_message(resp, 500, "marathon-sim: out of memory reading version %s of app '%s'",
						     want, id);
					return NULL;
				}
				json_object_object_del(def, "version");
				json_object_object_del(def, "versionInfo");
				return def;
			}
		resp_message(resp, 404, "App '%s' does not exist in version %s", id, want);
		return NULL;
	}
	merged = sim_json_copy(a->def);
	json_object_object_del(merged, "version");
	json_object_object_del(merged, "versionInfo");
	json_object_object_foreach(body, k, val) {
		if (!val || !strcmp(k, "id"))
			continue;
		json_object_object_add(merged, k, json_object_get(val));
	}
	/* These two are taken from the body even when absent (SRC AppConversion). */
	if (!json_object_object_get_ex(body, "executorResources", NULL))
		json_object_object_del(merged, "executorResources");
	if (!json_object_object_get_ex(body, "resourceLimits", NULL))
		json_object_object_del(merged, "resourceLimits");
	if (sim_submit(s, merged, id, &def, &err))
		reply_invalid(resp, err);
	json_object_put(merged);
	return def;
}

/*
 * PUT (patch 0) or PATCH /v2/apps/{id}: the URL id wins over the body's.
 * PUT defaults to partialUpdate=true in Marathon 1.10, so a PUT of some
 * fields keeps the others; a PUT to a missing app creates it (201).
 */
static void put_app(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *id, int patch)
{
	struct json_object *body = req_json(r, resp), *def = NULL;
	struct sim_app *a = sim_app_find(s, id);
	int partial = patch || req_bool(r, "partialUpdate", 1), created = !a;
	struct sim_result res;

	if (!body)
		return;
	if (patch && !a) {
		resp_message(resp, 404, "App '%s' does not exist", id);
		goto done;
	}
	if (!(def = update_def(s, a, body, id, partial, resp)))
		goto done;
	if (created && group_clash(s, id, resp))
		goto done;
	if (apply_submitted(s, r, id, def, &res, resp))
		goto done;
	resp_deployment(resp, created ? 201 : 200, &res);
	if (created)
		set_location(s, resp, id);
done:
	json_object_put(body);
	json_object_put(def);
}

static void bulk_update(struct sim *s, struct sim_req *r, struct sim_resp *resp, int patch)
{
	struct json_object *body = req_json(r, resp), **defs = NULL;
	struct sim_edit *edits = NULL;
	char **ids = NULL;
	size_t n = 0;
	int partial = patch || req_bool(r, "partialUpdate", 1);
	struct sim_result res;

	if (!body)
		return;
	if (!json_object_is_type(body, json_type_array)) {
		resp_text(resp, 422, strdup("{\"message\":\"Invalid JSON\",\"details\":[{\"path\":\"/\",\"errors\":[\"error.expected.jsarray\"]}]}"));
		goto done;
	}
	n = json_object_array_length(body);
	defs = calloc(n + 1, sizeof(*defs));
	edits = calloc(n + 1, sizeof(*edits));
	ids = calloc(n + 1, sizeof(*ids));
	if (!defs || !edits || !ids) {
		resp_message(resp, 500, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *el = json_object_array_get_idx(body, i);
		const char *raw_id = sim_json_str(el, "id");
		struct sim_app *a;
		if (!raw_id) {
			resp_message(resp, 422, "requirement failed: App Update must have app id set");
			goto done;
		}
		if (!(ids[i] = resp_resolve_id(resp, "/", raw_id)))
			goto done;
		a = sim_app_find(s, ids[i]);
		if (patch && !a) {
			resp_message(resp, 404, "App '%s' does not exist", ids[i]);
			goto done;
		}
		if (!(defs[i] = update_def(s, a, el, ids[i], partial, resp)))
			goto done;
		if (!a && group_clash(s, ids[i], resp))
			goto done;
		edits[i].id = ids[i];
		edits[i].after = defs[i];
		edits[i].donate = 1; /* defs[] are ours and only put below */
	}
	if (resp_apply(s, edits, n, req_bool(r, "force", 0), &res, resp))
		goto done;
	resp_deployment(resp, 200, &res);
done:
	for (size_t i = 0; i < n; i++) {
		if (defs)
			json_object_put(defs[i]);
		if (ids)
			free(ids[i]);
	}
	free(defs);
	free(edits);
	free(ids);
	json_object_put(body);
}

/* DELETE /v2/apps/{id}: force defaults to true here in Marathon (AppsResource.delete). */
static void delete_app(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *id)
{
	struct sim_edit e = {id, NULL, 0, 0};
	struct sim_result res;

	if (!sim_app_find(s, id)) {
		resp_message(resp, 404, "App '%s' does not exist", id);
		return;
	}
	if (resp_apply(s, &e, 1, req_bool(r, "force", 1), &res, resp))
		return;
	resp_deployment(resp, 200, &res);
}

/* POST /v2/apps/{id}/restart: a new version of the same definition, so every task is replaced. */
static void restart_app(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *id)
{
	struct sim_app *a = sim_app_find(s, id);
	struct sim_edit e;
	struct sim_result res;

	if (!a) {
		resp_message(resp, 404, "App '%s' does not exist", id);
		return;
	}
	e.id = id;
	e.after = a->def;
	e.restart = 1;
	e.donate = 0; /* the stored definition itself */
	if (resp_apply(s, &e, 1, req_bool(r, "force", 0), &res, resp))
		return;
	resp_deployment(resp, 200, &res);
}

/* ---------------------------------------------------------- versions, tasks */

static void versions(struct sim *s, struct sim_resp *resp, const char *id, const char *ts)
{
	struct sim_app *a = sim_app_find(s, id);

	if (!a) {
		resp_message(resp, 404, "App '%s' does not exist", id);
		return;
	}
	if (!ts) {
		struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
		for (size_t i = a->nversions; i-- > 0;)
			json_object_array_add(arr, json_object_new_string(a->versions[i].version));
		json_object_object_add(o, "versions", arr);
		resp_json(resp, 200, o);
		return;
	}
	if (strlen(ts) < 10 || !isdigit((unsigned char)ts[0]) || ts[4] != '-' || ts[7] != '-') {
		resp_message(resp, 422, "Invalid timestamp provided '%s'. Expecting ISO-8601 datetime string.", ts);
		return;
	}
	for (size_t i = 0; i < a->nversions; i++)
		if (!strcmp(a->versions[i].version, ts)) {
			/* Stored as text already: send it as it is. */
			resp_text(resp, 200, strdup(a->versions[i].text));
			return;
		}
	resp_message(resp, 404, "App '%s' does not exist in version %s", id, ts);
}

static void app_tasks(struct sim *s, struct sim_resp *resp, const char *id)
{
	struct sim_app *a = sim_app_find(s, id);
	struct json_object *o, *arr;

	if (!a) {
		resp_message(resp, 404, "App '%s' does not exist", id);
		return;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0; i < a->ntasks; i++)
		json_object_array_add(arr, tasks_json(s, a, a->tasks[i]));
	json_object_object_add(o, "tasks", arr);
	resp_json(resp, 200, o);
}

int api_kill_tasks(struct sim *s, struct sim_app *a, const char *const *task_ids, size_t nids, const char *host,
		   int scale, int force, struct json_object *killed, struct sim_result *res)
{
	size_t nkill = 0;
	char **kill_ids = calloc(a->ntasks + 1, sizeof(char *));
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (!kill_ids)
		return -1;
	for (size_t i = 0; i < a->ntasks; i++) {
		int match = !task_ids;
		char th[SIM_HOST_LEN];
		for (size_t j = 0; task_ids && j < nids; j++)
			match |= !strcmp(a->tasks[i]->id, task_ids[j]);
		tasks_host(a->tasks[i], th);
		if (match && host && strcmp(host, "*") && strcmp(host, th))
			match = 0;
		if (match)
			kill_ids[nkill++] = a->tasks[i]->id;
	}
	if (scale && nkill) {
		struct json_object *def = sim_json_copy(a->def);
		struct sim_edit e = {a->id, def, 0, 0};
		int64_t n = sim_json_int(def, "instances", 1) - (int64_t)nkill;
		json_object_object_add(def, "instances", json_object_new_int64(n < 0 ? 0 : n));
		rc = sim_apply(s, &e, 1, force, res);
		json_object_put(def);
		if (rc) {
			free(kill_ids);
			return rc;
		}
	}
	for (size_t k = 0; k < nkill; k++)
		for (size_t i = 0; i < a->ntasks; i++)
			if (a->tasks[i]->id == kill_ids[k]) {
				if (killed)
					json_object_array_add(killed, tasks_json(s, a, a->tasks[i]));
				tasks_kill(s, a, i);
				break;
			}
	free(kill_ids);
	return 0;
}

static void kill_tasks(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *id, const char *task_id)
{
	struct sim_app *a = sim_app_find(s, id);
	int scale = req_bool(r, "scale", 0), found = 0;
	struct json_object *killed;
	struct sim_result res;
	const char *ids[1] = {task_id};

	if (!a) {
		resp_message(resp, 404, "App '%s' does not exist", id);
		return;
	}
	if (scale && req_bool(r, "wipe", 0)) {
		resp_message(resp, 400, "You cannot use scale and wipe at the same time.");
		return;
	}
	for (size_t i = 0; task_id && i < a->ntasks; i++)
		found |= !strcmp(a->tasks[i]->id, task_id);
	if (task_id && !found) {
		resp_message(resp, 404, "Task '%s' does not exist", task_id);
		return;
	}
	killed = json_object_new_array();
	if (api_kill_tasks(s, a, task_id ? ids : NULL, task_id ? 1 : 0, req_arg(r, "host"), scale, req_bool(r, "force", 0),
			   killed, &res)) {
		json_object_put(killed);
		resp_text(resp, res.status ? res.status : 500, res.body);
		return;
	}
	free(res.body);
	if (scale && res.dep_id[0]) {
		json_object_put(killed);
		resp_deployment(resp, 200, &res);
	} else if (task_id) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "task", json_object_array_length(killed) ? json_object_get(json_object_array_get_idx(killed, 0))
									    : json_object_new_object());
		json_object_put(killed);
		resp_json(resp, 200, o);
	} else {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "tasks", killed);
		resp_json(resp, 200, o);
	}
}

/* ------------------------------------------------------------------ route */

static int last_seg_is(const char *path, const char *seg)
{
	size_t n = strlen(path), m = strlen(seg);

	return n > m + 1 && path[n - m - 1] == '/' && !strcmp(path + n - m, seg);
}

/* When path's last segment is seg (with an id before it), cut "/seg" off and return 1. */
static int cut_last_seg(char *path, const char *seg)
{
	if (!last_seg_is(path, seg))
		return 0;
	path[strlen(path) - strlen(seg) - 1] = '\0';
	return 1;
}

/*
 * ".../versions/{v}" for GET or ".../tasks/{task}" for DELETE: cut rest to
 * the app's part and return the item ({v} or {task}, in rest), with
 * *is_versions saying which; NULL with rest unchanged otherwise.
 */
static const char *cut_item(char *rest, const char *m, int *is_versions)
{
	char *slash = strrchr(rest, '/');

	if (!slash || slash == rest)
		return NULL;
	*slash = '\0';
	*is_versions = !strcmp(m, "GET") && cut_last_seg(rest, "versions");
	if (*is_versions || (!strcmp(m, "DELETE") && cut_last_seg(rest, "tasks")))
		return slash + 1;
	*slash = '/';
	return NULL;
}

/* What a path below /v2/apps/ names, once its app or group part is cut out. */
enum app_route { R_LIST, R_RESTART, R_VERSIONS, R_VERSION, R_TASKS, R_TASK, R_APP };

/*
 * The route of "/{id}/..." (rest, the path after /v2/apps) for method m:
 * rest is cut down to the id, *item points at {v} of .../versions/{v} or
 * {task} of .../tasks/{task}. Suffixes count only with their methods, so
 * an app may be called "tasks" in GET /v2/apps/tasks.
 */
static enum app_route app_route(char *rest, const char *m, const char **item)
{
	int root_list = !strcmp(rest, "/*"), is_versions;

	/* A group listing ends in a "*" segment; the root's leaves "", which resolves to "/". */
	if (root_list || cut_last_seg(rest, "*")) {
		if (root_list)
			rest[0] = '\0';
		return R_LIST;
	}
	if (!strcmp(m, "POST") && cut_last_seg(rest, "restart"))
		return R_RESTART;
	if (!strcmp(m, "GET") && cut_last_seg(rest, "versions"))
		return R_VERSIONS;
	if ((!strcmp(m, "GET") || !strcmp(m, "DELETE")) && cut_last_seg(rest, "tasks"))
		return R_TASKS;
	if ((*item = cut_item(rest, m, &is_versions)))
		return is_versions ? R_VERSION : R_TASK;
	return R_APP;
}

/* GET, PUT, PATCH or DELETE /v2/apps/{id}. */
static void app_method(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *id)
{
	const char *m = r->method;

	if (!strcmp(m, "GET"))
		get_app(s, r, resp, id);
	else if (!strcmp(m, "PUT"))
		put_app(s, r, resp, id, 0);
	else if (!strcmp(m, "PATCH"))
		put_app(s, r, resp, id, 1);
	else if (!strcmp(m, "DELETE"))
		delete_app(s, r, resp, id);
	else
		resp_message(resp, 405, "HTTP method %s is not supported on %s", m, r->path);
}

/* Everything below /v2/apps/: the id part of the path, then the route. */
static void app_routes(struct sim *s, struct sim_req *r, struct sim_resp *resp, char *rest)
{
	const char *m = r->method, *item = NULL;
	enum app_route route = app_route(rest, m, &item);
	char *id = resp_resolve_id(resp, "/", rest);

	if (!id)
		return;
	if (route == R_LIST && strcmp(m, "GET"))
		resp_message(resp, 405, "HTTP method %s is not supported on %s", m, r->path);
	else if (route == R_LIST && !sim_is_group(s, id))
		resp_message(resp, 404, "Group '%s' does not exist", id);
	else if (route == R_LIST)
		list_apps(s, r, resp, id);
	else if (route == R_RESTART)
		restart_app(s, r, resp, id);
	else if (route == R_VERSIONS || route == R_VERSION)
		versions(s, resp, id, item);
	else if (route == R_TASKS && !strcmp(m, "GET"))
		app_tasks(s, resp, id);
	else if (route == R_TASKS || route == R_TASK)
		kill_tasks(s, r, resp, id, item);
	else
		app_method(s, r, resp, id);
	free(id);
}

void api_apps(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	const char *m = r->method;
	char *rest;

	if (!strcmp(r->path, "/v2/apps")) {
		if (!strcmp(m, "GET"))
			list_apps(s, r, resp, NULL);
		else if (!strcmp(m, "POST"))
			post_app(s, r, resp);
		else if (!strcmp(m, "PUT"))
			bulk_update(s, r, resp, 0);
		else if (!strcmp(m, "PATCH"))
			bulk_update(s, r, resp, 1);
		else
			resp_message(resp, 405, "HTTP method %s is not supported by /v2/apps", m);
		return;
	}
	/* server.c routes only /v2/apps and /v2/apps/... here. */
	rest = strdup(sim_after_prefix(r->path, "/v2/apps")); /* "/prod/web/..." */
	if (!rest) {
		resp_message(resp, 500, "out of memory");
		return;
	}
	app_routes(s, r, resp, rest);
	free(rest);
}
