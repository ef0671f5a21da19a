/*
 * fuzz_desired: a desired-state file's bytes, as any committer may write
 * them, through the loader (desired_add_file, desired_finish): apps or
 * diagnostics, never a crash. The input is the file. Its length picks the
 * options, so one corpus covers both: odd lengths also run Marathon's own
 * validation (pacer validate, DC/OS flags); lengths divisible by 3 load
 * the file twice under two names (duplicate ids across files).
 */
#include "reconcile/desired.h"
#include "reconcile/model/appdef.h"
#include "tests/fuzz/fuzzlib.h"

#include <json-c/json.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct appdef_flags dcos = APPDEF_FLAGS_DCOS;
	struct desired_options opts = DESIRED_OPTIONS_INIT;
	struct pacer_desired *d = desired_new();

	if (!d)
		abort();
	if (size % 2)
		opts.flags = &dcos;
	desired_add_file(d, "apps/fuzz.json", (const char *)data, size, &opts);
	if (size % 3 == 0)
		desired_add_file(d, "apps/again.json", (const char *)data, size, &opts);
	desired_finish(d);
	if (!d->napps && !d->nerrors)
		desired_warn_empty(d, "fuzz");
	for (size_t i = 0; i < d->napps; i++) {
		int timeout;
		struct pacer_error *err = NULL;

		if (d->apps[i].def)
			desired_label_timeout(d->apps[i].def, &timeout, &err);
		pacer_error_free(err);
		if (desired_find(d, d->apps[i].id) == NULL)
			abort(); /* every loaded app can be found by its id */
	}
	for (size_t i = 0; i < d->ndiags; i++) {
		char *msg = pacer_error_format(d->diags[i].error);

		if (!msg)
			abort();
		free(msg);
	}
	desired_free(d);
	return 0;
}
