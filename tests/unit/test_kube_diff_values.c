/* kube_diff_mask_values: the run's secrets in a plan diff of any kind. */
#include "unit.h"
#include "kube/kube.h"

#include <stdlib.h>
#include <string.h>

static doc_node *y(karena *a, const char *t)
{
	doc_node *n = NULL;
	kerr e = KERR_INIT;
	doc_load_yaml1(&n, a, "t", t, strlen(t), NULL, &e);
	kerr_clear(&e);
	return n;
}

static char *yaml(const doc_node *n)
{
	kbuf b = KBUF_INIT;
	kerr e = KERR_INIT;
	doc_emit_yaml(&b, n, DOC_EMIT_SORT_KEYS, &e);
	kerr_clear(&e);
	return kbuf_detach(&b, NULL);
}

TEST(kube_diff_mask_values_in_a_configmap)
{
	karena a = KARENA_INIT;
	kredact *r = kredact_new();
	doc_node *want = y(&a, "kind: ConfigMap\ndata:\n  url: https://u:Znew-secret-2@db\n  same: x-Znew-secret-2\n"
			       "  plain: keep\n  list: [a, Znew-secret-2]\n");
	doc_node *live = y(&a, "kind: ConfigMap\ndata:\n  url: https://u:Zold-secret-1@db\n  same: x-Znew-secret-2\n"
			       "  plain: keep\n  list: [a, b]\n");
	char *w, *l;
	kredact_add(r, "Znew-secret-2", 13, KREDACT_FRAGMENTS);
	kube_diff_mask_values(&a, r, live, want);
	w = yaml(want);
	l = yaml(live);
	CHECK_STR_EQ(w, "data:\n  list:\n  - a\n  - <redacted>\n  plain: keep\n  same: x-<redacted>\n"
			"  url: https://u:<redacted>@db\nkind: ConfigMap\n");
	/* the old value an earlier run wrote is not known to this run: masked whole */
	CHECK_STR_EQ(l, "data:\n  list:\n  - a\n  - <redacted>\n  plain: keep\n  same: x-<redacted>\n"
			"  url: <redacted>\nkind: ConfigMap\n");
	free(w);
	free(l);
	/* no live object, and no set: nothing to do */
	kube_diff_mask_values(&a, r, NULL, want);
	kube_diff_mask_values(&a, NULL, live, want);
	kredact_free(r);
	karena_release(&a);
}
