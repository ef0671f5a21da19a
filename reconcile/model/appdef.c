/*
 * appdef.c: Marathon 1.10's submission pipeline for one app.
 *
 * The order is Marathon's (AppsResource -> AppNormalization -> AppValidation):
 *   1. the RAML reader's shape checks (appdef_read.c); any failure is the
 *      whole answer: 422 "Invalid JSON";
 *   2. validateOldAppAPI on the legacy fields as submitted
 *      (appdef_validate.c); failures: 422 "Object is not valid";
 *   3. migration of legacy fields and every default (this file);
 *   4. the validators of the canonical app (appdef_validate.c).
 * Steps 2 and 4 report separately because Marathon stops after 2.
 *
 * Everything works on the reader's private copy, so the input is never
 * modified. Each step is a pass over the app's fields: O(size of the app).
 */
#include "reconcile/model/appdef_internal.h"

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/model/appid.h"

unsigned appdef_parse_features(const char *list)
{
	unsigned f = 0;
	const char *p = list;

	if (!list)
		return 0;
	/* Whole comma-separated names only: "secrets_x" is not "secrets". */
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && *p == ' ') {
			p++;
			len--;
		}
		while (len && p[len - 1] == ' ')
			len--;
		if (len == 7 && strncmp(p, "secrets", 7) == 0)
			f |= APPDEF_FEATURE_SECRETS;
		else if (len == 16 && strncmp(p, "external_volumes", 16) == 0)
			f |= APPDEF_FEATURE_EXTERNAL_VOLUMES;
		else if (len == 13 && strncmp(p, "gpu_resources", 13) == 0)
			f |= APPDEF_FEATURE_GPU_RESOURCES;
		if (!end)
			break;
		p = end + 1;
	}
	return f;
}

/* --- defaults helpers --------------------------------------------------- */

static void drop(struct json_object *o, const char *key)
{
	json_object_object_del(o, key);
}

/* Drop key when it is an empty array or object (pragma.omitEmpty). */
static void omit_empty(struct json_object *o, const char *key)
{
	struct json_object *v = jsonutil_get(o, key);

	if (!v)
		return;
	if ((json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0) ||
	    (json_object_is_type(v, json_type_object) && json_object_object_length(v) == 0))
		drop(o, key);
}

static int str_eq(struct json_object *v, const char *s)
{
	return v && json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), s) == 0;
}

/*
 * 1 when a and b print as the same JSON text (JSON_C_TO_STRING_PLAIN),
 * decided without printing: same type, same strings (bytes), same integers,
 * arrays element by element, objects member by member in order. Doubles,
 * whose text is the parsed or given spelling, and an integer against a
 * double are compared by their text.
 */
static int same_text(struct json_object *a, struct json_object *b)
{
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);

	if (ta != tb) {
		if ((ta == json_type_int && tb == json_type_double) || (ta == json_type_double && tb == json_type_int))
			goto by_text;
		return 0;
	}
	switch (ta) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_int:
		/* Both readings: an int64 and a uint64 above INT64_MAX differ. */
		return json_object_get_int64(a) == json_object_get_int64(b) &&
		       json_object_get_uint64(a) == json_object_get_uint64(b);
	case json_type_double:
		goto by_text;
	case json_type_string:
		return json_object_get_string_len(a) == json_object_get_string_len(b) &&
		       memcmp(json_object_get_string(a), json_object_get_string(b),
			      (size_t)json_object_get_string_len(a)) == 0;
	case json_type_array: {
		size_t i, n = json_object_array_length(a);

		if (json_object_array_length(b) != n)
			return 0;
		for (i = 0; i < n; i++)
			if (!same_text(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
				return 0;
		return 1;
	}
	case json_type_object: {
		struct lh_entry *ea = lh_table_head(json_object_get_object(a));
		struct lh_entry *eb = lh_table_head(json_object_get_object(b));

		for (; ea && eb; ea = lh_entry_next(ea), eb = lh_entry_next(eb))
			if (strcmp((const char *)lh_entry_k(ea), (const char *)lh_entry_k(eb)) != 0 ||
			    !same_text((struct json_object *)lh_entry_v(ea), (struct json_object *)lh_entry_v(eb)))
				return 0;
		return !ea && !eb;
	}
	}
	return 0;
by_text: {
	char *ta_s = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	int same = ta_s && strcmp(ta_s, json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN)) == 0;

	free(ta_s);
	return same;
}
}

/* Remove later duplicates of equal JSON texts in place: a set. */
static void dedup_array(struct json_object *arr)
{
	size_t i, j;

	if (!arr || !json_object_is_type(arr, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *a = json_object_array_get_idx(arr, i);

		for (j = i + 1; j < json_object_array_length(arr);) {
			if (same_text(a, json_object_array_get_idx(arr, j)))
				json_object_array_del_idx(arr, j, 1);
			else
				j++;
		}
	}
}

/* --- migration (AppNormalization.forDeprecated) ------------------------- */

static const char *const extractable[] = {".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip",
					  ".tar", ".gz", NULL};

static int is_extractable(const char *uri)
{
	size_t n = strlen(uri), i;

	for (i = 0; extractable[i]; i++) {
		size_t m = strlen(extractable[i]);

		if (n >= m && strcmp(uri + n - m, extractable[i]) == 0)
			return 1;
	}
	return 0;
}

static void migrate_uris(struct json_object *app)
{
	struct json_object *uris = jsonutil_get(app, "uris"), *fetch;
	size_t i, n;

	if (!uris)
		return;
	fetch = jsonutil_get(app, "fetch");
	if (!fetch || json_object_array_length(fetch) == 0) {
		n = json_object_array_length(uris);
		fetch = json_object_new_array();
		for (i = 0; i < n; i++) {
			const char *u = json_object_get_string(json_object_array_get_idx(uris, i));
			struct json_object *a = json_object_new_object();

			json_object_object_add(a, "uri", json_object_new_string(u));
			json_object_object_add(a, "extract", json_object_new_boolean(is_extractable(u)));
			json_object_array_add(fetch, a);
		}
		json_object_object_add(app, "fetch", fetch);
	}
	drop(app, "uris");
}

struct json_object *appdef_port_definitions(struct json_object *ports)
{
	struct json_object *defs = json_object_new_array();
	size_t i, n = json_object_array_length(ports);

	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "port", json_object_get(json_object_array_get_idx(ports, i)));
		json_object_array_add(defs, d);
	}
	return defs;
}

static void migrate_ports(struct json_object *app)
{
	struct json_object *ports = jsonutil_get(app, "ports");

	if (!ports)
		return;
	if (!jsonutil_get(app, "portDefinitions"))
		json_object_object_add(app, "portDefinitions", appdef_port_definitions(ports));
	drop(app, "ports");
}

/* A network object for the legacy USER network / ipAddress. */
static struct json_object *legacy_container_network(struct json_object *ip)
{
	struct json_object *net = json_object_new_object();
	struct json_object *name = jsonutil_get(ip, "networkName"), *labels = jsonutil_get(ip, "labels");

	json_object_object_add(net, "mode", json_object_new_string("container"));
	if (name)
		json_object_object_add(net, "name", json_object_get(name));
	if (labels)
		json_object_object_add(net, "labels", json_object_get(labels));
	return net;
}

struct json_object *appdef_discovery_port_mappings(struct json_object *ports)
{
	/* {member of a discovery port, member of its port mapping}, in the order they are added. */
	static const char *const kept[][2] = {
	    {"number", "containerPort"},
	    {"name", "name"},
	    {"protocol", "protocol"},
	    {"labels", "labels"},
	};
	struct json_object *pms = json_object_new_array();
	size_t i, k, n = json_object_array_length(ports);

	for (i = 0; i < n; i++) {
		struct json_object *dp = json_object_array_get_idx(ports, i);
		struct json_object *pm = json_object_new_object();

		for (k = 0; k < sizeof(kept) / sizeof(kept[0]); k++) {
			struct json_object *v = jsonutil_get(dp, kept[k][0]);

			if (v)
				json_object_object_add(pm, kept[k][1], json_object_get(v));
		}
		json_object_array_add(pms, pm);
	}
	return pms;
}

/*
 * container.docker.network, docker.portMappings and ipAddress become
 * networks + container.portMappings. validateOldAppAPI already refused
 * mixing them with "networks".
 */
static void migrate_networking(struct json_object *app, struct json_object *errs)
{
	struct json_object *container = jsonutil_get(app, "container");
	struct json_object *docker = jsonutil_get(container, "docker");
	struct json_object *dnet = jsonutil_get(docker, "network");
	struct json_object *dpm = jsonutil_get(docker, "portMappings");
	struct json_object *ip = jsonutil_get(app, "ipAddress");
	struct json_object *networks = jsonutil_get(app, "networks");
	struct json_object *dports = jsonutil_get(jsonutil_get(ip, "discovery"), "ports");

	if (!networks) {
		struct json_object *net = NULL;

		networks = json_object_new_array();
		if (dnet) {
			const char *m = json_object_get_string(dnet);

			if (strcmp(m, "USER") == 0) {
				net = legacy_container_network(ip);
			} else if (strcmp(m, "BRIDGE") == 0) {
				net = json_object_new_object();
				json_object_object_add(net, "mode", json_object_new_string("container/bridge"));
			} else {
				/* HOST, and NONE which Marathon also runs on the host network */
				net = json_object_new_object();
				json_object_object_add(net, "mode", json_object_new_string("host"));
			}
		} else if (ip) {
			net = legacy_container_network(ip);
		}
		if (net)
			json_object_array_add(networks, net);
		json_object_object_add(app, "networks", networks);
	}
	if (dpm) {
		if (jsonutil_get(container, "portMappings") && json_object_array_length(dpm) > 0)
			appdef__err(errs, "/container", "cannot specify both portMappings and docker.portMappings");
		else if (!jsonutil_get(container, "portMappings"))
			json_object_object_add(container, "portMappings", json_object_get(dpm));
	}
	if (dports && json_object_array_length(dports) > 0 && !jsonutil_get(container, "portMappings")) {
		struct json_object *pms = appdef_discovery_port_mappings(dports);

		if (!container) {
			container = json_object_new_object();
			json_object_object_add(container, "type", json_object_new_string("MESOS"));
			json_object_object_add(app, "container", container);
		}
		json_object_object_add(container, "portMappings", pms);
	}
	if (docker) {
		drop(docker, "network");
		drop(docker, "portMappings");
	}
	drop(app, "ipAddress");
}

/* --- defaults ----------------------------------------------------------- */

static void default_networks(struct json_object *app, const struct appdef_flags *flags, struct json_object *errs)
{
	struct json_object *networks = jsonutil_get(app, "networks");
	size_t i, n;

	if (!networks || json_object_array_length(networks) == 0) {
		struct json_object *host = json_object_new_object();

		networks = json_object_new_array();
		json_object_object_add(host, "mode", json_object_new_string("host"));
		json_object_array_add(networks, host);
		json_object_object_add(app, "networks", networks);
		return;
	}
	n = json_object_array_length(networks);
	for (i = 0; i < n; i++) {
		struct json_object *net = json_object_array_get_idx(networks, i);

		JSONUTIL_SET_DEFAULT(net, "mode", json_object_new_string("container"));
		omit_empty(net, "labels");
		if (str_eq(jsonutil_get(net, "mode"), "container") && !jsonutil_get(net, "name")) {
			if (flags->default_network_name) {
				json_object_object_add(net, "name", json_object_new_string(flags->default_network_name));
			} else {
				appdef__err(errs, "/", "Network name must be specified when container network is selected.");
			}
		}
	}
}

static void default_port_mapping(struct json_object *pm, int bridge)
{
	JSONUTIL_SET_DEFAULT(pm, "containerPort", json_object_new_int(0));
	if (bridge)
		JSONUTIL_SET_DEFAULT(pm, "hostPort", json_object_new_int(0));
	JSONUTIL_SET_DEFAULT(pm, "labels", json_object_new_object());
	JSONUTIL_SET_DEFAULT(pm, "protocol", json_object_new_string("tcp"));
	JSONUTIL_SET_DEFAULT(pm, "servicePort", json_object_new_int(0));
	omit_empty(pm, "networkNames");
}

static void default_ports(struct json_object *app, int host, int bridge)
{
	struct json_object *container = jsonutil_get(app, "container");
	struct json_object *defs, *pms;
	size_t i, n;

	if (host) {
		if (container)
			drop(container, "portMappings");
		defs = jsonutil_get(app, "portDefinitions");
		if (!defs) {
			struct json_object *d = json_object_new_object();

			json_object_object_add(d, "port", json_object_new_int(0));
			json_object_object_add(d, "name", json_object_new_string("default"));
			json_object_object_add(d, "protocol", json_object_new_string("tcp"));
			defs = json_object_new_array();
			json_object_array_add(defs, d);
			json_object_object_add(app, "portDefinitions", defs);
		}
		n = json_object_array_length(defs);
		for (i = 0; i < n; i++) {
			struct json_object *d = json_object_array_get_idx(defs, i);

			JSONUTIL_SET_DEFAULT(d, "port", json_object_new_int(0));
			JSONUTIL_SET_DEFAULT(d, "protocol", json_object_new_string("tcp"));
			omit_empty(d, "labels");
		}
		return;
	}
	/* Non-host networking: ports are container port mappings; requirePorts is meaningless. */
	defs = json_object_get(jsonutil_get(app, "portDefinitions"));
	drop(app, "portDefinitions");
	json_object_object_add(app, "requirePorts", json_object_new_boolean(0));
	if (!container) {
		container = json_object_new_object();
		json_object_object_add(container, "type", json_object_new_string("MESOS"));
		json_object_object_add(app, "container", container);
	}
	pms = jsonutil_get(container, "portMappings");
	if (!pms) {
		struct json_object *pm = json_object_new_object();

		/* The default mapping asks for a host port in every non-host mode (SPEC §6). */
		json_object_object_add(pm, "hostPort", json_object_new_int(0));
		json_object_object_add(pm, "name", json_object_new_string("default"));
		pms = json_object_new_array();
		json_object_array_add(pms, pm);
		json_object_object_add(container, "portMappings", pms);
	}
	/*
	 * AN.maybeAddPortMappings: more port definitions (or legacy ports) than
	 * mappings -> the missing mappings are added, carrying the definition's
	 * service port, protocol, name and labels.
	 */
	for (i = json_object_array_length(pms); defs && i < json_object_array_length(defs); i++) {
		struct json_object *d = json_object_array_get_idx(defs, i), *pm = json_object_new_object(), *v;

		if ((v = jsonutil_get(d, "port")))
			json_object_object_add(pm, "servicePort", json_object_get(v));
		if ((v = jsonutil_get(d, "protocol")))
			json_object_object_add(pm, "protocol", json_object_get(v));
		if ((v = jsonutil_get(d, "name")))
			json_object_object_add(pm, "name", json_object_get(v));
		if ((v = jsonutil_get(d, "labels")))
			json_object_object_add(pm, "labels", json_object_get(v));
		json_object_array_add(pms, pm);
	}
	json_object_put(defs);
	n = json_object_array_length(pms);
	for (i = 0; i < n; i++)
		default_port_mapping(json_object_array_get_idx(pms, i), bridge);
}

static void default_container(struct json_object *app, bool *resident, bool *external)
{
	struct json_object *c = jsonutil_get(app, "container"), *docker, *vols;
	size_t i, n;

	*resident = *external = false;
	if (!c)
		return;
	JSONUTIL_SET_DEFAULT(c, "type", json_object_new_string("DOCKER"));
	JSONUTIL_SET_DEFAULT(c, "volumes", json_object_new_array());
	docker = jsonutil_get(c, "docker");
	if (docker) {
		JSONUTIL_SET_DEFAULT(docker, "forcePullImage", json_object_new_boolean(0));
		JSONUTIL_SET_DEFAULT(docker, "privileged", json_object_new_boolean(0));
		JSONUTIL_SET_DEFAULT(docker, "parameters", json_object_new_array());
	}
	vols = jsonutil_get(c, "volumes");
	n = json_object_array_length(vols);
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(vols, i), *p;

		if ((p = jsonutil_get(v, "persistent"))) {
			*resident = true;
			JSONUTIL_SET_DEFAULT(p, "type", json_object_new_string("root"));
			JSONUTIL_SET_DEFAULT(p, "constraints", json_object_new_array());
		} else if ((p = jsonutil_get(v, "external"))) {
			*external = true;
			JSONUTIL_SET_DEFAULT(p, "shared", json_object_new_boolean(0));
			omit_empty(p, "options");
		}
	}
}

static void default_health_checks(struct json_object *app, int host, int had_port_defs)
{
	struct json_object *hcs = jsonutil_get(app, "healthChecks");
	size_t i, n;

	if (!hcs)
		return;
	n = json_object_array_length(hcs);
	for (i = 0; i < n; i++) {
		struct json_object *hc = json_object_array_get_idx(hcs, i);
		const char *proto;
		int marathon_check, command;

		JSONUTIL_SET_DEFAULT(hc, "protocol", json_object_new_string("HTTP"));
		proto = json_object_get_string(jsonutil_get(hc, "protocol"));
		command = strcmp(proto, "COMMAND") == 0;
		marathon_check = !strcmp(proto, "HTTP") || !strcmp(proto, "HTTPS") || !strcmp(proto, "TCP");
		JSONUTIL_SET_DEFAULT(hc, "gracePeriodSeconds", json_object_new_int(300));
		JSONUTIL_SET_DEFAULT(hc, "intervalSeconds", json_object_new_int(60));
		JSONUTIL_SET_DEFAULT(hc, "timeoutSeconds", json_object_new_int(20));
		JSONUTIL_SET_DEFAULT(hc, "maxConsecutiveFailures", json_object_new_int(3));
		/* Marathon-side checks ignore these inputs and always answer 15 / IPv4. */
		if (marathon_check) {
			json_object_object_add(hc, "delaySeconds", json_object_new_int(15));
			json_object_object_add(hc, "ipProtocol", json_object_new_string("IPv4"));
		} else {
			JSONUTIL_SET_DEFAULT(hc, "delaySeconds", json_object_new_int(15));
			JSONUTIL_SET_DEFAULT(hc, "ipProtocol", json_object_new_string("IPv4"));
		}
		if (!strcmp(proto, "HTTP") || !strcmp(proto, "HTTPS"))
			JSONUTIL_SET_DEFAULT(hc, "ignoreHttp1xx", json_object_new_boolean(0));
		else
			drop(hc, "ignoreHttp1xx");
		if (strcmp(proto, "HTTP") && strcmp(proto, "HTTPS") && strcmp(proto, "MESOS_HTTP") &&
		    strcmp(proto, "MESOS_HTTPS"))
			drop(hc, "path");
		if (command) {
			drop(hc, "portIndex");
			drop(hc, "port");
		} else {
			drop(hc, "command");
			if (!jsonutil_get(hc, "port") && !jsonutil_get(hc, "portIndex") && (!host || had_port_defs))
				json_object_object_add(hc, "portIndex", json_object_new_int(0));
		}
	}
}

/* [200], the default httpStatusCodesForReady. */
static struct json_object *status_200(void)
{
	struct json_object *codes = json_object_new_array();

	if (codes && json_object_array_add(codes, json_object_new_int(200))) {
		json_object_put(codes);
		return NULL;
	}
	return codes;
}

/* Call fn on every element of app's array member key (none when absent). */
static void each_element(struct json_object *app, const char *key,
			 void (*fn)(struct json_object *element))
{
	struct json_object *arr = jsonutil_get(app, key);
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n; i++)
		fn(json_object_array_get_idx(arr, i));
}

/* Marathon's defaults of one readiness check. */
static void default_readiness(struct json_object *rc)
{
	JSONUTIL_SET_DEFAULT(rc, "name", json_object_new_string("readinessCheck"));
	JSONUTIL_SET_DEFAULT(rc, "protocol", json_object_new_string("HTTP"));
	JSONUTIL_SET_DEFAULT(rc, "path", json_object_new_string("/"));
	JSONUTIL_SET_DEFAULT(rc, "portName", json_object_new_string("http-api"));
	JSONUTIL_SET_DEFAULT(rc, "intervalSeconds", json_object_new_int(30));
	JSONUTIL_SET_DEFAULT(rc, "timeoutSeconds", json_object_new_int(10));
	JSONUTIL_SET_DEFAULT(rc, "httpStatusCodesForReady", status_200());
	dedup_array(jsonutil_get(rc, "httpStatusCodesForReady"));
	JSONUTIL_SET_DEFAULT(rc, "preserveLastResponse", json_object_new_boolean(0));
}

/* Marathon's defaults of one fetch artifact. */
static void default_fetch(struct json_object *artifact)
{
	JSONUTIL_SET_DEFAULT(artifact, "extract", json_object_new_boolean(1));
	JSONUTIL_SET_DEFAULT(artifact, "executable", json_object_new_boolean(0));
	JSONUTIL_SET_DEFAULT(artifact, "cache", json_object_new_boolean(0));
}

static void default_strategies(struct json_object *app, bool resident, bool external)
{
	struct json_object *us = jsonutil_get(app, "upgradeStrategy");
	struct json_object *un = jsonutil_get(app, "unreachableStrategy");

	if (!us) {
		us = json_object_new_object();
		json_object_object_add(us, "minimumHealthCapacity",
				       appdef__double(resident || external ? 0.5 : 1.0));
		json_object_object_add(us, "maximumOverCapacity",
				       appdef__double(resident || external ? 0.0 : 1.0));
		json_object_object_add(app, "upgradeStrategy", us);
	}
	if (!un) {
		if (resident) {
			json_object_object_add(app, "unreachableStrategy", json_object_new_string("disabled"));
		} else {
			un = json_object_new_object();
			json_object_object_add(un, "inactiveAfterSeconds", json_object_new_int(0));
			json_object_object_add(un, "expungeAfterSeconds", json_object_new_int(0));
			json_object_object_add(app, "unreachableStrategy", un);
		}
	} else if (json_object_is_type(un, json_type_object)) {
		JSONUTIL_SET_DEFAULT(un, "inactiveAfterSeconds", json_object_new_int(0));
		JSONUTIL_SET_DEFAULT(un, "expungeAfterSeconds", json_object_new_int(0));
	}
	if (resident) {
		struct json_object *res = jsonutil_get(app, "residency");

		if (!res) {
			res = json_object_new_object();
			json_object_object_add(app, "residency", res);
		}
		JSONUTIL_SET_DEFAULT(res, "relaunchEscalationTimeoutSeconds", json_object_new_int(3600));
		JSONUTIL_SET_DEFAULT(res, "taskLostBehavior", json_object_new_string("WAIT_FOREVER"));
	}
	/* A residency without persistent volumes is kept: validation refuses it. */
}

static void default_scalars(struct json_object *app, const struct appdef_flags *flags)
{
	struct json_object *er = jsonutil_get(app, "executorResources");

	JSONUTIL_SET_DEFAULT(app, "instances", json_object_new_int(1));
	JSONUTIL_SET_DEFAULT(app, "cpus", appdef__double(1.0));
	JSONUTIL_SET_DEFAULT(app, "mem", appdef__double(128.0));
	JSONUTIL_SET_DEFAULT(app, "disk", appdef__double(0.0));
	JSONUTIL_SET_DEFAULT(app, "gpus", json_object_new_int(0));
	JSONUTIL_SET_DEFAULT(app, "executor", json_object_new_string(""));
	JSONUTIL_SET_DEFAULT(app, "backoffSeconds", json_object_new_int(1));
	JSONUTIL_SET_DEFAULT(app, "backoffFactor", appdef__double(1.15));
	JSONUTIL_SET_DEFAULT(app, "maxLaunchDelaySeconds", json_object_new_int(300));
	JSONUTIL_SET_DEFAULT(app, "requirePorts", json_object_new_boolean(0));
	JSONUTIL_SET_DEFAULT(app, "killSelection", json_object_new_string("YOUNGEST_FIRST"));
	JSONUTIL_SET_DEFAULT(app, "labels", json_object_new_object());
	JSONUTIL_SET_DEFAULT(app, "role", json_object_new_string(flags->mesos_role ? flags->mesos_role : "*"));
	if (er) {
		JSONUTIL_SET_DEFAULT(er, "cpus", appdef__double(0.1));
		JSONUTIL_SET_DEFAULT(er, "mem", appdef__double(32.0));
		JSONUTIL_SET_DEFAULT(er, "disk", appdef__double(10.0));
	}
	dedup_array(jsonutil_get(app, "acceptedResourceRoles"));
	dedup_array(jsonutil_get(app, "constraints"));
	dedup_array(jsonutil_get(app, "healthChecks"));
	omit_empty(app, "acceptedResourceRoles");
	omit_empty(app, "args");
	omit_empty(app, "constraints");
	omit_empty(app, "dependencies");
	omit_empty(app, "env");
	omit_empty(app, "fetch");
	omit_empty(app, "healthChecks");
	omit_empty(app, "readinessChecks");
	omit_empty(app, "secrets");
}

/* id and dependencies made absolute against the root (AN.withCanonizedIds). */
static void canonize_ids(struct json_object *app, struct json_object *errs)
{
	struct json_object *deps = jsonutil_get(app, "dependencies");
	const char *id = json_object_get_string(jsonutil_get(app, "id"));
	char *abs = appid_resolve("/", id);
	struct pacer_error *err = NULL;
	size_t i, n;

	if (!abs) {
		appdef__err(errs, "/id", "Path climbs above the root group ('..' too often)");
	} else {
		if (strcmp(abs, "/") == 0)
			appdef__err(errs, "/id", "Path must contain at least one path element");
		else if (appid_check(abs, &err) < 0)
			appdef__err(errs, "/id",
				    "must not end with any of the following reserved keywords: restart, tasks, versions, ., ..");
		json_object_object_add(app, "id", json_object_new_string(abs));
	}
	pacer_error_free(err);
	free(abs);
	n = deps ? json_object_array_length(deps) : 0;
	for (i = 0; i < n; i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(deps, i));
		char *dabs = appid_resolve("/", d);

		if (!dabs) {
			char path[64];

			snprintf(path, sizeof(path), "/dependencies(%zu)", i);
			appdef__err(errs, path, "Path climbs above the root group ('..' too often)");
			continue;
		}
		json_object_array_put_idx(deps, i, json_object_new_string(dabs));
		free(dabs);
	}
	dedup_array(deps);
}

/* Migration and defaults; errors of normalization go to errs. */
static void normalize(struct json_object *app, const struct appdef_flags *flags, struct json_object *errs)
{
	struct json_object *defs;
	int host, bridge, had_port_defs;
	bool resident, external;

	canonize_ids(app, errs);
	migrate_uris(app);
	migrate_ports(app);
	migrate_networking(app, errs);
	default_networks(app, flags, errs);
	host = appdef__is_host(jsonutil_get(app, "networks"));
	bridge = !host && str_eq(jsonutil_get(json_object_array_get_idx(jsonutil_get(app, "networks"), 0), "mode"),
				 "container/bridge");
	defs = jsonutil_get(app, "portDefinitions");
	had_port_defs = defs && json_object_array_length(defs) > 0;
	default_ports(app, host, bridge);
	default_container(app, &resident, &external);
	default_health_checks(app, host, had_port_defs);
	each_element(app, "readinessChecks", default_readiness);
	each_element(app, "fetch", default_fetch);
	default_strategies(app, resident, external);
	default_scalars(app, flags);
}

/* 1 when obj's "id" is already the string id: no copy is needed to set it. */
static bool has_id(struct json_object *obj, const char *id)
{
	struct json_object *cur = NULL;

	return json_object_object_get_ex(obj, "id", &cur) &&
	       json_object_is_type(cur, json_type_string) &&
	       (size_t)json_object_get_string_len(cur) == strlen(id) &&
	       !strcmp(json_object_get_string(cur), id);
}

/* A shallow copy of obj with "id" replaced by id (PUT: the URL wins). */
static struct json_object *with_id(struct json_object *obj, const char *id)
{
	struct json_object *copy = json_object_new_object();

	if (!copy)
		return NULL;
	json_object_object_foreach(obj, k, v) {
		if (strcmp(k, "id") != 0)
			json_object_object_add(copy, k, json_object_get(v));
	}
	json_object_object_add(copy, "id", json_object_new_string(id));
	return copy;
}

/*
 * For a caller that only wants accepted/rejected (out_error NULL): true when
 * the app is certainly rejected because of its role, decided from the raw
 * body alone. The role is read as is and never changed by migration or
 * defaults, and the id it is checked against is the body's (or the URL's)
 * made absolute, so check_roles() would refuse it, unless an earlier step
 * refuses the app first: rejected either way. Live apps answered with role
 * "*" and normalised under DC/OS flags all take this path.
 */
static bool role_rejected(struct json_object *raw, const char *url_id, const struct appdef_flags *flags)
{
	struct json_object *role = jsonutil_get(raw, "role");
	struct json_object *id = jsonutil_get(raw, "id");
	char *abs;
	bool rejected;

	if (!json_object_is_type(role, json_type_string))
		return false;
	if (!url_id) {
		if (!json_object_is_type(id, json_type_string))
			return false;
		url_id = json_object_get_string(id);
	}
	abs = appid_resolve("/", url_id);
	if (!abs)
		return false;
	rejected = !appdef__role_valid(json_object_get_string(role), abs, flags);
	free(abs);
	return rejected;
}

static int reject(const char *message, struct json_object *errs, struct json_object **out_error)
{
	if (out_error) {
		*out_error = appdef__body(message, errs);
		if (!*out_error)
			return -1;
	}
	return PACER_EINVALID;
}

int appdef_submit(struct json_object *raw, const char *url_id, const struct appdef_flags *flags,
		  struct json_object **out, struct json_object **out_error)
{
	static const struct appdef_flags defaults = APPDEF_FLAGS_INIT;
	struct json_object *input = NULL, *app = NULL, *errs = NULL;
	int rc = -1;

	*out = NULL;
	if (out_error)
		*out_error = NULL;
	if (!flags)
		flags = &defaults;
	if (!out_error && role_rejected(raw, url_id, flags)) {
		rc = PACER_EINVALID;
		goto done;
	}
	errs = json_object_new_object();
	if (!errs)
		goto done;
	if (url_id && json_object_is_type(raw, json_type_object) && !has_id(raw, url_id)) {
		input = with_id(raw, url_id);
		if (!input)
			goto done;
	} else {
		input = json_object_get(raw);
	}
	app = appdef__read(input, errs);
	if (!app)
		goto done;
	if (json_object_object_length(errs) > 0) {
		rc = reject("Invalid JSON", errs, out_error);
		goto done;
	}
	appdef__validate_legacy(app, errs);
	if (json_object_object_length(errs) > 0) {
		rc = reject("Object is not valid", errs, out_error);
		goto done;
	}
	normalize(app, flags, errs);
	appdef__validate(app, flags, errs);
	if (json_object_object_length(errs) > 0) {
		rc = reject("Object is not valid", errs, out_error);
		goto done;
	}
	*out = app;
	app = NULL;
	rc = 0;
done:
	json_object_put(app);
	json_object_put(input);
	json_object_put(errs);
	return rc;
}

/* --- human rendering ---------------------------------------------------- */

struct key_words {
	const char *key, *words;
};

static const struct key_words play_keys[] = {
	{"error.expected.jsnumber", "expected a number (got another JSON type, e.g. a string: remove the quotes)"},
	{"error.expected.jsstring", "expected a string"},
	{"error.expected.jsboolean", "expected true or false"},
	{"error.expected.jsarray", "expected an array"},
	{"error.expected.jsobject", "expected an object"},
	{"error.expected.int", "expected a whole number"},
	{"error.expected.long", "expected a whole number"},
	{"error.path.missing", "is required but missing"},
	{"error.pattern", "has a value not allowed here (ids and names: lowercase letters, digits, '-' and '.')"},
	{"error.min", "is below the minimum allowed value"},
	{"error.max", "is above the maximum allowed value"},
	{"error.minLength", "is too short or empty"},
	{"error.maxLength", "is too long"},
	{"error.unknown.enum.literal", "is not one of the allowed values"},
	{"error.expected.unique", "has duplicate entries"},
};

/* Limits named in the words for error.min / error.max, by last path element. */
static const struct key_words limits[] = {
	{"cpus", "at least 0.001"},
	{"mem", "at least 0"},
	{"disk", "at least 0"},
	{"instances", "at least 0"},
	{"gpus", "at least 0"},
	{"backoffFactor", "at least 1.0"},
	{"minimumHealthCapacity", "between 0.0 and 1.0"},
	{"maximumOverCapacity", "between 0.0 and 1.0"},
	{"port", "between 0 and 65535"},
	{"portIndex", "between 0 and 65535"},
	{"containerPort", "between 0 and 65535"},
	{"hostPort", "between 0 and 65535"},
	{"servicePort", "between 0 and 65535"},
};

/* Enum values named for error.unknown.enum.literal. */
static const struct key_words enums[] = {
	{"killSelection", "YOUNGEST_FIRST or OLDEST_FIRST"},
	{"network", "BRIDGE, HOST, NONE or USER"},
	{"mode", "host, container/bridge, container (networks) or RO, RW (volumes)"},
	{"type", "DOCKER or MESOS"},
	{"protocol", "HTTP, HTTPS, TCP, COMMAND, MESOS_HTTP, MESOS_HTTPS, MESOS_TCP (health checks) or tcp, udp, udp,tcp (ports)"},
	{"ipProtocol", "IPv4 or IPv6"},
	{"unreachableStrategy", "\"disabled\" or an object"},
};

static const char *lookup(const struct key_words *t, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].key, key) == 0)
			return t[i].words;
	return NULL;
}

/* The last path element without an "(n)" index: "/healthChecks(0)/port" -> "port". */
static void last_element(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t len;

	snprintf(buf, size, "%s", slash ? slash + 1 : path);
	len = strcspn(buf, "(");
	buf[len] = '\0';
}

static void render_error(struct pacer_buf *b, const char *path, const char *e)
{
	const char *words = lookup(play_keys, sizeof(play_keys) / sizeof(play_keys[0]), e);
	const char *extra = NULL;
	char last[128];

	last_element(path, last, sizeof(last));
	if (!strcmp(e, "error.min") || !strcmp(e, "error.max"))
		extra = lookup(limits, sizeof(limits) / sizeof(limits[0]), last);
	else if (!strcmp(e, "error.unknown.enum.literal"))
		extra = lookup(enums, sizeof(enums) / sizeof(enums[0]), last);
	if (b->len)
		pacer_buf_putc(b, '\n');
	pacer_buf_printf(b, "%s: %s", path, words ? words : e);
	if (extra)
		pacer_buf_printf(b, " (%s%s)", strcmp(e, "error.unknown.enum.literal") ? "must be " : "allowed: ",
				 extra);
}

char *appdef_format_error(struct json_object *error_body)
{
	struct pacer_buf b = PACER_BUF_INIT;
	struct json_object *msg = jsonutil_get(error_body, "message");
	struct json_object *details = jsonutil_get(error_body, "details");
	size_t i, n;

	if (!details || !json_object_is_type(details, json_type_array)) {
		/* 400 bodies carry details as a string; other errors only a message. */
		pacer_buf_printf(&b, "%s", msg ? json_object_get_string(msg) : "Marathon rejected the app");
		if (details)
			pacer_buf_printf(&b, ": %s", json_object_get_string(details));
		return pacer_buf_detach(&b);
	}
	n = json_object_array_length(details);
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(details, i);
		struct json_object *errors = jsonutil_get(d, "errors");
		const char *path = json_object_get_string(jsonutil_get(d, "path"));
		size_t j, m = errors && json_object_is_type(errors, json_type_array) ? json_object_array_length(errors) : 0;

		for (j = 0; j < m; j++)
			render_error(&b, path ? path : "/", json_object_get_string(json_object_array_get_idx(errors, j)));
	}
	if (b.len == 0)
		pacer_buf_printf(&b, "%s", msg ? json_object_get_string(msg) : "Marathon rejected the app");
	return pacer_buf_detach(&b);
}
