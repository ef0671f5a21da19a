/*
 * Tests for cmd/pacer/filestamp.c: a file's appearance, rewrite (by rename
 * too) and removal are changes; looking again without one is not.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd/pacer/filestamp.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

Test(filestamp, sees_every_change_once)
{
	char dir[] = "/tmp/pacer-filestamp-XXXXXX", path[128], tmp[128];
	struct filestamp st = FILESTAMP_INIT;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/suspended.json", dir);
	snprintf(tmp, sizeof(tmp), "%s/suspended.json.tmp", dir);
	cr_assert_eq(filestamp_changed(path, &st), 0, "absent, as the empty stamp says");
	write_file(path, "{}");
	cr_assert_eq(filestamp_changed(path, &st), 1, "it appeared");
	cr_assert_eq(filestamp_changed(path, &st), 0, "no change since");
	write_file(tmp, "{}");
	cr_assert_eq(rename(tmp, path), 0);
	cr_assert_eq(filestamp_changed(path, &st), 1, "replaced by rename: a new inode");
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(filestamp_changed(path, &st), 1, "removed");
	cr_assert_eq(filestamp_changed(NULL, &st), 0, "no file: never a change");
	cr_assert_eq(rmdir(dir), 0);
}
