/*
 * normalize.h: the canonical form of a Marathon app, so that a desired app
 * (as written in a file) and a live app (as GET /v2/apps returns it, from any
 * Marathon 1.4 ... 1.10) compare equal exactly when Marathon would run the
 * same thing (SPEC.md §6-§8).
 *
 * Both sides go through the same function, normalize_app():
 *   1. the app is first run through Marathon's own submission pipeline,
 *      appdef_submit() with the most permissive flags (DC/OS), which migrates
 *      legacy fields and fills every default exactly as Marathon does; when
 *      appdef rejects the app (PACER_EINVALID) the raw object is used
 *      instead: the normaliser never depends on appdef rejecting anything;
 *   2. then pacer's own canonicalisation runs on the result, which is
 *      idempotent and does the same work again for the raw fallback:
 *      - explicit nulls are absent; fields Marathon does not know (typos,
 *        "force": true in a body, "HAPROXY_GROUP" at top level) and server
 *        fields (version, versionInfo, tasks*, deployments, lastTaskFailure,
 *        readinessCheckResults, taskStats/tasksStats, storeUrls) are dropped;
 *        "residency" is dropped (no effect since 1.5);
 *      - legacy shapes are translated: ports -> portDefinitions (dropped when
 *        portDefinitions is also there, as 1.4 output has both), uris ->
 *        fetch (dropped when fetch is non-empty), container.docker.network /
 *        docker.portMappings / ipAddress -> networks + container.portMappings;
 *      - every default of SPEC.md §6 is filled (instances 1, cpus 1, mem 128,
 *        networks host, the default port definition or mapping, health and
 *        readiness check fields, fetch flags, upgrade and unreachable
 *        strategies, ...);
 *      - id and dependencies are absolute;
 *      - "role" is kept only when the input names one (never filled in);
 *      - numbers are canonical (an integral double becomes an integer, so
 *        128.0 and 128 are the same value);
 *      - set-like collections are sorted and de-duplicated: constraints,
 *        healthChecks, dependencies, acceptedResourceRoles, readinessChecks
 *        and their httpStatusCodesForReady;
 *      - empty optional collections are absent (args, constraints, env,
 *        labels, fetch, secrets, ...; container.volumes, docker.parameters,
 *        port labels), but an explicit "portDefinitions": [] stays (it means
 *        "no ports", which differs from the default port);
 *      - Marathon HTTP/HTTPS/TCP health checks lose delaySeconds and
 *        ipProtocol (Marathon ignores the input values); COMMAND checks lose
 *        portIndex; other checks with neither port nor portIndex get
 *        portIndex 0.
 *
 * What one app alone cannot decide is done by normalize_adopt_live(), which
 * looks at a desired/live pair (see there): service ports 0, role,
 * instances, and version-dependent defaults.
 */
#ifndef PACER_NORMALIZE_H
#define PACER_NORMALIZE_H

#include "reconcile/base/error.h"
#include "reconcile/model/appdef.h"

struct json_object;

/* A Marathon version as one comparable number: NORMALIZE_MARATHON(1, 8, 180). */
#define NORMALIZE_MARATHON(maj, min, patch) ((unsigned)(maj) * 1000000u + (unsigned)(min) * 1000u + (unsigned)(patch))

struct normalize_options {
	unsigned version;
	/*
	 * The Marathon version that answers (GET /v2/info), for version-
	 * dependent defaults filled into an app that leaves them out
	 * (maxLaunchDelaySeconds 3600 up to 1.7, unreachableStrategy 300/600 in
	 * 1.4.0-1.4.8 and 1.5.0). 0 = unknown: 1.10 defaults are filled, and
	 * normalize_adopt_live() accepts the other versions' defaults.
	 */
	unsigned marathon;
	/* Flags for appdef_submit(); NULL = APPDEF_FLAGS_DCOS (never blocks). */
	const struct appdef_flags *flags;
	/* 1: skip appdef_submit() and use pacer's own canonicalisation only. */
	int skip_appdef;
};
#define NORMALIZE_OPTIONS_VERSION 1
#define NORMALIZE_OPTIONS_INIT {NORMALIZE_OPTIONS_VERSION, 0, NULL, 0}

/*
 * Canonical form of one app (desired or live). `app` is borrowed and never
 * modified; opts may be NULL (defaults). On success returns 0 and *out is a
 * new object the caller releases with json_object_put(). Returns
 * PACER_EINVALID when app is not a JSON object (the message names the app
 * id when there is one), -1 when out of memory.
 */
int normalize_app(struct json_object *app, const struct normalize_options *opts,
		  struct json_object **out, struct pacer_error **err);

/*
 * normalize_app() that may build *out from `app` itself, changing it
 * (when Marathon's pipeline rejects it, as it does live apps: the raw
 * fallback then needs no copy). For a caller that parsed app only to
 * compare it: app stays the caller's to release, but is useless after.
 */
int normalize_app_inplace(struct json_object *app, const struct normalize_options *opts,
			  struct json_object **out, struct pacer_error **err);

/*
 * 1 when appdef_submit() under flags `f` answers as in step 1 of
 * normalize_app() with default options (flags NULL, i.e. DC/OS's): f are
 * those flags. Then the stored form a validation under f already made may
 * be handed to normalize_app_submitted().
 */
int normalize_submits_like(const struct appdef_flags *f);

/*
 * normalize_app() with default options for an app Marathon's pipeline
 * already accepted: `submitted` is what appdef_submit(app, id of app, f)
 * gave, with normalize_submits_like(f). Its reference is taken (it
 * becomes part of *out, or is released). Same results as normalize_app().
 */
int normalize_app_submitted(struct json_object *app, struct json_object *submitted,
			    struct json_object **out, struct pacer_error **err);

/* What the file does not own, for normalize_adopt_live(). */
enum {
	/* The file does not own instances (label "pacer.instances":
	 * "unmanaged", or --ignore-instances). */
	NORMALIZE_ADOPT_INSTANCES = 1 << 0,
};

/*
 * Make the normalised desired app take the live values of what the file
 * does not own, so that only real differences remain for diff_apps():
 *   - service ports: a desired portDefinitions[i].port or
 *     container.portMappings[i].servicePort of 0 takes the live port at the
 *     same index (Marathon assigned it); a fixed desired port must match;
 *   - role: a file that does not set "role" does not own it (Marathon fills
 *     it from --mesos_role or the enforcing group, "*" or "slave_public"),
 *     so the live role is taken; when live has no role (Marathon < 1.9
 *     ignores the field) the desired role is dropped too;
 *   - maxLaunchDelaySeconds and unreachableStrategy, when the file leaves
 *     them out and live holds the default of some Marathon version (300 or
 *     3600; {0,0} or {300,600});
 *   - instances, with NORMALIZE_ADOPT_INSTANCES.
 * desired_raw is the app as written (borrowed; only read, to see which
 * fields the file sets). desired_norm is modified; live_norm is only read,
 * but desired_norm may share values with it afterwards: change neither
 * after this call (they are for diff_apps()).
 * Returns 0, or -1 when out of memory.
 */
int normalize_adopt_live(struct json_object *desired_raw, struct json_object *desired_norm,
			 struct json_object *live_norm, unsigned what);

#endif
