/*
 * kube/diff.c - what a plan shows: objects without server noise, Secret
 * values masked, and a unified diff of their YAML.
 */
#include "kube.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const noise_meta[] = {
	"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink",
};
static const char *const noise_ann[] = {
	"kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision",
};

doc_node *kube_diff_normalize(karena *a, const doc_node *obj)
{
	doc_node *o, *meta, *ann;
	size_t i;
	if (!obj)
		return NULL;
	o = doc_copy(a, obj);
	if (o->type != DOC_MAP)
		return o;
	doc_map_del(o, "status");
	meta = doc_map_get(o, "metadata");
	if (meta && meta->type == DOC_MAP) {
		for (i = 0; i < sizeof(noise_meta) / sizeof(noise_meta[0]); i++)
			doc_map_del(meta, noise_meta[i]);
		ann = doc_map_get(meta, "annotations");
		if (ann && ann->type == DOC_MAP) {
			for (i = 0; i < sizeof(noise_ann) / sizeof(noise_ann[0]); i++)
				doc_map_del(ann, noise_ann[i]);
			if (!ann->u.map.len)
				doc_map_del(meta, "annotations");
		}
	}
	return o;
}

static bool is_secret(const doc_node *o)
{
	return o && !strcmp(doc_get_str(o, "kind", ""), "Secret") && !strcmp(doc_get_str(o, "apiVersion", ""), "v1");
}

static void mask_map(karena *a, doc_node *m, const doc_node *other)
{
	size_t i;
	if (!m || m->type != DOC_MAP)
		return;
	for (i = 0; i < m->u.map.len; i++) {
		const char *k = m->u.map.v[i].key->u.s.ptr;
		const doc_node *ov = other && other->type == DOC_MAP ? doc_map_get(other, k) : NULL;
		bool same = ov && doc_equal(ov, m->u.map.v[i].val);
		m->u.map.v[i].val = doc_new_str(a, !other || same ? "<redacted>" : "<redacted: changed>");
	}
}

void kube_diff_mask_secrets(karena *a, doc_node *live, doc_node *want)
{
	static const char *const keys[] = { "data", "stringData" };
	size_t i;
	for (i = 0; i < 2; i++) {
		doc_node *l = is_secret(live) ? doc_map_get(live, keys[i]) : NULL;
		doc_node *w = is_secret(want) ? doc_map_get(want, keys[i]) : NULL;
		doc_node *lc = l ? doc_copy(a, l) : NULL;
		/* mask the desired side against the original live values first */
		if (w)
			mask_map(a, w, l ? l : (live ? doc_new_map(a) : NULL));
		if (l)
			mask_map(a, l, lc);
	}
}

static void mask_values(karena *a, kredact *r, doc_node *live, doc_node *want, int depth)
{
	size_t i;
	if (!want || depth > 200)
		return;
	if (want->type == DOC_MAP) {
		for (i = 0; i < want->u.map.len; i++) {
			const doc_node *k = want->u.map.v[i].key;
			mask_values(a, r, live && live->type == DOC_MAP ? doc_map_getn(live, k->u.s.ptr, k->u.s.len) : NULL,
				    want->u.map.v[i].val, depth + 1);
		}
	} else if (want->type == DOC_SEQ) {
		for (i = 0; i < want->u.seq.len; i++)
			mask_values(a, r, live && live->type == DOC_SEQ && i < live->u.seq.len ? live->u.seq.v[i] : NULL,
				    want->u.seq.v[i], depth + 1);
	} else if (want->type == DOC_STR) {
		kbuf b = KBUF_INIT;
		if (kredact_apply(r, want->u.s.ptr, want->u.s.len, &b) > 0) {
			if (live && live->type == DOC_STR && live->u.s.len == want->u.s.len &&
			    !memcmp(live->u.s.ptr, want->u.s.ptr, want->u.s.len))
				*live = *doc_new_strn(a, b.ptr, b.len);
			else if (live && live->type != DOC_MAP && live->type != DOC_SEQ)
				*live = *doc_new_str(a, "<redacted>");
			*want = *doc_new_strn(a, b.ptr, b.len);
		}
		kbuf_release(&b);
	}
}

void kube_diff_mask_values(karena *a, kredact *r, doc_node *live, doc_node *want)
{
	if (r)
		mask_values(a, r, live, want, 0);
}

/* ---- unified diff ---- */

typedef struct lines {
	const char **p;
	size_t *len;
	size_t n;
} lines;

static void split(const char *t, lines *l)
{
	const char *s = t;
	size_t cnt = 1, k;
	memset(l, 0, sizeof(*l));
	for (k = 0; t[k]; k++)
		if (t[k] == '\n')
			cnt++;
	l->p = xcalloc(cnt, sizeof(*l->p));
	l->len = xcalloc(cnt, sizeof(*l->len));
	while (*s) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		l->p[l->n] = s;
		l->len[l->n] = n;
		l->n++;
		s += n + (e ? 1 : 0);
	}
}

static bool leq(const lines *a, size_t i, const lines *b, size_t j)
{
	return a->len[i] == b->len[j] && !memcmp(a->p[i], b->p[j], a->len[i]);
}

enum { OP_EQ, OP_DEL, OP_ADD };

size_t kube_diff_unified(kbuf *out, const char *old_name, const char *old_text, const char *new_name,
			 const char *new_text, unsigned context, bool color)
{
	lines A, B;
	size_t n, m, i, j, nops = 0, changed = 0, k;
	unsigned *dp = NULL;
	unsigned char *ops;
	size_t *oi, *oj;
	const char *red = color ? "\033[31m" : "", *green = color ? "\033[32m" : "";
	const char *cyan = color ? "\033[36m" : "", *bold = color ? "\033[1m" : "";
	const char *reset = color ? "\033[0m" : "";

	split(old_text ? old_text : "", &A);
	split(new_text ? new_text : "", &B);
	n = A.n;
	m = B.n;
	ops = xmalloc(n + m + 1);
	oi = xcalloc(n + m + 1, sizeof(size_t));
	oj = xcalloc(n + m + 1, sizeof(size_t));
	if ((double)(n + 1) * (double)(m + 1) <= 16e6) {
		dp = xcalloc(st_mult(n + 1, m + 1), sizeof(unsigned));
		for (i = n; i-- > 0;)
			for (j = m; j-- > 0;)
				dp[i * (m + 1) + j] = leq(&A, i, &B, j) ? dp[(i + 1) * (m + 1) + j + 1] + 1
					: (dp[(i + 1) * (m + 1) + j] > dp[i * (m + 1) + j + 1] ? dp[(i + 1) * (m + 1) + j]
												: dp[i * (m + 1) + j + 1]);
	}
	i = j = 0;
	while (i < n || j < m) {
		if (i < n && j < m && leq(&A, i, &B, j) && (!dp || dp[i * (m + 1) + j] == dp[(i + 1) * (m + 1) + j + 1] + 1)) {
			ops[nops] = OP_EQ; oi[nops] = i++; oj[nops++] = j++;
		} else if (i < n && (j == m || !dp || dp[(i + 1) * (m + 1) + j] >= dp[i * (m + 1) + j + 1])) {
			ops[nops] = OP_DEL; oi[nops] = i++; oj[nops++] = j;
		} else {
			ops[nops] = OP_ADD; oi[nops] = i; oj[nops++] = j++;
		}
	}
	free(dp);
	for (k = 0; k < nops; k++)
		if (ops[k] != OP_EQ)
			changed++;
	if (changed) {
		kbuf_printf(out, "%s--- %s%s\n%s+++ %s%s\n", bold, old_name, reset, bold, new_name, reset);
		k = 0;
		while (k < nops) {
			size_t s, e, x, a0, b0, ac = 0, bc = 0;
			while (k < nops && ops[k] == OP_EQ)
				k++;
			if (k >= nops)
				break;
			s = k > context ? k - context : 0;
			e = k;
			for (;;) {
				size_t q;
				while (e < nops && ops[e] != OP_EQ)
					e++;
				q = e;
				while (q < nops && ops[q] == OP_EQ)
					q++;
				if (q < nops && q - e <= 2 * (size_t)context) {
					e = q;
					continue;
				}
				break;
			}
			e = e + context < nops ? e + context : nops;
			a0 = oi[s];
			b0 = oj[s];
			for (x = s; x < e; x++) {
				if (ops[x] != OP_ADD) ac++;
				if (ops[x] != OP_DEL) bc++;
			}
			kbuf_printf(out, "%s@@ -%zu,%zu +%zu,%zu @@%s\n", cyan, ac ? a0 + 1 : a0, ac, bc ? b0 + 1 : b0, bc, reset);
			for (x = s; x < e; x++) {
				if (ops[x] == OP_EQ) {
					kbuf_putc(out, ' ');
					kbuf_put(out, A.p[oi[x]], A.len[oi[x]]);
					kbuf_putc(out, '\n');
				} else if (ops[x] == OP_DEL) {
					kbuf_printf(out, "%s-", red);
					kbuf_put(out, A.p[oi[x]], A.len[oi[x]]);
					kbuf_printf(out, "%s\n", reset);
				} else {
					kbuf_printf(out, "%s+", green);
					kbuf_put(out, B.p[oj[x]], B.len[oj[x]]);
					kbuf_printf(out, "%s\n", reset);
				}
			}
			k = e;
		}
	}
	free(ops);
	free(oi);
	free(oj);
	free(A.p);
	free(A.len);
	free(B.p);
	free(B.len);
	return changed;
}
