/*
 * appdef.h: Marathon 1.10's own handling of a submitted app definition.
 *
 * This is what Marathon does between receiving an app JSON and storing it
 * (SPEC.md §3.3-§3.4, §6, §8): read it with the shape checks of its RAML
 * reader, migrate legacy fields (ports, uris, container.docker.network,
 * docker.portMappings, ipAddress), fill every default, then validate.
 * marathon-sim stores what this produces; pacer's validator and normaliser
 * use it so that pacer refuses exactly what Marathon refuses.
 *
 * Nothing here touches the network. The independent check that the model is
 * right is the set of real Marathon responses under shared/marathon-api/
 * examples and the corpus's VERDICTS.tsv, which the tests compare against.
 */
#ifndef PACER_APPDEF_H
#define PACER_APPDEF_H

#include <stddef.h>

#include "reconcile/base/error.h"

struct json_object;

/* Marathon server flags that change validation and defaults. */
enum {
	APPDEF_FEATURE_SECRETS = 1 << 0,
	APPDEF_FEATURE_EXTERNAL_VOLUMES = 1 << 1,
	APPDEF_FEATURE_GPU_RESOURCES = 1 << 2,
};

struct appdef_flags {
	const char *mesos_role;           /* --mesos_role; NULL means "*" */
	unsigned features;                /* APPDEF_FEATURE_* (--enable_features) */
	const char *default_network_name; /* --default_network_name, or NULL */
};

#define APPDEF_FLAGS_INIT {NULL, 0, NULL}
/* The flags DC/OS ships: --mesos_role slave_public and secrets,external_volumes,gpu_resources. */
#define APPDEF_FLAGS_DCOS {"slave_public", APPDEF_FEATURE_SECRETS | APPDEF_FEATURE_EXTERNAL_VOLUMES | APPDEF_FEATURE_GPU_RESOURCES, NULL}

/*
 * Parse a feature list such as "secrets,external_volumes,gpu_resources"
 * (unknown names, e.g. "vips", are accepted and ignored as Marathon ignores
 * features that do not affect apps). Returns the APPDEF_FEATURE_* bits.
 */
unsigned appdef_parse_features(const char *list);

/*
 * Run Marathon's submission pipeline on one app (POST /v2/apps, or PUT with
 * partialUpdate=false, or a create through PUT).
 *
 *   raw      the request body (borrowed). Read-only fields in it (version,
 *            versionInfo, tasks, ...) are ignored as Marathon ignores them.
 *   url_id   for PUT: the id from the URL, which overrides any body id;
 *            NULL for POST (the body id, made absolute, is used).
 *   flags    server flags; NULL means APPDEF_FLAGS_INIT.
 *
 * On success returns 0 and *out (owned by the caller) is the app as Marathon
 * stores it and answers it from GET: absolute id, every default filled in,
 * legacy fields translated, no server fields, service ports still as
 * submitted (0 is not yet assigned).
 *
 * On rejection returns PACER_EINVALID and *out_error (owned by the caller) is
 * the exact 422 body Marathon answers:
 *   {"message":"Invalid JSON","details":[{"path":"/cpus","errors":["error.expected.jsnumber"]}]}
 *   {"message":"Object is not valid","details":[{"path":"/","errors":["..."]}]}
 * (details grouped by path, indices as "(n)"). out_error may be NULL: the
 * answer (0 and *out, or PACER_EINVALID) is the same, but the work may stop
 * as soon as a rejection is certain (e.g. a role the flags do not allow),
 * which is what a caller that only needs accepted/rejected should ask for.
 * Returns -1 only when out of memory.
 */
int appdef_submit(struct json_object *raw, const char *url_id, const struct appdef_flags *flags,
		  struct json_object **out, struct json_object **out_error);

/* One step of a path into an app: a member (name) or an array element (name NULL). */
struct appdef_seg {
	const char *name; /* borrowed from the app */
	size_t index;     /* when name is NULL */
};

/* A member of an app that Marathon's reader does not know (appdef_unknown_fields()). */
struct appdef_unknown {
	const struct appdef_seg *segs; /* from the app down to the member: segs[nsegs - 1] */
	size_t nsegs;
	/* A known field at the same place that the name is a near miss of
	 * ("cpu": "cpus", "forcePull": "forcePullImage"), or NULL. */
	const char *suggestion;
	/* Where a field of exactly this name is read instead, when that is
	 * worth saying: "" for the top level of the app (an "env" put inside
	 * "container"), else dotted ("container.volumes" for a top-level
	 * "volumes", "container.docker.network" for "container.network");
	 * NULL when not (a sibling's field, or no such field). */
	const char *elsewhere;
	/* All strings are borrowed for the duration of the callback. */
};

/*
 * Marathon ignores members its reader does not know, silently: a typo such
 * as "cpu": 1 does nothing in production. Call fn(ctx, u) for every such
 * member of raw (an app as written; borrowed), in the reader's types
 * (shared/marathon-api/raml). Free-form maps and objects are not looked
 * into: labels, env (but an env secret reference is), linuxInfo, check.
 * The app's read-only server fields (version, tasks, ...) are unknown to
 * the reader too: drop them first. Null members are reported like others.
 * Returns 0, or the first non-zero value fn returned (the walk stops).
 */
typedef int (*appdef_unknown_fn)(void *ctx, const struct appdef_unknown *u);
int appdef_unknown_fields(struct json_object *raw, appdef_unknown_fn fn, void *ctx);

/*
 * The legacy ports (an array of port numbers; borrowed) as portDefinitions:
 * {"port": p} for each. A new array the caller releases with
 * json_object_put().
 */
struct json_object *appdef_port_definitions(struct json_object *ports);

/*
 * The legacy ipAddress.discovery.ports (an array; borrowed) as
 * container.portMappings: number becomes containerPort, name, protocol and
 * labels are kept. A new array the caller releases with json_object_put().
 */
struct json_object *appdef_discovery_port_mappings(struct json_object *ports);

/*
 * Render a 422 body from appdef_submit() as human lines, one per violation:
 * "/cpus: expected a number" style, for pacer's messages. Caller frees.
 */
char *appdef_format_error(struct json_object *error_body);

#endif
