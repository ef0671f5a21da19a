/*
 * remote.h (cmd): the operator commands sent to a running `pacer serve`
 * instead of run here (--server URL, or PACER_SERVER), through its API
 * (backends/serve/api.h). The bearer token comes from PACER_SERVER_TOKEN,
 * the file named by PACER_SERVER_TOKEN_FILE, or the systemd credential
 * server-token; never from the command line, where ps would show it.
 *
 * Exit codes are those of the local commands: the API's error answers
 * carry the pacer error code, mapped with cli_exit_for(). Besides:
 * 401 or 403 -> PACER_EXIT_DENIED (9); no answer -> PACER_EXIT_UNREACHABLE
 * (4); no token -> PACER_EXIT_USAGE.
 */
#ifndef PACER_CMD_REMOTE_H
#define PACER_CMD_REMOTE_H

#include <stddef.h>

#include "cmd/pacer/cli.h"

struct json_object;

/*
 * One API call: method on c->server + "/api/v1/" + path, with body (a
 * JSON object, borrowed; may be NULL), waiting at most timeout_s seconds
 * (<= 0: 120). Returns the exit code; *reply (may be NULL) gets the answer
 * (caller puts) when there is one. Errors are printed as "pacer <cmd>: ...".
 */
int remote_call(const char *cmd, const struct cli_common *c, const char *method,
		const char *path, struct json_object *body, int timeout_s,
		struct json_object **reply);

/*
 * POST apps/{app_id}/{verb} (verb NULL: DELETE apps/{app_id}) and print
 * the outcome as the local command does. app_id is absolute. Returns the
 * exit code.
 */
int remote_action(const char *cmd, const struct cli_common *c, const char *app_id,
		  const char *verb, struct json_object *body, int timeout_s);

/*
 * pacer sync through POST /api/v1/sync ({"apps": ids} when n > 0): the
 * service queues it and answers at once; prints the sync id.
 */
int remote_sync(const struct cli_common *c, const char *const *ids, size_t n);

/* pacer status through GET /api/v1/apps, the rows of ids (n of them; 0 = all). */
int remote_status(const struct cli_common *c, const char *const *ids, size_t n);

#endif
