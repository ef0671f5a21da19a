/*
 * Shared setup of the pacer subcommands: open the source, the Marathon
 * client, the state directory (lock first, then state and backups).
 * main() calls cli_env_open() with the flags of the command's row
 * (commands.h); watch and serve still call it themselves.
 *
 * The order is the one in which failures are cheapest to report: what the
 * command line alone shows (check_usage) before anything is created, the
 * state directory (and its lock) before the backends are made, and the
 * source last, so that a failure there is the source's own (exit 5).
 */
#include "cmd/pacer/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/backup/store.h"
#include "backends/fs/durable.h"
#include "backends/fs/lock.h"
#include "backends/fs/source.h"
#include "backends/fs/state.h"
#include "backends/git/source.h"
#include "backends/marathon/client.h"
#include "cmd/pacer/env.h"
#include "reconcile/base/files.h"
#include "reconcile/base/log.h"
#include "reconcile/base/strdist.h"
#include "reconcile/model/appid.h"

/* The state directory, the git cache and the backups hold credentials and
 * live definitions: only pacer's user may read them. */
#define CLI_DIR_MODE 0700

static volatile sig_atomic_t cli_stop;
static volatile sig_atomic_t cli_wake_fd = -1;

/*
 * Only a flag: the engine polls it between requests (no work in a
 * handler); and a byte down an event loop's self-pipe, so that its poll()
 * returns at once.
 */
static void on_signal(int sig)
{
	int saved = errno;

	(void)sig;
	cli_stop = 1;
	if (cli_wake_fd >= 0 && write(cli_wake_fd, "x", 1) < 0) {
		/* the pipe is full: the loop wakes anyway */
	}
	errno = saved;
}

void cli_signals_wake(int fd)
{
	cli_wake_fd = fd;
}

volatile sig_atomic_t *cli_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed terminal or `systemctl reload` must not kill a run mid-way:
	 * SIGHUP stops like SIGTERM (the journal hands over what is in flight). */
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return &cli_stop;
}

char **cli_app_ids(const char *cmd, char **pos, int npos)
{
	char **ids = calloc((size_t)npos + 1, sizeof(*ids));

	for (int i = 0; ids && i < npos; i++) {
		if (!(ids[i] = appid_resolve("/", pos[i]))) {
			fprintf(stderr, "pacer %s: '%s' is not an app id\n", cmd, pos[i]);
			pacer_strv_free(ids);
			return NULL;
		}
	}
	return ids;
}

const char *cli_user(void)
{
	static char uid[32];
	const char *u = getenv("SUDO_USER");

	if (!u || !*u)
		u = getenv("USER");
	if (u && *u)
		return u;
	snprintf(uid, sizeof(uid), "uid %ld", (long)getuid());
	return uid;
}

static const char *cli_cmd_name = "pacer";

void cli_set_command(const char *name)
{
	cli_cmd_name = name ? name : "pacer";
}

const char *cli_command(void)
{
	return cli_cmd_name;
}

/* Codes without an exit code of their own are 1: the message says the rest. */
int cli_exit_for(int code)
{
	switch (code) {
	case PACER_OK:
		return PACER_EXIT_OK;
	case PACER_EINVALID:
		return PACER_EXIT_INVALID;
	case PACER_EUNREACHABLE:
		return PACER_EXIT_UNREACHABLE;
	case PACER_EBUSY:
		return PACER_EXIT_LOCKED;
	case PACER_ECLUSTER:
		return PACER_EXIT_CLUSTER;
	case PACER_EAUTH:
		return PACER_EXIT_AUTH;
	default:
		return PACER_EXIT_FAILED;
	}
}

int cli_exit_for_error(const struct pacer_error *err)
{
	int status = 0;

	/* The innermost HTTP status says what Marathon answered. */
	for (const struct pacer_error *e = err; e; e = e->cause)
		if (e->http_status)
			status = e->http_status;
	if (status == 502 || status == 503 || status == 504)
		return PACER_EXIT_UNREACHABLE;
	if (status == 401 || status == 403)
		return PACER_EXIT_AUTH;
	return cli_exit_for(err ? pacer_error_root_code(err) : PACER_EGENERIC);
}

void cli_print_error(const char *cmd, const struct pacer_error *err)
{
	char *text = pacer_error_format(err);
	char *clean = text ? pacer_log_redact(text) : NULL;

	fprintf(stderr, "pacer %s: %s\n", cmd, clean ? clean : "unknown error");
	free(clean);
	free(text);
}

void cli_print_diags(const struct pacer_desired *d)
{
	for (size_t i = 0; d && i < d->ndiags; i++) {
		char *text = pacer_error_format(d->diags[i].error);

		fprintf(stderr, "%s: %s\n", d->diags[i].is_error ? "error" : "warning",
			text ? text : "?");
		free(text);
	}
}

int cli_color(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDOUT_FILENO) && !(nc && *nc);
}

int cli_source_is_git(const char *s)
{
	const char *colon, *slash;
	struct stat st;

	if (strstr(s, "://"))
		return 1;
	if (!stat(s, &st))
		return 0; /* an existing local path is a directory source */
	/* scp-like: user@host:path, with no slash before the colon. */
	colon = strchr(s, ':');
	slash = strchr(s, '/');
	return colon && (!slash || colon < slash);
}

/*
 * The git cache lives in the state directory, so it shares its lock: two
 * runs never fetch into the same bare repository at once. Credentials come
 * from env.c and are wiped as soon as gitsrc_new() has copied them.
 */
static int open_source(struct cli_env *env, const struct cli_common *c, struct pacer_error **err)
{
	struct gitsrc_options go = GITSRC_OPTIONS_INIT;
	struct env_strings keep = {0};
	char *cache = NULL;
	int rc;

	if (!cli_source_is_git(c->source))
		return fs_source_new(&env->source, c->source, err);
	if (asprintf(&cache, "%s/git", env->state_dir) < 0)
		return -1;
	rc = pacer_mkdir_p(cache, CLI_DIR_MODE, err);
	if (rc)
		goto done;
	go.url = c->source;
	go.ref = c->ref;
	go.path = c->path;
	go.cache_dir = cache;
	/* SIGINT/SIGTERM interrupt a fetch that hangs (libgit2 has no timeout). */
	_Static_assert(sizeof(sig_atomic_t) == sizeof(int), "sig_atomic_t is an int here");
	go.cancel = (const volatile int *)cli_install_signals();
	go.timeout_s = c->git_timeout;
	rc = env_gitsrc_options(&go, &keep, err);
	if (rc)
		goto done;
	rc = gitsrc_new(&env->source, &go, err);
done:
	env_strings_release(&keep);
	free(cache);
	return rc;
}

static int open_marathon(struct cli_env *env, const struct cli_common *c, struct pacer_error **err)
{
	struct marathon_options mo = MARATHON_OPTIONS_INIT;
	struct env_strings keep = {0};
	int rc;

	/* --marathon or PACER_MARATHON_URL (the option table's row). */
	if (c->marathon && *c->marathon)
		mo.urls = c->marathon;
	rc = env_marathon_options(&mo, &keep, err);
	if (rc)
		goto done;
	if (!mo.urls || !*mo.urls)
		mo.urls = "http://127.0.0.1:8080";
	mo.ca_file = c->ca_file;
	mo.insecure = c->insecure;
	if (c->request_timeout > 0)
		mo.timeout_ms = c->request_timeout * 1000L;
	if (c->insecure)
		PLOG_WARN("TLS verification of Marathon is off (--marathon-insecure)");
	rc = marathon_new(&env->marathon, &mo, err);
done:
	env_strings_release(&keep);
	return rc;
}

static int open_state(struct cli_env *env, const struct cli_common *c, unsigned needs,
		      struct pacer_error **err)
{
	int rc;

	rc = pacer_mkdir_p(env->state_dir, CLI_DIR_MODE, err);
	if (rc)
		return rc;
	if (needs & CLI_LOCK_PER_RUN) {
		/* Swept while nobody runs; each sync then takes the lock itself. */
		struct fslock *l = NULL;

		if (fslock_acquire(env->state_dir, FSLOCK_NOWAIT, &l, NULL) == 0) {
			fs_state_sweep(env->state_dir);
			durable_sweep_temps(env->backup_dir, 0);
			fslock_release(l);
		}
		rc = fs_state_new(&env->state, env->state_dir, err);
		if (rc)
			return rc;
	} else if (needs & CLI_NEED_STATE) {
		/* The lock comes first: nothing of the state is read before it is ours. */
		rc = fslock_acquire(env->state_dir, c->wait_lock ? FSLOCK_WAIT : FSLOCK_NOWAIT,
		                    &env->lock, err);
		if (rc)
			return rc;
		rc = fs_state_new(&env->state, env->state_dir, err);
		if (rc)
			return rc;
		/* Writes a crash cut short: the lock is ours, so none is in progress. */
		fs_state_sweep(env->state_dir);
		durable_sweep_temps(env->backup_dir, 0);
	}
	rc = pacer_mkdir_p(env->backup_dir, CLI_DIR_MODE, err);
	if (rc)
		return rc;
	return backup_store_new(&env->backups, env->backup_dir, err);
}

/* ---- the log --------------------------------------------------------------- */

void cli_log_early(int argc, char **argv)
{
	const char *f = getenv("PACER_LOG_FORMAT");
	int fmt;

	/* The flag wins over the variable, as opt_parse() will decide later. */
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strncmp(argv[i], "--log-format=", 13))
			f = argv[i] + 13;
		else if (!strcmp(argv[i], "--log-format") && i + 1 < argc)
			f = argv[++i];
	}
	if (f && (fmt = pacer_log_parse_format(f)) >= 0)
		pacer_log_set_format(fmt);
	pacer_log_set_priority_prefix(
	    pacer_log_stderr_is_journal(getenv("JOURNAL_STREAM"), STDERR_FILENO));
}

int cli_log_open(const struct cli_common *c)
{
	int level, format = -1;

	level = c->log_level ? pacer_log_parse_level(c->log_level) : PACER_LOG_INFO;
	if (level < 0) {
		fprintf(stderr, "pacer %s: --log-level must be error, warn, info or debug, not '%s'\n",
			cli_command(), c->log_level);
		return PACER_EXIT_USAGE;
	}
	if (c->log_format && (format = pacer_log_parse_format(c->log_format)) < 0) {
		fprintf(stderr, "pacer %s: --log-format must be text, logfmt or json, not '%s'\n",
			cli_command(), c->log_format);
		return PACER_EXIT_USAGE;
	}
	/* On a terminal the progress display replaces the info lines, unless asked. */
	if (!c->log_level && isatty(STDERR_FILENO))
		level = PACER_LOG_WARN;
	pacer_log_set_level(c->quiet ? PACER_LOG_ERROR : level);
	/* A command without the row keeps what cli_log_early() found. */
	if (format >= 0)
		pacer_log_set_format(format);
	pacer_log_set_priority_prefix(
	    pacer_log_stderr_is_journal(getenv("JOURNAL_STREAM"), STDERR_FILENO));
	return 0;
}

/* ---- the environment of a run -------------------------------------------------- */

/*
 * What the command line alone can tell is wrong is a usage error, found
 * before anything is created (no ./.pacer for a command that cannot run):
 * the output format, the log options, and a source that is missing or a
 * local directory that is not there.
 */
static int check_usage(const struct cli_common *c, unsigned needs)
{
	struct stat st;
	int code;

	if (c->output && strcmp(c->output, "text") && strcmp(c->output, "json")) {
		fprintf(stderr, "pacer %s: --output must be text or json, not '%s'\n", cli_command(),
			c->output);
		return PACER_EXIT_USAGE;
	}
	if ((code = cli_log_open(c)))
		return code;
	if (!(needs & CLI_NEED_SOURCE))
		return 0;
	if (!c->source || !*c->source) {
		fprintf(stderr, "pacer %s: no desired state: pass --source DIR (or a git URL), or set "
				"PACER_SOURCE\n", cli_command());
		return PACER_EXIT_USAGE;
	}
	if (cli_source_is_git(c->source))
		return 0;
	if (stat(c->source, &st)) {
		fprintf(stderr, "pacer %s: the source directory '%s' %s: check --source (or "
				"PACER_SOURCE)\n", cli_command(), c->source,
			errno == ENOENT ? "does not exist" : strerror(errno));
		return PACER_EXIT_USAGE;
	}
	if (c->ref || c->path) {
		fprintf(stderr, "pacer %s: --ref and --path only apply to a git source, and '%s' is "
				"a directory\n", cli_command(), c->source);
		return PACER_EXIT_USAGE;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "pacer %s: the source '%s' is not a directory: --source names a "
				"directory of definition files, or a git URL\n", cli_command(),
			c->source);
		return PACER_EXIT_USAGE;
	}
	return 0;
}

static void choose_flags(struct cli_env *env, const struct cli_common *c)
{
	if (c->mesos_role || c->features) {
		env->flags.mesos_role = c->mesos_role;
		env->flags.features = appdef_parse_features(c->features);
	} else {
		/*
		 * Unknown server flags: check with the most permissive set Marathon
		 * ships (DC/OS's), so pacer refuses only what every Marathon refuses;
		 * what this server's flags reject comes back as its own 422.
		 */
		struct appdef_flags dcos = APPDEF_FLAGS_DCOS;

		env->flags = dcos;
	}
}

/*
 * --state-dir, else systemd's $STATE_DIRECTORY, else ./.pacer; the backups
 * default to a folder inside it, so one directory holds all a run keeps.
 */
static int choose_dirs(struct cli_env *env, const struct cli_common *c)
{
	const char *sd = c->state_dir;

	if (!sd || !*sd)
		sd = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */
	if (!sd || !*sd)
		sd = ".pacer";
	env->state_dir = strdup(sd);
	if (c->backup_dir && *c->backup_dir)
		env->backup_dir = strdup(c->backup_dir);
	else if (asprintf(&env->backup_dir, "%s/backups", sd) < 0)
		env->backup_dir = NULL;
	return env->state_dir && env->backup_dir ? 0 : -1;
}

/*
 * On failure everything opened so far is released here, so the caller has
 * nothing to clean up: it returns the exit code.
 */
int cli_env_open(struct cli_env *env, const struct cli_common *c, unsigned needs)
{
	struct pacer_error *err = NULL;
	int rc = 0, code, failed_source = 0;

	memset(env, 0, sizeof(*env));
	if ((code = check_usage(c, needs)))
		return code;
	choose_flags(env, c);
	if ((rc = choose_dirs(env, c)))
		goto done;
	if (needs & (CLI_NEED_STATE | CLI_NEED_BACKUPS | CLI_LOCK_PER_RUN)) {
		rc = open_state(env, c, needs, &err);
		if (rc)
			goto done;
	}
	if ((needs & CLI_READ_STATE) && !env->state) {
		struct stat st;

		if (stat(env->state_dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		    (rc = fs_state_new(&env->state, env->state_dir, &err)))
			goto done;
	}
	if (needs & CLI_NEED_MARATHON) {
		rc = open_marathon(env, c, &err);
		if (rc)
			goto done;
	}
	if (needs & CLI_NEED_SOURCE) {
		rc = open_source(env, c, &err);
		failed_source = rc != 0;
		if (rc)
			goto done;
	}
done:
	if (rc) {
		int root = err ? pacer_error_root_code(err) : rc;

		cli_print_error(cli_command(), err);
		code = cli_exit_for_error(err);
		pacer_error_free(err);
		cli_env_release(env);
		/* A source that cannot be opened has its own exit code. */
		if (failed_source && root != PACER_EINVALID)
			return PACER_EXIT_SOURCE;
		return code;
	}
	return 0;
}

void cli_env_release(struct cli_env *env)
{
	pacer_source_free(env->source);
	pacer_marathon_free(env->marathon);
	pacer_backup_store_free(env->backups);
	pacer_state_store_free(env->state);
	fslock_release(env->lock);
	free(env->state_dir);
	free(env->backup_dir);
	memset(env, 0, sizeof(*env));
}

const char *cli_cache_tag(void)
{
	static char tag[160];
	const char *off = getenv("PACER_NO_CACHE");
	struct stat st;

	if (off && *off && strcmp(off, "0"))
		return NULL;
	if (stat("/proc/self/exe", &st) < 0)
		return NULL;
	/* Another build or install of pacer is another file: its cache is not ours. */
	snprintf(tag, sizeof(tag), "pacer-%s exe=%llu:%llu:%lld:%lld.%09ld", PACER_VERSION,
	         (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, (long long)st.st_size,
	         (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	return tag;
}

int cli_apply_options(const struct cli_apply *a, struct sync_options *so)
{
	if (!a->on_failure || !strcmp(a->on_failure, "rollback"))
		so->on_failure = SYNC_ON_FAILURE_ROLLBACK;
	else if (!strcmp(a->on_failure, "restart"))
		so->on_failure = SYNC_ON_FAILURE_RESTART;
	else if (!strcmp(a->on_failure, "none"))
		so->on_failure = SYNC_ON_FAILURE_NONE;
	else
		return -1;
	so->prune = a->prune;
	so->force_prune = a->force_prune;
	so->atomic = a->atomic;
	so->ignore_instances = a->ignore_instances;
	so->retry_failed = a->retry_failed;
	if (a->parallel >= 0)
		so->parallel = a->parallel;
	if (a->timeout >= 0)
		so->timeout_s = a->timeout;
	return 0;
}

/* ---- unknown PACER_* variables ------------------------------------------ */


/* 1 when every _-separated word of `name` is a word of `known`, in order. */
static int env_words_in(const char *name, const char *known)
{
	const char *p = name + strlen("PACER_"), *k = known + strlen("PACER_");

	while (*p) {
		size_t len = strcspn(p, "_");
		const char *hit = k;

		/* whole words only: CA in PACER_MARATHON_CA_FILE, not in CACHE */
		while (*hit) {
			size_t wlen = strcspn(hit, "_");

			if (wlen == len && !strncmp(hit, p, len))
				break;
			hit += wlen;
			if (*hit == '_')
				hit++;
		}
		if (!*hit)
			return 0;
		k = hit + len;
		p += len;
		if (*p == '_')
			p++;
	}
	return 1;
}

void cli_warn_unknown_env(const char *const *known, size_t n)
{
	extern char **environ;

	for (char **e = environ; e && *e; e++) {
		char name[96];
		size_t len = strcspn(*e, "=");
		const char *best = NULL;
		size_t best_d = (size_t)-1;
		int known_name = 0;

		if (strncmp(*e, "PACER_", 6) || len >= sizeof(name))
			continue;
		memcpy(name, *e, len);
		name[len] = '\0';
		for (size_t i = 0; i < n && !known_name; i++)
			known_name = !strcmp(name, known[i]);
		if (known_name)
			continue;
		/*
		 * The nearest name: one or two typos away (fewer in a short name:
		 * PACER_FOO is no typo of PACER_BIN), or the same words with more.
		 */
		for (size_t i = 0; i < n; i++) {
			size_t d = strdist(name, known[i], 0);
			int typo = d <= 2 && d * 3 <= len - strlen("PACER_");

			if ((typo || env_words_in(name, known[i])) && d < best_d) {
				best = known[i];
				best_d = d;
			}
		}
		if (best)
			PLOG_WARN("environment: %s is not a pacer variable and is ignored; did you "
			          "mean %s?",
			          name, best);
		else
			PLOG_WARN("environment: %s is not a pacer variable and is ignored (pacer(1) "
			          "lists them)",
			          name);
	}
}
