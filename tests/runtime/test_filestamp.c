/*
 * Tests for cmd/pacer/filestamp.c: a file's appearance, rewrite (by rename
 * too) and removal are changes; looking again without one is not.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd/pacer/filestamp.h"
#include "tests/lib/testlib.h"

Test(filestamp, sees_every_change_once)
{
	char *dir = test_tmpdir("pacer-filestamp"), path[512], tmp[512];
	struct filestamp st = FILESTAMP_INIT;

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/suspended.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/suspended.json.tmp", dir);
	cr_assert_eq(filestamp_changed(path, &st), 0, "absent, as the empty stamp says");
	cr_assert_eq(test_write_file(path, "{}"), 0);
	cr_assert_eq(filestamp_changed(path, &st), 1, "it appeared");
	cr_assert_eq(filestamp_changed(path, &st), 0, "no change since");
	cr_assert_eq(test_write_file(tmp, "{}"), 0);
	cr_assert_eq(rename(tmp, path), 0);
	cr_assert_eq(filestamp_changed(path, &st), 1, "replaced by rename: a new inode");
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(filestamp_changed(path, &st), 1, "removed");
	cr_assert_eq(filestamp_changed(NULL, &st), 0, "no file: never a change");
	cr_assert_eq(rmdir(dir), 0);
	free(dir);
}
