/*
 * appdef_validate.c: Marathon 1.10's semantic app validation.
 *
 * Two validators, as in api/v2/validation/AppValidation.scala:
 * appdef__validate_legacy() is validateOldAppAPI, run on the app as read
 * (before migration; Marathon stops when it fails), and appdef__validate()
 * the canonical validation (validBasicAppDefinition, role enforcement,
 * scheduling rules) on the migrated, defaulted app. Messages are Marathon's
 * own texts where we know them (the corpus VERDICTS quote them); paths use
 * Marathon's "(n)" index notation.
 */
#include "reconcile/model/appdef_internal.h"

#include <json-c/json.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reconcile/base/jsonutil.h"

static size_t arr_len(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v = jsonutil_get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static void errf(struct json_object *errs, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void errf(struct json_object *errs, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	appdef__err(errs, path, msg);
}

/* --- validateOldAppAPI -------------------------------------------------- */

/* Names of port mappings / definitions must be unique where given. */
static void unique_names(struct json_object *list, const char *path, struct json_object *errs)
{
	size_t i, j, n = arr_len(list);

	for (i = 0; i < n; i++) {
		const char *a = str_of(json_object_array_get_idx(list, i), "name");

		for (j = i + 1; a && j < n; j++) {
			const char *b = str_of(json_object_array_get_idx(list, j), "name");

			if (b && strcmp(a, b) == 0) {
				appdef__err(errs, path, "Port names must be unique.");
				return;
			}
		}
	}
}

void appdef__validate_legacy(struct json_object *app, struct json_object *errs)
{
	struct json_object *container = jsonutil_get(app, "container");
	struct json_object *docker = jsonutil_get(container, "docker");
	struct json_object *ip = jsonutil_get(app, "ipAddress");
	struct json_object *uris = jsonutil_get(app, "uris");
	struct json_object *ports = jsonutil_get(app, "ports");
	struct json_object *defs = jsonutil_get(app, "portDefinitions");
	struct json_object *networks = jsonutil_get(app, "networks");
	const char *type = container ? (str_of(container, "type") ? str_of(container, "type") : "DOCKER") : NULL;
	size_t i, j, n;

	/* validOldContainerAPI */
	if (docker && jsonutil_get(docker, "credential"))
		appdef__err(errs, "/container/docker/credential", "must be empty");
	if (docker && type && strcmp(type, "MESOS") == 0) {
		if (jsonutil_get(docker, "network"))
			appdef__err(errs, "/container/docker/network", "must be empty");
		if (arr_len(jsonutil_get(docker, "parameters")))
			appdef__err(errs, "/container/docker/parameters", "must be empty");
		if (arr_len(jsonutil_get(docker, "portMappings")))
			appdef__err(errs, "/container/docker/portMappings", "must be empty");
	}
	unique_names(jsonutil_get(docker, "portMappings"), "/container/docker/portMappings", errs);
	if (ip && type && strcmp(type, "DOCKER") == 0 && jsonutil_get(ip, "discovery"))
		appdef__err(errs, "/ipAddress", "ipAddress/discovery is not allowed for Docker containers");
	if (arr_len(uris) && arr_len(jsonutil_get(app, "fetch")))
		appdef__err(errs, "/uris", "may not be set in conjunction with fetch");
	if (docker && jsonutil_get(docker, "network") && networks)
		appdef__err(errs, "/", "must not specify both container.docker.network and networks");
	if (ip && networks)
		appdef__err(errs, "/", "must not specify both networks and ipAddress");
	n = arr_len(ports);
	for (i = 0; i < n; i++) {
		int64_t a = json_object_get_int64(json_object_array_get_idx(ports, i));

		for (j = i + 1; a != 0 && j < n; j++)
			if (json_object_get_int64(json_object_array_get_idx(ports, j)) == a) {
				appdef__err(errs, "/", "ports must be unique");
				i = n;
				break;
			}
	}
	if (ip && (arr_len(ports) || arr_len(defs)))
		appdef__err(errs, "/", "cannot specify both an IP address and port");
	if (ports && defs) {
		int same = arr_len(ports) == arr_len(defs);

		for (i = 0; same && i < arr_len(ports); i++) {
			struct json_object *p = jsonutil_get(json_object_array_get_idx(defs, i), "port");

			same = json_object_get_int64(json_object_array_get_idx(ports, i)) == (p ? json_object_get_int64(p) : 0);
		}
		if (!same)
			appdef__err(errs, "/", "cannot specify both ports and port definitions");
	}
}

/* --- canonical validation ----------------------------------------------- */

static bool has_docker_image(struct json_object *container)
{
	return container && jsonutil_get(container, "docker") != NULL;
}

static void check_cmd_args(struct json_object *app, struct json_object *errs)
{
	bool cmd = jsonutil_get(app, "cmd") != NULL;
	bool args = arr_len(jsonutil_get(app, "args")) > 0;
	bool container = has_docker_image(jsonutil_get(app, "container"));

	if (!((cmd ^ args) || (!(cmd && args) && container)))
		appdef__err(errs, "/", "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.");
	if (cmd && !*str_of(app, "cmd"))
		appdef__err(errs, "/cmd", "must not be an empty string");
}

/* The ports health checks address: container port mappings if any, else port definitions. */
static struct json_object *port_list(struct json_object *app)
{
	struct json_object *pms = jsonutil_get(jsonutil_get(app, "container"), "portMappings");

	return arr_len(pms) ? pms : jsonutil_get(app, "portDefinitions");
}

static void check_health(struct json_object *app, struct json_object *errs)
{
	struct json_object *hcs = jsonutil_get(app, "healthChecks");
	size_t i, n = arr_len(hcs), nports = arr_len(port_list(app));
	int mesos = 0;
	char path[64];

	for (i = 0; i < n; i++) {
		struct json_object *hc = json_object_array_get_idx(hcs, i);
		const char *proto = str_of(hc, "protocol");
		struct json_object *idx = jsonutil_get(hc, "portIndex");

		snprintf(path, sizeof(path), "/healthChecks(%zu)", i);
		if (!strcmp(proto, "HTTP") || !strcmp(proto, "HTTPS") || !strcmp(proto, "TCP")) {
			bool ok = idx ? (size_t)json_object_get_int64(idx) < nports
				      : jsonutil_get(hc, "port") != NULL || nports == 1;

			if (!ok)
				appdef__err(errs, path,
					    "Health check port indices must address an element of the ports array or container port mappings.");
		} else if (!strcmp(proto, "COMMAND")) {
			if (!jsonutil_get(hc, "command"))
				appdef__err(errs, path, "command is required for a COMMAND health check");
		} else {
			mesos++;
		}
	}
	if (mesos > 1)
		appdef__err(errs, "/", "AppDefinition can contain at most one Mesos health check");
}

static void check_readiness(struct json_object *app, struct json_object *errs)
{
	struct json_object *rcs = jsonutil_get(app, "readinessChecks");
	struct json_object *pms = jsonutil_get(jsonutil_get(app, "container"), "portMappings");
	struct json_object *names = pms ? pms : jsonutil_get(app, "portDefinitions");
	size_t i, j, n = arr_len(rcs);
	char path[96];

	if (n > 1)
		errf(errs, "/readinessChecks", "got %zu, expected 1 or less", n);
	for (i = 0; i < n; i++) {
		struct json_object *rc = json_object_array_get_idx(rcs, i);
		const char *name = str_of(rc, "portName");
		bool found = false;
		int64_t t = json_object_get_int64(jsonutil_get(rc, "timeoutSeconds"));
		int64_t iv = json_object_get_int64(jsonutil_get(rc, "intervalSeconds"));

		for (j = 0; j < arr_len(names); j++) {
			const char *pn = str_of(json_object_array_get_idx(names, j), "name");

			if (pn && name && strcmp(pn, name) == 0)
				found = true;
		}
		if (!found) {
			snprintf(path, sizeof(path), "/readinessChecks(%zu)/portName", i);
			errf(errs, path, "No port definition reference for portName %s", name ? name : "");
		}
		if (t >= iv) {
			snprintf(path, sizeof(path), "/readinessChecks(%zu)/timeoutSeconds", i);
			errf(errs, path, "got %lld, expected less than %lld", (long long)t, (long long)iv);
		}
	}
}

static void check_ports(struct json_object *app, struct json_object *errs)
{
	struct json_object *defs = jsonutil_get(app, "portDefinitions");
	struct json_object *pms = jsonutil_get(jsonutil_get(app, "container"), "portMappings");
	size_t i, j, n = arr_len(defs);

	unique_names(defs, "/portDefinitions", errs);
	for (i = 0; i < n; i++) {
		int64_t a = json_object_get_int64(jsonutil_get(json_object_array_get_idx(defs, i), "port"));

		for (j = i + 1; a != 0 && j < n; j++)
			if (json_object_get_int64(jsonutil_get(json_object_array_get_idx(defs, j), "port")) == a) {
				appdef__err(errs, "/portDefinitions", "Ports must be unique.");
				i = n;
				break;
			}
	}
	unique_names(pms, "/container/portMappings", errs);
}

static const char *const operators[] = {"UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS", NULL};

static bool is_int_text(const char *s)
{
	char *end;

	if (!*s)
		return false;
	(void)strtol(s, &end, 10);
	return *end == '\0';
}

static void check_constraints(struct json_object *app, struct json_object *errs)
{
	struct json_object *cs = jsonutil_get(app, "constraints");
	size_t i, k, n = arr_len(cs);
	char path[64];

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cs, i);
		size_t len = arr_len(c);
		const char *op = len > 1 ? json_object_get_string(json_object_array_get_idx(c, 1)) : "";
		const char *value = len > 2 ? json_object_get_string(json_object_array_get_idx(c, 2)) : NULL;
		const char *known = NULL;

		snprintf(path, sizeof(path), "/constraints(%zu)", i);
		for (k = 0; operators[k]; k++)
			if (strcasecmp(op, operators[k]) == 0)
				known = operators[k];
		if (!known) {
			appdef__err(errs, path,
				    "Constraint operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER or UNLIKE");
		} else if (!strcmp(known, "UNIQUE") && value) {
			appdef__err(errs, path, "Value specified but not used");
		} else if (!strcmp(known, "CLUSTER") && !value) {
			appdef__err(errs, path, "Missing value");
		} else if (!strcmp(known, "GROUP_BY") && value && !is_int_text(value)) {
			appdef__err(errs, path, "Value was specified but is not a number");
		} else if (!strcmp(known, "MAX_PER") && value && !is_int_text(value)) {
			appdef__err(errs, path, "Value was not specified or is not a number");
		} else if (!strcmp(known, "LIKE") || !strcmp(known, "UNLIKE")) {
			regex_t re;

			if (!value) {
				appdef__err(errs, path, "A regular expression value must be provided");
			} else if (regcomp(&re, value, REG_EXTENDED | REG_NOSUB) != 0) {
				errf(errs, path, "'%s' is not a valid regular expression", value);
			} else {
				regfree(&re);
			}
		}
	}
}

/* Secrets feature: the secrets map, secret env refs, secret volumes, pullConfig. */
static void check_secrets(struct json_object *app, const struct appdef_flags *flags, struct json_object *errs)
{
	static const char feature[] = "Feature secrets is not enabled. Enable with --enable_features secrets)";
	bool enabled = flags->features & APPDEF_FEATURE_SECRETS;
	struct json_object *secrets = jsonutil_get(app, "secrets");
	struct json_object *env = jsonutil_get(app, "env");
	struct json_object *container = jsonutil_get(app, "container");
	struct json_object *pull = jsonutil_get(jsonutil_get(container, "docker"), "pullConfig");
	struct json_object *vols = jsonutil_get(container, "volumes");
	bool env_refs = false, secret_vols = false;
	size_t i;

	if (secrets && json_object_object_length(secrets) > 0 && !enabled)
		appdef__err(errs, "/secrets", feature);
	if (env) {
		json_object_object_foreach(env, name, val) {
			const char *ref;

			if (!json_object_is_type(val, json_type_object))
				continue;
			env_refs = true;
			ref = str_of(val, "secret");
			if (enabled && ref && !jsonutil_get(secrets, ref)) {
				char path[320];

				snprintf(path, sizeof(path), "/env/%s", name);
				errf(errs, path, "references an undefined secret named '%s'", ref);
			}
		}
	}
	if (env_refs && !enabled)
		appdef__err(errs, "/env", "use of secret-references in the environment requires the secrets feature to be enabled");
	for (i = 0; i < arr_len(vols); i++) {
		const char *s = str_of(json_object_array_get_idx(vols, i), "secret");

		if (!s)
			continue;
		secret_vols = true;
		if (enabled && !jsonutil_get(secrets, s)) {
			char path[64];

			snprintf(path, sizeof(path), "/container/volumes(%zu)", i);
			appdef__err(errs, path, "volume.secret must refer to an existing secret");
		}
	}
	if (secret_vols && !enabled)
		appdef__err(errs, "/container", feature);
	if (pull) {
		if (str_of(container, "type") && strcmp(str_of(container, "type"), "DOCKER") == 0)
			appdef__err(errs, "/container/docker/pullConfig", "pullConfig is not supported with Docker containerizer");
		else if (!enabled)
			appdef__err(errs, "/container/docker/pullConfig", feature);
		else if (!jsonutil_get(secrets, str_of(pull, "secret")))
			appdef__err(errs, "/container/docker/pullConfig", "pullConfig.secret must refer to an existing secret");
	}
}

static void check_container(struct json_object *app, const struct appdef_flags *flags, struct json_object *errs)
{
	struct json_object *container = jsonutil_get(app, "container");
	struct json_object *vols = jsonutil_get(container, "volumes");
	const char *type = str_of(container, "type");
	size_t i;
	char path[96];

	if (!container)
		return;
	if (!strcmp(type, "DOCKER") && !jsonutil_get(container, "docker"))
		appdef__err(errs, "/container/docker", "not defined");
	for (i = 0; i < arr_len(vols); i++) {
		struct json_object *v = json_object_array_get_idx(vols, i), *p;

		snprintf(path, sizeof(path), "/container/volumes(%zu)", i);
		if ((p = jsonutil_get(v, "persistent"))) {
			const char *cp = str_of(v, "containerPath");
			const char *pt = str_of(p, "type");
			int64_t size = json_object_get_int64(jsonutil_get(p, "size"));

			if (strchr(cp, '/') || !strcmp(cp, ".") || !strcmp(cp, ".."))
				errf(errs, path, "containerPath '%s' must be a relative path without \"/\" for persistent volumes", cp);
			if (strcmp(str_of(v, "mode"), "RW") != 0)
				appdef__err(errs, path, "persistent volumes must have mode RW");
			if (size <= 0)
				errf(errs, path, "persistent size got %lld, expected more than 0", (long long)size);
			if (jsonutil_get(p, "maxSize") && strcmp(pt, "mount") != 0)
				appdef__err(errs, path, "Only mount volumes can have maxSize");
			if (!strcmp(pt, "root") && arr_len(jsonutil_get(p, "constraints")))
				appdef__err(errs, path, "Constraints on root volumes are not supported");
		} else if ((p = jsonutil_get(v, "external"))) {
			if (!(flags->features & APPDEF_FEATURE_EXTERNAL_VOLUMES))
				appdef__err(errs, path,
					    "Feature external_volumes is not enabled. Enable with --enable_features external_volumes)");
			if (!str_of(p, "name"))
				errf(errs, path, "external volume name is not defined");
			if (!str_of(p, "provider"))
				errf(errs, path, "external volume provider is not defined");
		}
	}
}

static bool is_single_instance(struct json_object *app)
{
	const char *v = str_of(jsonutil_get(app, "labels"), "MARATHON_SINGLE_INSTANCE_APP");

	return v && strcmp(v, "true") == 0;
}

static void check_strategies(struct json_object *app, bool resident, struct json_object *errs)
{
	struct json_object *us = jsonutil_get(app, "upgradeStrategy");
	struct json_object *un = jsonutil_get(app, "unreachableStrategy");
	double minh = json_object_get_double(jsonutil_get(us, "minimumHealthCapacity"));
	double maxo = json_object_get_double(jsonutil_get(us, "maximumOverCapacity"));

	if (is_single_instance(app)) {
		if (json_object_get_int64(jsonutil_get(app, "instances")) > 1)
			appdef__err(errs, "/", "Single instance app may only have one instance");
		if (minh != 0.0)
			errf(errs, "/upgradeStrategy", "got %.1f, expected 0.0", minh);
		if (maxo != 0.0)
			errf(errs, "/upgradeStrategy", "got %.1f, expected 0.0", maxo);
	}
	if (jsonutil_get(app, "residency")) {
		if (maxo != 0.0)
			errf(errs, "/upgradeStrategy", "got %.1f, expected 0.0", maxo);
		if (!resident)
			appdef__err(errs, "/", "App must contain persistent volumes and define residency");
		if (!json_object_is_type(un, json_type_string))
			appdef__err(errs, "/", "unreachableStrategy must be disabled for resident tasks");
	}
	if (un && json_object_is_type(un, json_type_object) &&
	    json_object_get_int64(jsonutil_get(un, "inactiveAfterSeconds")) >
		    json_object_get_int64(jsonutil_get(un, "expungeAfterSeconds")))
		appdef__err(errs, "/unreachableStrategy", "inactiveAfterSeconds must be less or equal to expungeAfterSeconds");
}

bool appdef__role_valid(const char *role, const char *id, const struct appdef_flags *flags)
{
	const char *mesos_role = flags->mesos_role ? flags->mesos_role : "*";
	char top[256] = "";

	/* The enforcing group's role is the top-level group's name. */
	if (id && id[0] == '/' && strchr(id + 1, '/')) {
		size_t len = (size_t)(strchr(id + 1, '/') - (id + 1));

		if (len < sizeof(top)) {
			memcpy(top, id + 1, len);
			top[len] = '\0';
		}
	}
	return strcmp(role, mesos_role) == 0 || (top[0] && strcmp(role, top) == 0);
}

/*
 * Role enforcement (1.9+): the app's role must be --mesos_role or the name
 * of its top-level group; resident apps may not use "*"; and
 * acceptedResourceRoles may only name "*" and the app's role (1.10 no longer
 * rewrites them unless a deprecated feature is on).
 */
static void check_roles(struct json_object *app, const struct appdef_flags *flags, bool resident,
			struct json_object *errs)
{
	const char *role = str_of(app, "role");
	const char *mesos_role = flags->mesos_role ? flags->mesos_role : "*";
	const char *id = str_of(app, "id");
	struct json_object *acc = jsonutil_get(app, "acceptedResourceRoles");
	char top[256] = "";
	size_t i;

	if (id && id[0] == '/' && strchr(id + 1, '/')) {
		size_t len = (size_t)(strchr(id + 1, '/') - (id + 1));

		if (len < sizeof(top)) {
			memcpy(top, id + 1, len);
			top[len] = '\0';
		}
	}
	if (!role)
		return;
	if (!appdef__role_valid(role, id, flags)) {
		if (top[0])
			errf(errs, "/role", "Role '%s' is not valid. Valid roles are '%s' and '%s'.", role, mesos_role, top);
		else
			errf(errs, "/role", "Role '%s' is not valid. Valid role is '%s'.", role, mesos_role);
	}
	if (resident && strcmp(role, "*") == 0)
		appdef__err(errs, "/role", "Resident apps cannot have the role *");
	for (i = 0; i < arr_len(acc); i++) {
		const char *r = json_object_get_string(json_object_array_get_idx(acc, i));

		if (strcmp(r, "*") != 0 && strcmp(r, role) != 0) {
			if (strcmp(role, "*") == 0)
				appdef__err(errs, "/acceptedResourceRoles", "acceptedResourceRoles can only contain *");
			else
				errf(errs, "/acceptedResourceRoles", "acceptedResourceRoles can only contain * and %s", role);
			break;
		}
	}
}

static void check_networks(struct json_object *app, struct json_object *errs)
{
	struct json_object *networks = jsonutil_get(app, "networks");
	struct json_object *container = jsonutil_get(app, "container");
	size_t i, n = arr_len(networks), ncontainer = 0, nhost = 0;
	char path[64];

	for (i = 0; i < n; i++) {
		struct json_object *net = json_object_array_get_idx(networks, i);
		const char *mode = str_of(net, "mode");

		if (!strcmp(mode, "container"))
			ncontainer++;
		else if (!strcmp(mode, "host"))
			nhost++;
		if (strcmp(mode, "container") != 0 && jsonutil_get(net, "name")) {
			snprintf(path, sizeof(path), "/networks(%zu)", i);
			appdef__err(errs, path, "name is only allowed for mode 'container'");
		}
	}
	if (nhost && n > 1)
		appdef__err(errs, "/networks", "host networking may not be combined with other networks");
	if (str_of(container, "type") && !strcmp(str_of(container, "type"), "DOCKER") && ncontainer > 1)
		appdef__err(errs, "/", "may only specify a single container network when using the Docker container engine");
}

void appdef__validate(struct json_object *app, const struct appdef_flags *flags, struct json_object *errs)
{
	struct json_object *vols = jsonutil_get(jsonutil_get(app, "container"), "volumes");
	bool resident = false;
	size_t i;

	for (i = 0; i < arr_len(vols); i++)
		if (appdef__is_persistent(json_object_array_get_idx(vols, i)))
			resident = true;
	check_container(app, flags, errs);
	check_ports(app, errs);
	check_cmd_args(app, errs);
	check_health(app, errs);
	check_secrets(app, flags, errs);
	if (json_object_get_int64(jsonutil_get(app, "gpus")) > 0) {
		struct json_object *c = jsonutil_get(app, "container");

		if (str_of(c, "type") && !strcmp(str_of(c, "type"), "DOCKER"))
			appdef__err(errs, "/", "GPU resources only work with the Mesos containerizer");
		if (!(flags->features & APPDEF_FEATURE_GPU_RESOURCES))
			appdef__err(errs, "/gpus", "Feature gpu_resources is not enabled. Enable with --enable_features gpu_resources)");
	}
	check_readiness(app, errs);
	check_strategies(app, resident, errs);
	check_constraints(app, errs);
	check_networks(app, errs);
	check_roles(app, flags, resident, errs);
}
