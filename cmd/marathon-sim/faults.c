/*
 * faults.c: the simulator's own control API under /_sim/ (not Marathon's):
 * fault injection, the request log, full reset and per-app behaviour
 * overrides. Tests of other modules depend on these exact shapes:
 *
 *   POST   /_sim/faults   {"status":503,"count":2,"path":"/v2/apps","method":"GET",
 *                          "latency_ms":0,"drop":false,"body":"{...}",
 *                          "when":"before"} -> 201 {"id":n}
 *                          when "before" (default): the fault replaces handling,
 *                          nothing is applied; "after": the request is handled
 *                          and applied first, then delayed, dropped (no reply at
 *                          all, as when a reply is lost) or answered status
 *   DELETE /_sim/faults   clear all faults
 *   POST   /_sim/reset    clear apps, deployments, faults and the request log;
 *                         the framework id stays unless the body is
 *                         {"new_framework_id":true}
 *   GET    /_sim/requests {"requests":[{"method","path","query","headers":{...}}]}
 *   DELETE /_sim/requests clear the log
 *   POST   /_sim/apps/{id}/behavior {"behavior":"unhealthy"}
 */
#include "cmd/marathon-sim/sim.h"
#include "reconcile/base/clock.h"
#include "reconcile/model/appid.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* POST /_sim/apps/{id}/behavior */
#define BEHAVIOR_PREFIX "/_sim/apps"
#define BEHAVIOR_SUFFIX "/behavior"

/* Bounded request log: past this many entries the oldest go first. */
#define REQUEST_LOG_MAX 100000

static void fault_free(struct sim_fault *f)
{
	free(f->path);
	free(f->method);
	free(f->body);
	free(f);
}

void faults_clear(struct sim *s)
{
	while (s->faults) {
		struct sim_fault *f = s->faults;
		s->faults = f->next;
		fault_free(f);
	}
}

void faults_wait(struct sim *s, int ms)
{
	struct timespec until;

	if (ms <= 0)
		return;
	until = pacer_deadline_ms(ms); /* fcond runs on the same clock (sim_init) */
	/* A deliberate, one-off delay of one request, not polling: the wait
	 * only ends early so that a stopping simulator does not hang for the
	 * rest of a 30 s latency fault. */
	pthread_mutex_lock(&s->fmu);
	while (!s->stopping && pthread_cond_timedwait(&s->fcond, &s->fmu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->fmu);
}

void faults_shutdown(struct sim *s)
{
	pthread_mutex_lock(&s->fmu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->fcond);
	pthread_mutex_unlock(&s->fmu);
}

static enum MHD_Result log_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct json_object *h = cls;
	char name[256];
	size_t i;

	(void)kind;
	for (i = 0; key[i] && i < sizeof(name) - 1; i++)
		name[i] = (char)tolower((unsigned char)key[i]);
	name[i] = '\0';
	json_object_object_add(h, name, json_object_new_string(value ? value : ""));
	return MHD_YES;
}

void faults_log_request(struct sim *s, struct sim_req *r)
{
	struct json_object *o = json_object_new_object(), *h = json_object_new_object();
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, log_header, h);
	json_object_object_add(o, "method", json_object_new_string(r->method));
	json_object_object_add(o, "path", json_object_new_string(r->path));
	json_object_object_add(o, "query", json_object_new_string(r->query));
	json_object_object_add(o, "headers", h);
	pthread_mutex_lock(&s->fmu);
	if (json_object_array_length(s->requests) >= REQUEST_LOG_MAX)
		json_object_array_del_idx(s->requests, 0, 1);
	json_object_array_add(s->requests, o);
	pthread_mutex_unlock(&s->fmu);
}

int faults_match(struct sim *s, struct sim_req *r, struct sim_fault_hit *hit)
{
	struct sim_fault **pp;
	int found = 0;

	memset(hit, 0, sizeof(*hit));
	pthread_mutex_lock(&s->fmu);
	for (pp = &s->faults; *pp; pp = &(*pp)->next) {
		struct sim_fault *f = *pp;
		if (f->path && strncmp(r->path, f->path, strlen(f->path)))
			continue;
		if (f->method && strcasecmp(f->method, r->method))
			continue;
		hit->status = f->status;
		hit->body = f->body ? strdup(f->body) : NULL;
		hit->latency_ms = f->latency_ms;
		hit->drop = f->drop;
		hit->after = f->after;
		found = 1;
		if (f->count > 0 && --f->count == 0) {
			*pp = f->next;
			fault_free(f);
		}
		break;
	}
	pthread_mutex_unlock(&s->fmu);
	return found;
}

/*
 * A fault from its JSON. Returns it, or NULL with the reason in why (a
 * static string; NULL when memory ran out).
 */
static struct sim_fault *fault_parse(struct json_object *o, const char **why)
{
	struct sim_fault *f;
	struct json_object *v;
	const char *when = sim_json_str(o, "when");

	*why = "/_sim/faults wants an object like {\"status\":503,\"count\":1,\"path\":\"/v2/apps\"}";
	if (!json_object_is_type(o, json_type_object))
		return NULL;
	*why = "/_sim/faults: \"when\" is \"before\" (default: instead of handling the request) or \"after\" "
	       "(once it was applied)";
	if (json_object_object_get_ex(o, "when", &v) && (!when || (strcmp(when, "before") && strcmp(when, "after"))))
		return NULL;
	*why = "/_sim/faults: count must be positive or -1 (forever)";
	if (sim_json_int(o, "count", 1) == 0)
		return NULL;
	*why = NULL;
	if (!(f = calloc(1, sizeof(*f))))
		return NULL;
	f->status = (int)sim_json_int(o, "status", 0);
	f->count = (int)sim_json_int(o, "count", 1);
	f->latency_ms = (int)sim_json_int(o, "latency_ms", 0);
	f->drop = json_object_object_get_ex(o, "drop", &v) && json_object_get_boolean(v);
	f->after = when && !strcmp(when, "after");
	if (sim_json_str(o, "path"))
		f->path = strdup(sim_json_str(o, "path"));
	if (sim_json_str(o, "method"))
		f->method = strdup(sim_json_str(o, "method"));
	if (json_object_object_get_ex(o, "body", &v) && v)
		f->body = strdup(json_object_is_type(v, json_type_string) ? json_object_get_string(v) : sim_json_text(v));
	else if (f->status)
		f->body = strdup("{\"message\":\"injected\"}");
	return f;
}

static void add_fault(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	struct json_object *o = req_json(r, resp), *out;
	struct sim_fault *f, **pp;
	const char *why;

	if (!o)
		return;
	f = fault_parse(o, &why);
	json_object_put(o);
	if (!f) {
		if (why)
			resp_message(resp, 422, "%s", why);
		else
			resp_message(resp, 500, "out of memory");
		return;
	}
	pthread_mutex_lock(&s->fmu);
	f->id = s->next_fault_id++;
	for (pp = &s->faults; *pp; pp = &(*pp)->next)
		;
	*pp = f;
	out = json_object_new_object();
	json_object_object_add(out, "id", json_object_new_int(f->id));
	pthread_mutex_unlock(&s->fmu);
	resp_json(resp, 201, out);
}

static void set_behavior(struct sim *s, struct sim_req *r, struct sim_resp *resp, const char *id_part)
{
	struct json_object *o = req_json(r, resp);
	const char *b;
	char *id;
	struct sim_app *a;
	int beh = -1;

	if (!o)
		return;
	b = sim_json_str(o, "behavior");
	if (b && !strcmp(b, "healthy"))
		beh = SIM_HEALTHY;
	else if (b && !strcmp(b, "unhealthy"))
		beh = SIM_UNHEALTHY;
	else if (b && !strcmp(b, "crash"))
		beh = SIM_CRASH;
	else if (b && !strcmp(b, "slow"))
		beh = SIM_SLOW;
	else if (b && !strcmp(b, "unready"))
		beh = SIM_UNREADY;
	json_object_put(o);
	if (beh < 0) {
		resp_message(resp, 422, "behavior must be one of healthy, unhealthy, crash, slow, unready");
		return;
	}
	id = appid_resolve("/", id_part);
	pthread_mutex_lock(&s->mu);
	a = id ? sim_app_find(s, id) : NULL;
	if (a) {
		a->behavior_override = beh;
		sim_app_refresh(s, a);
		resp_text(resp, 200, strdup("{}"));
	} else {
		resp_message(resp, 404, "App '%s' does not exist", id ? id : id_part);
	}
	pthread_mutex_unlock(&s->mu);
	free(id);
}

/*
 * POST /_sim/reset: the same cluster, emptied (its framework id stays), or
 * with {"new_framework_id":true} a different Marathon: wiped and registered
 * again with Mesos under a new id. An empty body is {}.
 */
static void reset(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	struct json_object *o = NULL, *v;
	int fresh = 0;

	if (r->body_len && !(o = req_json(r, resp)))
		return;
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		resp_message(resp, 422, "/_sim/reset wants no body or an object like {\"new_framework_id\":true}");
		return;
	}
	if (o && json_object_object_get_ex(o, "new_framework_id", &v))
		fresh = json_object_get_boolean(v);
	json_object_put(o);
	pthread_mutex_lock(&s->mu);
	sim_clear(s);
	if (fresh)
		sim_framework_id_new(s->framework_id);
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_lock(&s->fmu);
	faults_clear(s);
	json_object_put(s->requests);
	s->requests = json_object_new_array();
	pthread_mutex_unlock(&s->fmu);
	resp_text(resp, 200, strdup("{}"));
}

/*
 * The app id of a behaviour path ("/_sim/apps/prod/web/behavior" ->
 * "/prod/web", the prefix's last '/' kept so the id comes out absolute),
 * malloc'd; NULL when path is not one (or out of memory).
 */
static char *behavior_app_id(const char *path)
{
	const char *id = sim_after_prefix(path, BEHAVIOR_PREFIX);

	/* At least "/x" between prefix and suffix. */
	if (!id || id[0] != '/' || !sim_ends_with(id, BEHAVIOR_SUFFIX, 2))
		return NULL;
	return strndup(id, strlen(id) - strlen(BEHAVIOR_SUFFIX));
}

void api_sim(struct sim *s, struct sim_req *r, struct sim_resp *resp)
{
	const char *m = r->method;
	char *id = NULL;

	if (!strcmp(r->path, "/_sim/faults") && !strcmp(m, "POST")) {
		add_fault(s, r, resp);
	} else if (!strcmp(r->path, "/_sim/faults") && !strcmp(m, "DELETE")) {
		pthread_mutex_lock(&s->fmu);
		faults_clear(s);
		pthread_mutex_unlock(&s->fmu);
		resp_text(resp, 200, strdup("{}"));
	} else if (!strcmp(r->path, "/_sim/reset") && !strcmp(m, "POST")) {
		reset(s, r, resp);
	} else if (!strcmp(r->path, "/_sim/requests") && !strcmp(m, "GET")) {
		struct json_object *o = json_object_new_object();
		pthread_mutex_lock(&s->fmu);
		json_object_object_add(o, "requests", json_object_get(s->requests));
		resp_text(resp, 200, strdup(sim_json_text(o)));
		pthread_mutex_unlock(&s->fmu);
		json_object_put(o);
	} else if (!strcmp(r->path, "/_sim/requests") && !strcmp(m, "DELETE")) {
		pthread_mutex_lock(&s->fmu);
		json_object_put(s->requests);
		s->requests = json_object_new_array();
		pthread_mutex_unlock(&s->fmu);
		resp_text(resp, 200, strdup("{}"));
	} else if (!strcmp(m, "POST") && (id = behavior_app_id(r->path))) {
		set_behavior(s, r, resp, id);
		free(id);
	} else {
		resp_message(resp, 404, "URI not found: %s %s (marathon-sim control API: /_sim/faults, /_sim/reset, "
			     "/_sim/requests, /_sim/apps/{id}/behavior)", m, r->path);
	}
}
