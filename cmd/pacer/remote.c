/*
 * remote.c (cmd): the API client behind --server (remote.h). One libcurl
 * request per command, the answer bounded like every body pacer reads.
 */
#include "cmd/pacer/remote.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/env.h"
#include "cmd/pacer/status.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/base/secret.h"

#define REPLY_MAX (16u << 20)
/* A serve that does not accept the connection this fast is not there. */
#define CONNECT_TIMEOUT_S 10L
/* A whole call, unless the caller says (remote.h: timeout_s <= 0). */
#define CALL_TIMEOUT_S 120
/* An action's answer comes when it is done: its own timeout, and this for the rest. */
#define ACTION_SLACK_S 60
/* sync is queued and answered at once. */
#define SYNC_TIMEOUT_S 60

/*
 * The token (env.h), or the exit code when there is none: an error in
 * PACER_SERVER_TOKEN_FILE or the credential is printed as it is, no token
 * at all says how to give one.
 */
static int server_token(const char *cmd, char **out)
{
	struct pacer_error *err = NULL;

	if (env_server_token(out, &err)) {
		cli_print_error(cmd, err);
		pacer_error_free(err);
		return PACER_EXIT_USAGE;
	}
	if (!*out) {
		fprintf(stderr, "pacer %s: --server needs a token: set PACER_SERVER_TOKEN, or "
				"PACER_SERVER_TOKEN_FILE to a file holding it\n",
			cmd);
		return PACER_EXIT_USAGE;
	}
	return 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	return pacer_buf_add(ud, ptr, size * nmemb) ? 0 : size * nmemb;
}

/* The exit code an answer stands for. */
static int exit_for_status(long status, struct json_object *reply)
{
	struct json_object *code = jsonutil_get(reply, "pacer_code");

	if (status >= 200 && status < 300)
		return PACER_EXIT_OK;
	if (status == 401 || status == 403)
		return PACER_EXIT_DENIED;
	if (code && json_object_is_type(code, json_type_int))
		return cli_exit_for(json_object_get_int(code));
	if (status == 400)
		return PACER_EXIT_USAGE;
	if (status == 409)
		return PACER_EXIT_LOCKED;
	return PACER_EXIT_FAILED;
}

/* Run the request; *status 0 when there was no answer. */
static int perform(const char *url, const char *method, const char *token, const char *body,
		   int timeout_s, long *status, struct pacer_buf *out, char *errbuf)
{
	struct curl_slist *h = NULL;
	char *auth = NULL;
	CURL *curl = curl_easy_init();
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	*status = 0;
	if (!curl || asprintf(&auth, "Authorization: Bearer %s", token) < 0)
		goto done;
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	if (body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)timeout_s);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	else if (!errbuf[0])
		snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
done:
	curl_slist_free_all(h);
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	curl_easy_cleanup(curl);
	return rc == CURLE_OK ? 0 : -1;
}

int remote_call(const char *cmd, const struct cli_common *c, const char *method,
		const char *path, struct json_object *body, int timeout_s,
		struct json_object **reply)
{
	struct pacer_buf out;
	struct json_object *r = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", *url = NULL, *token = NULL;
	size_t blen = strlen(c->server);
	long status = 0;
	int code;

	if (reply)
		*reply = NULL;
	if ((code = server_token(cmd, &token)))
		return code;
	pacer_buf_init(&out, REPLY_MAX);
	while (blen > 0 && c->server[blen - 1] == '/')
		blen--;
	if (asprintf(&url, "%.*s/api/v1/%s", (int)blen, c->server, path) < 0) {
		code = PACER_EXIT_FAILED;
		goto done;
	}
	if (perform(url, method, token, body ? json_object_to_json_string(body) : NULL,
		    timeout_s > 0 ? timeout_s : CALL_TIMEOUT_S, &status, &out, errbuf)) {
		fprintf(stderr, "pacer %s: no answer from %.*s: %s\n", cmd, (int)blen, c->server,
			errbuf);
		code = PACER_EXIT_UNREACHABLE;
		goto done;
	}
	r = out.len ? json_tokener_parse(pacer_buf_cstr(&out)) : NULL;
	code = exit_for_status(status, r);
	if (code)
		fprintf(stderr, "pacer %s: %s answered %ld: %s\n", cmd, c->server, status,
			json_object_get_string(jsonutil_get(r, "error"))
			    ? json_object_get_string(jsonutil_get(r, "error"))
			    : "(no message)");
	if (reply)
		*reply = json_object_get(r);
done:
	json_object_put(r);
	pacer_buf_release(&out);
	free(url);
	pacer_secret_free(token);
	return code;
}

int remote_action(const char *cmd, const struct cli_common *c, const char *app_id,
		  const char *verb, struct json_object *body, int timeout_s)
{
	struct json_object *r = NULL;
	char *path = NULL;
	const char *v;
	int code;

	if (asprintf(&path, "apps/%s%s%s", app_id + 1, verb ? "/" : "", verb ? verb : "") < 0)
		return PACER_EXIT_FAILED;
	code = remote_call(cmd, c, verb ? "POST" : "DELETE", path, body, timeout_s + ACTION_SLACK_S,
			   &r);
	free(path);
	if (!code && c->output && !strcmp(c->output, "json")) {
		printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (!code) {
		if ((v = json_object_get_string(jsonutil_get(r, "backup"))))
			printf("backup %s\n", v);
		if (json_object_get_boolean(jsonutil_get(r, "suspended")))
			printf("suspended %s so that the next sync does not undo it; 'pacer resume "
			       "%s' hands it back to git\n",
			       app_id, app_id);
		v = json_object_get_string(jsonutil_get(r, "deployment"));
		printf("%s %s: done%s%s\n", cmd, app_id, v ? ", deployment " : "", v ? v : "");
	}
	json_object_put(r);
	return code;
}

int remote_status(const struct cli_common *c, const char *const *ids, size_t n)
{
	struct json_object *r = NULL, *apps, *keep;
	size_t bad = 0;
	int code = remote_call("status", c, "GET", "apps", NULL, CALL_TIMEOUT_S, &r);

	if (code) {
		json_object_put(r);
		return code;
	}
	apps = jsonutil_get(r, "apps");
	keep = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		struct json_object *row = json_object_array_get_idx(apps, i);
		const char *id = json_object_get_string(jsonutil_get(row, "id"));
		size_t k = 0;

		while (k < n && (!id || strcmp(ids[k], id)))
			k++;
		if (n && k == n)
			continue;
		bad += !json_object_get_string(jsonutil_get(row, "state")) ||
		       strcmp(json_object_get_string(jsonutil_get(row, "state")), "synced") != 0;
		json_object_array_add(keep, json_object_get(row));
	}
	json_object_object_add(r, "apps", keep);
	status_print(c, r);
	json_object_put(r);
	return bad ? PACER_EXIT_FAILED : PACER_EXIT_OK;
}

int remote_sync(const struct cli_common *c, const char *const *ids, size_t n)
{
	struct json_object *body = json_object_new_object(), *apps = NULL, *r = NULL;
	int code;

	if (n) {
		apps = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(apps, json_object_new_string(ids[i]));
		json_object_object_add(body, "apps", apps);
	}
	code = remote_call("sync", c, "POST", "sync", body, SYNC_TIMEOUT_S, &r);
	if (!code)
		printf("sync %lld queued on %s (GET /status shows its result)\n",
		       (long long)json_object_get_int64(jsonutil_get(r, "sync_id")), c->server);
	json_object_put(r);
	json_object_put(body);
	return code;
}
