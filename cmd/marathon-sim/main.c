/*
 * marathon-sim: a stateful simulator of the Marathon 1.10 v2 REST API for
 * pacer's demo and integration tests, and for users trying pacer without a
 * cluster. This file: flags, loading, the ticker thread, signals.
 *
 *   marathon-sim --listen 127.0.0.1:0 [--task-launch-ms N] [--health-ms N]
 *                [--kill-ms N] [--agents N]
 *                [--load FILE] [--mesos-role ROLE] [--enable-features LIST]
 *                [--http-credentials-file FILE] [--token-file FILE]
 *                [--standby-of URL [--standby-mode proxy|redirect]]
 *                [--framework-id ID]
 *
 * The first line of stdout is the base URL; then it serves until SIGTERM or
 * SIGINT and exits 0.
 */
#include "cmd/marathon-sim/sim.h"
#include "generated/pacer_commit.h"
#include "reconcile/base/secret.h"
#include "reconcile/model/appid.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char USAGE[] =
	"usage: marathon-sim --listen ADDR:PORT [options]\n"
	"  --listen ADDR:PORT          address to serve on (port 0 = pick a free one); prints the URL first\n"
	"  --task-launch-ms N          time for a task to start: TASK_STAGING, TASK_STARTING half way, then\n"
	"                              TASK_RUNNING (default 500)\n"
	"  --health-ms N               time until a started task passes health checks (default 500)\n"
	"  --kill-ms N                 TASK_KILLING lasts N ms per second of the app's taskKillGracePeriodSeconds\n"
	"                              (1 when unset) before TASK_KILLED (default: --task-launch-ms / 10)\n"
	"  --agents N                  simulated agents, hosts 127.0.0.1 .. 127.0.0.N; hostname constraints\n"
	"                              UNIQUE, MAX_PER and CLUSTER place tasks on them (default: one agent,\n"
	"                              constraints not looked at)\n"
	"  --load FILE                 preload apps: an app, an array, {\"apps\":[...]}, {\"app\":{...}} or a group\n"
	"  --mesos-role ROLE           Marathon's --mesos_role (default *)\n"
	"  --enable-features LIST      Marathon's --enable_features (secrets,external_volumes,gpu_resources)\n"
	"  --http-credentials-file F   require HTTP basic auth with user:pass from F\n"
	"                              (or env MESOSPHERE_HTTP_CREDENTIALS)\n"
	"  --token-file F              require 'Authorization: token=<contents of F>' (DC/OS style)\n"
	"  --standby-of URL            act as a standby of the leader at URL: proxy every request to it and\n"
	"                              redirect /v2/events (302), as Marathon does (--standby-redirect URL: the same)\n"
	"  --standby-mode MODE         proxy (default; env MARATHON_SIM_STANDBY_MODE) or redirect: answer 307\n"
	"                              to the same URI on the leader for every path\n"
	"  --framework-id ID           GET /v2/info's frameworkId (default: random \"<uuid>-0000\" per start,\n"
	"                              or the \"frameworkId\" member of the --load document)\n"
	"  --request-timeout SECONDS   a client must send its whole request within this long of connecting\n"
	"                              (or of its previous answer), else it is disconnected (default 30)\n"
	"  --version                   print the version and the commit, and exit\n"
	"Apps' env SIM_BEHAVIOR=healthy|unhealthy|crash|slow|unready sets how their tasks behave.\n";

/* The ticker's period: task and deployment times are multiples of it at best. */
#define TICK_MS 10
#define GUARD_EVERY 10 /* ticks between looks for requests past their deadline */
/* Connections at once (each a thread), and how long an answer may go unread. */
#define SIM_MAX_CONNECTIONS 4096
#define SIM_IDLE_TIMEOUT_S 120
#define NSEC_PER_MS 1000000L
#define NSEC_PER_S 1000000000L

struct ticker {
	struct sim *s;
	volatile int stop;
};

static void *ticker_main(void *p)
{
	struct ticker *t = p;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (unsigned n = 0; !t->stop; n++) {
		pthread_mutex_lock(&t->s->mu);
		deploy_tick(t->s);
		pthread_mutex_unlock(&t->s->mu);
		if (n % GUARD_EVERY == 0)
			guard_sweep(t->s);
		/* A fixed rate, not a fixed pause: the time deploy_tick() took is
		 * not added to every period. */
		next.tv_nsec += TICK_MS * NSEC_PER_MS;
		if (next.tv_nsec >= NSEC_PER_S) {
			next.tv_sec++;
			next.tv_nsec -= NSEC_PER_S;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	return NULL;
}

/*
 * The secret in the file a flag names, into *out (free with
 * pacer_secret_free()). A bare name (no '/') that systemd passed as a
 * credential (LoadCredential=NAME:/etc/...) is read from
 * $CREDENTIALS_DIRECTORY, so `--token-file sim-token` works under
 * DynamicUser= with files only root may read. The file's rules (one line,
 * at most PACER_SECRET_MAX) are every pacer program's.
 */
static int flag_secret(const char *flag, const char *path, char **out)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	struct pacer_error *err = NULL;
	char cred_path[PATH_MAX];

	if (!strchr(path, '/') && creds && *creds &&
	    (size_t)snprintf(cred_path, sizeof(cred_path), "%s/%s", creds, path) < sizeof(cred_path) &&
	    access(cred_path, F_OK) == 0)
		path = cred_path;
	if (pacer_secret_read_file(path, flag, 0, out, &err)) {
		fprintf(stderr, "marathon-sim: %s\n", err ? err->message : "out of memory");
		pacer_error_free(err);
		return -1;
	}
	return 0;
}

static char *basic_header(const char *userpass)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(userpass), j = 6;
	char *out = malloc(6 + 4 * ((n + 2) / 3) + 1);
	const unsigned char *in = (const unsigned char *)userpass;

	if (!out)
		return NULL;
	memcpy(out, "Basic ", 6);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
		out[j++] = b64[(v >> 18) & 63];
		out[j++] = b64[(v >> 12) & 63];
		out[j++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[j++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[j] = '\0';
	return out;
}

/* Collect the apps of a loaded document into edits. */
static int collect_load(struct sim *s, struct json_object *doc, const char *gid, struct json_object *defs)
{
	struct json_object *apps, *groups;

	if (json_object_is_type(doc, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(doc); i++)
			if (collect_load(s, json_object_array_get_idx(doc, i), gid, defs))
				return -1;
		return 0;
	}
	if (!json_object_is_type(doc, json_type_object))
		return -1;
	if (!json_object_object_get_ex(doc, "id", NULL) && json_object_object_get_ex(doc, "app", &apps) &&
	    json_object_is_type(apps, json_type_object))
		return collect_load(s, apps, gid, defs); /* a saved GET /v2/apps/{id} answer */
	/* A group, a saved {"apps":[...]}, or a bare {"frameworkId":...}. */
	if (json_object_object_get_ex(doc, "apps", &apps) || json_object_object_get_ex(doc, "groups", &groups) ||
	    (json_object_object_get_ex(doc, "frameworkId", NULL) && !json_object_object_get_ex(doc, "id", NULL))) {
		const char *rid = sim_json_str(doc, "id") ? sim_json_str(doc, "id") : ".";
		char *sub = appid_resolve(gid, rid);
		int rc = 0;
		if (!sub) {
			fprintf(stderr, "marathon-sim: --load: group id '%s' climbs above the root group\n", rid);
			return -1;
		}
		if (json_object_object_get_ex(doc, "apps", &apps))
			for (size_t i = 0; !rc && i < json_object_array_length(apps); i++)
				rc = collect_load(s, json_object_array_get_idx(apps, i), sub, defs);
		if (json_object_object_get_ex(doc, "groups", &groups))
			for (size_t i = 0; !rc && i < json_object_array_length(groups); i++)
				rc = collect_load(s, json_object_array_get_idx(groups, i), sub, defs);
		free(sub);
		return rc;
	}
	{
		struct json_object *def = NULL, *err = NULL;
		const char *rid = sim_json_str(doc, "id");
		char *id = rid ? appid_resolve(gid, rid) : NULL;
		if (rid && !id) {
			fprintf(stderr, "marathon-sim: --load: app id '%s' climbs above the root group\n", rid);
			return -1;
		}
		if (sim_submit(s, doc, id, &def, &err)) {
			fprintf(stderr, "marathon-sim: --load: app %s is invalid: %s\n", id ? id : "(no id)",
				err ? sim_json_text(err) : "out of memory");
			free(id);
			json_object_put(err);
			return -1;
		}
		free(id);
		json_object_array_add(defs, def);
	}
	return 0;
}

/*
 * A --load document may carry the cluster's "frameworkId" at its top level
 * (beside "apps", or among a group's fields): a Marathon restarted on its
 * stored state keeps the id it registered with. --framework-id wins.
 */
static int load_framework_id(struct sim *s, struct json_object *doc, const char *path)
{
	const char *id = json_object_is_type(doc, json_type_object) ? sim_json_str(doc, "frameworkId") : NULL;

	if (!id || s->cfg.framework_id)
		return 0;
	if (!sim_framework_id_ok(id)) {
		fprintf(stderr, "marathon-sim: --load %s: frameworkId '%s' is not 1-63 of A-Z a-z 0-9 . _ : -\n", path, id);
		return -1;
	}
	snprintf(s->framework_id, sizeof(s->framework_id), "%s", id);
	return 0;
}

int sim_load_file(struct sim *s, const char *path)
{
	struct json_object *doc = json_object_from_file(path), *defs = json_object_new_array();
	struct sim_edit *edits = NULL;
	struct sim_result res;
	size_t n;
	int rc = -1;

	if (!doc) {
		fprintf(stderr, "marathon-sim: --load %s: not readable JSON (%s)\n", path, json_util_get_last_err());
		goto done;
	}
	if (load_framework_id(s, doc, path) || collect_load(s, doc, "/", defs))
		goto done;
	/* defs holds everything now; the raw document is as big again. */
	json_object_put(doc);
	doc = NULL;
	n = json_object_array_length(defs);
	edits = calloc(n + 1, sizeof(*edits));
	if (!edits)
		goto done;
	for (size_t i = 0; i < n; i++) {
		edits[i].after = json_object_array_get_idx(defs, i);
		edits[i].id = sim_json_str(edits[i].after, "id");
		edits[i].donate = 1; /* defs is only put below */
	}
	if (sim_apply(s, edits, n, 1, &res)) {
		fprintf(stderr, "marathon-sim: --load %s: %s\n", path, res.body ? res.body : "failed");
		free(res.body);
		goto done;
	}
	free(res.body);
	rc = 0;
done:
	free(edits);
	json_object_put(doc);
	json_object_put(defs);
	/* Loading 10,000 apps frees hundreds of MB of parse trees in small
	 * blocks that glibc would otherwise keep: give them back. */
	malloc_trim(0);
	return rc;
}

static int parse_listen(const char *spec, struct sockaddr_in *sa)
{
	const char *colon = strrchr(spec, ':');
	char host[64];
	char *end;
	long port;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > UINT16_MAX)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	return inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &sa->sin_addr) == 1 ? 0 : -1;
}

/* The longest a timing flag may ask for: an hour. */
#define MAX_FLAG_MS 3600000

static int parse_ms(const char *flag, const char *v, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*end || n < 0 || n > MAX_FLAG_MS) {
		fprintf(stderr, "marathon-sim: %s wants milliseconds (0..%d), got '%s'\n", flag, MAX_FLAG_MS, v);
		return -1;
	}
	*out = (int)n;
	return 0;
}

/* 1..3600 seconds, into milliseconds. */
static int parse_seconds(const char *flag, const char *v, int *out_ms)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < 1 || n > 3600) {
		fprintf(stderr, "marathon-sim: %s wants seconds (1..3600), got '%s'\n", flag, v);
		return -1;
	}
	*out_ms = (int)n * 1000;
	return 0;
}

static int parse_agents(const char *v, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*end || n < 1 || n > SIM_MAX_AGENTS) {
		fprintf(stderr, "marathon-sim: --agents wants a number of agents (1..%d), got '%s'\n", SIM_MAX_AGENTS, v);
		return -1;
	}
	*out = (int)n;
	return 0;
}

/* Flags whose values are looked at after parsing (files, lists, the standby). */
struct flag_files {
	const char *features, *cred_file, *token_file, *standby, *standby_mode;
};

/* Returns 0, 1 for --help (printed), or -1 with a message on stderr. */
static int parse_flags(struct sim *s, int argc, char **argv, struct flag_files *ff)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(USAGE, stdout);
			return 1;
		}
		if (!strcmp(a, "--version")) {
			printf("marathon-sim %s (commit %s)\n", PACER_VERSION, PACER_COMMIT);
			return 1;
		}
		if (!v) {
			fprintf(stderr, "marathon-sim: %s needs a value (or unknown flag)\n%s", a, USAGE);
			return -1;
		}
		i++;
		if (!strcmp(a, "--listen"))
			s->cfg.listen = v;
		else if (!strcmp(a, "--task-launch-ms")) {
			if (parse_ms(a, v, &s->cfg.task_launch_ms))
				return -1;
		} else if (!strcmp(a, "--health-ms")) {
			if (parse_ms(a, v, &s->cfg.health_ms))
				return -1;
		} else if (!strcmp(a, "--kill-ms")) {
			if (parse_ms(a, v, &s->cfg.kill_ms))
				return -1;
		} else if (!strcmp(a, "--request-timeout")) {
			if (parse_seconds(a, v, &s->cfg.request_timeout_ms))
				return -1;
		} else if (!strcmp(a, "--agents")) {
			if (parse_agents(v, &s->cfg.agents))
				return -1;
		} else if (!strcmp(a, "--load"))
			s->cfg.load_file = v;
		else if (!strcmp(a, "--mesos-role"))
			s->cfg.flags.mesos_role = v;
		else if (!strcmp(a, "--enable-features"))
			ff->features = v;
		else if (!strcmp(a, "--http-credentials-file"))
			ff->cred_file = v;
		else if (!strcmp(a, "--token-file"))
			ff->token_file = v;
		else if (!strcmp(a, "--standby-of") || !strcmp(a, "--standby-redirect"))
			ff->standby = v;
		else if (!strcmp(a, "--standby-mode"))
			ff->standby_mode = v;
		else if (!strcmp(a, "--framework-id"))
			s->cfg.framework_id = v;
		else {
			fprintf(stderr, "marathon-sim: unknown flag %s\n%s", a, USAGE);
			return -1;
		}
	}
	return 0;
}

/*
 * --standby-of URL (or its older name --standby-redirect URL) and
 * --standby-mode proxy|redirect, whose default comes from
 * MARATHON_SIM_STANDBY_MODE, else proxy: a Marathon standby proxies.
 */
static int configure_standby(struct sim *s, const struct flag_files *ff)
{
	const char *mode = ff->standby_mode ? ff->standby_mode : getenv("MARATHON_SIM_STANDBY_MODE");
	size_t n;

	if (mode && *mode && strcmp(mode, "proxy") && strcmp(mode, "redirect")) {
		fprintf(stderr, "marathon-sim: --standby-mode (or MARATHON_SIM_STANDBY_MODE) is proxy or redirect, not '%s'\n",
			mode);
		return -1;
	}
	s->cfg.standby_redirect = mode && !strcmp(mode, "redirect");
	if (!ff->standby)
		return 0;
	if (strncmp(ff->standby, "http://", 7) && strncmp(ff->standby, "https://", 8)) {
		fprintf(stderr, "marathon-sim: --standby-of wants the leader's base URL (http://HOST:PORT), got '%s'\n",
			ff->standby);
		return -1;
	}
	/* The request URI is appended as it came: no slash of our own at the end. */
	n = strlen(ff->standby);
	while (n > 8 && ff->standby[n - 1] == '/')
		n--;
	if (!(s->cfg.standby_url = strndup(ff->standby, n)))
		return -1;
	return 0;
}

/*
 * HTTP basic auth from "user:password": --http-credentials-file, else
 * MESOSPHERE_HTTP_CREDENTIALS (Marathon's own variable), its _FILE or the
 * systemd credential mesosphere-http-credentials. Neither: no basic auth.
 */
static int configure_basic_auth(struct sim *s, const char *cred_file)
{
	struct pacer_error *err = NULL;
	char *up = NULL;
	int rc = -1;

	if (cred_file) {
		if (flag_secret("--http-credentials-file", cred_file, &up))
			goto done;
	} else if (pacer_secret_lookup(getenv, "MESOSPHERE_HTTP_CREDENTIALS", 0, &up, &err)) {
		fprintf(stderr, "marathon-sim: %s\n", err ? err->message : "out of memory");
		goto done;
	}
	if (up && !strchr(up, ':')) {
		fprintf(stderr, "marathon-sim: HTTP credentials must be 'user:password'\n");
		goto done;
	}
	if (up && !(s->cfg.basic_auth = basic_header(up)))
		goto done;
	rc = 0;
done:
	pacer_secret_free(up);
	pacer_error_free(err);
	return rc;
}

/* Everything the flags name: addresses, secrets, the framework id, --load. */
static int configure(struct sim *s, const struct flag_files *ff, struct sockaddr_in *sa)
{
	if (!s->cfg.listen) {
		fprintf(stderr, "marathon-sim: --listen ADDR:PORT is required (e.g. --listen 127.0.0.1:0)\n%s", USAGE);
		return -1;
	}
	if (parse_listen(s->cfg.listen, sa)) {
		fprintf(stderr, "marathon-sim: --listen '%s' is not IPv4ADDR:PORT (e.g. 127.0.0.1:8080)\n", s->cfg.listen);
		return -1;
	}
	s->cfg.flags.features = appdef_parse_features(ff->features);
	if (configure_basic_auth(s, ff->cred_file))
		return -1;
	if (ff->token_file && flag_secret("--token-file", ff->token_file, &s->cfg.token))
		return -1;
	if (configure_standby(s, ff))
		return -1;
	if (s->cfg.framework_id) {
		if (!sim_framework_id_ok(s->cfg.framework_id)) {
			fprintf(stderr, "marathon-sim: --framework-id '%s': use 1-63 of A-Z a-z 0-9 . _ : -\n",
				s->cfg.framework_id);
			return -1;
		}
		snprintf(s->framework_id, sizeof(s->framework_id), "%s", s->cfg.framework_id);
	}
	if (s->cfg.load_file && sim_load_file(s, s->cfg.load_file))
		return -1;
	return 0;
}

/* Enough open files for every connection: the soft limit is raised towards the hard one. */
static void raise_nofile(rlim_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static struct MHD_Daemon *start_daemon(struct sim *s, struct sockaddr_in *sa)
{
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *di;

	/*
	 * A thread per connection, so that a slow answer (a fault's latency,
	 * the event stream) holds only its own; poll(), not select(), so that
	 * descriptors past FD_SETSIZE work; a deadline for each request
	 * (guard.c) and an idle timeout for answers nobody reads, so that
	 * connections a client abandons or trickles are given back.
	 */
	raise_nofile(SIM_MAX_CONNECTIONS + 256);
	d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL,
			     NULL, server_handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)sa,
			     MHD_OPTION_URI_LOG_CALLBACK, server_uri_log, s, MHD_OPTION_NOTIFY_COMPLETED,
			     server_completed, s, MHD_OPTION_NOTIFY_CONNECTION, guard_notify, s,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned)SIM_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
			     (unsigned)SIM_IDLE_TIMEOUT_S, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "marathon-sim: cannot listen on %s: %s (port in use?)\n", s->cfg.listen, strerror(errno));
		return NULL;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : ntohs(sa->sin_port);
	return d;
}

/* The base URL on the first line of stdout: tests and scripts read it. */
static int announce(struct sim *s, const struct sockaddr_in *sa)
{
	char ip[64];

	inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
	if (!strcmp(ip, "0.0.0.0"))
		snprintf(ip, sizeof(ip), "127.0.0.1");
	printf("http://%s:%d\n", ip, s->port);
	if (fflush(stdout))
		return -1;
	fprintf(stderr, "marathon-sim: serving Marathon 1.10 API on port %d (task-launch %d ms, health %d ms, "
		"framework %s)\n", s->port, s->cfg.task_launch_ms, s->cfg.health_ms, s->framework_id);
	return 0;
}

int main(int argc, char **argv)
{
	static struct sim s;
	struct sockaddr_in sa;
	struct MHD_Daemon *d = NULL;
	struct flag_files ff = {NULL, NULL, NULL, NULL, NULL};
	struct ticker t = {&s, 0};
	pthread_t tid;
	sigset_t sigs;
	int sig = 0, rc = 1, ticker_started = 0, parsed;

	/* libcurl (the standby's proxy) is set up before any thread starts. */
	if (sim_init(&s) || curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "marathon-sim: out of memory\n");
		return 1;
	}
	s.cfg.task_launch_ms = 500;
	s.cfg.health_ms = 500;
	s.cfg.kill_ms = -1;
	s.cfg.request_timeout_ms = 30000;
	parsed = parse_flags(&s, argc, argv, &ff);
	if (parsed) {
		rc = parsed > 0 ? 0 : 1;
		goto done;
	}
	/* Kills scale with launches unless set: tests that shorten one shorten both. */
	if (s.cfg.kill_ms < 0)
		s.cfg.kill_ms = s.cfg.task_launch_ms / 10;
	if (configure(&s, &ff, &sa))
		goto done;

	/* Signals are taken by sigwait() below; every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (!(d = start_daemon(&s, &sa)))
		goto done;
	if (pthread_create(&tid, NULL, ticker_main, &t)) {
		fprintf(stderr, "marathon-sim: cannot start the ticker thread\n");
		goto done;
	}
	ticker_started = 1;
	if (announce(&s, &sa))
		goto done;
	while (sigwait(&sigs, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		;
	rc = 0;
done:
	if (ticker_started) {
		t.stop = 1;
		pthread_join(tid, NULL);
	}
	if (d) {
		events_shutdown(s.events);
		faults_shutdown(&s);
		MHD_stop_daemon(d);
	}
	sim_release(&s);
	curl_global_cleanup();
	return rc;
}
