/*
 * api_misc.c: the rest of Marathon's API: /ping, /v2/info, /v2/leader,
 * /v2/deployments (list, cancel with rollback or force), /v2/groups (tree,
 * PUT/POST of a group, DELETE), /v2/tasks, /v2/queue. Runs with the state
 * lock held.
 */
#include "cmd/marathon-sim/sim.h"
#include "reconcile/base/clock.h"
#include "reconcile/model/appid.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DELETE /v2/queue/{id}/delay */
#define QUEUE_PREFIX "/v2/queue"
#define DELAY_SUFFIX "/delay"

/*
 * Marathon's /ping produces text and JSON: only a client that asks for JSON
 * alone gets "\"pong\"", so curl's default Accept: * / * reads plain pong.
 */
static void ping(struct sim_req *r, struct sim_resp *resp)
{
	const char *accept = r->accept;

	if (accept && strstr(accept, "application/json") && !strstr(accept, "text/") && !strstr(accept, "*/*")) {
		resp_text(resp, 200, strdup("\"pong\""));
		return;
	}
	resp_text(resp, 200, strdup("pong"));
	resp->ctype = "text/plain";
}

/*
 * GET /v2/info of a Marathon 1.10 leader. What clients act on is real (the
 * leader, frameworkId, the features and role given by flags, the service
 * port range); the ZooKeeper and HTTP parts are Marathon's defaults, there
 * only so that the document has its real shape.
 */
static void info(struct sim *s, struct sim_resp *resp)
{
	struct json_object *o = json_object_new_object(), *mc = json_object_new_object(), *zk = json_object_new_object(),
			   *hc = json_object_new_object(), *features = json_object_new_array();
	char leader[64];
	unsigned f = s->cfg.flags.features;

	snprintf(leader, sizeof(leader), "127.0.0.1:%d", s->port);
	if (f & APPDEF_FEATURE_SECRETS)
		json_object_array_add(features, json_object_new_string("secrets"));
	if (f & APPDEF_FEATURE_EXTERNAL_VOLUMES)
		json_object_array_add(features, json_object_new_string("external_volumes"));
	if (f & APPDEF_FEATURE_GPU_RESOURCES)
		json_object_array_add(features, json_object_new_string("gpu_resources"));
	json_object_object_add(o, "name", json_object_new_string("marathon"));
	json_object_object_add(o, "version", json_object_new_string("1.10.26"));
	json_object_object_add(o, "buildref", json_object_new_string("marathon-sim"));
	json_object_object_add(o, "elected", json_object_new_boolean(1));
	json_object_object_add(o, "leader", json_object_new_string(leader));
	json_object_object_add(o, "frameworkId", json_object_new_string(s->framework_id));
	json_object_object_add(mc, "master", json_object_new_string("local"));
	json_object_object_add(mc, "hostname", json_object_new_string("127.0.0.1"));
	json_object_object_add(mc, "ha", json_object_new_boolean(1));
	json_object_object_add(mc, "checkpoint", json_object_new_boolean(1));
	json_object_object_add(mc, "framework_name", json_object_new_string("marathon"));
	json_object_object_add(mc, "local_port_min", json_object_new_int(SIM_PORT_MIN));
	json_object_object_add(mc, "local_port_max", json_object_new_int(SIM_PORT_MAX));
	json_object_object_add(mc, "mesos_role", json_object_new_string(s->cfg.flags.mesos_role ? s->cfg.flags.mesos_role : "*"));
	json_object_object_add(mc, "default_network_name", NULL);
	json_object_object_add(mc, "features", features);
	json_object_object_add(mc, "task_launch_timeout", json_object_new_int(300000));
	json_object_object_add(o, "marathon_config", mc);
	json_object_object_add(zk, "zk", json_object_new_string("zk://localhost:2181/marathon"));
	json_object_object_add(zk, "zk_max_versions", json_object_new_int(50));
	json_object_object_add(zk, "zk_session_timeout", json_object_new_int(10000));
	json_object_object_add(zk, "zk_timeout", json_object_new_int(10000));
	json_object_object_add(o, "zookeeper_config", zk);
	json_object_object_add(hc, "http_port", json_object_new_int(s->port));
	json_object_object_add(hc, "https_port", json_object_new_int(8443));
	json_object_object_add(o, "http_config", hc);
	resp_json(resp, 200, o);
}

/* ------------------------------------------------------------ deployments */

static void list_deployments(struct sim *s, struct sim_resp *resp)
{
	struct json_object *arr = json_object_new_array();

	for (struct sim_deploy *d = s->deploys; d; d = d->next)
		json_object_array_add(arr, deploy_json(s, d));
	resp_json(resp, 200, arr);
}

static void delete_deployment(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *id)
{
	struct sim_deploy *d = deploy_find(s, id);
	struct sim_edit *edits;
	struct json_object **keep;
	char **ids;
	size_t n;
	struct sim_result res;

	if (!d) {
		resp_message(resp, 404, "DeploymentPlan %s does not exist", id);
		return;
	}
	if (req_bool(r, "force", 0)) {
		/* Stop only: the stored definitions stay at the target. */
		deploy_cancel(s, d, "The upgrade has been cancelled");
		resp->status = 202;
		return;
	}
	/* Rollback: a new forced deployment restoring what d changed. keep[]
	 * holds references to the "before" definitions and ids[] copies of the
	 * ids, because deploy_cancel() frees d and its changes before the
	 * rollback is applied. */
	n = d->nchanges;
	edits = calloc(n + 1, sizeof(*edits));
	keep = calloc(n + 1, sizeof(*keep));
	ids = calloc(n + 1, sizeof(*ids));
	if (!edits || !keep || !ids) {
		free(edits);
		free(keep);
		free(ids);
		resp_message(resp, 500, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ids[i] = strdup(d->changes[i].app_id);
		keep[i] = d->changes[i].before ? json_object_get(d->changes[i].before) : NULL;
		edits[i].id = ids[i];
		edits[i].after = keep[i];
	}
	deploy_cancel(s, d, "The upgrade has been cancelled");
	if (!resp_apply(s, edits, n, 1, &res, resp))
		resp_deployment(resp, 200, &res);
	for (size_t i = 0; i < n; i++) {
		json_object_put(keep[i]);
		free(ids[i]);
	}
	free(edits);
	free(keep);
	free(ids);
}

/* ----------------------------------------------------------------- groups */

static int under(const char *id, const char *group)
{
	size_t n = strlen(group);

	if (!strcmp(group, "/"))
		return 1;
	return !strncmp(id, group, n) && id[n] == '/';
}

/* The direct child group of `group` that contains id, or NULL when id is a direct child. */
static char *child_group(const char *id, const char *group)
{
	size_t n = strcmp(group, "/") ? strlen(group) : 0;
	const char *next = strchr(id + n + 1, '/');

	return next ? strndup(id, (size_t)(next - id)) : NULL;
}

static int has_str(struct json_object *arr, const char *s)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s))
			return 1;
	return 0;
}

static struct json_object *group_json(struct sim *s, const char *gid, unsigned emb)
{
	struct json_object *o = json_object_new_object(), *apps = json_object_new_array(), *groups = json_object_new_array(),
			   *names = json_object_new_array();

	for (size_t i = 0; i < s->napps; i++) {
		struct sim_app *a = s->apps[i];
		char *cg;
		if (!under(a->id, gid))
			continue;
		cg = child_group(a->id, gid);
		if (!cg) {
			struct pacer_buf b = PACER_BUF_INIT;
			api_app_info(s, a, emb, &b);
			json_object_array_add(apps, json_tokener_parse(pacer_buf_cstr(&b)));
			pacer_buf_release(&b);
		} else if (!has_str(names, cg)) {
			json_object_array_add(names, json_object_new_string(cg));
		}
		free(cg);
	}
	for (size_t i = 0; i < s->ngroups; i++) {
		char *cg;
		if (!under(s->groups[i], gid))
			continue;
		cg = child_group(s->groups[i], gid);
		if (!cg)
			cg = strdup(s->groups[i]);
		if (cg && !has_str(names, cg))
			json_object_array_add(names, json_object_new_string(cg));
		free(cg);
	}
	for (size_t i = 0; i < json_object_array_length(names); i++)
		json_object_array_add(groups, group_json(s, json_object_get_string(json_object_array_get_idx(names, i)), emb));
	json_object_put(names);
	json_object_object_add(o, "id", json_object_new_string(gid));
	json_object_object_add(o, "apps", apps);
	json_object_object_add(o, "groups", groups);
	json_object_object_add(o, "pods", json_object_new_array());
	json_object_object_add(o, "dependencies", json_object_new_array());
	json_object_object_add(o, "version", json_object_new_string(s->root_version));
	return o;
}

/*
 * Remember an explicitly created group: groups are otherwise implied by the
 * apps under them, and an empty group must still be listed and conflict.
 * Out of memory only loses the empty group.
 */
static void add_group(struct sim *s, const char *gid)
{
	char **g;

	if (!strcmp(gid, "/"))
		return;
	for (size_t i = 0; i < s->ngroups; i++)
		if (!strcmp(s->groups[i], gid))
			return;
	g = realloc(s->groups, (s->ngroups + 1) * sizeof(*g));
	if (!g)
		return;
	s->groups = g;
	s->groups[s->ngroups++] = strdup(gid);
}

/* Forget explicit groups below gid (and gid itself with self); order does not matter. */
static void drop_groups_under(struct sim *s, const char *gid, int self)
{
	for (size_t i = 0; i < s->ngroups;) {
		if ((self && !strcmp(s->groups[i], gid)) || under(s->groups[i], gid)) {
			free(s->groups[i]);
			s->groups[i] = s->groups[--s->ngroups];
		} else {
			i++;
		}
	}
}

/* The edits one group request makes, with the ids and definitions they borrow. */
struct group_edits {
	struct sim_edit *edits;
	struct json_object **defs;
	char **ids;
	size_t n;
};

static int ge_add(struct group_edits *ge, const char *id, struct json_object *def)
{
	struct sim_edit *e = realloc(ge->edits, (ge->n + 1) * sizeof(*e));
	struct json_object **d;
	char **ids;

	if (!e)
		return -1;
	ge->edits = e;
	d = realloc(ge->defs, (ge->n + 1) * sizeof(*d));
	if (!d)
		return -1;
	ge->defs = d;
	ids = realloc(ge->ids, (ge->n + 1) * sizeof(*ids));
	if (!ids)
		return -1;
	ge->ids = ids;
	ge->ids[ge->n] = strdup(id);
	ge->defs[ge->n] = def;
	ge->edits[ge->n].id = ge->ids[ge->n];
	ge->edits[ge->n].after = def;
	ge->edits[ge->n].restart = 0;
	ge->edits[ge->n].donate = 1; /* ge owns def and only puts it */
	ge->n++;
	return 0;
}

static void ge_release(struct group_edits *ge)
{
	for (size_t i = 0; i < ge->n; i++) {
		json_object_put(ge->defs[i]);
		free(ge->ids[i]);
	}
	free(ge->edits);
	free(ge->defs);
	free(ge->ids);
}

static int ge_has(struct group_edits *ge, const char *id)
{
	for (size_t i = 0; i < ge->n; i++)
		if (!strcmp(ge->ids[i], id))
			return 1;
	return 0;
}

/* Collect the edits a group body asks for (recursively). Returns 0 or -1 with resp filled. */
static int collect_group(struct sim *s, struct json_object *g, const char *gid, struct group_edits *ge,
			 struct sim_resp *resp)
{
	struct json_object *apps, *groups;
	int has_apps = json_object_object_get_ex(g, "apps", &apps) && json_object_is_type(apps, json_type_array);
	int has_groups = json_object_object_get_ex(g, "groups", &groups) && json_object_is_type(groups, json_type_array);

	add_group(s, gid);
	for (size_t i = 0; has_apps && i < json_object_array_length(apps); i++) {
		struct json_object *raw = json_object_array_get_idx(apps, i), *def = NULL, *err = NULL;
		const char *rid = sim_json_str(raw, "id");
		char *id;
		if (!rid) {
			resp_text(resp, 422, strdup("{\"message\":\"Invalid JSON\",\"details\":[{\"path\":\"/apps(0)/id\",\"errors\":[\"error.path.missing\"]}]}"));
			return -1;
		}
		if (!(id = resp_resolve_id(resp, gid, rid)))
			return -1;
		if (sim_submit(s, raw, id, &def, &err)) {
			free(id);
			if (err)
				resp_json(resp, 422, err);
			else
				resp_message(resp, 500, "out of memory");
			return -1;
		}
		ge_add(ge, id, def);
		free(id);
	}
	for (size_t i = 0; has_groups && i < json_object_array_length(groups); i++) {
		struct json_object *sub = json_object_array_get_idx(groups, i);
		const char *rid = sim_json_str(sub, "id");
		char *id;
		int rc;
		if (!rid) {
			resp_message(resp, 422, "Every group in 'groups' needs an id");
			return -1;
		}
		if (!(id = resp_resolve_id(resp, gid, rid)))
			return -1;
		rc = collect_group(s, sub, id, ge, resp);
		free(id);
		if (rc)
			return rc;
	}
	/* Apps (or sub-groups) of this group that the body no longer lists are removed. */
	for (size_t i = 0; i < s->napps; i++) {
		struct sim_app *a = s->apps[i];
		char *cg;
		if (!under(a->id, gid) || ge_has(ge, a->id))
			continue;
		cg = child_group(a->id, gid);
		if ((!cg && has_apps) || (cg && has_groups)) {
			int listed = 0;
			for (size_t j = 0; cg && j < json_object_array_length(groups); j++) {
				char *sid = appid_resolve(gid, sim_json_str(json_object_array_get_idx(groups, j), "id"));
				listed |= sid && !strcmp(sid, cg);
				free(sid);
			}
			if (!listed)
				ge_add(ge, a->id, NULL);
		}
		free(cg);
	}
	return 0;
}

static void change_group(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *url_gid, int post)
{
	struct json_object *body = req_json(r, resp);
	struct group_edits ge = {0};
	struct sim_result res;
	char *gid = NULL;

	if (!body)
		return;
	if (!json_object_is_type(body, json_type_object)) {
		resp_text(resp, 422, strdup("{\"message\":\"Invalid JSON\",\"details\":[{\"path\":\"/\",\"errors\":[\"error.expected.jsobject\"]}]}"));
		goto done;
	}
	if (url_gid)
		gid = strdup(url_gid);
	else
		gid = resp_resolve_id(resp, "/", sim_json_str(body, "id") ? sim_json_str(body, "id") : "/");
	if (!gid)
		goto done;
	if (post && strcmp(gid, "/") && sim_is_group(s, gid)) {
		resp_message(resp, 409, "Group %s is already created. Use PUT to change this group.", gid);
		goto done;
	}
	if (sim_app_find(s, gid)) {
		resp_text(resp, 422, strdup("{\"message\":\"Object is not valid\",\"details\":[{\"path\":\"/\",\"errors\":[\"Groups and Applications may not have the same identifier.\"]}]}"));
		goto done;
	}
	if (json_object_object_get_ex(body, "scaleBy", NULL)) {
		/* scaleBy multiplies every app's instances below the group (rounded up). */
		double f = sim_json_double(body, "scaleBy", 1);
		for (size_t i = 0; i < s->napps; i++)
			if (under(s->apps[i]->id, gid)) {
				struct json_object *def = sim_json_copy(s->apps[i]->def);
				double n = (double)sim_json_int(def, "instances", 1) * f;
				json_object_object_add(def, "instances", json_object_new_int64((int64_t)(n + 0.999999)));
				ge_add(&ge, s->apps[i]->id, def);
			}
	} else if (collect_group(s, body, gid, &ge, resp)) {
		goto done;
	}
	if (resp_apply(s, ge.edits, ge.n, req_bool(r, "force", 0), &res, resp))
		goto done;
	resp_deployment(resp, post ? 201 : 200, &res);
done:
	ge_release(&ge);
	free(gid);
	json_object_put(body);
}

/*
 * DELETE /v2/groups/{id}: one deployment stopping every app below it; the
 * explicit groups go only when that was accepted (a 409 leaves all as is).
 */
static void delete_group(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *gid)
{
	struct group_edits ge = {0};
	struct sim_result res;

	if (!sim_is_group(s, gid)) {
		resp_message(resp, 404, "Group '%s' does not exist", gid);
		return;
	}
	for (size_t i = 0; i < s->napps; i++)
		if (under(s->apps[i]->id, gid))
			ge_add(&ge, s->apps[i]->id, NULL);
	if (!resp_apply(s, ge.edits, ge.n, req_bool(r, "force", 0), &res, resp)) {
		drop_groups_under(s, gid, 1);
		resp_deployment(resp, 200, &res);
	}
	ge_release(&ge);
}

static void groups(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	const char *m = r->method;
	char *gid = resp_resolve_id(resp, "/", sim_after_prefix(r->path, "/v2/groups"));

	if (!gid)
		return;
	if (!strcmp(m, "GET")) {
		if (!sim_is_group(s, gid))
			resp_message(resp, 404, "Group '%s' does not exist", gid);
		else
			resp_json(resp, 200, group_json(s, gid, 0));
	} else if (!strcmp(m, "PUT")) {
		change_group(s, r, resp, gid, 0);
	} else if (!strcmp(m, "POST")) {
		change_group(s, r, resp, strcmp(gid, "/") ? gid : NULL, 1);
	} else if (!strcmp(m, "DELETE")) {
		delete_group(s, r, resp, gid);
	} else {
		resp_message(resp, 405, "HTTP method %s is not supported on %s", m, r->path);
	}
	free(gid);
}

/* ------------------------------------------------------------ tasks, queue */

static void all_tasks(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	const char *status = req_arg(r, "status");

	for (size_t i = 0; i < s->napps; i++)
		for (size_t j = 0; j < s->apps[i]->ntasks; j++) {
			struct sim_task *t = s->apps[i]->tasks[j];
			if (status && !strcmp(status, "running") && t->state != SIM_TASK_RUNNING)
				continue;
			if (status && !strcmp(status, "staging") && t->state != SIM_TASK_STAGING)
				continue;
			json_object_array_add(arr, tasks_json(s, s->apps[i], t));
		}
	json_object_object_add(o, "tasks", arr);
	resp_json(resp, 200, o);
}

/* The app of a task id: "prod_web.instance-..." belongs to /prod/web. */
static struct sim_app *task_app(struct sim *s, const char *task_id)
{
	const char *dot = strstr(task_id, ".instance-");
	char *id;
	struct sim_app *a;

	if (!dot)
		return NULL;
	id = malloc((size_t)(dot - task_id) + 2);
	if (!id)
		return NULL;
	id[0] = '/';
	for (size_t i = 0; i < (size_t)(dot - task_id); i++)
		id[i + 1] = task_id[i] == '_' ? '/' : task_id[i];
	id[dot - task_id + 1] = '\0';
	a = sim_app_find(s, id);
	free(id);
	return a;
}

static void delete_tasks(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	struct json_object *body = req_json(r, resp), *ids;
	int scale = req_bool(r, "scale", 0), force = req_bool(r, "force", 0);
	struct sim_result res, last;

	memset(&last, 0, sizeof(last));
	if (!body)
		return;
	if (!json_object_object_get_ex(body, "ids", &ids) || !json_object_is_type(ids, json_type_array)) {
		resp_text(resp, 422, strdup("{\"message\":\"Invalid JSON\",\"details\":[{\"path\":\"/ids\",\"errors\":[\"error.path.missing\"]}]}"));
		json_object_put(body);
		return;
	}
	for (size_t i = 0; i < json_object_array_length(ids); i++) {
		const char *tid = json_object_get_string(json_object_array_get_idx(ids, i));
		struct sim_app *a = tid ? task_app(s, tid) : NULL;
		const char *one[1] = {tid};
		if (!a)
			continue;
		if (api_kill_tasks(s, a, one, 1, NULL, scale, force, NULL, &res)) {
			resp_text(resp, res.status, res.body);
			json_object_put(body);
			return;
		}
		free(res.body);
		if (res.dep_id[0])
			last = res;
	}
	json_object_put(body);
	if (scale && last.dep_id[0])
		resp_deployment(resp, 200, &last);
	else
		resp_text(resp, 200, strdup("{}"));
}

/*
 * GET /v2/queue: every app with fewer tasks than instances, as Marathon's
 * launch queue lists them; the backoff delay is rounded up to whole seconds.
 */
static void queue(struct sim *s, struct sim_resp *resp)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	int64_t now = pacer_now_ms();

	for (size_t i = 0; i < s->napps; i++) {
		struct sim_app *a = s->apps[i];
		int64_t want = a->instances, left = want - (int64_t)a->ntasks;
		struct json_object *e, *delay, *pos;
		int64_t wait = a->next_launch_mono > now ? (a->next_launch_mono - now + 999) / 1000 : 0;
		if (left <= 0)
			continue;
		e = json_object_new_object();
		delay = json_object_new_object();
		pos = json_object_new_object();
		json_object_object_add(e, "app", sim_json_copy(a->def));
		json_object_object_add(e, "count", json_object_new_int64(left));
		json_object_object_add(e, "role", json_object_new_string(sim_json_str(a->def, "role") ? sim_json_str(a->def, "role") : "*"));
		json_object_object_add(delay, "timeLeftSeconds", json_object_new_int64(wait));
		json_object_object_add(delay, "overdue", json_object_new_boolean(wait == 0));
		json_object_object_add(e, "delay", delay);
		json_object_object_add(e, "since", json_object_new_string(a->queue_since[0] ? a->queue_since : s->root_version));
		json_object_object_add(pos, "processedOffersCount", json_object_new_int(0));
		json_object_object_add(pos, "unusedOffersCount", json_object_new_int(0));
		json_object_object_add(pos, "rejectSummaryLastOffers", json_object_new_array());
		json_object_object_add(pos, "rejectSummaryLaunchAttempt", json_object_new_array());
		json_object_object_add(e, "processedOffersSummary", pos);
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "queue", arr);
	resp_json(resp, 200, o);
}

static void queue_delay(struct sim *s, struct sim_resp *resp, const char *path)
{
	/* /v2/queue/{id}/delay: the id keeps the prefix's last '/' */
	const char *from = sim_after_prefix(path, QUEUE_PREFIX);
	char *raw = strndup(from, strlen(from) - strlen(DELAY_SUFFIX));
	char *id = raw ? appid_resolve("/", raw) : NULL;
	struct sim_app *a = id ? sim_app_find(s, id) : NULL;

	if (!a || (int64_t)a->ntasks >= a->instances) {
		resp_message(resp, 404, "Application %s not found in tasks queue.", id ? id : path);
	} else {
		a->failures = 0;
		a->next_launch_mono = 0;
		sim_app_wake(s, a);
		resp->status = 204;
	}
	free(raw);
	free(id);
}

void api_misc(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	const char *p = r->path, *m = r->method, *rest;

	if (!strcmp(p, "/ping"))
		ping(r, resp);
	else if (!strcmp(p, "/v2/info") && !strcmp(m, "GET"))
		info(s, resp);
	else if (!strcmp(p, "/v2/leader") && !strcmp(m, "GET")) {
		struct json_object *o = json_object_new_object();
		char leader[64];
		snprintf(leader, sizeof(leader), "127.0.0.1:%d", s->port);
		json_object_object_add(o, "leader", json_object_new_string(leader));
		resp_json(resp, 200, o);
	} else if (!strcmp(p, "/v2/leader") && !strcmp(m, "DELETE"))
		resp_message(resp, 200, "Leadership abdicated");
	else if (!strcmp(p, "/v2/deployments") && !strcmp(m, "GET"))
		list_deployments(s, resp);
	else if ((rest = sim_after_prefix(p, "/v2/deployments/")) && !strcmp(m, "DELETE"))
		delete_deployment(s, r, resp, rest);
	else if (!strcmp(p, "/v2/groups") || sim_after_prefix(p, "/v2/groups/"))
		groups(s, r, resp);
	else if (!strcmp(p, "/v2/tasks") && !strcmp(m, "GET"))
		all_tasks(s, r, resp);
	else if (!strcmp(p, "/v2/tasks/delete") && !strcmp(m, "POST"))
		delete_tasks(s, r, resp);
	else if (!strcmp(p, "/v2/queue") && !strcmp(m, "GET"))
		queue(s, resp);
	else if ((rest = sim_after_prefix(p, QUEUE_PREFIX)) && rest[0] == '/' &&
		 sim_ends_with(rest, DELAY_SUFFIX, 2) && !strcmp(m, "DELETE"))
		queue_delay(s, resp, p);
	else
		resp_message(resp, 404, "URI not found: %s %s", m, p);
}
