/*
 * client.c: options, construction, and the Marathon endpoints on top of
 * marathon__request() (http.c). See client.h for the contract.
 */
#include "backends/marathon/client.h"
#include "backends/marathon/http.h"
#include "backends/marathon/split.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/log.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- construction ----------------------------------------------------- */

/* curl_global_init() is not thread-safe and must run once per process:
 * clients made by several threads at once share this one call. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void marathon__free(struct pacer_marathon *m)
{
	struct marathon_client *c = (struct marathon_client *)m;

	if (!c)
		return;
	marathon__pool_clear(c);
	for (size_t i = 0; i < c->nurls; i++)
		free(c->urls[i]);
	free(c->urls);
	free(c->user);
	free(c->password);
	free(c->token);
	free(c->ca_file);
	free(c->auth_header);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* The free slot tells our vtable from a test double's: no type tag needed. */
struct marathon_client *marathon__client(struct pacer_marathon *m, struct pacer_error **err)
{
	if (!m || m->free != marathon__free) {
		pacer_error_set(
		    err, PACER_EINVALID,
		    "internal: this call needs a Marathon client made by marathon_new()");
		return NULL;
	}
	return (struct marathon_client *)m;
}

static int dup_opt(char **slot, const char *value)
{
	if (!value)
		return 0;
	*slot = strdup(value);
	return *slot ? 0 : -1;
}

#define API_ROOT "/v2"

/*
 * "http://m:8080/v2" names Marathon's API root, which is how its docs write
 * it; pacer adds "/v2/..." itself and would ask for /v2/v2/apps (a 404
 * that says nothing useful). The base is the URL without it.
 */
static void strip_api_root(char *url)
{
	size_t n = strlen(url), root = strlen(API_ROOT);

	if (n < root || strcmp(url + n - root, API_ROOT))
		return;
	url[n - root] = '\0';
	PLOG_WARN("marathon: the URL %s/v2 names the API root; pacer adds /v2 itself and uses %s",
	          url, url);
}

/* s without its leading and trailing blanks (cut in place). */
static char *trim_blanks(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* Add one base URL of the list; an error names it by its number. */
static int add_url(struct marathon_client *c, const char *url, struct pacer_error **err)
{
	char *user = NULL, *pass = NULL, *clean = marathon__url_clean(url, &user, &pass), **grown;

	if (!clean)
		/* Do not echo the text: it may carry a password. */
		return pacer_error_set(err, PACER_EINVALID,
		                       "Marathon URL number %zu is not a valid http:// or https:// "
		                       "URL: fix --marathon / PACER_MARATHON_URL",
		                       c->nurls + 1);
	strip_api_root(clean);
	/* One set of credentials for every URL (they are one cluster): the
	 * first URL that carries some gives them; "user@" alone means an
	 * empty password. */
	if (user && *user && !c->user) {
		c->user = user;
		c->password = pass ? pass : strdup("");
		pacer_log_add_secret(c->password);
		user = pass = NULL;
	}
	free(user);
	free(pass);
	grown = realloc(c->urls, (c->nurls + 1) * sizeof(*grown));
	if (!grown) {
		free(clean);
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	}
	c->urls = grown;
	c->urls[c->nurls++] = clean;
	return 0;
}

/* Split "a,b , c" into clean base URLs; credentials in a URL become basic auth. */
static int parse_urls(struct marathon_client *c, const char *list, struct pacer_error **err)
{
	char *copy = strdup(list ? list : ""), *save = NULL, *tok;
	int rc = 0;

	if (!copy)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		tok = trim_blanks(tok);
		if (*tok)
			rc = add_url(c, tok, err);
	}
	if (!rc && !c->nurls)
		rc = pacer_error_set(err, PACER_EINVALID,
		                     "no Marathon URL: give --marathon http://host:8080 or set "
		                     "PACER_MARATHON_URL (several URLs comma separated)");
	free(copy);
	return rc;
}

static int client_list_apps(struct pacer_marathon *m, struct json_object **out,
                            struct pacer_error **err);
static int client_list_apps_raw(struct pacer_marathon *m, pacer_marathon_app_cb cb, void *ctx,
                                struct pacer_error **err);
static int client_get_app(struct pacer_marathon *m, const char *id, struct json_object **out,
                          struct pacer_error **err);
static int client_put_app(struct pacer_marathon *m, const char *id, struct json_object *app,
                          unsigned flags, struct pacer_deploy_ref *out, struct pacer_error **err);
static int client_create_app(struct pacer_marathon *m, struct json_object *app, unsigned flags,
                             struct pacer_deploy_ref *out, struct pacer_error **err);
static int client_delete_app(struct pacer_marathon *m, const char *id, unsigned flags,
                             struct pacer_deploy_ref *out, struct pacer_error **err);
static int client_restart_app(struct pacer_marathon *m, const char *id, unsigned flags,
                              struct pacer_deploy_ref *out, struct pacer_error **err);
static int client_list_deployments(struct pacer_marathon *m, struct json_object **out,
                                   struct pacer_error **err);
static int client_delete_deployment(struct pacer_marathon *m, const char *id, unsigned flags,
                                    struct pacer_deploy_ref *out, struct pacer_error **err);
static int client_info(struct pacer_marathon *m, struct json_object **out,
                       struct pacer_error **err);

/* The vtable, and the numbers of o with their defaults. */
static void client_init(struct marathon_client *c, const struct marathon_options *o)
{
	c->base.list_apps = client_list_apps;
	c->base.list_apps_raw = client_list_apps_raw;
	c->base.get_app = client_get_app;
	c->base.put_app = client_put_app;
	c->base.create_app = client_create_app;
	c->base.delete_app = client_delete_app;
	c->base.restart_app = client_restart_app;
	c->base.list_deployments = client_list_deployments;
	c->base.delete_deployment = client_delete_deployment;
	c->base.info = client_info;
	c->base.free = marathon__free;
	c->insecure = o->insecure;
	c->connect_timeout_ms =
	    o->connect_timeout_ms > 0 ? o->connect_timeout_ms : MARATHON_DEFAULT_CONNECT_TIMEOUT_MS;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : MARATHON_DEFAULT_TIMEOUT_MS;
	c->retries = o->retries >= 0 ? o->retries : MARATHON_DEFAULT_RETRIES;
	c->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : MARATHON_DEFAULT_BACKOFF_MS;
	c->max_body = o->max_body ? o->max_body : MARATHON_BODY_CAP;
	/* The jitter of backoffs only has to differ between clients started
	 * together: the time, the process and the address are enough. */
	c->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)c;
	if (!c->rng)
		c->rng = 1; /* xorshift stays at 0 forever */
}

/* One kind of authentication, complete, before anything is copied. */
static int check_auth_options(const struct marathon_options *o, struct pacer_error **err)
{
	if (o->user && o->token)
		return pacer_error_set(err, PACER_EINVALID,
		                       "both a Marathon user and a token are set: use basic auth "
		                       "(PACER_MARATHON_USER/PASSWORD) or a token "
		                       "(PACER_MARATHON_TOKEN), not both");
	if ((o->user && !o->password) || (!o->user && o->password))
		return pacer_error_set(err, PACER_EINVALID,
		                       "Marathon basic auth needs both a user and a password: set "
		                       "PACER_MARATHON_USER and PACER_MARATHON_PASSWORD(_FILE)");
	return 0;
}

/* Copy the strings of o and parse the URLs (which may carry basic auth). */
static int copy_options(struct marathon_client *c, const struct marathon_options *o,
                        struct pacer_error **err)
{
	int rc;

	if (dup_opt(&c->user, o->user) || dup_opt(&c->password, o->password) ||
	    dup_opt(&c->token, o->token) || dup_opt(&c->ca_file, o->ca_file))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	pacer_log_add_secret(c->password);
	pacer_log_add_secret(c->token);
	if ((rc = parse_urls(c, o->urls, err)))
		return rc;
	/* Checked again: the URLs may have brought a user of their own. */
	if (c->user && c->token)
		return pacer_error_set(
		    err, PACER_EINVALID,
		    "a Marathon URL carries user:password and a token is set too: "
		    "use one kind of authentication");
	if (c->token && asprintf(&c->auth_header, "Authorization: token=%s", c->token) < 0) {
		c->auth_header = NULL;
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	}
	return 0;
}

/* Say what the options make less safe. */
static void warn_unsafe(const struct marathon_client *c)
{
	if (c->insecure)
		PLOG_WARN("marathon: TLS certificate verification is off (--marathon-insecure)");
	for (size_t i = 0; i < c->nurls; i++)
		if ((c->user || c->token) && !strncmp(c->urls[i], "http:", strlen("http:")))
			PLOG_WARN("marathon: credentials go in clear text to %s (use https)",
			          c->urls[i]);
}

int marathon_new(struct pacer_marathon **out, const struct marathon_options *o,
                 struct pacer_error **err)
{
	struct marathon_options defaults = MARATHON_OPTIONS_INIT;
	struct marathon_client *c = NULL;
	int rc;

	*out = NULL;
	if (!o)
		o = &defaults;
	if (o->version != MARATHON_OPTIONS_VERSION)
		return pacer_error_set(err, PACER_EINVALID,
		                       "internal: marathon_options version %u, expected %u",
		                       o->version, MARATHON_OPTIONS_VERSION);
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return pacer_error_set(err, PACER_EGENERIC, "cannot initialise libcurl: %s",
		                       curl_easy_strerror(curl_init_rc));
	c = calloc(1, sizeof(*c));
	if (!c)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	client_init(c, o);
	if ((rc = check_auth_options(o, err)) || (rc = copy_options(c, o, err))) {
		marathon__free(&c->base);
		return rc;
	}
	warn_unsafe(c);
	*out = &c->base;
	return 0;
}

/* ---- request helpers -------------------------------------------------- */

/* The URL, app and status of the reply an error is about, on *err (if any). */
static void reply_context(struct pacer_error **err, const struct marathon_response *resp,
                          const char *app_id)
{
	if (err && *err) {
		pacer_error_set_url(*err, resp->url);
		pacer_error_set_app(*err, app_id);
		(*err)->http_status = (int)resp->status;
	}
}

/*
 * The whole body as one JSON value into *out (caller owns). The parse must
 * end where the body ends: a value followed by anything else (an HTML page
 * after a proxy's JSON, a second document) is not a Marathon reply.
 */
static int parse_reply(const struct marathon_response *resp, const char *method, const char *app_id,
                       struct json_object **out, struct pacer_error **err)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	struct json_object *parsed;
	int rc = 0;

	if (!tok)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	parsed = json_tokener_parse_ex(tok, resp->body.ptr, (int)resp->body.len);
	if (!parsed || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < resp->body.len) {
		rc = pacer_error_set(err, PACER_EHTTP,
		                     "%s %s: %ld reply is not JSON (%s): is this URL Marathon?",
		                     method, resp->url, resp->status,
		                     json_tokener_error_desc(json_tokener_get_error(tok)));
		reply_context(err, resp, app_id);
		json_object_put(parsed);
		parsed = NULL;
	}
	json_tokener_free(tok);
	*out = parsed;
	return rc;
}

/*
 * One call: method + path (+ JSON body). On success *out (may be NULL) is
 * the parsed reply (caller owns, json_object_put(); NULL for an empty body)
 * and *status (may be NULL) the status.
 */
static int call(struct marathon_client *c, const char *method, const char *path, const char *app_id,
                struct json_object *body, struct json_object **out, long *status,
                struct pacer_error **err)
{
	struct marathon_request rq = {method, path, NULL, NULL, app_id, NULL, NULL, NULL};
	struct marathon_response resp = MARATHON_RESPONSE_INIT;
	struct json_object *copy = NULL;
	int rc;

	if (out)
		*out = NULL;
	if (body) {
		/* json-c serialises into a buffer inside the object: work on a copy so
		 * that a caller's object shared between threads is never written. */
		if (json_object_deep_copy(body, &copy, NULL)) {
			rc = pacer_error_set(err, PACER_EGENERIC, "out of memory");
			goto done;
		}
		rq.body = json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN |
		                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
	}
	rc = marathon__request(c, &rq, &resp, err);
	if (rc)
		goto done;
	if (status)
		*status = resp.status;
	/* A 2xx without a body (a DELETE answered 204, say) is no reply to parse. */
	if (out && resp.body.len)
		rc = parse_reply(&resp, method, app_id, out, err);
done:
	json_object_put(copy);
	marathon__response_release(&resp);
	return rc;
}

/*
 * Take member `key` of type `type` out of reply (consumed) into *out.
 * A reply without it means the server is not the Marathon we expect.
 */
static int take(struct json_object *reply, const char *key, enum json_type type, const char *what,
                struct json_object **out, struct pacer_error **err)
{
	struct json_object *v = NULL;
	int rc = 0;

	if (!json_object_object_get_ex(reply, key, &v) || !json_object_is_type(v, type)) {
		rc = pacer_error_set(err, PACER_EHTTP,
		                     "%s: the reply has no \"%s\" %s: is this URL Marathon?", what,
		                     key, json_type_to_name(type));
		goto done;
	}
	*out = json_object_get(v);
done:
	json_object_put(reply);
	return rc;
}

/* A string member into a fixed field of pacer_deploy_ref: a longer id is
 * cut (ids are UUIDs and timestamps), anything not a string is "". */
static void copy_field(char *dst, size_t size, struct json_object *v)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

	snprintf(dst, size, "%s", s);
}

#define HTTP_CREATED 201

/*
 * The deployment a change started. PUT, DELETE and restart answer
 * {"deploymentId","version"}; POST /v2/apps answers the new app, whose
 * "deployments":[{"id"}] names it.
 */
static void fill_ref(struct pacer_deploy_ref *out, struct json_object *reply, long status)
{
	struct json_object *v, *deps;

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	out->created = status == HTTP_CREATED; /* POST /v2/apps made a new app */
	if (json_object_object_get_ex(reply, "deploymentId", &v)) {
		copy_field(out->deployment_id, sizeof(out->deployment_id), v);
	} else if (json_object_object_get_ex(reply, "deployments", &deps) &&
	           json_object_is_type(deps, json_type_array) &&
	           json_object_array_length(deps) > 0 &&
	           json_object_object_get_ex(json_object_array_get_idx(deps, 0), "id", &v)) {
		copy_field(out->deployment_id, sizeof(out->deployment_id), v);
	}
	if (json_object_object_get_ex(reply, "version", &v))
		copy_field(out->version, sizeof(out->version), v);
}

/* A changing call answering {deploymentId, version}. */
static int change(struct marathon_client *c, const char *method, const char *path,
                  const char *app_id, struct json_object *body, struct pacer_deploy_ref *out,
                  struct pacer_error **err)
{
	struct json_object *reply = NULL;
	long status = 0;
	int rc;

	if (out)
		memset(out, 0, sizeof(*out));
	rc = call(c, method, path, app_id, body, &reply, &status, err);
	if (!rc)
		fill_ref(out, reply, status);
	json_object_put(reply);
	return rc;
}

/* Marathon's boolean query values. Every call spells its flags out, true or
 * false, rather than leaning on Marathon's defaults, which differ per
 * endpoint (DELETE /v2/apps/{id} defaults to force=true). */
static const char *tf(unsigned flags, unsigned bit)
{
	return (flags & bit) ? "true" : "false";
}

/* "/v2/apps/<id><suffix>" into b. */
static int app_path(struct pacer_buf *b, const char *id, const char *suffix,
                    struct pacer_error **err)
{
	int rc;

	pacer_buf_puts(b, "/v2/apps/");
	if ((rc = marathon__append_id(b, id, "app", MARATHON__ID_STRICT, err)))
		return rc;
	if (suffix && pacer_buf_puts(b, suffix))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	return 0;
}

/*
 * GET /v2/apps/<id><suffix> and take member key (of type type) of the
 * reply into *out (caller puts): an app, its versions, its tasks.
 */
static int get_app_member(struct marathon_client *c, const char *id, const char *suffix,
                          const char *key, enum json_type type, struct json_object **out,
                          struct pacer_error **err)
{
	struct pacer_buf path = PACER_BUF_INIT;
	struct json_object *reply = NULL;
	int rc;

	*out = NULL;
	if ((rc = app_path(&path, id, suffix, err)))
		goto done;
	if ((rc = call(c, "GET", pacer_buf_cstr(&path), id, NULL, &reply, NULL, err)))
		goto done;
	rc = take(reply, key, type, pacer_buf_cstr(&path), out, err);
done:
	pacer_buf_release(&path);
	return rc;
}

/* "/v2/apps/<id><suffix><item>" into b, item being one of the app's (what: "task"...). */
static int app_item_path(struct pacer_buf *b, const char *id, const char *suffix, const char *item,
                         const char *what, struct pacer_error **err)
{
	int rc = app_path(b, id, suffix, err);

	return rc ? rc : marathon__append_id(b, item, what, MARATHON__ID_READABLE, err);
}

/* ---- the vtable ------------------------------------------------------- */

/* The one GET /v2/apps of a run, whole (list_apps) or app by app (list_apps_raw). */
#define APPS_LIST_PATH                                                                             \
	"/v2/apps?embed=apps.counts&embed=apps.deployments&embed=apps.lastTaskFailure"

/* Every vtable entry starts by checking that m is ours (a macro, so that
 * it can return from the entry). */
#define CLIENT(m)                                                                                  \
	struct marathon_client *c = marathon__client((m), err);                                    \
	if (!c)                                                                                    \
	return PACER_EINVALID

static int client_list_apps(struct pacer_marathon *m, struct json_object **out,
                            struct pacer_error **err)
{
	struct json_object *reply = NULL;
	int rc;
	CLIENT(m);

	*out = NULL;
	rc = call(c, "GET", APPS_LIST_PATH, NULL, NULL, &reply, NULL, err);
	if (rc)
		return rc;
	return take(reply, "apps", json_type_array, "GET /v2/apps", out, err);
}

static int client_list_apps_raw(struct pacer_marathon *m, pacer_marathon_app_cb cb, void *ctx,
                                struct pacer_error **err)
{
	struct marathon_request rq = {"GET", APPS_LIST_PATH, NULL, NULL, NULL, NULL, NULL, NULL};
	struct marathon_response resp = MARATHON_RESPONSE_INIT;
	int rc;
	CLIENT(m);

	if ((rc = marathon__request(c, &rq, &resp, err)))
		goto done;
	/* Not call(): the list is never parsed whole (split.h says why). */
	rc = split_array_member(resp.body.ptr ? resp.body.ptr : "", resp.body.len, "apps", cb, ctx);
	if (rc == 1) {
		rc = pacer_error_set(err, PACER_EHTTP,
		                     "GET %s: %ld reply is not Marathon's app list (no \"apps\" "
		                     "array, or not JSON): is this URL Marathon?",
		                     resp.url, resp.status);
		reply_context(err, &resp, NULL);
	}
done:
	marathon__response_release(&resp);
	return rc;
}

static int client_get_app(struct pacer_marathon *m, const char *id, struct json_object **out,
                          struct pacer_error **err)
{
	CLIENT(m);

	return get_app_member(c, id, NULL, "app", json_type_object, out, err);
}

static int client_put_app(struct pacer_marathon *m, const char *id, struct json_object *app,
                          unsigned flags, struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct pacer_buf path = PACER_BUF_INIT;
	int rc;
	CLIENT(m);

	if ((rc = app_path(&path, id, NULL, err)))
		goto done;
	pacer_buf_printf(&path, "?force=%s&partialUpdate=%s", tf(flags, PACER_MF_FORCE),
	                 tf(flags, PACER_MF_PARTIAL));
	rc = change(c, "PUT", pacer_buf_cstr(&path), id, app, out, err);
done:
	pacer_buf_release(&path);
	return rc;
}

static int client_create_app(struct pacer_marathon *m, struct json_object *app, unsigned flags,
                             struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct json_object *idv = NULL;
	const char *id = NULL;
	CLIENT(m);

	/* The id is only for the error's context; Marathon checks it. */
	if (json_object_object_get_ex(app, "id", &idv))
		id = json_object_get_string(idv);
	return change(c, "POST",
	              (flags & PACER_MF_FORCE) ? "/v2/apps?force=true" : "/v2/apps?force=false", id,
	              app, out, err);
}

static int client_delete_app(struct pacer_marathon *m, const char *id, unsigned flags,
                             struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct pacer_buf path = PACER_BUF_INIT;
	int rc;
	CLIENT(m);

	if ((rc = app_path(&path, id, NULL, err)))
		goto done;
	/* Marathon's default here is force=true; say what we mean either way. */
	pacer_buf_printf(&path, "?force=%s", tf(flags, PACER_MF_FORCE));
	rc = change(c, "DELETE", pacer_buf_cstr(&path), id, NULL, out, err);
done:
	pacer_buf_release(&path);
	return rc;
}

static int client_restart_app(struct pacer_marathon *m, const char *id, unsigned flags,
                              struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct pacer_buf path = PACER_BUF_INIT;
	int rc;
	CLIENT(m);

	if ((rc = app_path(&path, id, "/restart", err)))
		goto done;
	pacer_buf_printf(&path, "?force=%s", tf(flags, PACER_MF_FORCE));
	rc = change(c, "POST", pacer_buf_cstr(&path), id, NULL, out, err);
done:
	pacer_buf_release(&path);
	return rc;
}

static int client_list_deployments(struct pacer_marathon *m, struct json_object **out,
                                   struct pacer_error **err)
{
	struct json_object *reply = NULL;
	int rc;
	CLIENT(m);

	*out = NULL;
	if ((rc = call(c, "GET", "/v2/deployments", NULL, NULL, &reply, NULL, err)))
		return rc;
	if (!json_object_is_type(reply, json_type_array)) {
		json_object_put(reply);
		return pacer_error_set(
		    err, PACER_EHTTP,
		    "GET /v2/deployments: the reply is not an array: is this URL "
		    "Marathon?");
	}
	*out = reply;
	return 0;
}

static int client_delete_deployment(struct pacer_marathon *m, const char *id, unsigned flags,
                                    struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct pacer_buf path = PACER_BUF_INIT;
	int rc;
	CLIENT(m);

	if (out)
		memset(out, 0, sizeof(*out));
	/* force=false rolls the deployment back (a new deployment, named in
	 * out); force=true only stops it (202, no deployment). */
	pacer_buf_puts(&path, "/v2/deployments/");
	if ((rc = marathon__append_id(&path, id, "deployment", MARATHON__ID_READABLE, err)))
		goto done;
	pacer_buf_printf(&path, "?force=%s", tf(flags, PACER_MF_FORCE));
	rc = change(c, "DELETE", pacer_buf_cstr(&path), NULL, NULL, out, err);
done:
	pacer_buf_release(&path);
	return rc;
}

static int client_info(struct pacer_marathon *m, struct json_object **out, struct pacer_error **err)
{
	struct json_object *reply = NULL;
	int rc;
	CLIENT(m);

	*out = NULL;
	if ((rc = call(c, "GET", "/v2/info", NULL, NULL, &reply, NULL, err)))
		return rc;
	if (!json_object_is_type(reply, json_type_object)) {
		json_object_put(reply);
		return pacer_error_set(err, PACER_EHTTP,
		                       "GET /v2/info: the reply is not an object: is this URL "
		                       "Marathon?");
	}
	*out = reply;
	return 0;
}

/* ---- extra calls ------------------------------------------------------ */

int marathon_ping(struct pacer_marathon *m, struct pacer_error **err)
{
	struct marathon_request rq = {"GET", "/ping", NULL, "text/plain", NULL, NULL, NULL, NULL};
	struct marathon_response resp = MARATHON_RESPONSE_INIT;
	int rc;
	CLIENT(m);

	rc = marathon__request(c, &rq, &resp, err);
	marathon__response_release(&resp);
	return rc;
}

int marathon_leader(struct pacer_marathon *m, char **out, struct pacer_error **err)
{
	struct json_object *reply = NULL, *v = NULL;
	int rc;
	CLIENT(m);

	*out = NULL;
	if ((rc = call(c, "GET", "/v2/leader", NULL, NULL, &reply, NULL, err)))
		return rc;
	if ((rc = take(reply, "leader", json_type_string, "GET /v2/leader", &v, err)))
		return rc;
	*out = strdup(json_object_get_string(v));
	json_object_put(v);
	return *out ? 0 : pacer_error_set(err, PACER_EGENERIC, "out of memory");
}

int marathon_scale_app(struct pacer_marathon *m, const char *id, int instances, unsigned flags,
                       struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct pacer_buf path = PACER_BUF_INIT;
	struct json_object *body = NULL;
	int rc;
	CLIENT(m);

	if (instances < 0) {
		rc = pacer_error_set(err, PACER_EINVALID,
		                     "cannot scale %s to %d instances: give 0 or more", id,
		                     instances);
		goto done;
	}
	if ((rc = app_path(&path, id, NULL, err)))
		goto done;
	/* partialUpdate: only "instances" changes, whatever else the app has. */
	pacer_buf_printf(&path, "?force=%s&partialUpdate=true", tf(flags, PACER_MF_FORCE));
	body = json_object_new_object();
	if (!body || json_object_object_add(body, "instances", json_object_new_int(instances))) {
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory");
		goto done;
	}
	rc = change(c, "PUT", pacer_buf_cstr(&path), id, body, out, err);
done:
	json_object_put(body);
	pacer_buf_release(&path);
	return rc;
}

int marathon_app_versions(struct pacer_marathon *m, const char *id, struct json_object **out,
                          struct pacer_error **err)
{
	CLIENT(m);

	return get_app_member(c, id, "/versions", "versions", json_type_array, out, err);
}

int marathon_app_version(struct pacer_marathon *m, const char *id, const char *version,
                         struct json_object **out, struct pacer_error **err)
{
	struct pacer_buf path = PACER_BUF_INIT;
	struct json_object *reply = NULL;
	int rc;
	CLIENT(m);

	*out = NULL;
	if ((rc = app_item_path(&path, id, "/versions/", version, "version", err)))
		goto done;
	if ((rc = call(c, "GET", pacer_buf_cstr(&path), id, NULL, &reply, NULL, err)))
		goto done;
	if (!json_object_is_type(reply, json_type_object)) {
		json_object_put(reply);
		rc =
		    pacer_error_set(err, PACER_EHTTP,
		                    "GET %s: the reply is not an app object: is this URL Marathon?",
		                    pacer_buf_cstr(&path));
		goto done;
	}
	*out = reply;
done:
	pacer_buf_release(&path);
	return rc;
}

int marathon_list_tasks(struct pacer_marathon *m, const char *id, struct json_object **out,
                        struct pacer_error **err)
{
	CLIENT(m);

	return get_app_member(c, id, "/tasks", "tasks", json_type_array, out, err);
}

int marathon_kill_task(struct pacer_marathon *m, const char *app_id, const char *task_id,
                       unsigned flags, struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct pacer_buf path = PACER_BUF_INIT;
	int rc;
	CLIENT(m);

	if ((rc = app_item_path(&path, app_id, "/tasks/", task_id, "task", err)))
		goto done;
	pacer_buf_printf(&path, "?scale=%s&force=%s", tf(flags, MARATHON_KILL_SCALE),
	                 tf(flags, PACER_MF_FORCE));
	rc = change(c, "DELETE", pacer_buf_cstr(&path), app_id, NULL, out, err);
done:
	pacer_buf_release(&path);
	return rc;
}
