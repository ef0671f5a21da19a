/*
 * cluster.c: bind a state directory to one Marathon cluster (cluster.h).
 *
 * The identity is read before anything else of a run, so a state directory
 * pointed at the wrong Marathon changes nothing there. A dry run checks but
 * never binds (it must leave the state directory as it found it), and a
 * Marathon that names no frameworkId is let through only while nothing is
 * bound: refusing it then would make a fresh install unusable until Mesos
 * registers it, accepting it later would skip the one check that matters.
 */
#include "reconcile/cluster.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/jsonutil.h"
#include "reconcile/base/log.h"

#define CLUSTER_DOC "cluster.json"

/* The frameworkId Marathon reports, copied; NULL when it names none. */
static int live_identity(struct pacer_marathon *m, char **out, struct pacer_error **err)
{
	struct json_object *info = NULL;
	const char *id;
	int rc;

	*out = NULL;
	if ((rc = m->info(m, &info, err)))
		return pacer_error_wrap(err, rc,
					"cannot read Marathon's identity (GET /v2/info); nothing "
					"was changed");
	id = json_object_get_string(jsonutil_get(info, "frameworkId"));
	if (id && *id && !(*out = strdup(id)))
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory");
	json_object_put(info);
	return rc;
}

static int stored_identity(struct pacer_state_store *s, char **out, struct pacer_error **err)
{
	struct json_object *o = NULL;
	char *data = NULL;
	size_t len = 0;
	const char *id;
	int rc;

	*out = NULL;
	if ((rc = s->doc_load(s, CLUSTER_DOC, &data, &len, err)) || !data)
		return rc;
	o = json_tokener_parse(data);
	id = json_object_get_string(jsonutil_get(o, "frameworkId"));
	if (!id || !*id)
		rc = pacer_error_set(err, PACER_EIO,
				     "the state file %s (which Marathon cluster this state directory "
				     "belongs to) is corrupt: fix it, or delete it if you are sure "
				     "the state directory belongs to this cluster",
				     CLUSTER_DOC);
	else if (!(*out = strdup(id)))
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory");
	json_object_put(o);
	free(data);
	return rc;
}

static int store_identity(struct pacer_state_store *s, const char *id, struct pacer_error **err)
{
	struct json_object *o = json_object_new_object();
	const char *text;
	int rc;

	json_object_object_add(o, "frameworkId", json_object_new_string(id));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	rc = s->doc_save(s, CLUSTER_DOC, text, strlen(text), err);
	json_object_put(o);
	return rc;
}

int cluster_check(struct pacer_marathon *m, struct pacer_state_store *state,
		  enum cluster_mode mode, struct pacer_error **err)
{
	char *live = NULL, *stored = NULL;
	int rc;

	/* Stores without documents (unit tests of other parts) keep nothing to check. */
	if (!state || !state->doc_load || !m->info)
		return 0;
	if ((rc = stored_identity(state, &stored, err)) || (rc = live_identity(m, &live, err)))
		goto done;
	if (!live) {
		if (stored)
			rc = pacer_error_set(err, PACER_ECLUSTER,
					     "Marathon reports no frameworkId (is it registered with "
					     "Mesos?), so pacer cannot check that it is cluster %s, "
					     "which this state directory belongs to; nothing was "
					     "changed: run again once Marathon is registered",
					     stored);
		else
			PLOG_WARN("Marathon reports no frameworkId: this state directory is not "
				  "bound to a cluster yet");
		goto done;
	}
	if (stored && strcmp(stored, live)) {
		rc = pacer_error_set(err, PACER_ECLUSTER,
				     "this state directory belongs to the Marathon cluster with "
				     "frameworkId %s, but Marathon answers as %s: it is another "
				     "cluster, or this one was wiped. pacer refuses to use ownership, "
				     "journal and held failures recorded for another cluster; nothing "
				     "was changed. Use one --state-dir per cluster; if this really is "
				     "the same cluster reinstalled, delete cluster.json and owned.json "
				     "in the state directory",
				     stored, live);
		goto done;
	}
	if (!stored && mode == CLUSTER_BIND) {
		PLOG_INFO("state directory bound to the Marathon cluster with frameworkId %s", live);
		rc = store_identity(state, live, err);
	}
done:
	free(live);
	free(stored);
	return rc;
}
