/*
 * status.h (cmd): the rows of `pacer status`, shared by the command and
 * the API of `pacer serve` (GET /api/v1/apps), so both say the same.
 */
#ifndef PACER_CMD_STATUS_H
#define PACER_CMD_STATUS_H

#include <stddef.h>

#include "cmd/pacer/cli.h"

struct json_object;

/*
 * A dry run over env (source, Marathon; state read) of the apps in only
 * (nonly of them; 0 = every app), and the document of `pacer status -o
 * json`: {"commit", "last_sync", "apps": [{"id", "state", "reason",
 * "tasks", "version", "commit", "suspended", "image"}]} ("image": the
 * Docker image, desired or else live, or null). Returns 0 with *doc (new,
 * json_object_put()) and *not_synced; else the failing code with *err.
 * *res is the dry run's result whenever there is one (sync_result_free()),
 * on failure too.
 */
int status_collect(struct cli_env *env, const char *const *only, size_t nonly,
		   int ignore_instances, struct json_object **doc, struct sync_result **res,
		   size_t *not_synced, struct pacer_error **err);

/* Print such a document as c->output says (text table or JSON). */
void status_print(const struct cli_common *c, struct json_object *doc);

#endif
