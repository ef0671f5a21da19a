/*
 * marathon.h: the Marathon API as the reconcile core sees it.
 *
 * A backend is a struct of function pointers (after libgit2's
 * sys/odb_backend.h). The real one lives in backends/marathon/client.c (curl);
 * unit tests provide an in-memory one. reconcile/ never sees HTTP.
 *
 * Conventions for every call:
 * - returns 0 on success or a negative enum pacer_code; PACER_ENOTFOUND for
 *   404, PACER_ELOCKED for 409 "locked by deployment", PACER_ECONFLICT for 409
 *   "already exists", PACER_EINVALID for 400/422 (the error message carries
 *   Marathon's message and details), PACER_EUNREACHABLE when no Marathon URL
 *   answered, PACER_EAUTH for 401/403, PACER_EHTTP for anything else;
 * - on failure *err (when err is not NULL) describes it, naming the URL;
 * - json objects passed in are borrowed; json objects handed out through
 *   `out` are owned by the caller (json_object_put()).
 * - every method may be called from several threads at once.
 */
#ifndef PACER_MARATHON_H
#define PACER_MARATHON_H

#include <stddef.h>

#include "reconcile/base/error.h"

struct json_object;

/* Flags for changing calls. */
enum {
	PACER_MF_FORCE = 1 << 0,   /* ?force=true */
	PACER_MF_PARTIAL = 1 << 1, /* PUT with partialUpdate=true (default: false, a true replace) */
};

/* What a changing call answered. */
struct pacer_deploy_ref {
	char deployment_id[64]; /* "" when Marathon returned none (202) */
	char version[40];       /* Marathon's version timestamp, "" if none */
	int created;            /* PUT answered 201 */
};

/* One app of GET /v2/apps as Marathon sent it (borrowed for the call). 0 = go on. */
typedef int (*pacer_marathon_app_cb)(void *ctx, const char *json, size_t len);

/*
 * A Marathon backend. Every `struct json_object **out` of these methods is
 * a new reference the caller owns (json_object_put()), NULL when the call
 * fails; bodies passed in (app) are borrowed for the call.
 */
struct pacer_marathon {
	/* GET /v2/apps?embed=apps.counts&embed=apps.deployments&embed=apps.lastTaskFailure:
	 * *out is the array of app objects. */
	int (*list_apps)(struct pacer_marathon *m, struct json_object **out,
			 struct pacer_error **err);
	/*
	 * Optional (NULL when the backend has none): the same GET /v2/apps, each
	 * app handed to cb as its bytes, so the caller never holds the whole
	 * list as one tree. A non-zero return of cb stops and is returned; an
	 * app handed out before an error may be followed by that error.
	 */
	int (*list_apps_raw)(struct pacer_marathon *m, pacer_marathon_app_cb cb, void *ctx,
			     struct pacer_error **err);
	/* GET /v2/apps/{id}: *out is the "app" object. */
	int (*get_app)(struct pacer_marathon *m, const char *id, struct json_object **out,
		       struct pacer_error **err);
	/* PUT /v2/apps/{id}?force=..&partialUpdate=.. with body app. */
	int (*put_app)(struct pacer_marathon *m, const char *id, struct json_object *app,
		       unsigned flags, struct pacer_deploy_ref *out, struct pacer_error **err);
	/* POST /v2/apps (body app; id from the body). */
	int (*create_app)(struct pacer_marathon *m, struct json_object *app, unsigned flags,
			  struct pacer_deploy_ref *out, struct pacer_error **err);
	/* DELETE /v2/apps/{id}?force=.. */
	int (*delete_app)(struct pacer_marathon *m, const char *id, unsigned flags,
			  struct pacer_deploy_ref *out, struct pacer_error **err);
	/* POST /v2/apps/{id}/restart?force=.. */
	int (*restart_app)(struct pacer_marathon *m, const char *id, unsigned flags,
			   struct pacer_deploy_ref *out, struct pacer_error **err);
	/* GET /v2/deployments: *out is the array. */
	int (*list_deployments)(struct pacer_marathon *m, struct json_object **out,
				struct pacer_error **err);
	/* DELETE /v2/deployments/{id}?force=..; without force out names the
	 * rollback deployment Marathon started. */
	int (*delete_deployment)(struct pacer_marathon *m, const char *id, unsigned flags,
				 struct pacer_deploy_ref *out, struct pacer_error **err);
	/* GET /v2/info: *out is the object. */
	int (*info)(struct pacer_marathon *m, struct json_object **out, struct pacer_error **err);
	/* Free the backend. NULL-safe through pacer_marathon_free(). */
	void (*free)(struct pacer_marathon *m);
};

static inline void pacer_marathon_free(struct pacer_marathon *m)
{
	if (m && m->free)
		m->free(m);
}

#endif
