/*
 * sim.h: the inside of marathon-sim, a stateful simulator of Marathon 1.10's
 * v2 REST API (shared/marathon-api/SPEC.md). Internal to cmd/marathon-sim.
 *
 * Shape:
 *   main.c     flags, start/stop, signals
 *   server.c   libmicrohttpd glue: request bodies, auth, standby redirect,
 *              faults, request log, routing, common headers
 *   api_apps.c /v2/apps...       api_misc.c  everything else in /v2, /ping
 *   state.c    the app store (hash + array), service ports, versions, and
 *              sim_apply(): turning a set of edits into a deployment
 *   deploy.c   the ticker: deployment steps advance per upgradeStrategy,
 *              the launch queue replaces dead tasks. It visits only apps
 *              that can change by themselves (sim.active), so 10,000
 *              settled apps cost no CPU
 *   tasks.c    one task's life: STAGING, STARTING, RUNNING, health and
 *              readiness, crashes, KILLING then KILLED; agents, placement
 *              by hostname constraints, container-network addresses
 *   events.c   the SSE hub (a ring of serialised events)
 *   faults.c   /_sim/: fault injection, request log, behaviour overrides
 *   json.c     helpers: timestamps, uuids, JSON access, path matching
 *
 * Locking: one mutex (sim.mu) guards everything except the event ring (its
 * own mutex, always taken after sim.mu) and the fault/request log (sim.fmu).
 * Request handlers run with sim.mu held; the ticker takes it every ~10 ms.
 */
#ifndef PACER_SIM_H
#define PACER_SIM_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <microhttpd.h>

#include "reconcile/base/buf.h"
#include "reconcile/model/appdef.h"

struct json_object;

/* ---------------------------------------------------------------- config */

struct sim_config {
	const char *listen;     /* ADDR:PORT */
	int task_launch_ms;     /* time from STAGING to RUNNING (STARTING half way) */
	int kill_ms;            /* TASK_KILLING per second of taskKillGracePeriodSeconds */
	int agents;             /* --agents: simulated Mesos agents (hosts 127.0.0.1...);
				 * 0 = not given: one agent, constraints ignored */
	int health_ms;          /* time from RUNNING to passing health checks */
	const char *load_file;
	struct appdef_flags flags;
	char *basic_auth;       /* expected "Basic <b64>" header value, or NULL (malloc'd;
				 * sim_release() frees it with pacer_secret_free()) */
	char *token;            /* expected DC/OS token, or NULL (the same) */
	char *standby_url;      /* act as a standby of the leader at this base URL (malloc'd) */
	int standby_redirect;   /* --standby-mode redirect: 307 for everything instead of proxying */
	const char *framework_id; /* --framework-id, or NULL */
	int request_timeout_ms;   /* --request-timeout: a request must arrive whole this soon (guard.c) */
};

/* ---------------------------------------------------------------- json.c */

/* Wall clock as Marathon's timestamp "2020-07-28T13:30:27.123Z" into out[32]. */
void sim_timestamp(char out[32]);
/* Format a given epoch-ms as a timestamp into out[32]. */
void sim_format_ts(int64_t epoch_ms, char out[32]);
/* A random UUID v4 into out[37]. */
void sim_uuid(char out[37]);
/* Member lookups on an object; defaults when missing or of the wrong type. */
int64_t sim_json_int(struct json_object *o, const char *key, int64_t dflt);
double sim_json_double(struct json_object *o, const char *key, double dflt);
const char *sim_json_str(struct json_object *o, const char *key);
/* Deep copy; NULL for NULL (or out of memory). The caller releases it with json_object_put(). */
struct json_object *sim_json_copy(struct json_object *o);
/* Parse text; NULL on error with a message in errbuf. The caller releases it with
 * json_object_put(). */
struct json_object *sim_json_parse(const char *text, size_t len, char *errbuf, size_t errlen);
/* Compact serialisation without escaped slashes, borrowed from o. */
const char *sim_json_text(struct json_object *o);
/* A JSON body {"message":"<msg>"}, which the caller frees with free() (NULL: out of memory). */
char *sim_message_body(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* 1 when s is "true" in any case. */
int sim_truthy(const char *s);
/* What follows prefix in s (borrowed from s), or NULL when s does not start with it. */
const char *sim_after_prefix(const char *s, const char *prefix);
/* 1 when s ends with suffix (and is longer than it by at least min_rest bytes). */
int sim_ends_with(const char *s, const char *suffix, size_t min_rest);

/* -------------------------------------------------------------- events.c */

struct sim_events;

/* A new hub, freed with events_free() (after events_shutdown()); NULL when out of memory. */
struct sim_events *events_new(void);
void events_free(struct sim_events *ev);
/* Publish one event: adds eventType and timestamp, takes ownership of payload. */
void events_emit(struct sim_events *ev, const char *type, struct json_object *payload);
/* Wake every subscriber so it ends its stream (shutdown). */
void events_shutdown(struct sim_events *ev);
/*
 * A subscriber for one SSE connection. types is a NULL-terminated list of
 * event types to pass (NULL or empty = all), copied. Freed with
 * events_unsubscribe(). events_read() is an MHD content reader.
 */
struct sim_sub;
struct sim_sub *events_subscribe(struct sim_events *ev, const char *const *types,
				 const char *remote);
void events_unsubscribe(void *sub);
ssize_t events_read(void *sub, uint64_t pos, char *buf, size_t max);
/* Number of events published so far (tests use it through /_sim/). */

/* ----------------------------------------------------------------- state */

/* Container-network addresses 127.0.1.1 .. 127.0.255.254 (127.0.0.x are agents). */
#define SIM_IP_POOL (255 * 254)
#define SIM_MAX_AGENTS 254
/* Service ports: Marathon's --local_port_min/--local_port_max defaults. */
#define SIM_PORT_MIN 10000
#define SIM_PORT_MAX 20000
/* Room for a dotted IPv4 address as the simulator prints them. */
#define SIM_HOST_LEN 24

/* Mesos task states a task passes through in the simulator, in order. */
enum sim_task_state { SIM_TASK_STAGING, SIM_TASK_STARTING, SIM_TASK_RUNNING, SIM_TASK_KILLING };
/*
 * SIM_BEHAVIOR values. UNREADY: tasks run (and pass health checks) but fail
 * their readiness check forever; only matters for apps with readinessChecks.
 */
enum sim_behavior { SIM_HEALTHY, SIM_UNHEALTHY, SIM_CRASH, SIM_SLOW, SIM_UNREADY };

struct sim_task {
	char *id;
	char *version;      /* the app version it was launched for */
	char *cfg_version;  /* the app's lastConfigChangeAt at launch: old vs new */
	int state;
	int agent;          /* the simulated agent it runs on (0..agents-1) */
	int ip;             /* its own address in the container-network pool, -1 none */
	int64_t kill_mono;  /* KILLING: when it becomes TASK_KILLED */
	int killed_unhealthy; /* the kill is Marathon's, for failed health checks */
	char *app_id;       /* set only once its app is gone (sim.dying) */
	int health;         /* 0 unknown, 1 healthy, -1 unhealthy */
	int ready_checked;  /* readiness checked at least once (readinessChecks) */
	int ready;          /* last readiness check passed; never re-checked after */
	int64_t staged_mono, started_mono, health_mono, ready_mono; /* health_mono: last change */
	char staged_at[32], started_at[32], health_at[32], ready_at[32];
	int ports[8];
	int nports;
	uint64_t seq;       /* launch order, for YOUNGEST_FIRST */
};

/*
 * One entry of an app's version history: the stored definition as compact
 * JSON text (parsed again only by rollback and GET .../versions/{v}). Text
 * is ~10x smaller than the json-c tree, which matters with 10,000 apps.
 */
struct sim_version {
	char version[32];
	char *text;                /* malloc'd */
};

struct sim_app {
	char *id;
	struct json_object *def;   /* stored definition incl. version, versionInfo.
				    * Replaced, NEVER changed in place: deployments'
				    * changes share it, and equal parts of definitions
				    * stored together are one shared object (state.c).
				    * Deep-copy (sim_json_copy) before editing. */
	char *json;                /* cached serialisation of def, NULL when stale */
	size_t json_len;
	int json_owned;            /* 0: json is the newest version's text */
	struct sim_version *versions; /* history, oldest first */
	size_t nversions;
	struct sim_task **tasks;
	size_t ntasks, atasks;
	int behavior_override;     /* -1 none, else enum sim_behavior */
	/* Facts derived from def and behavior_override, so the ticker does no
	 * JSON lookups; sim_app_refresh() recomputes them on every change. */
	int behavior;              /* effective enum sim_behavior */
	int has_health;            /* non-empty healthChecks */
	int has_readiness;         /* non-empty readinessChecks */
	int kill_after;            /* failed health checks before Marathon kills a
				    * task: smallest positive maxConsecutiveFailures
				    * (default 3); 0 = never (all checks say 0) */
	int kill_oldest;           /* killSelection OLDEST_FIRST */
	int kill_ms;               /* how long its tasks stay TASK_KILLING */
	int ip_per_task;           /* on a container network: tasks get their own address */
	int max_per_agent;         /* hostname:UNIQUE (1) or MAX_PER; 0 = no limit */
	int cluster_agent;         /* hostname:CLUSTER: the only agent allowed; -1 any,
				    * INT_MAX when the value names no agent */
	int64_t instances;         /* "instances" as stored (default 1) */
	size_t active_idx;         /* position in sim.active, SIM_IDLE when settled */
	struct json_object *last_failure;
	int failures;              /* consecutive failures, for backoff */
	int64_t next_launch_mono;  /* backoff: no launch before this */
	char queue_since[32];
	char (*deps)[37];          /* ids of deployments touching this app */
	size_t ndeps;
	int in_step;               /* set by the ticker: acted on by a deployment step */
	struct sim_app *hnext;     /* hash chain */
	size_t idx;                /* position in sim.apps */
};

enum sim_action_kind { SIM_ACT_START, SIM_ACT_SCALE, SIM_ACT_RESTART, SIM_ACT_STOP };

struct sim_action {
	int kind;
	char *app_id;
};

struct sim_step {
	struct sim_action *actions;
	size_t n;
};

/* What one deployment changed, for DELETE /v2/deployments/{id} rollback. */
struct sim_change {
	char *app_id;
	struct json_object *before; /* NULL when the app was created */
	struct json_object *after;  /* NULL when the app was deleted */
};

struct sim_deploy {
	char id[37];
	char version[32];
	struct sim_step *steps;
	size_t nsteps;
	size_t current;            /* 1-based step being executed; 0 = not started */
	char **affected;
	size_t naffected;
	struct sim_change *changes;
	size_t nchanges;
	struct sim_deploy *next;
};

struct sim_fault {
	int id;
	int status;
	int count;                 /* -1 = forever */
	char *path;
	char *method;
	int latency_ms;
	int drop;
	int after;                 /* "when":"after": act once the request was applied */
	char *body;
	struct sim_fault *next;
};

struct sim {
	struct sim_config cfg;
	pthread_mutex_t mu;
	struct sim_app **apps;
	size_t napps, aapps;
	struct sim_app **buckets;
	size_t nbuckets;
	/* Apps the ticker visits: those that can change by themselves (see
	 * deploy.c). Settled apps leave it; sim_app_wake() puts them back. */
	struct sim_app **active;
	size_t nactive, aactive;
	struct sim_deploy *deploys; /* running, oldest first */
	char **groups;             /* explicitly created groups */
	size_t ngroups;
	char root_version[32];
	char last_ts[32];
	int64_t last_ts_ms;
	uint16_t port_refs[SIM_PORT_MAX - SIM_PORT_MIN + 1]; /* service ports in use (references) */
	unsigned char ip_used[SIM_IP_POOL]; /* container-network addresses in use */
	/* Tasks still being killed whose app was deleted: the ticker finishes
	 * them and StopApplication waits for them (deploy.c). */
	struct sim_task **dying;
	size_t ndying, adying;
	int next_host_port;
	uint64_t task_seq;
	struct sim_events *events;
	int port;                  /* the port we listen on */
	/* GET /v2/info's frameworkId: one per simulated cluster (see main.c) */
	char framework_id[64];
	/* faults.c, under fmu */
	pthread_mutex_t fmu;
	pthread_cond_t fcond;      /* wakes fault delays when stopping */
	int stopping;
	struct sim_fault *faults;
	int next_fault_id;
	struct json_object *requests; /* array of logged requests */
	/* guard.c, under gmu: connections still sending their request, oldest first */
	pthread_mutex_t gmu;
	struct sim_gconn *ghead, *gtail;
};

/* ---------------------------------------------------------------- guard.c */

/*
 * The request deadline (guard.c). guard_notify is libmicrohttpd's
 * MHD_OPTION_NOTIFY_CONNECTION callback (cls: the sim); guard_request()
 * says that the request on c is read (read 1: the deadline stops) or that
 * its answer is sent (read 0: the next request's deadline starts);
 * guard_sweep() (the ticker, every 100 ms) cuts what is past it.
 */
void guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
		  enum MHD_ConnectionNotificationCode toe);
void guard_request(struct sim *s, struct MHD_Connection *c, int read);
void guard_sweep(struct sim *s);

/* ---------------------------------------------------------------- state.c */

/* Initialise a zeroed s; whatever the result, release it with sim_release(). Returns 0 or -1. */
int sim_init(struct sim *s);
void sim_release(struct sim *s);
/* Forget apps, deployments, groups (not faults, not the framework id). */
void sim_clear(struct sim *s);
/*
 * A fresh Mesos-style framework id ("<uuid>-0000") into out[64]: a new
 * Marathon registering with Mesos gets one and keeps it for its whole life.
 */
void sim_framework_id_new(char out[64]);
/* 1 when id can be a framework id: 1..63 of [A-Za-z0-9._:-]. */
int sim_framework_id_ok(const char *id);
/* The app of absolute id, borrowed: valid while s->mu is held and the app is not removed. */
struct sim_app *sim_app_find(struct sim *s, const char *id);
/* A fresh change timestamp, strictly increasing. */
void sim_change_ts(struct sim *s, char out[32]);
/* The cached JSON of an app's definition (without server fields), borrowed from a: valid
 * until its definition changes or sim_app_invalidate(a). */
const char *sim_app_json(struct sim_app *a, size_t *len);
void sim_app_invalidate(struct sim_app *a);
/* Effective SIM_BEHAVIOR of an app (cached: see sim_app_refresh). */
int sim_app_behavior(struct sim_app *a);
int sim_app_has_health(struct sim_app *a);
/*
 * Recompute the cached facts of a from a->def and a->behavior_override, and
 * wake it. Call after changing either.
 */
void sim_app_refresh(struct sim *s, struct sim_app *a);
#define SIM_IDLE ((size_t)-1)
/*
 * Put a back on the ticker's list (no-op when it is there). Call after
 * anything that changes an app outside the ticker: tasks killed, launch
 * backoff reset, deployments added or removed, definition or behaviour.
 */
void sim_app_wake(struct sim *s, struct sim_app *a);
/* Take a off the ticker's list (the ticker found it settled, or it is removed). */
void sim_app_sleep(struct sim *s, struct sim_app *a);
/* 1 when the task counts as healthy+ready for deployments. */
int sim_task_ready(struct sim_app *a, struct sim_task *t);
/* 1 when the task is running and healthy, readiness aside (old tasks in a restart). */
int sim_task_healthy(struct sim_app *a, struct sim_task *t);
/* Is id a group (a strict prefix of some app, or explicitly created)? */
int sim_is_group(struct sim *s, const char *id);
/* Sort set-like arrays (constraints, healthChecks, ...) as Marathon's sets lose order. */
void sim_setlike(struct json_object *def);

/* One requested change to one app. */
struct sim_edit {
	const char *id;
	struct json_object *after; /* new definition from appdef (borrowed), NULL = delete */
	int restart;               /* restart request: new version, same definition */
	int donate;                /* 1: sim_apply may change and keep after (it takes a
				    * reference instead of a deep copy); the caller must
				    * not use it afterwards except to put it */
};

/* Result of sim_apply(). */
struct sim_result {
	int status;                /* 0 ok, else HTTP status of the failure (409) */
	char *body;                /* failure body (malloc'd) */
	char dep_id[37];
	char version[32];
};

/*
 * Apply edits as one deployment. force cancels conflicting deployments
 * instead of failing with 409. Fills res (res->body owned by the caller).
 * Returns 0, or -1 with res->status set.
 */
int sim_apply(struct sim *s, const struct sim_edit *edits, size_t n, int force, struct sim_result *res);

/* -------------------------------------------------------------- deploy.c */

/* Advance tasks and deployments; called with mu held by the ticker. */
void deploy_tick(struct sim *s);
/* Remove and free a deployment, emitting deployment_failed with reason when non-NULL. */
void deploy_cancel(struct sim *s, struct sim_deploy *d, const char *reason);
void deploy_free(struct sim_deploy *d);
/* Light plan JSON {id, steps, version}. The caller releases it with json_object_put(). */
struct json_object *deploy_plan_json(struct sim_deploy *d);
/* Full GET /v2/deployments element. The caller releases it with json_object_put(). */
struct json_object *deploy_json(struct sim *s, struct sim_deploy *d);
/* The running deployment id, borrowed: valid while s->mu is held; NULL when none. */
struct sim_deploy *deploy_find(struct sim *s, const char *id);
/*
 * readinessCheckResults of a: while a deployment acts on a, one entry per
 * readiness check per checked task of its current config, [] otherwise
 * (Marathon keeps them in the deployment actor). The caller releases it with
 * json_object_put().
 */
struct json_object *deploy_readiness_json(struct sim *s, struct sim_app *a);
/* --------------------------------------------------------------- tasks.c */

/* Task JSON as in /v2/apps/{id}/tasks. The caller releases it with json_object_put(). */
struct json_object *tasks_json(struct sim *s, struct sim_app *a, struct sim_task *t);
/* Free a task that holds nothing in sim (see tasks.c for those that do). */
void tasks_free(struct sim_task *t);
/* The host (agent address) of a task: "127.0.0.<agent+1>". */
void tasks_host(const struct sim_task *t, char out[SIM_HOST_LEN]);
/* The app's config version its tasks are compared with (lastConfigChangeAt). Borrowed from a->def. */
const char *tasks_cfg_version(struct sim_app *a);
/*
 * Launch one task of a (TASK_STAGING) on an agent its constraints allow.
 * Returns 0, or -1 when no agent allows one (or out of memory).
 */
int tasks_launch(struct sim *s, struct sim_app *a, int64_t now);
/*
 * Kill task i of a: TASK_KILLING now, TASK_KILLED (and gone) after the
 * app's kill grace, at once when that is 0 (then i no longer exists). A task
 * already being killed is left alone.
 */
void tasks_kill(struct sim *s, struct sim_app *a, size_t i);
/* Move a's tasks along in time: states, health, readiness, crashes, kills. */
void tasks_advance(struct sim *s, struct sim_app *a, int64_t now);
/* a is being deleted: kill all its tasks and keep them in sim.dying until killed. */
void tasks_orphan(struct sim *s, struct sim_app *a);
/* Finish the kills in sim.dying that are due. */
void tasks_advance_dying(struct sim *s, int64_t now);
/* How many tasks of the deleted app app_id are still being killed. */
size_t tasks_dying_of(struct sim *s, const char *app_id);
/* Forget every task in sim.dying (reset). */
void tasks_clear_dying(struct sim *s);

/* ---------------------------------------------------------------- server */

struct sim_req {
	struct MHD_Connection *conn;
	const char *method;
	char *path;                /* cleaned: no '//' and no trailing '/' */
	const char *query;         /* raw query string or "" */
	char **args;               /* the query's arguments decoded: key, value (NULL when
				    * the argument has no '='), key, ...; owned
				    * (sim_req_parse_query()) */
	size_t nargs;              /* entries in args: twice the arguments */
	const char *accept;        /* the Accept header, or NULL */
	const char *body;
	size_t body_len;
	char client_ip[64];
};

struct sim_resp {
	int status;
	char *body;                /* malloc'd or NULL */
	const char *ctype;         /* default application/json */
	char *location;            /* malloc'd or NULL */
	char dep_id[37];           /* Marathon-Deployment-Id when set */
	int sse;                   /* stream events: sse_sub is set */
	void *sse_sub;
	int www_auth;
	int proxied;               /* the leader's answer: headers are the leader's */
	char **headers;            /* "Name: value" lines to send as they are (malloc'd) */
	size_t nheaders;
};

/*
 * Decode query (the URI's text after '?', borrowed) into r->args as
 * libmicrohttpd decodes arguments ('+' a space, %XX a byte). Returns 0, or
 * -1 when out of memory. Release with sim_req_release_args().
 */
int sim_req_parse_query(struct sim_req *r, const char *query);
void sim_req_release_args(struct sim_req *r);
/* The path of url cleaned: "/v2//apps/" -> "/v2/apps"; the caller frees it, NULL when out of memory. */
char *sim_clean_path(const char *url);
/* Answer a request to Marathon's API (not /v2/events, not /_sim/); call with s->mu held. */
void server_route(struct sim *s, struct sim_req *r, struct sim_resp *resp);
/* A query argument, borrowed from the request (valid during the request); NULL when absent. */
const char *req_arg(struct sim_req *r, const char *name);
/* Boolean query argument: true/false in any case; dflt when absent. */
int req_bool(struct sim_req *r, const char *name, int dflt);
/* All values of a repeatable query argument, NULL-terminated. The caller frees the array
 * with free(); the strings are borrowed like req_arg()'s. */
const char **req_args(struct sim_req *r, const char *name);
/* Parse the body as JSON or fill resp with Marathon's 400. The caller releases it with
 * json_object_put(). */
struct json_object *req_json(struct sim_req *r, struct sim_resp *resp);

void resp_json(struct sim_resp *resp, int status, struct json_object *o); /* takes o */
void resp_text(struct sim_resp *resp, int status, char *body);             /* takes body */
void resp_message(struct sim_resp *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Free resp->headers. */
void resp_headers_free(struct sim_resp *resp);
/*
 * appid_resolve(base, id) (reconcile/model/appid.h) for an id that came
 * with a request: the absolute id, which the caller frees with free(), or
 * NULL with resp answered 422 when id climbs above the root group ("/..")
 * or id is NULL.
 */
char *resp_resolve_id(struct sim_resp *resp, const char *base, const char *id);
/* {deploymentId, version} with the header. */
void resp_deployment(struct sim_resp *resp, int status, const struct sim_result *res);
/*
 * sim_apply() for a request: when the change is refused, its answer
 * (res->status, res->body) becomes the response and -1 is returned; when
 * applied, 0 (res->body freed), and the caller answers, usually with
 * resp_deployment().
 */
int resp_apply(struct sim *s, const struct sim_edit *edits, size_t n, int force,
	       struct sim_result *res, struct sim_resp *resp);

/* AppInfo of a (embed bits as in api_apps.c) appended to b. */
void api_app_info(struct sim *s, struct sim_app *a, unsigned emb, struct pacer_buf *b);
#define SIM_EMB_TASKS 1u
#define SIM_EMB_COUNTS 2u
#define SIM_EMB_DEPLOYMENTS 4u
/*
 * Kill tasks of a (task_ids NULL = all), optionally only on host. With scale,
 * lower instances by the number killed in a new deployment (res filled).
 * Killed tasks' JSON is appended to killed when not NULL. Returns 0, or -1
 * with res->status/body when the scale change was refused (409).
 */
int api_kill_tasks(struct sim *s, struct sim_app *a, const char *const *task_ids, size_t nids, const char *host,
		   int scale, int force, struct json_object *killed, struct sim_result *res);

/* Route handlers, called with s->mu held. */
void api_apps(struct sim *s, struct sim_req *r, struct sim_resp *resp);
void api_misc(struct sim *s, struct sim_req *r, struct sim_resp *resp);
void api_sim(struct sim *s, struct sim_req *r, struct sim_resp *resp);

/* MHD callbacks (server.c); cls is the struct sim. */
void *server_uri_log(void *cls, const char *uri, struct MHD_Connection *c);
void server_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe);
enum MHD_Result server_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_size, void **con_cls);

/* ---------------------------------------------------------------- standby */

/*
 * Answer r as a standby of s->cfg.standby_url (standby.c): proxied to the
 * leader, 302 for /v2/events, 502 for a loop or an unreachable leader. uri
 * is the raw request URI with its query. Blocks; call without the state lock.
 */
void standby_handle(struct sim *s, struct sim_req *r, const char *uri, struct sim_resp *resp);

/* ---------------------------------------------------------------- faults */

/* Log one request (not /_sim/ ones). */
void faults_log_request(struct sim *s, struct sim_req *r);
/* What the fault that matched a request does to it. */
struct sim_fault_hit {
	int status;                /* answer this status instead (0: the real answer) */
	char *body;                /* with this body (malloc'd; the caller frees) */
	int latency_ms;            /* wait this long */
	int drop;                  /* close the connection without any reply */
	int after;                 /* 0: all of it instead of handling the request
				    * (nothing is applied); 1: after the request was
				    * handled and its change applied */
};

/*
 * Match the request against active faults (first added first) and count the
 * match. Returns 1 with *hit filled when one matched, 0 with *hit zeroed.
 */
int faults_match(struct sim *s, struct sim_req *r, struct sim_fault_hit *hit);
void faults_clear(struct sim *s);
/* Wait ms for a fault's delay; returns early once faults_shutdown() was called. */
void faults_wait(struct sim *s, int ms);
/* End every fault delay now and from now on (the simulator is stopping). */
void faults_shutdown(struct sim *s);

/* ------------------------------------------------------------------ load */

/* Preload apps from a file (app, array, {"apps":[..]} or a group). */
int sim_load_file(struct sim *s, const char *path);

/*
 * Submit a raw app through appdef with the server flags, making the id
 * absolute. On success *out is the normalised definition; on failure
 * *out_error (when out_error is not NULL) may hold Marathon's 422 body.
 * The caller releases both with json_object_put(). Returns 0 or an appdef
 * error code.
 */
int sim_submit(struct sim *s, struct json_object *raw, const char *url_id, struct json_object **out,
	       struct json_object **out_error);

#endif
