/*
 * release/reuse.c - Helm's --reuse-values, --reset-then-reuse-values and
 * --reset-values (pkg/action/upgrade.go, reuseValues) for a chart: this
 * run's values (-f, --set) merged over the values the release's deployed
 * revision was given (kstage's record, or Helm's record's config when the
 * run takes a Helm release over or Helm's revision is newer), with Helm's CoalesceTables: this run's
 * keys win, a null deletes. The chart's defaults are those of the chart
 * being applied in both modes: kstage's record does not keep the previous
 * chart's defaults (Helm's --reuse-values takes the previous chart's).
 */
#include "release.h"

#include <string.h>

#define REUSE_MAX_DEPTH 200

/* The dotted path of the first string leaf of n that a record masked, or
 * NULL. */
static const char *masked_at(karena *a, const doc_node *n, const char *path, int depth)
{
	size_t i;
	const char *p;
	if (!n || depth > REUSE_MAX_DEPTH)
		return NULL;
	if (n->type == DOC_STR)
		return !strcmp(n->u.s.ptr, "<redacted>") ? (*path ? path : "(top)") : NULL;
	if (n->type == DOC_MAP) {
		for (i = 0; i < n->u.map.len; i++)
			if ((p = masked_at(a, n->u.map.v[i].val,
					   karena_printf(a, "%s%s%s", path, *path ? "." : "", n->u.map.v[i].key->u.s.ptr),
					   depth + 1)))
				return p;
	} else if (n->type == DOC_SEQ) {
		for (i = 0; i < n->u.seq.len; i++)
			if ((p = masked_at(a, n->u.seq.v[i], karena_printf(a, "%s[%zu]", path, i), depth + 1)))
				return p;
	}
	return NULL;
}

int rel_values_mode_check(const rel_bundle *b, rel_values_mode mode, kerr *err)
{
	if (mode == REL_VALUES_NEW || b->is_chart)
		return 0;
	return kerr_set(err, KE_USAGE,
			"--%s is for a chart: a bundle's record keeps its computed values, not the ones it was given",
			mode == REL_VALUES_REUSE ? "reuse-values" : "reset-then-reuse-values");
}

int rel_values_reuse(rel_ctx *ctx, const rel_bundle *b, const rel_record *prior, const rel_helm_release *helm,
		     rel_values_mode mode, karena *a, kerr *err)
{
	const doc_node *old = NULL;
	const char *from, *bad;
	doc_node *merged;
	int rc;
	if ((rc = rel_values_mode_check(b, mode, err)))
		return rc;
	if (mode == REL_VALUES_NEW || !prior)
		return 0;   /* a first install has nothing to reuse (helm upgrade --install alike) */
	if (helm && helm->found && (prior->revision == 0 || helm->newer)) {
		old = doc_get_path(helm->release, "config");
		from = karena_printf(a, "Helm's revision %d of release %s", helm->version, helm->name);
	} else {
		old = prior->values;
		from = karena_printf(a, "revision %d of release %s", prior->revision, prior->name);
	}
	if (!old || old->type != DOC_MAP)
		return 0;
	merged = values_coalesce(a, doc_copy(a, ctx->values), old);
	if ((bad = masked_at(a, merged, "", 0)))
		return kerr_set(err, KE_USAGE,
				"--%s: the value at %s of %s is a secret its record does not keep; give it again (--set-secret)",
				mode == REL_VALUES_REUSE ? "reuse-values" : "reset-then-reuse-values", bad, from);
	ctx->values = merged;
	kube_emit(ctx->client, KEV_INFO, "values.reused",
		  karena_printf(a, "values: this run's over those of %s (--%s)", from,
				mode == REL_VALUES_REUSE ? "reuse-values" : "reset-then-reuse-values"),
		  NULL);
	return 0;
}
