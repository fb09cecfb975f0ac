/* Helm hooks as kstage reads them (release/hooks.c): events, weight and
 * delete policies from the annotations, as Helm's manifest sorter does. */
#include "unit.h"
#include "release/release.h"

static const char hooks_yaml[] =
	"apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n"
	"    helm.sh/hook: \" Pre-Install , pre-upgrade\"\n    helm.sh/hook-weight: \"-5\"\n"
	"    helm.sh/hook-delete-policy: hook-succeeded,hook-failed\n"
	"---\n"
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n"
	"---\n"
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\n  annotations:\n"
	"    helm.sh/hook: post-install,pre-nothing\n"
	"---\n"
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n"
	"    helm.sh/hook: test-success\n    helm.sh/hook-weight: \" 3\"\n"
	"---\n"
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  annotations:\n"
	"    helm.sh/hook: post-delete\n    helm.sh/hook-weight: \"99999999999\"\n";

TEST(release_hooks_read_events_weights_and_policies_as_helm)
{
	karena a = KARENA_INIT;
	rel_hooks h;
	kerr e = KERR_INIT;
	memset(&h, 0, sizeof(h));
	CHECK_INT_EQ(rel_hooks_parse(&h, &a, "t.yaml", hooks_yaml, &e), 0);
	/* "plain" is no hook; "odd" names an unknown event: Helm skips it */
	CHECK_INT_EQ(h.n, 3);
	if (h.n == 3) {
		CHECK_STR_EQ(h.v[0].obj.name, "migrate");
		CHECK_INT_EQ(h.v[0].events, REL_HOOK_PRE_INSTALL | REL_HOOK_PRE_UPGRADE);
		CHECK_INT_EQ(h.v[0].weight, -5);
		CHECK_INT_EQ(h.v[0].delete_policies, REL_HOOK_DEL_SUCCEEDED | REL_HOOK_DEL_FAILED);
		CHECK_STR_EQ(h.v[1].obj.name, "t");
		CHECK_INT_EQ(h.v[1].events, REL_HOOK_TEST);
		CHECK_INT_EQ(h.v[1].weight, 0);   /* strconv.Atoi(" 3") fails: 0 */
		CHECK_INT_EQ(h.v[1].delete_policies, 0);
		CHECK(h.v[2].weight == 99999999999LL);   /* Go's int is 64-bit */
		CHECK_INT_EQ(h.v[2].events, REL_HOOK_POST_DELETE);
	}
	CHECK_STR_EQ(rel_hook_event_name(REL_HOOK_PRE_ROLLBACK), "pre-rollback");
	/* what a record keeps reads back the same */
	{
		rel_hooks back;
		const char *m = rel_hooks_manifest(&a, &h);
		memset(&back, 0, sizeof(back));
		CHECK_INT_EQ(rel_hooks_parse(&back, &a, "record", m, &e), 0);
		CHECK_INT_EQ(back.n, 3);
		if (back.n == 3)
			CHECK_INT_EQ(back.v[0].events, h.v[0].events);
	}
	kerr_clear(&e);
	karena_release(&a);
}
