/*
 * ha_fence.c: the Marathon client of a replica of `pacer serve --ha`
 * (ha.h): every changing request asks first whether this replica leads
 * (its election node is the lowest and its ZooKeeper lease holds); when
 * not, the request is not sent. Reads pass through: followers serve the
 * API's reads too.
 */
#include "cmd/pacer/ha.h"
#include "reconcile/base/log.h"

#include <stdlib.h>

struct fence {
	struct pacer_marathon base;
	struct pacer_marathon *in;
	int (*leading)(void *ctx);
	void *ctx;
};

#define F(m) ((struct fence *)(m))

/* 0 when this replica leads; else the refusal, logged. */
static int refused(struct pacer_marathon *m, const char *what, const char *id,
		   struct pacer_error **err)
{
	if (F(m)->leading(F(m)->ctx))
		return 0;
	PLOG_WARN("ha: fenced: %s %s not sent to Marathon: this replica does not lead", what,
		  id ? id : "");
	return pacer_error_set(err, PACER_ECANCELLED,
			       "%s %s not sent to Marathon: this replica is not the leader (its "
			       "ZooKeeper session is lost or another replica leads)",
			       what, id ? id : "");
}

static int f_list_apps(struct pacer_marathon *m, struct json_object **out,
		       struct pacer_error **err)
{
	return F(m)->in->list_apps(F(m)->in, out, err);
}

static int f_list_apps_raw(struct pacer_marathon *m, pacer_marathon_app_cb cb, void *ctx,
			   struct pacer_error **err)
{
	return F(m)->in->list_apps_raw(F(m)->in, cb, ctx, err);
}

static int f_get_app(struct pacer_marathon *m, const char *id, struct json_object **out,
		     struct pacer_error **err)
{
	return F(m)->in->get_app(F(m)->in, id, out, err);
}

static int f_put_app(struct pacer_marathon *m, const char *id, struct json_object *app,
		     unsigned flags, struct pacer_deploy_ref *out, struct pacer_error **err)
{
	int rc = refused(m, "PUT", id, err);

	return rc ? rc : F(m)->in->put_app(F(m)->in, id, app, flags, out, err);
}

static int f_create_app(struct pacer_marathon *m, struct json_object *app, unsigned flags,
			struct pacer_deploy_ref *out, struct pacer_error **err)
{
	int rc = refused(m, "POST", "/v2/apps", err);

	return rc ? rc : F(m)->in->create_app(F(m)->in, app, flags, out, err);
}

static int f_delete_app(struct pacer_marathon *m, const char *id, unsigned flags,
			struct pacer_deploy_ref *out, struct pacer_error **err)
{
	int rc = refused(m, "DELETE", id, err);

	return rc ? rc : F(m)->in->delete_app(F(m)->in, id, flags, out, err);
}

static int f_restart_app(struct pacer_marathon *m, const char *id, unsigned flags,
			 struct pacer_deploy_ref *out, struct pacer_error **err)
{
	int rc = refused(m, "restart", id, err);

	return rc ? rc : F(m)->in->restart_app(F(m)->in, id, flags, out, err);
}

static int f_list_deployments(struct pacer_marathon *m, struct json_object **out,
			      struct pacer_error **err)
{
	return F(m)->in->list_deployments(F(m)->in, out, err);
}

static int f_delete_deployment(struct pacer_marathon *m, const char *id, unsigned flags,
			       struct pacer_deploy_ref *out, struct pacer_error **err)
{
	int rc = refused(m, "DELETE deployment", id, err);

	return rc ? rc : F(m)->in->delete_deployment(F(m)->in, id, flags, out, err);
}

static int f_info(struct pacer_marathon *m, struct json_object **out, struct pacer_error **err)
{
	return F(m)->in->info(F(m)->in, out, err);
}

static void f_free(struct pacer_marathon *m)
{
	pacer_marathon_free(F(m)->in);
	free(m);
}

struct pacer_marathon *ha_fence_wrap(struct pacer_marathon *in, int (*leading)(void *ctx),
				     void *ctx)
{
	struct fence *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->in = in;
	f->leading = leading;
	f->ctx = ctx;
	f->base = (struct pacer_marathon){
	    .list_apps = f_list_apps,
	    .list_apps_raw = in->list_apps_raw ? f_list_apps_raw : NULL,
	    .get_app = f_get_app,
	    .put_app = f_put_app,
	    .create_app = f_create_app,
	    .delete_app = f_delete_app,
	    .restart_app = f_restart_app,
	    .list_deployments = f_list_deployments,
	    .delete_deployment = f_delete_deployment,
	    .info = f_info,
	    .free = f_free,
	};
	return &f->base;
}

struct pacer_marathon *ha_fence_unwrap(struct pacer_marathon *m)
{
	struct pacer_marathon *in = F(m)->in;

	free(m);
	return in;
}

struct pacer_marathon *ha_fence_inner(struct pacer_marathon *m)
{
	return F(m)->in;
}
