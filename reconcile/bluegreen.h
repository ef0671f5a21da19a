/*
 * bluegreen.h: blue/green apps, as definitions.
 *
 * An app whose file carries the label "pacer.strategy": "blue-green" is
 * released without downtime the way marathon-lb's zdd does it: the desired
 * app /svc is never live under its own id but as /svc-blue or /svc-green,
 * each colour carrying zdd's labels so that marathon-lb serves the pair as
 * one service:
 *
 *   HAPROXY_DEPLOYMENT_GROUP            from the file (required): the pair's name
 *   HAPROXY_DEPLOYMENT_ALT_PORT         from the file (required): the second service port
 *   HAPROXY_APP_ID                      the desired id, "/svc"
 *   HAPROXY_DEPLOYMENT_COLOUR           "blue" or "green"
 *   HAPROXY_DEPLOYMENT_STARTED_AT       when the colour was deployed (ISO 8601, UTC)
 *   HAPROXY_DEPLOYMENT_TARGET_INSTANCES the file's instances
 *   HAPROXY_0_PORT                      the file's service port, where HAProxy listens
 *
 * Service ports alternate between the colours as zdd alternates them: blue
 * runs on the file's service port, green on the ALT port (Marathon refuses
 * two apps on one service port). Optional labels: "pacer.bluegreen.step"
 * (the share of the target added per step, "50%" by default, or a whole
 * number of instances) and "pacer.bluegreen.drain-seconds" (10 by default).
 *
 * Everything here is pure: definitions in, definitions out. The release
 * procedure is reconcile/bluegreen_run.h.
 */
#ifndef PACER_BLUEGREEN_H
#define PACER_BLUEGREEN_H

#include <stddef.h>

#include "reconcile/base/error.h"
#include "reconcile/desired.h"

struct json_object;

#define BLUEGREEN_LABEL "pacer.strategy"
#define BLUEGREEN_VALUE "blue-green"
#define BLUEGREEN_DEFAULT_STEP_PCT 50
#define BLUEGREEN_DEFAULT_DRAIN_S 10
#define BLUEGREEN_MAX_DRAIN_S 3600

/* What the labels of a blue/green app ask for. */
struct bluegreen_conf {
	int step_pct;      /* > 0 when the step is a share of the target */
	long step_n;       /* > 0 when the step is a number of instances */
	int drain_s;       /* seconds between the old colour's last scale-down and its delete */
	long port;         /* the file's service port (HAPROXY_0_PORT; blue's port) */
	long alt_port;     /* HAPROXY_DEPLOYMENT_ALT_PORT (green's port) */
	long target;       /* the file's instances (1 when not set) */
};

/* Whether def (borrowed; NULL-safe) opts in with "pacer.strategy": "blue-green". */
int bluegreen_enabled(struct json_object *def);

/*
 * Read and check the blue/green labels of def (borrowed). Returns 0, or
 * PACER_EINVALID with *err saying what to write; *bad_label (may be NULL)
 * names the label at fault (NULL when what is missing is not a label, or
 * the label is absent: the caller then points at "labels"). A def that
 * does not opt in returns PACER_EINVALID too. def may also be a colour as
 * deployed (bluegreen_render(), or a live colour): the pair's port and the
 * target then come from its labels HAPROXY_0_PORT and
 * HAPROXY_DEPLOYMENT_TARGET_INSTANCES.
 */
int bluegreen_conf_read(struct json_object *def, struct bluegreen_conf *out,
			const char **bad_label, struct pacer_error **err);

/* Instances added (and removed from the old colour) per step: >= 1, <= target. */
long bluegreen_step(const struct bluegreen_conf *c);

/*
 * "/svc-blue" -> base "/svc" (into base, size len) and *colour "blue"
 * (static); also "-green". 0 when id names a colour, -1 otherwise.
 */
int bluegreen_split_id(const char *id, char *base, size_t len, const char **colour);

/* The other colour ("blue" <-> "green"); static string. */
const char *bluegreen_other(const char *colour);

/* A label of a live or desired app (borrowed), NULL when absent or not a string. */
const char *bluegreen_label(struct json_object *app, const char *key);

/*
 * The colour of desired app def (borrowed; id = base) as it is deployed:
 * id base-colour, zdd's labels, the colour's service port, `instances`.
 * started_at is HAPROXY_DEPLOYMENT_STARTED_AT (the live colour's, to
 * compare; a new one, bluegreen_now(), to deploy). Returns a new object
 * (caller puts) or NULL when out of memory or def has no service port.
 */
struct json_object *bluegreen_render(struct json_object *def, const char *base,
				     const char *colour, long instances, const char *started_at);

/*
 * def (borrowed, id = base) rendered as the live colour `live` (borrowed)
 * would be if it ran def: that colour (from live's id), live's start
 * time, the file's instances. What live is compared with. A new object
 * (caller puts), or NULL.
 */
struct json_object *bluegreen_render_like(struct json_object *def, const char *base,
					  struct json_object *live);

/*
 * The reverse of bluegreen_render(): a colour (a backup or a live colour,
 * borrowed) as the desired app it was rendered from: id HAPROXY_APP_ID,
 * zdd's per-colour labels removed, the pair's service port, the target's
 * instances. A new object (caller puts), or NULL when colour is not a
 * colour of a blue/green app.
 */
struct json_object *bluegreen_unrender(struct json_object *colour);

/* Now as zdd writes HAPROXY_DEPLOYMENT_STARTED_AT, in UTC: "2026-12-03T03:00:00.123456". */
void bluegreen_now(char out[40]);

/*
 * The desired blue/green app that the live app live_id (a colour id)
 * belongs to, or NULL (borrowed from d). *colour (may be NULL) gets the
 * colour. May parse the desired app's definition (desired_app_def()).
 */
struct pacer_desired_app *bluegreen_desired_of(struct pacer_desired *d, const char *live_id,
					       const char **colour);

/*
 * The live colour of a plan item of a blue/green app ("blue", "green"; a
 * static string), "" for any other item (its live app is its own id).
 */
struct pacer_plan_item;
const char *bluegreen_item_colour(const struct pacer_plan_item *it);

#endif
