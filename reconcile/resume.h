/*
 * resume.h: every run first finishes what earlier runs left in the
 * journal (reconcile/journal.h).
 *
 * For each entry, in parallel (at most sync_options.parallel at once):
 *   - a create/update whose app is desired with another definition now is
 *     superseded: this run applies the newer one at once, and keeps the
 *     entry's backup as the rollback target (struct exec_inherit);
 *   - a submitted change is waited for until its ORIGINAL deadline, then
 *     judged by what runs (the submitted definition, healthy) and on
 *     failure rolled back (or restarted) as the interrupted run would have;
 *   - a change whose outcome was unknown (or that was only intended) is
 *     read back: applied -> as above; not applied -> the entry is dropped
 *     and the plan decides afresh;
 *   - an undo (rollback) is done again (it is idempotent: PUT the previous
 *     definition with force, or DELETE a created app), then the change is
 *     held;
 *   - a restart: the change is held, the entry dropped.
 * Each settled entry gives a result row with `resumed` set.
 */
#ifndef PACER_RESUME_H
#define PACER_RESUME_H

#include <stddef.h>

#include "reconcile/apply.h"
#include "reconcile/desired.h"

struct resume_result {
	struct sync_app_result *apps; /* owned: rows of the entries settled */
	size_t napps;
	/* The settled changes as plan items (same order as apps): action, id, the
	 * submitted body and `live` = the definition before the change (an owned
	 * reference, or NULL), so that an --atomic run can undo them too.
	 * Strings and body are borrowed from entries. nentries long. */
	struct pacer_plan_item *items;
	struct exec_inherit *inherit; /* owned: superseded entries, sorted by id */
	size_t ninherit;
	struct journal_entry *entries; /* owned: the journal as read (inherit borrows ids) */
	size_t nentries;
};

/*
 * Resume every journal entry of ctx->state. ctx is complete but for
 * inherit (filled here into out). desired (borrowed) decides superseding.
 * Returns 0 (each entry's fate is in its row), or an error reading the
 * journal. Release out with resume_release() (also after an error).
 */
int resume_run(const struct exec_ctx *ctx, struct pacer_desired *desired,
	       struct resume_result *out, struct pacer_error **err);

void resume_release(struct resume_result *r);

#endif
