/*
 * normalize.c: canonical form of a Marathon app (contract in normalize.h).
 *
 * The order of the steps matters: nulls go first (a 1.4 "container": null
 * must not look like a container), then unknown and server fields, then the
 * legacy migration (it reads fields the defaults would otherwise fill), then
 * the defaults (networking first: port definitions and mappings depend on
 * the network mode), and the set sorting last, when every element is
 * complete, so that two elements that differ only by a default sort alike.
 *
 * Every step is idempotent: appdef_submit()'s output, which already has
 * every default, goes through the same steps unchanged.
 *
 * Cost matters: a sync normalises every desired and every live app (10,000
 * of each in the benchmark). So appdef is asked without an error body (it
 * can stop at a certain rejection, e.g. live role "*" under DC/OS flags),
 * the raw fallback copies only the members it keeps, nulls and numbers are
 * canonicalised in one walk that holds json-c's entries instead of looking
 * keys up again, and values already canonical (ids, upper-case enums) are
 * not rebuilt.
 */
#include "reconcile/normalize.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/jsonutil.h"

/* Fields of the App RAML type (1.10) plus the legacy input-only ones; any
 * other top-level field is ignored by Marathon's generated reader, and so
 * here. Server fields (version, tasks, ...) are not in the list. In strcmp
 * order: is_app_field() searches it by bisection (every member of every
 * app is looked up, a live app has ~40). */
static const char *const app_fields[] = {
	"acceptedResourceRoles", "args", "backoffFactor", "backoffSeconds", "check", "cmd", "constraints",
	"container", "cpus", "dependencies", "disk", "env", "executor", "executorResources", "fetch",
	"gpus", "healthChecks", "id", "instances", "ipAddress", "killSelection", "labels",
	"maxLaunchDelaySeconds", "mem", "networks", "portDefinitions", "ports", "readinessChecks",
	"requirePorts", "resourceLimits", "role", "secrets", "taskKillGracePeriodSeconds", "tty",
	"unreachableStrategy", "upgradeStrategy", "uris", "user",
};
static const char *const container_fields[] = {
	"type", "docker", "appc", "linuxInfo", "volumes", "portMappings", NULL,
};
static const char *const docker_fields[] = {
	"credential", "pullConfig", "forcePullImage", "image", "network", "parameters",
	"portMappings", "privileged", NULL,
};
static const char *const health_fields[] = {
	"command", "gracePeriodSeconds", "intervalSeconds", "maxConsecutiveFailures", "path",
	"port", "portIndex", "protocol", "ipProtocol", "timeoutSeconds", "delaySeconds",
	"ignoreHttp1xx", NULL,
};
/* Optional collections Marathon omits when empty (pragma.omitEmpty) or that
 * mean nothing when empty: empty == absent. */
static const char *const omit_empty_fields[] = {
	"args", "constraints", "dependencies", "env", "fetch", "healthChecks", "readinessChecks",
	"secrets", "acceptedResourceRoles", "labels", NULL,
};

static int in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if ((*list)[0] == s[0] && !strcmp(*list, s))
			return 1;
	return 0;
}

static int is_app_field(const char *key)
{
	size_t lo = 0, hi = sizeof(app_fields) / sizeof(app_fields[0]);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		/* The first letters decide most steps without a call. */
		int c = (unsigned char)key[0] - (unsigned char)app_fields[mid][0];

		if (!c)
			c = strcmp(key, app_fields[mid]);

		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static int is_array(struct json_object *o)
{
	return json_object_is_type(o, json_type_array);
}

static int is_object(struct json_object *o)
{
	return json_object_is_type(o, json_type_object);
}

/* Member key of obj when it is an object, else NULL: a value of the wrong
 * type (a rejected app seen raw) is never written into. */
static struct json_object *get_obj(struct json_object *obj, const char *key)
{
	struct json_object *v = jsonutil_get(obj, key);

	return json_object_is_type(v, json_type_object) ? v : NULL;
}

static int is_empty_collection(struct json_object *o)
{
	if (is_array(o))
		return json_object_array_length(o) == 0;
	if (is_object(o))
		return json_object_object_length(o) == 0;
	return 0;
}

/*
 * The walks below hold json-c's own hash entries (struct lh_entry): deleting
 * or replacing the entry in hand is allowed while walking (json-c keeps the
 * next one), and using the entry avoids a lookup by key, which in json-c
 * probes with a strcmp per slot. They never fail: nothing is allocated.
 */

/* Delete every member of obj whose key is not in list. */
static void filter_listed(struct json_object *obj, const char *const *list)
{
	struct lh_table *t;
	struct lh_entry *e, *next;

	if (!is_object(obj))
		return;
	t = json_object_get_object(obj);
	for (e = lh_table_head(t); e; e = next) {
		next = lh_entry_next(e);
		if (!in_list(list, (const char *)lh_entry_k(e)))
			lh_table_delete_entry(t, e);
	}
}

/* An integral double becomes an integer: 128.0 and 128 are one value, and a
 * canonical form must not depend on how the server printed it. */
static struct json_object *canon_number(struct json_object *v)
{
	double d;

	if (!json_object_is_type(v, json_type_double))
		return NULL;
	d = json_object_get_double(v);
	if (d > -9007199254740992.0 && d < 9007199254740992.0 && (double)(int64_t)d == d)
		return json_object_new_int64((int64_t)d);
	return NULL;
}

/*
 * One pass over the whole tree below o: explicit nulls are absent (1.4
 * output writes "cmd": null and friends) and numbers are canonical.
 */
static void canon_tree(struct json_object *o);

/* v canonical: a new integer when v is an integral double (the caller puts
 * it in v's place), else NULL once v's contents are canonical. One type
 * test per value: most values are strings of env and labels maps. */
static struct json_object *canon_value(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_double:
		return canon_number(v);
	case json_type_object:
	case json_type_array:
		canon_tree(v);
		return NULL;
	default:
		return NULL;
	}
}

static void canon_tree(struct json_object *o)
{
	if (is_object(o)) {
		struct lh_table *t = json_object_get_object(o);
		struct lh_entry *e, *next;

		for (e = lh_table_head(t); e; e = next) {
			struct json_object *v = (struct json_object *)lh_entry_v(e), *c;

			next = lh_entry_next(e);
			if (!v) {
				lh_table_delete_entry(t, e);
			} else if ((c = canon_value(v))) {
				json_object_put(v);
				lh_entry_set_val(e, c);
			}
		}
	} else if (is_array(o)) {
		size_t i, n = json_object_array_length(o);

		for (i = 0; i < n; i++) {
			struct json_object *c = canon_value(json_object_array_get_idx(o, i));

			if (c)
				json_object_array_put_idx(o, i, c);
		}
	}
}

/* The app's own members: nulls and fields Marathon does not read go, the
 * rest is made canonical (canon_tree). */
static void canon_app_members(struct json_object *a)
{
	struct lh_table *t = json_object_get_object(a);
	struct lh_entry *e, *next;

	for (e = lh_table_head(t); e; e = next) {
		struct json_object *v = (struct json_object *)lh_entry_v(e), *c;

		next = lh_entry_next(e);
		if (!v || !is_app_field((const char *)lh_entry_k(e))) {
			lh_table_delete_entry(t, e);
		} else if ((c = canon_value(v))) {
			json_object_put(v);
			lh_entry_set_val(e, c);
		}
	}
}

/* Set obj[key] = v (taking v) when key is absent or null, else drop v. */
static void set_default(struct json_object *obj, const char *key, struct json_object *v)
{
	enum jsonutil_slot s = jsonutil_default_slot(obj, key);

	if (s == JSONUTIL_SLOT_TAKEN)
		json_object_put(v);
	else
		jsonutil_put_default(obj, key, v, s);
}

/*
 * The typed defaults build their value only when it is used: an app from
 * appdef_submit() already has every default, and a value built to be freed
 * costs more than the lookup.
 */
static void set_default_int(struct json_object *obj, const char *key, int64_t v)
{
	JSONUTIL_SET_DEFAULT(obj, key, json_object_new_int64(v));
}

static void set_default_str(struct json_object *obj, const char *key, const char *v)
{
	JSONUTIL_SET_DEFAULT(obj, key, json_object_new_string(v));
}

static void set_default_bool(struct json_object *obj, const char *key, int v)
{
	JSONUTIL_SET_DEFAULT(obj, key, json_object_new_boolean(v));
}

/* The stored case of an enum value recase() fixes. */
enum letter_case {
	CASE_LOWER,
	CASE_UPPER,
};

/* Marathon's enum readers are case-insensitive; the stored form is fixed. */
static char recased(char ch, enum letter_case to)
{
	return (char)(to == CASE_UPPER ? toupper((unsigned char)ch) : tolower((unsigned char)ch));
}

static void recase(struct json_object *obj, const char *key, enum letter_case to)
{
	struct json_object *v = jsonutil_get(obj, key);
	const char *cur;
	char *s;
	size_t i;

	if (!json_object_is_type(v, json_type_string))
		return;
	/* Most values are already in their stored case: leave them be. */
	cur = json_object_get_string(v);
	for (i = 0; cur[i]; i++)
		if (cur[i] != recased(cur[i], to))
			break;
	if (!cur[i] && (int)i == json_object_get_string_len(v))
		return;
	s = strdup(cur);
	if (!s)
		return;
	for (i = 0; s[i]; i++)
		s[i] = recased(s[i], to);
	json_object_object_add(obj, key, json_object_new_string(s));
	free(s);
}

static void drop_if_empty(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (json_object_object_get_ex(obj, key, &v) && (!v || is_empty_collection(v)))
		json_object_object_del(obj, key);
}

/*
 * Resolve id against base (both slash paths). ".." above the root stays at
 * the root. Returns a new string, or NULL when out of memory.
 */
static char *resolve_id(const char *base, const char *id)
{
	struct pacer_buf out = PACER_BUF_INIT;
	const char *parts[2];
	size_t *starts = NULL, depth = 0, k;
	char *res = NULL;

	parts[0] = id[0] == '/' || !base ? "" : base;
	parts[1] = id;
	starts = calloc(strlen(parts[0]) + strlen(id) + 2, sizeof(*starts));
	if (!starts)
		goto done;
	for (k = 0; k < 2; k++) {
		const char *p = parts[k];

		while (*p) {
			const char *seg, *end;
			size_t len;

			while (*p == '/')
				p++;
			if (!*p)
				break;
			seg = p;
			end = strchr(seg, '/');
			if (!end)
				end = seg + strlen(seg);
			len = (size_t)(end - seg);
			p = end;
			if (len == 1 && seg[0] == '.')
				continue;
			if (len == 2 && seg[0] == '.' && seg[1] == '.') {
				/* ".." above the root stays at the root. */
				if (depth > 0) {
					depth--;
					out.len = starts[depth];
					out.ptr[out.len] = '\0';
				}
				continue;
			}
			starts[depth++] = out.len;
			if (pacer_buf_putc(&out, '/') || pacer_buf_add(&out, seg, len))
				goto done;
		}
	}
	if (out.len == 0 && pacer_buf_putc(&out, '/'))
		goto done;
	res = pacer_buf_detach(&out);
done:
	pacer_buf_release(&out);
	free(starts);
	return res;
}

/* 1 when resolve_id("/", s) is s itself: absolute, no empty, "." or ".."
 * segment, no trailing slash. */
static int id_is_canonical(const char *s)
{
	const char *p, *end;

	if (s[0] != '/')
		return 0;
	if (!s[1])
		return 1;
	for (p = s + 1;; p = end + 1) {
		size_t len;

		end = strchr(p, '/');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!end)
			return 1;
	}
}

static int canon_id(struct json_object *a)
{
	struct json_object *id = jsonutil_get(a, "id");
	const char *s;
	char *abs;

	if (!json_object_is_type(id, json_type_string))
		return 0;
	s = json_object_get_string(id);
	/* Ids are mostly absolute already (always on the live side). */
	if (id_is_canonical(s) && strlen(s) == (size_t)json_object_get_string_len(id))
		return 0;
	abs = resolve_id("/", s);
	if (!abs)
		return -1;
	json_object_object_add(a, "id", json_object_new_string(abs));
	free(abs);
	return 0;
}

/* ---- legacy migration (SPEC.md §8) ---- */

static int is_archive(const char *uri)
{
	static const char *const exts[] = {".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz",
					   ".tar.xz", ".zip", ".tar", ".gz", NULL};
	size_t n = strlen(uri), i;

	for (i = 0; exts[i]; i++) {
		size_t e = strlen(exts[i]);

		if (n >= e && !strcmp(uri + n - e, exts[i]))
			return 1;
	}
	return 0;
}

static struct json_object *network_of(const char *mode, struct json_object *ipaddr)
{
	struct json_object *n = json_object_new_object();
	struct json_object *name = jsonutil_get(ipaddr, "networkName");
	struct json_object *labels = jsonutil_get(ipaddr, "labels");

	json_object_object_add(n, "mode", json_object_new_string(mode));
	if (!strcmp(mode, "container") && name)
		json_object_object_add(n, "name", json_object_get(name));
	if (strcmp(mode, "host") && labels)
		json_object_object_add(n, "labels", json_object_get(labels));
	return n;
}

static void migrate_networking(struct json_object *a)
{
	struct json_object *container = get_obj(a, "container");
	struct json_object *docker = get_obj(container, "docker");
	struct json_object *ipaddr = get_obj(a, "ipAddress");
	struct json_object *networks = jsonutil_get(a, "networks");
	struct json_object *dnet = jsonutil_get(docker, "network");
	struct json_object *legacy_maps = jsonutil_get(docker, "portMappings");
	struct json_object *discovery = jsonutil_get(jsonutil_get(ipaddr, "discovery"), "ports");

	/* Mixed old and new networking is rejected by Marathon; when it
	 * happens anyway (a raw fallback) the new fields win. */
	if (!networks || is_empty_collection(networks)) {
		struct json_object *list = NULL;
		const char *mode = NULL;

		if (json_object_is_type(dnet, json_type_string)) {
			const char *d = json_object_get_string(dnet);

			if (!strcasecmp(d, "HOST"))
				mode = "host";
			else if (!strcasecmp(d, "BRIDGE"))
				mode = "container/bridge";
			else if (!strcasecmp(d, "USER"))
				mode = "container";
		} else if (ipaddr) {
			const char *name = json_object_get_string(jsonutil_get(ipaddr, "networkName"));

			/* Marathon's --mesos_bridge_name default. */
			mode = name && !strcmp(name, "mesos-bridge") ? "container/bridge" : "container";
		}
		if (mode) {
			list = json_object_new_array();
			json_object_array_add(list, network_of(mode, ipaddr));
			json_object_object_add(a, "networks", list);
		}
	}
	/* ipAddress without a container implies an empty Mesos container. */
	if (ipaddr && !container) {
		container = json_object_new_object();
		json_object_object_add(container, "type", json_object_new_string("MESOS"));
		json_object_object_add(a, "container", container);
	}
	if (legacy_maps && container && !jsonutil_get(container, "portMappings"))
		json_object_object_add(container, "portMappings", json_object_get(legacy_maps));
	if (is_array(discovery) && json_object_array_length(discovery) > 0 &&
	    !jsonutil_get(container, "portMappings")) {
		json_object_object_add(container, "portMappings",
				       appdef_discovery_port_mappings(discovery));
	}
	if (docker) {
		json_object_object_del(docker, "network");
		json_object_object_del(docker, "portMappings");
	}
	json_object_object_del(a, "ipAddress");
}

static void migrate_ports_and_uris(struct json_object *a)
{
	struct json_object *ports = jsonutil_get(a, "ports");
	struct json_object *uris = jsonutil_get(a, "uris");
	struct json_object *fetch = jsonutil_get(a, "fetch");

	if (is_array(ports) && !jsonutil_get(a, "portDefinitions"))
		json_object_object_add(a, "portDefinitions", appdef_port_definitions(ports));
	json_object_object_del(a, "ports");

	/* 1.4 output echoes uris next to fetch; fetch is the truth then. */
	if (is_array(uris) && json_object_array_length(uris) > 0 &&
	    (!fetch || is_empty_collection(fetch))) {
		struct json_object *list = json_object_new_array();
		size_t i, n = json_object_array_length(uris);

		for (i = 0; i < n; i++) {
			struct json_object *u = json_object_array_get_idx(uris, i);
			struct json_object *f = json_object_new_object();
			const char *s = json_object_get_string(u);

			json_object_object_add(f, "uri", json_object_get(u));
			json_object_object_add(f, "extract", json_object_new_boolean(s && is_archive(s)));
			json_object_array_add(list, f);
		}
		json_object_object_add(a, "fetch", list);
	}
	json_object_object_del(a, "uris");
}

/* ---- defaults (SPEC.md §6) ---- */

static int has_volume_kind(struct json_object *container, const char *kind)
{
	struct json_object *vols = jsonutil_get(container, "volumes");
	size_t i, n = is_array(vols) ? json_object_array_length(vols) : 0;

	for (i = 0; i < n; i++)
		if (jsonutil_get(json_object_array_get_idx(vols, i), kind))
			return 1;
	return 0;
}

static void fill_port_definitions(struct json_object *a, int host)
{
	struct json_object *defs = jsonutil_get(a, "portDefinitions");
	size_t i, n;

	if (!host) {
		/* Any non-host network: Marathon drops them (not shown). */
		json_object_object_del(a, "portDefinitions");
		return;
	}
	if (!defs) {
		struct json_object *d = json_object_new_object();

		defs = json_object_new_array();
		json_object_object_add(d, "port", json_object_new_int(0));
		json_object_object_add(d, "name", json_object_new_string("default"));
		json_object_array_add(defs, d);
		json_object_object_add(a, "portDefinitions", defs);
	}
	n = is_array(defs) ? json_object_array_length(defs) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(defs, i);

		if (!is_object(d))
			continue;
		set_default_int(d, "port", 0);
		set_default_str(d, "protocol", "tcp");
		recase(d, "protocol", CASE_LOWER);
		drop_if_empty(d, "labels");
	}
}

static void fill_port_mappings(struct json_object *container, int host, int bridge, size_t nports)
{
	struct json_object *maps;
	size_t i, n;

	if (!container)
		return;
	if (host) {
		json_object_object_del(container, "portMappings");
		return;
	}
	maps = jsonutil_get(container, "portMappings");
	if (!maps || is_empty_collection(maps)) {
		struct json_object *m = json_object_new_object();

		maps = json_object_new_array();
		json_object_object_add(m, "containerPort", json_object_new_int(0));
		json_object_object_add(m, "hostPort", json_object_new_int(0));
		json_object_object_add(m, "name", json_object_new_string("default"));
		json_object_array_add(maps, m);
		json_object_object_add(container, "portMappings", maps);
	}
	/* More port definitions (or legacy ports) than mappings: Marathon
	 * pads the mappings with default ones (maybeAddPortMappings). */
	while (is_array(maps) && json_object_array_length(maps) < nports)
		json_object_array_add(maps, json_object_new_object());
	n = is_array(maps) ? json_object_array_length(maps) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(maps, i);

		if (!is_object(m))
			continue;
		set_default_int(m, "containerPort", 0);
		set_default_int(m, "servicePort", 0);
		set_default_str(m, "protocol", "tcp");
		recase(m, "protocol", CASE_LOWER);
		if (bridge)
			set_default_int(m, "hostPort", 0);
		drop_if_empty(m, "labels");
		drop_if_empty(m, "networkNames");
	}
}

/* Volumes as Marathon writes them back (VolumeConversion): mode RO/RW,
 * persistent type "root" (or "mount" with a profile), external "shared"
 * false; empty constraints/options omitted. Order is kept: a sequence. */
static void fill_volumes(struct json_object *container)
{
	struct json_object *vols = jsonutil_get(container, "volumes");
	size_t i, n = is_array(vols) ? json_object_array_length(vols) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(vols, i);
		struct json_object *p = jsonutil_get(v, "persistent");
		struct json_object *e = jsonutil_get(v, "external");

		if (!is_object(v))
			continue;
		recase(v, "mode", CASE_UPPER);
		if (is_object(p)) {
			set_default_str(p, "type", jsonutil_get(p, "profileName") ? "mount" : "root");
			recase(p, "type", CASE_LOWER);
			drop_if_empty(p, "constraints");
		}
		if (is_object(e)) {
			set_default_bool(e, "shared", 0);
			drop_if_empty(e, "options");
		}
	}
}

static int fill_networking(struct json_object *a)
{
	struct json_object *networks = jsonutil_get(a, "networks");
	struct json_object *container = get_obj(a, "container");
	const char *mode = "host";
	size_t i, n;

	if (!is_array(networks) || json_object_array_length(networks) == 0) {
		struct json_object *h = json_object_new_object();

		networks = json_object_new_array();
		json_object_object_add(h, "mode", json_object_new_string("host"));
		json_object_array_add(networks, h);
		json_object_object_add(a, "networks", networks);
	}
	n = json_object_array_length(networks);
	for (i = 0; i < n; i++) {
		struct json_object *net = json_object_array_get_idx(networks, i);

		if (!is_object(net))
			continue;
		set_default_str(net, "mode", "container");
		recase(net, "mode", CASE_LOWER);
		drop_if_empty(net, "labels");
		if (i == 0)
			mode = json_object_get_string(jsonutil_get(net, "mode"));
	}
	if (!mode)
		mode = "host";

	if (container) {
		struct json_object *docker = get_obj(container, "docker");

		filter_listed(container, container_fields);
		set_default_str(container, "type", "DOCKER");
		recase(container, "type", CASE_UPPER);
		drop_if_empty(container, "volumes");
		fill_volumes(container);
		if (docker) {
			const char *type = json_object_get_string(jsonutil_get(container, "type"));

			filter_listed(docker, docker_fields);
			/* What each engine stores (ContainerConversion): a Mesos
			 * container never keeps privileged or parameters, a
			 * Docker one never keeps the credential. */
			if (type && !strcmp(type, "MESOS")) {
				json_object_object_del(docker, "privileged");
				json_object_object_del(docker, "parameters");
			} else {
				json_object_object_del(docker, "credential");
			}
			set_default_bool(docker, "forcePullImage", 0);
			set_default_bool(docker, "privileged", 0);
			drop_if_empty(docker, "parameters");
		}
	}
	{
		int host = !strcmp(mode, "host");
		int bridge = !strcmp(mode, "container/bridge");
		struct json_object *defs = jsonutil_get(a, "portDefinitions");
		size_t nports = is_array(defs) ? json_object_array_length(defs) : 0;

		/* Non-host networking without a container gets an empty Mesos
		 * one (NetworkedContainer's default). */
		if (!host && !container) {
			container = json_object_new_object();
			json_object_object_add(container, "type", json_object_new_string("MESOS"));
			json_object_object_add(a, "container", container);
		}
		fill_port_definitions(a, host);
		fill_port_mappings(container, host, bridge, nports);
		if (!host)
			json_object_object_add(a, "requirePorts", json_object_new_boolean(0));
	}
	return 0;
}

static int fill_health_checks(struct json_object *a)
{
	struct json_object *checks = jsonutil_get(a, "healthChecks");
	size_t i, n = is_array(checks) ? json_object_array_length(checks) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *hc = json_object_array_get_idx(checks, i);
		const char *proto;
		int http, marathon_check;

		if (!is_object(hc))
			continue;
		filter_listed(hc, health_fields);
		set_default_int(hc, "gracePeriodSeconds", 300);
		set_default_int(hc, "intervalSeconds", 60);
		set_default_int(hc, "timeoutSeconds", 20);
		set_default_int(hc, "maxConsecutiveFailures", 3);
		set_default_str(hc, "protocol", "HTTP");
		recase(hc, "protocol", CASE_UPPER);
		proto = json_object_get_string(jsonutil_get(hc, "protocol"));
		if (!proto)
			proto = "HTTP";
		http = !strcmp(proto, "HTTP") || !strcmp(proto, "HTTPS");
		marathon_check = http || !strcmp(proto, "TCP");
		if (marathon_check) {
			/* Marathon ignores the input and always answers 15 and
			 * IPv4: the values carry no meaning. */
			json_object_object_del(hc, "delaySeconds");
			json_object_object_del(hc, "ipProtocol");
		} else {
			set_default_int(hc, "delaySeconds", 15);
			set_default_str(hc, "ipProtocol", "IPv4");
		}
		if (http)
			set_default_bool(hc, "ignoreHttp1xx", 0);
		else
			json_object_object_del(hc, "ignoreHttp1xx");
		if (strcmp(proto, "HTTP") && strcmp(proto, "HTTPS") && strcmp(proto, "MESOS_HTTP") &&
		    strcmp(proto, "MESOS_HTTPS"))
			json_object_object_del(hc, "path");
		if (!strcmp(proto, "COMMAND")) {
			static const char *const command_fields[] = {"value", NULL};
			struct json_object *cmd = jsonutil_get(hc, "command");

			json_object_object_del(hc, "portIndex");
			json_object_object_del(hc, "port");
			/* Marathon keeps only command.value (e.g. a "_comment" is dropped). */
			filter_listed(cmd, command_fields);
		} else {
			json_object_object_del(hc, "command");
			if (!jsonutil_get(hc, "port"))
				set_default_int(hc, "portIndex", 0);
		}
	}
	return 0;
}

static void fill_readiness_checks(struct json_object *a)
{
	struct json_object *checks = jsonutil_get(a, "readinessChecks");
	size_t i, n = is_array(checks) ? json_object_array_length(checks) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *rc = json_object_array_get_idx(checks, i);
		struct json_object *codes;

		if (!is_object(rc))
			continue;
		set_default_str(rc, "name", "readinessCheck");
		set_default_str(rc, "protocol", "HTTP");
		recase(rc, "protocol", CASE_UPPER);
		set_default_str(rc, "path", "/");
		set_default_str(rc, "portName", "http-api");
		set_default_int(rc, "intervalSeconds", 30);
		set_default_int(rc, "timeoutSeconds", 10);
		set_default_bool(rc, "preserveLastResponse", 0);
		codes = jsonutil_get(rc, "httpStatusCodesForReady");
		if (!codes || is_empty_collection(codes)) {
			codes = json_object_new_array();
			json_object_array_add(codes, json_object_new_int(200));
			json_object_object_add(rc, "httpStatusCodesForReady", codes);
		}
	}
}

static void fill_fetch(struct json_object *a)
{
	struct json_object *fetch = jsonutil_get(a, "fetch");
	size_t i, n = is_array(fetch) ? json_object_array_length(fetch) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *f = json_object_array_get_idx(fetch, i);

		if (!is_object(f))
			continue;
		set_default_bool(f, "extract", 1);
		set_default_bool(f, "executable", 0);
		set_default_bool(f, "cache", 0);
	}
}

static void fill_strategies(struct json_object *a, const struct normalize_options *o)
{
	struct json_object *container = jsonutil_get(a, "container");
	int resident = has_volume_kind(container, "persistent");
	int external = has_volume_kind(container, "external");
	struct json_object *up = jsonutil_get(a, "upgradeStrategy");
	struct json_object *un = jsonutil_get(a, "unreachableStrategy");
	unsigned v = o->marathon;

	if (!is_object(up)) {
		up = json_object_new_object();
		if (resident || external) {
			json_object_object_add(up, "minimumHealthCapacity", json_object_new_double(0.5));
			json_object_object_add(up, "maximumOverCapacity", json_object_new_int(0));
		}
		json_object_object_add(a, "upgradeStrategy", up);
	}
	/* 1.5+ rejects a half object; 1.4 filled 1.0. */
	set_default_int(up, "minimumHealthCapacity", 1);
	set_default_int(up, "maximumOverCapacity", 1);

	if (!un) {
		if (resident) {
			json_object_object_add(a, "unreachableStrategy", json_object_new_string("disabled"));
			return;
		}
		un = json_object_new_object();
		if ((v >= NORMALIZE_MARATHON(1, 4, 0) && v < NORMALIZE_MARATHON(1, 4, 9)) ||
		    (v >= NORMALIZE_MARATHON(1, 5, 0) && v < NORMALIZE_MARATHON(1, 5, 1))) {
			json_object_object_add(un, "inactiveAfterSeconds", json_object_new_int(300));
			json_object_object_add(un, "expungeAfterSeconds", json_object_new_int(600));
		}
		json_object_object_add(a, "unreachableStrategy", un);
	}
	if (is_object(un)) {
		set_default_int(un, "inactiveAfterSeconds", 0);
		set_default_int(un, "expungeAfterSeconds", 0);
	}
}

/* 1 when string v has no lower-case letter (and no NUL inside). */
static int is_upper(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	size_t i;

	for (i = 0; s[i]; i++)
		if (islower((unsigned char)s[i]))
			return 0;
	return (int)i == json_object_get_string_len(v);
}

static int canon_constraints(struct json_object *a)
{
	struct json_object *cs = jsonutil_get(a, "constraints");
	size_t i, n = is_array(cs) ? json_object_array_length(cs) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cs, i);
		struct json_object *op = is_array(c) ? json_object_array_get_idx(c, 1) : NULL;

		/* Validation upper-cases the operator ("unique" == "UNIQUE"). */
		if (json_object_is_type(op, json_type_string) && !is_upper(op)) {
			char *s = strdup(json_object_get_string(op));
			size_t k;

			if (!s)
				return -1;
			for (k = 0; s[k]; k++)
				s[k] = (char)toupper((unsigned char)s[k]);
			json_object_array_put_idx(c, 1, json_object_new_string(s));
			free(s);
		}
	}
	return jsonutil_sort_array(cs, 1);
}

/* Relative dependencies resolve against the root, as for POST/PUT of one
 * app (withCanonizedIds with the root as base); apps of a group file have
 * theirs made absolute by the loader against the group's id. */
static int canon_dependencies(struct json_object *a)
{
	struct json_object *deps = jsonutil_get(a, "dependencies");
	size_t i, n = is_array(deps) ? json_object_array_length(deps) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(deps, i);
		char *abs;

		if (!json_object_is_type(d, json_type_string))
			continue;
		abs = resolve_id("/", json_object_get_string(d));
		if (!abs)
			return -1;
		json_object_array_put_idx(deps, i, json_object_new_string(abs));
		free(abs);
	}
	return jsonutil_sort_array(deps, 1);
}

/* members_done: a's members are canonical already (copy_app_members()). */
static int canonicalise(struct json_object *a, const struct normalize_options *o, int members_done)
{
	struct json_object *er, *checks;
	int rc = -1;
	size_t i;

	if (!members_done)
		canon_app_members(a);
	if (canon_id(a))
		goto done;
	migrate_networking(a);
	migrate_ports_and_uris(a);

	set_default_int(a, "instances", 1);
	set_default_int(a, "cpus", 1);
	set_default_int(a, "mem", 128);
	set_default_int(a, "disk", 0);
	set_default_int(a, "gpus", 0);
	set_default_str(a, "executor", "");
	set_default_int(a, "backoffSeconds", 1);
	set_default(a, "backoffFactor", json_object_new_double_s(1.15, "1.15"));
	set_default_int(a, "maxLaunchDelaySeconds",
			o->marathon && o->marathon < NORMALIZE_MARATHON(1, 8, 0) ? 3600 : 300);
	set_default_bool(a, "requirePorts", 0);
	set_default_str(a, "killSelection", "YOUNGEST_FIRST");
	recase(a, "killSelection", CASE_UPPER);
	/* Resident-app leftovers with no effect since 1.5. */
	json_object_object_del(a, "residency");

	if (fill_networking(a) || fill_health_checks(a))
		goto done;
	fill_readiness_checks(a);
	fill_fetch(a);
	fill_strategies(a, o);
	if ((er = jsonutil_get(a, "executorResources")) && is_object(er)) {
		set_default(er, "cpus", json_object_new_double_s(0.1, "0.1"));
		set_default_int(er, "mem", 32);
		set_default_int(er, "disk", 10);
	}

	for (i = 0; omit_empty_fields[i]; i++)
		drop_if_empty(a, omit_empty_fields[i]);
	/*
	 * No second number pass: everything added since canon_app_members()
	 * is canonical already (integers are ints; the only doubles added,
	 * 1.15, 0.5 and 0.1, are not integral), and what was moved or shared
	 * (legacy ports, uris, networks) came from canonical subtrees. Keep it
	 * so when adding a default.
	 */

	/* Sets, last: every element is complete now. */
	if (canon_constraints(a) || canon_dependencies(a))
		goto done;
	if (jsonutil_sort_array(jsonutil_get(a, "acceptedResourceRoles"), 1) ||
	    jsonutil_sort_array(jsonutil_get(a, "healthChecks"), 1))
		goto done;
	checks = jsonutil_get(a, "readinessChecks");
	for (i = 0; is_array(checks) && i < json_object_array_length(checks); i++) {
		struct json_object *codes =
			jsonutil_get(json_object_array_get_idx(checks, i), "httpStatusCodesForReady");

		if (jsonutil_sort_array(codes, 1))
			goto done;
	}
	if (jsonutil_sort_array(checks, 1))
		goto done;
	rc = 0;
done:
	return rc;
}

/*
 * A deep copy of v into *out (NULL for null) that is canonical as
 * canon_tree() makes it: members whose value is null are left out and
 * integral doubles become integers; the copy is otherwise what
 * json_object_deep_copy() makes (same order, doubles keep their spelling),
 * but objects are sized for their members up front and members go in
 * without a lookup (the source's keys are distinct): json-c's copy re-grows
 * every large env or labels map. Returns 0, -1 when out of memory.
 */
static int copy_canonical(struct json_object *v, struct json_object **out)
{
	struct json_object *c = NULL;

	*out = NULL;
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 0;
	case json_type_string:
		c = json_object_new_string_len(json_object_get_string(v), json_object_get_string_len(v));
		break;
	case json_type_double:
		c = canon_number(v);
		if (!c)
			return json_object_deep_copy(v, out, NULL) ? -1 : 0;
		break;
	case json_type_array: {
		size_t i, n = json_object_array_length(v);

		c = json_object_new_array_ext((int)n);
		for (i = 0; c && i < n; i++) {
			struct json_object *e = NULL;

			/* A null element stays: its position counts. */
			if (copy_canonical(json_object_array_get_idx(v, i), &e) || json_object_array_add(c, e)) {
				json_object_put(e);
				json_object_put(c);
				return -1;
			}
		}
		break;
	}
	case json_type_object: {
		c = jsonutil_new_object_sized((size_t)json_object_object_length(v));
		if (!c)
			return -1;
		json_object_object_foreach(v, key, val) {
			struct json_object *e = NULL;

			if (!val)
				continue;
			if (copy_canonical(val, &e) || json_object_object_add_ex(c, key, e, JSON_C_OBJECT_ADD_KEY_IS_NEW)) {
				json_object_put(e);
				json_object_put(c);
				return -1;
			}
		}
		break;
	}
	default:
		/* booleans and integers: json-c's own copy */
		return json_object_deep_copy(v, out, NULL) ? -1 : 0;
	}
	if (!c)
		return -1;
	*out = c;
	return 0;
}

/*
 * The raw fallback's working copy, canonical as canon_app_members() makes
 * it: only the members it keeps (non-null, known to Marathon), in their
 * order, copied by copy_canonical(). A live app's tasks, deployments and
 * other server fields are never copied just to be deleted, and the copy
 * needs no second walk. Returns 0, -1 when out of memory.
 */
static int copy_app_members(struct json_object *app, struct json_object **out)
{
	struct json_object *copy = json_object_new_object();

	*out = NULL;
	if (!copy)
		return -1;
	json_object_object_foreach(app, key, val) {
		struct json_object *v = NULL;

		if (!val || !is_app_field(key))
			continue;
		/* The keys of app are distinct: each is new in copy. */
		if (copy_canonical(val, &v) || json_object_object_add_ex(copy, key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW)) {
			json_object_put(v);
			json_object_put(copy);
			return -1;
		}
	}
	*out = copy;
	return 0;
}

static int finish_app(struct json_object *app, struct json_object *work, int members_done,
		      const struct normalize_options *o, struct json_object **out,
		      struct pacer_error **err);

int normalize_submits_like(const struct appdef_flags *f)
{
	static const struct appdef_flags dcos = APPDEF_FLAGS_DCOS;

	return f && f->features == dcos.features && !f->default_network_name && f->mesos_role &&
	       !strcmp(f->mesos_role, dcos.mesos_role);
}

int normalize_app_submitted(struct json_object *app, struct json_object *submitted,
			    struct json_object **out, struct pacer_error **err)
{
	static const struct normalize_options defaults = NORMALIZE_OPTIONS_INIT;

	*out = NULL;
	if (!is_object(app) || !is_object(submitted)) {
		json_object_put(submitted);
		return normalize_app(app, &defaults, out, err);
	}
	return finish_app(app, submitted, 0, &defaults, out, err);
}

/* normalize_app(), or with `inplace` normalize_app_inplace(). */
static int normalize_any(struct json_object *app, const struct normalize_options *opts,
			 int inplace, struct json_object **out, struct pacer_error **err)
{
	static const struct normalize_options defaults = NORMALIZE_OPTIONS_INIT;
	static const struct appdef_flags dcos = APPDEF_FLAGS_DCOS;
	const struct normalize_options *o = opts ? opts : &defaults;
	struct json_object *work = NULL;
	int rc = -1;

	*out = NULL;
	if (!is_object(app)) {
		rc = pacer_error_set(err, PACER_EINVALID,
				     "an app definition must be a JSON object, got %s: "
				     "write the app as {\"id\": \"/name\", ...}",
				     json_type_to_name(json_object_get_type(app)));
		goto done;
	}
	if (!o->skip_appdef) {
		/* Marathon's own pipeline first; a rejection is not an error
		 * here: the diff must still show what differs. Without an
		 * error body appdef_submit() may stop at a certain rejection. */
		int r = appdef_submit(app, NULL, o->flags ? o->flags : &dcos, &work, NULL);

		if (r == -1) {
			rc = pacer_error_set(err, -1, "out of memory normalising app %s",
					     json_object_get_string(jsonutil_get(app, "id")));
			goto done;
		}
		if (r != 0) {
			json_object_put(work);
			work = NULL;
		}
	}
	if (work)
		return finish_app(app, work, 0, o, out, err);
	if (inplace)
		return finish_app(app, json_object_get(app), 0, o, out, err);
	if (copy_app_members(app, &work)) {
		rc = pacer_error_set(err, -1, "out of memory copying app %s",
				     json_object_get_string(jsonutil_get(app, "id")));
		goto done;
	}
	return finish_app(app, work, 1, o, out, err);
done:
	json_object_put(work);
	return rc;
}

int normalize_app(struct json_object *app, const struct normalize_options *opts,
		  struct json_object **out, struct pacer_error **err)
{
	return normalize_any(app, opts, 0, out, err);
}

int normalize_app_inplace(struct json_object *app, const struct normalize_options *opts,
			  struct json_object **out, struct pacer_error **err)
{
	return normalize_any(app, opts, 1, out, err);
}

/*
 * Step 2 of normalize_app() on `work` (taken): Marathon's stored form of
 * app, or the raw fallback's copy, whose members copy_app_members() made
 * canonical already (members_done).
 */
static int finish_app(struct json_object *app, struct json_object *work, int members_done,
		      const struct normalize_options *o, struct json_object **out,
		      struct pacer_error **err)
{
	int rc = -1;

	if (canonicalise(work, o, members_done)) {
		rc = pacer_error_set(err, -1, "out of memory normalising app %s",
				     json_object_get_string(jsonutil_get(app, "id")));
		goto done;
	}
	/* The role is never invented here (appdef fills it from its flags,
	 * which need not be the live server's): an app that does not name a
	 * role has none in its canonical form, so that Marathon < 1.9 (no
	 * roles) and a file without a role are both recognisable by
	 * normalize_adopt_live(). */
	if (!jsonutil_get(app, "role"))
		json_object_object_del(work, "role");
	*out = work;
	work = NULL;
	rc = 0;
done:
	json_object_put(work);
	return rc;
}

/* ---- pair adoption ---- */

static int adopt_field(struct json_object *d, struct json_object *l, const char *key)
{
	struct json_object *lv = jsonutil_get(l, key);

	if (!lv) {
		json_object_object_del(d, key);
		return 0;
	}
	/* Shared, not copied: both apps are only compared from here on. */
	if (json_object_object_add(d, key, json_object_get(lv)) < 0) {
		json_object_put(lv);
		return -1;
	}
	return 0;
}

static void adopt_ports(struct json_object *darr, struct json_object *larr, const char *key)
{
	size_t i, n;

	if (!is_array(darr) || !is_array(larr))
		return;
	n = json_object_array_length(darr);
	if (json_object_array_length(larr) < n)
		n = json_object_array_length(larr);
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(darr, i);
		struct json_object *lp = jsonutil_get(json_object_array_get_idx(larr, i), key);
		struct json_object *dp = jsonutil_get(d, key);

		if (is_object(d) && json_object_is_type(lp, json_type_int) &&
		    (!dp || (json_object_is_type(dp, json_type_int) && json_object_get_int64(dp) == 0)))
			json_object_object_add(d, key, json_object_new_int64(json_object_get_int64(lp)));
	}
}

static int is_strategy(struct json_object *v, int64_t inactive, int64_t expunge)
{
	return is_object(v) && json_object_object_length(v) == 2 &&
	       json_object_get_int64(jsonutil_get(v, "inactiveAfterSeconds")) == inactive &&
	       json_object_get_int64(jsonutil_get(v, "expungeAfterSeconds")) == expunge;
}

int normalize_adopt_live(struct json_object *desired_raw, struct json_object *desired_norm,
			 struct json_object *live_norm, unsigned what)
{
	struct json_object *lv;

	if (!is_object(desired_norm) || !is_object(live_norm))
		return 0;
	adopt_ports(jsonutil_get(desired_norm, "portDefinitions"),
		    jsonutil_get(live_norm, "portDefinitions"), "port");
	adopt_ports(jsonutil_get(jsonutil_get(desired_norm, "container"), "portMappings"),
		    jsonutil_get(jsonutil_get(live_norm, "container"), "portMappings"), "servicePort");

	if ((!jsonutil_get(desired_raw, "role") || !jsonutil_get(live_norm, "role")) &&
	    adopt_field(desired_norm, live_norm, "role"))
		return -1;

	lv = jsonutil_get(live_norm, "maxLaunchDelaySeconds");
	if (!jsonutil_get(desired_raw, "maxLaunchDelaySeconds") &&
	    json_object_is_type(lv, json_type_int) &&
	    (json_object_get_int64(lv) == 300 || json_object_get_int64(lv) == 3600) &&
	    adopt_field(desired_norm, live_norm, "maxLaunchDelaySeconds"))
		return -1;

	lv = jsonutil_get(live_norm, "unreachableStrategy");
	if (!jsonutil_get(desired_raw, "unreachableStrategy") &&
	    is_object(jsonutil_get(desired_norm, "unreachableStrategy")) &&
	    (is_strategy(lv, 0, 0) || is_strategy(lv, 300, 600)) &&
	    adopt_field(desired_norm, live_norm, "unreachableStrategy"))
		return -1;

	if ((what & NORMALIZE_ADOPT_INSTANCES) && adopt_field(desired_norm, live_norm, "instances"))
		return -1;
	return 0;
}
