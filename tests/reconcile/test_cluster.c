/*
 * Unit tests of reconcile/cluster.c: a state directory is bound to the
 * frameworkId of the first Marathon that uses it, and refused to any other.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "reconcile/base/log.h"
#include "reconcile/cluster.h"
#include "tests/lib/fake_marathon.h"

struct env {
	struct fake_marathon *f;
	struct pacer_marathon *m;
	struct pacer_state_store *s;
};

/* Every test starts from a Marathon whose frameworkId is fw-1 and a state
 * store that keeps documents. */
static struct env e;

static void setup(void)
{
	pacer_log_set_level(PACER_LOG_ERROR);
	e.f = fake_marathon_new();
	e.m = fake_marathon_api(e.f);
	e.s = fake_state_new(e.f);
	fake_state_enable_docs(e.s);
	fake_marathon_set_framework(e.f, "fw-1");
}

static void teardown(void)
{
	pacer_state_store_free(e.s);
	pacer_marathon_free(e.m);
}

TestSuite(cluster, .init = setup, .fini = teardown);

Test(cluster, first_use_binds_and_the_same_cluster_passes)
{
	cr_assert_eq(cluster_check(e.m, e.s, CLUSTER_BIND, NULL), 0);
	cr_assert_eq(fake_marathon_count(e.f, "doc_save cluster.json"), 1);
	cr_assert_eq(cluster_check(e.m, e.s, CLUSTER_BIND, NULL), 0);
	cr_assert_eq(fake_marathon_count(e.f, "doc_save cluster.json"), 1, "bound once");
}

Test(cluster, check_only_does_not_bind)
{
	cr_assert_eq(cluster_check(e.m, e.s, CLUSTER_CHECK_ONLY, NULL), 0);
	cr_assert_eq(fake_state_ndocs(e.s), 0);
	/* Unbound, so another cluster is not refused either. */
	fake_marathon_set_framework(e.f, "fw-2");
	cr_assert_eq(cluster_check(e.m, e.s, CLUSTER_CHECK_ONLY, NULL), 0);
}

Test(cluster, another_cluster_is_refused)
{
	struct pacer_error *err = NULL;

	cr_assert_eq(cluster_check(e.m, e.s, CLUSTER_BIND, NULL), 0);
	fake_marathon_set_framework(e.f, "fw-2");
	cr_assert_eq(cluster_check(e.m, e.s, CLUSTER_BIND, &err), PACER_ECLUSTER);
	cr_assert_not_null(err);
	cr_assert(strstr(err->message, "fw-1") && strstr(err->message, "fw-2"), "%s", err->message);
	pacer_error_free(err);
}

Test(cluster, no_framework_id_is_accepted_until_bound)
{
	struct pacer_error *err = NULL;

	fake_marathon_set_framework(e.f, "");
	cr_assert_eq(cluster_check(e.m, e.s, CLUSTER_BIND, NULL), 0);
	cr_assert_eq(fake_state_ndocs(e.s), 0, "nothing to bind to");
	fake_marathon_set_framework(e.f, "fw-1");
	cr_assert_eq(cluster_check(e.m, e.s, CLUSTER_BIND, NULL), 0);
	fake_marathon_set_framework(e.f, "");
	cr_assert_eq(cluster_check(e.m, e.s, CLUSTER_BIND, &err), PACER_ECLUSTER,
	             "bound, and the identity cannot be checked");
	pacer_error_free(err);
}

Test(cluster, a_store_without_documents_is_not_checked)
{
	pacer_state_store_free(e.s);
	e.s = fake_state_new(e.f);
	cr_assert_eq(cluster_check(e.m, e.s, CLUSTER_BIND, NULL), 0);
	cr_assert_eq(cluster_check(e.m, NULL, CLUSTER_BIND, NULL), 0);
}
