#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/error.h"
#include "reconcile/base/log.h"

Test(error, wrap_keeps_cause_and_context)
{
	struct pacer_error *err = NULL;
	char *text;

	cr_assert_eq(pacer_error_set(&err, PACER_ENOTFOUND, "App '%s' does not exist", "/x"),
		     PACER_ENOTFOUND);
	pacer_error_set_url(err, "http://m:8080/v2/apps/x");
	/* A second set never overwrites the first error. */
	pacer_error_set(&err, PACER_EIO, "other");
	cr_assert_eq(err->code, PACER_ENOTFOUND);
	pacer_error_wrap(&err, PACER_EGENERIC, "cannot back up");
	pacer_error_set_app(err, "/x");
	cr_assert_eq(pacer_error_root_code(err), PACER_ENOTFOUND);
	text = pacer_error_format(err);
	cr_assert_str_eq(text, "app /x: cannot back up\n  caused by: App '/x' does not exist");
	cr_assert_str_eq(err->url, "http://m:8080/v2/apps/x");
	free(text);
	pacer_error_free(err);
}

Test(error, file_position_is_rendered)
{
	struct pacer_error *err = pacer_error_new(PACER_EINVALID, "unexpected '}'");
	char *text;

	pacer_error_set_file(err, "apps/web.json", 3, 7);
	text = pacer_error_format(err);
	cr_assert_str_eq(text, "apps/web.json:3:7: unexpected '}'");
	free(text);
	pacer_error_free(err);
}

Test(buf, cap_is_enforced)
{
	struct pacer_buf b;

	pacer_buf_init(&b, 8);
	cr_assert_eq(pacer_buf_puts(&b, "12345678"), 0);
	cr_assert_eq(pacer_buf_putc(&b, '9'), PACER_EINVALID);
	cr_assert_str_eq(pacer_buf_cstr(&b), "12345678");
	pacer_buf_release(&b);
}

Test(buf, printf_grows)
{
	struct pacer_buf b = PACER_BUF_INIT;
	char *s;

	for (int i = 0; i < 1000; i++)
		cr_assert_eq(pacer_buf_printf(&b, "%d,", i), 0);
	cr_assert_eq(strncmp(pacer_buf_cstr(&b), "0,1,2,", 6), 0);
	s = pacer_buf_detach(&b);
	cr_assert_eq(strlen(s), 3890);
	free(s);
}

Test(log, secrets_are_redacted)
{
	char *r;

	pacer_log_add_secret("s3cr3t-token");
	r = pacer_log_redact("Authorization: token=s3cr3t-token sent");
	cr_assert_str_eq(r, "Authorization: token=*** sent");
	free(r);
	pacer_log_clear_secrets();
}
