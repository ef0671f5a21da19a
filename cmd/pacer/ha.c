/*
 * ha.c: a replica of `pacer serve --ha` (ha.h): the stores swapped for
 * ZooKeeper's, the election, and the replica's thread that acts on its
 * role.
 */
#include "cmd/pacer/ha.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/zk/backup.h"
#include "backends/zk/conn.h"
#include "backends/zk/election.h"
#include "backends/zk/queue.h"
#include "backends/zk/state.h"
#include "cmd/pacer/runner.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"
#include "reconcile/base/secret.h"
#include "reconcile/base/strv.h"

/* How long a follower waits for the leader's answer to an API action. */
#define HA_API_WAIT_MS 60000
/* How often a follower refreshes what it shows of the leader. */
#define HA_REFRESH_MS 1000

struct ha {
	struct cli_env *env;
	struct zkconn *c;
	struct zk_election *el;
	struct serve *srv;
	struct runner *r;
	serve_api_fn api_fn;
	void *api_ctx;
	volatile sig_atomic_t *stop;
	char name[320];
	pthread_t thread;
	int started;
	volatile sig_atomic_t quit; /* set by ha_free() */
	int wrapped; /* env->marathon is our fence */
	/* The replica's thread's own. */
	int was_leading;
	unsigned long published;
	long long refreshed_ms;
	long long status_seen; /* zk_status_load()'s version */
	/* Under mu: what /readyz and a follower's /status show. */
	pthread_mutex_t mu;
	char *leader;
	struct json_object *leader_status;
	int lost;
};

static int leading(void *ctx)
{
	struct ha *h = ctx;

	return h->el && zk_election_leading(h->el);
}

/* PACER_HA_AUTH, its _FILE or the credential ha-auth; *out NULL when none. */
static int ha_auth(char **out, struct pacer_error **err)
{
	int rc = pacer_secret_lookup(getenv, "PACER_HA_AUTH", PACER_SECRET_REDACT, out, err);

	if (!rc && *out && !strchr(*out, ':')) {
		pacer_secret_free(*out);
		*out = NULL;
		rc = pacer_error_set(err, PACER_EINVALID,
				     "PACER_HA_AUTH must be user:password (ZooKeeper digest auth)");
	}
	return rc;
}

/* env's stores and client become ZooKeeper's and the fence. */
static int swap_env(struct ha *h, const struct ha_options *o, struct pacer_error **err)
{
	struct cli_env *env = h->env;
	struct pacer_state_store *zs = NULL;
	struct pacer_backup_store *zb = NULL;
	struct pacer_marathon *fenced;
	int rc;

	if ((rc = zk_backup_store_new(&zb, h->c, o->backups_keep, err)))
		return rc;
	/* The local store stays, for the cache only: the ZooKeeper store owns it now. */
	if ((rc = zk_state_new(&zs, h->c, env->state, err))) {
		env->state = NULL;
		pacer_backup_store_free(zb);
		return rc;
	}
	if (!(fenced = ha_fence_wrap(env->marathon, leading, h))) {
		env->state = zs; /* freed with env */
		pacer_backup_store_free(zb);
		return pacer_error_set(err, -1, "out of memory");
	}
	env->state = zs;
	pacer_backup_store_free(env->backups);
	env->backups = zb;
	env->marathon = fenced;
	h->wrapped = 1;
	return 0;
}

int ha_open(struct ha **out, const struct ha_options *o, struct cli_env *env,
	    struct pacer_error **err)
{
	struct zkconn_options zo = {0};
	char *auth = NULL;
	struct ha *h;
	int rc;

	*out = NULL;
	if (!(h = calloc(1, sizeof(*h))))
		return pacer_error_set(err, -1, "out of memory");
	pthread_mutex_init(&h->mu, NULL);
	h->env = env;
	h->stop = o->stop;
	if ((rc = ha_auth(&auth, err)))
		goto fail;
	zo.url = o->url;
	zo.auth = auth;
	zo.session_ms = (o->session_s > 0 ? o->session_s : 10) * 1000;
	rc = zkconn_new(&h->c, &zo, err);
	pacer_secret_free(auth);
	if (rc || (rc = swap_env(h, o, err)))
		goto fail;
	PLOG_INFO("ha: ZooKeeper session open (timeout %d ms); state and backups in %s",
		  zkconn_session_ms(h->c), zkconn_root(h->c));
	*out = h;
	return 0;
fail:
	ha_free(h);
	return rc;
}

/* The reasons a follower's own timers give: the leader has the same timers. */
static int local_reason(const char *reason)
{
	static const char *const local[] = {"startup", "interval", "resync", "files changed",
					    "drift", "suspensions changed", "retry", "commit",
					    "leader elected"};

	for (size_t i = 0; i < sizeof(local) / sizeof(*local); i++)
		if (!strncmp(reason, local[i], strlen(local[i])))
			return 1;
	return 0;
}

/* A follower: a pending sync from outside (webhook, API) goes to the leader. */
static void forward_pending(struct ha *h)
{
	char reason[RUNNER_REASON_MAX], **only = NULL, *id = NULL;
	struct json_object *o, *arr;
	struct pacer_error *err = NULL;

	if (!runner_take_pending(h->r, reason, &only))
		return;
	if (local_reason(reason))
		goto done;
	o = json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string("sync"));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	json_object_object_add(o, "from", json_object_new_string(h->name));
	if (only) {
		arr = json_object_new_array();
		for (size_t i = 0; only[i]; i++)
			json_object_array_add(arr, json_object_new_string(only[i]));
		json_object_object_add(o, "only", arr);
	}
	if (zk_queue_put(h->c, json_object_to_json_string(o), &id, &err))
		PLOG_ERROR("ha: cannot hand the sync (%s) to the leader: %s", reason,
			   err->message);
	else
		PLOG_INFO("ha: sync (%s) handed to the leader as %s", reason, id);
	json_object_put(o);
done:
	free(id);
	pacer_error_free(err);
	pacer_strv_free(only);
}

/* After an action: suspensions apply at once (the local poke file is not used with --ha). */
static void after_action(struct ha *h, enum serve_api_op op, unsigned code)
{
	if ((op == SERVE_API_SUSPEND || op == SERVE_API_RESUME) && code < 300)
		runner_trigger(h->r, "suspensions changed", 0, NULL);
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		   ? json_object_get_string(v)
		   : NULL;
}

/* The leader: one request of a follower; *answer a new object. */
static struct json_object *serve_request(struct ha *h, struct json_object *req)
{
	struct json_object *ans = json_object_new_object(), *v, *reply = NULL;
	const char *kind = jstr(req, "kind"), *from = jstr(req, "from");
	char reason[RUNNER_REASON_MAX];

	if (kind && !strcmp(kind, "sync")) {
		struct pacer_strvec only = {0};

		if (json_object_object_get_ex(req, "only", &v) && json_object_is_type(v, json_type_array))
			for (size_t i = 0; i < json_object_array_length(v); i++)
				pacer_strvec_add(&only, json_object_get_string(json_object_array_get_idx(v, i)));
		snprintf(reason, sizeof(reason), "%s (via %s)", jstr(req, "reason") ? jstr(req, "reason") : "sync",
			 from ? from : "a follower");
		json_object_object_add(ans, "sync_id", json_object_new_int64((int64_t)runner_trigger(
							       h->r, reason, RUNNER_SUPERSEDE,
							       only.v ? (const char *const *)only.v : NULL)));
		pacer_strvec_release(&only);
		return ans;
	}
	if (kind && !strcmp(kind, "api") && h->api_fn) {
		struct serve_api_call call = {0};
		unsigned code;

		call.op = json_object_object_get_ex(req, "op", &v) ? json_object_get_int(v) : -1;
		call.app_id = jstr(req, "app");
		call.who = jstr(req, "who");
		call.via = jstr(req, "via"); /* "console": the history says so on the leader too */
		call.body = json_object_object_get_ex(req, "body", &v) ? v : NULL;
		if (call.op < SERVE_API_RESTART || call.op > SERVE_API_DELETE) {
			json_object_object_add(ans, "code", json_object_new_int(400));
			return ans;
		}
		code = h->api_fn(h->api_ctx, &call, &reply);
		after_action(h, call.op, code);
		json_object_object_add(ans, "code", json_object_new_int((int)code));
		json_object_object_add(ans, "reply", reply);
		return ans;
	}
	json_object_object_add(ans, "code", json_object_new_int(400));
	return ans;
}

/* The leader: carry out what followers queued, oldest first. */
static void serve_queue(struct ha *h)
{
	for (int n = 0; n < 16 && !h->quit && leading(h); n++) {
		struct pacer_error *err = NULL;
		char *id = NULL, *json = NULL;
		struct json_object *req, *ans;
		int rc = zk_queue_next(h->c, &id, &json, &err);

		if (rc) {
			if (rc != PACER_ENOTFOUND)
				PLOG_WARN("ha: queue: %s", err->message);
			pacer_error_free(err);
			return;
		}
		req = json_tokener_parse(json);
		ans = req ? serve_request(h, req) : json_object_new_object();
		PLOG_INFO("ha: request %s of %s carried out", id,
			  req && jstr(req, "from") ? jstr(req, "from") : "?");
		if (zk_queue_answer(h->c, id, json_object_to_json_string(ans), &err)) {
			PLOG_WARN("ha: queue: cannot answer %s: %s", id, err->message);
			pacer_error_free(err);
			n = 16;
		}
		json_object_put(req);
		json_object_put(ans);
		free(id);
		free(json);
	}
}

/*
 * The leader: /status to ZooKeeper when a sync ended (a row per app: for a
 * large cluster, megabytes; not when one starts).
 */
static void publish(struct ha *h)
{
	struct runner_status st;
	struct json_object *o;
	struct pacer_error *err = NULL;

	runner_status_get(h->r, 0, &st);
	if (st.nsyncs == h->published)
		return;
	o = serve_status_json(h->srv);
	json_object_object_add(o, "leader", json_object_new_string(h->name));
	if (zk_status_save(h->c, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), &err)) {
		PLOG_WARN("ha: cannot publish the status: %s", err->message);
		pacer_error_free(err);
	} else {
		h->published = st.nsyncs;
	}
	json_object_put(o);
}

/* What /readyz and a follower's /status show, read now (not on the event loop). */
static void refresh(struct ha *h, int is_leader)
{
	char *leader, *status = NULL;
	int changed = 0;

	if (pacer_now_ms() - h->refreshed_ms < HA_REFRESH_MS)
		return;
	h->refreshed_ms = pacer_now_ms();
	leader = zk_election_leader(h->el);
	if (!is_leader && zk_status_load(h->c, &h->status_seen, &changed, &status, NULL))
		changed = 0;
	pthread_mutex_lock(&h->mu);
	free(h->leader);
	h->leader = leader;
	if (changed) {
		json_object_put(h->leader_status);
		h->leader_status = status ? json_tokener_parse(status) : NULL;
	}
	pthread_mutex_unlock(&h->mu);
	free(status);
}

static void role_changed(struct ha *h, int now)
{
	h->was_leading = now;
	runner_hold(h->r, !now);
	h->refreshed_ms = 0;
	if (now) /* resumes the journal the previous leader left */
		runner_trigger(h->r, "leader elected", 0, NULL);
	else
		PLOG_WARN("ha: this replica stops acting: it does not lead any more (its ZooKeeper "
			  "lease lapsed, or another replica leads)");
}

static void *ha_main(void *arg)
{
	struct ha *h = arg;

	while (!h->quit) {
		int now;

		if (zk_election_lost(h->el)) {
			runner_hold(h->r, 1);
			pthread_mutex_lock(&h->mu);
			h->lost = 1;
			pthread_mutex_unlock(&h->mu);
			PLOG_ERROR("ha: the ZooKeeper session is lost: pacer serve stops; started "
				   "again, it joins as a follower");
			*h->stop = 1;
			break;
		}
		now = leading(h);
		if (now != h->was_leading)
			role_changed(h, now);
		if (now) {
			serve_queue(h);
			publish(h);
		} else {
			forward_pending(h);
		}
		refresh(h, now);
		zk_queue_wait(h->c, now ? 500 : 200, &h->quit);
	}
	return NULL;
}

int ha_start(struct ha *h, struct serve *srv, serve_api_fn api_fn, void *api_ctx,
	     struct pacer_error **err)
{
	char host[256] = "localhost";
	int rc;

	h->srv = srv;
	h->r = serve_runner(srv);
	h->api_fn = api_fn;
	h->api_ctx = api_ctx;
	/* Nothing syncs before this replica leads. */
	runner_hold(h->r, 1);
	gethostname(host, sizeof(host) - 1);
	snprintf(h->name, sizeof(h->name), "%s:%d", host, serve_port(srv));
	if ((rc = zk_election_join(&h->el, h->c, h->name, NULL, NULL, err)))
		return rc;
	if (pthread_create(&h->thread, NULL, ha_main, h))
		return pacer_error_set(err, -1, "cannot start the replica's thread");
	h->started = 1;
	return 0;
}

/* {"status": "error", "error": msg} */
static struct json_object *error_reply(const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string("error"));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

/* A follower: the action goes to the leader; its answer is ours. */
static unsigned forward_api(struct ha *h, const struct serve_api_call *call,
			    struct json_object **reply)
{
	struct json_object *o = json_object_new_object(), *ans = NULL, *v;
	struct pacer_error *err = NULL;
	char *id = NULL, *json = NULL;
	unsigned code = 503;

	json_object_object_add(o, "kind", json_object_new_string("api"));
	json_object_object_add(o, "op", json_object_new_int((int)call->op));
	if (call->app_id)
		json_object_object_add(o, "app", json_object_new_string(call->app_id));
	if (call->body)
		json_object_object_add(o, "body", json_object_get(call->body));
	if (call->who)
		json_object_object_add(o, "who", json_object_new_string(call->who));
	if (call->via)
		json_object_object_add(o, "via", json_object_new_string(call->via));
	json_object_object_add(o, "from", json_object_new_string(h->name));
	if (zk_queue_put(h->c, json_object_to_json_string(o), &id, &err) ||
	    zk_queue_await(h->c, id, HA_API_WAIT_MS, &json, &err)) {
		char msg[600];

		snprintf(msg, sizeof(msg), "this replica follows; the leader did not answer: %s%s",
			 err->message, id ? " (the request stays queued: the leader may still carry "
					    "it out)" : "");
		*reply = error_reply(msg);
		goto done;
	}
	PLOG_INFO("ha: api %s by %s handed to the leader as %s", call->app_id ? call->app_id : "-",
		  call->who ? call->who : "-", id);
	ans = json_tokener_parse(json);
	if (ans && json_object_object_get_ex(ans, "code", &v))
		code = (unsigned)json_object_get_int(v);
	*reply = ans && json_object_object_get_ex(ans, "reply", &v) ? json_object_get(v) : NULL;
done:
	json_object_put(o);
	json_object_put(ans);
	pacer_error_free(err);
	free(id);
	free(json);
	return code;
}

unsigned ha_api(void *ctx, const struct serve_api_call *call, struct json_object **reply)
{
	struct ha *h = ctx;
	unsigned code;

	/* Reads are served here, from Marathon and the shared state. */
	if (call->op == SERVE_API_APPS || call->op == SERVE_API_APP ||
	    call->op == SERVE_API_HISTORY || call->op == SERVE_API_SYNC)
		return h->api_fn(h->api_ctx, call, reply);
	if (!leading(h))
		return forward_api(h, call, reply);
	code = h->api_fn(h->api_ctx, call, reply);
	after_action(h, call->op, code);
	return code;
}

/* {"ready", "role", "name", "leader"} */
static struct json_object *ready_json(struct ha *h, int lead, int ok, const char *leader)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "ready", json_object_new_boolean(ok));
	json_object_object_add(o, "role", json_object_new_string(lead ? "leader" : "follower"));
	json_object_object_add(o, "name", json_object_new_string(h->name));
	json_object_object_add(o, "leader", leader ? json_object_new_string(leader) : NULL);
	return o;
}

int ha_get(void *ctx, const char *url, unsigned *status, struct json_object **body)
{
	struct ha *h = ctx;
	int lead = leading(h), ok;
	char *leader;

	if (strcmp(url, "/readyz") && strcmp(url, "/status"))
		return 0;
	pthread_mutex_lock(&h->mu);
	leader = h->leader ? strdup(h->leader) : NULL;
	/* Ready: in touch with ZooKeeper and a leader is known (or this is it). */
	ok = !h->lost && (lead || (zkconn_lease_ok(h->c) && leader));
	if (!strcmp(url, "/readyz")) {
		*body = ready_json(h, lead, ok, lead ? h->name : leader);
		*status = ok ? 200 : 503;
	} else {
		struct json_object *o = NULL;

		/* A follower's /status is the leader's, as it published it last. */
		if (lead)
			o = serve_status_json(h->srv);
		else if (h->leader_status)
			json_object_deep_copy(h->leader_status, &o, NULL);
		if (!o)
			o = json_object_new_object();
		json_object_object_add(o, "ha", ready_json(h, lead, ok, lead ? h->name : leader));
		*body = o;
		*status = 200;
	}
	pthread_mutex_unlock(&h->mu);
	free(leader);
	return 1;
}

struct pacer_marathon *ha_marathon(struct ha *h)
{
	return h && h->wrapped ? ha_fence_inner(h->env->marathon) : NULL;
}

int ha_lost(struct ha *h)
{
	int lost;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->mu);
	lost = h->lost;
	pthread_mutex_unlock(&h->mu);
	return lost;
}

void ha_free(struct ha *h)
{
	if (!h)
		return;
	if (h->started) {
		h->quit = 1;
		zk_queue_wake(h->c);
		pthread_join(h->thread, NULL);
	}
	/* Leaving deletes our node: a follower takes over at once, not after the timeout. */
	zk_election_free(h->el);
	if (h->env && h->c) {
		pacer_state_store_free(h->env->state);
		pacer_backup_store_free(h->env->backups);
		h->env->state = NULL;
		h->env->backups = NULL;
		if (h->wrapped)
			h->env->marathon = ha_fence_unwrap(h->env->marathon);
	}
	zkconn_free(h->c);
	pthread_mutex_destroy(&h->mu);
	free(h->leader);
	json_object_put(h->leader_status);
	free(h);
}
