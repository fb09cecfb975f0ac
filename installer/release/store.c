/* release/store.c - release record stores: Secrets in the cluster, and
 * memory for tests. See store.h. */
#include "release/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* A DNS-1123 label of at most max characters. */
static int label_check(const char *what, const char *name, size_t max, kerr *err)
{
	size_t i, n = name ? strlen(name) : 0;
	if (!n)
		return kerr_set(err, KE_USAGE, "%s is empty", what);
	if (n > max)
		return kerr_set(err, KE_USAGE, "%s \"%s\" is longer than %zu characters", what, name, max);
	for (i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (ch == '-' && i && i + 1 < n)))
			return kerr_set(err, KE_USAGE,
					"%s \"%s\" is not a DNS-1123 label (lowercase letters, digits and '-', "
					"starting and ending with a letter or digit)", what, name);
	}
	return 0;
}

int rel_release_name_check(const char *name, kerr *err)
{
	return label_check("release name", name, 53, err);
}

int rel_namespace_check(const char *ns, kerr *err)
{
	return label_check("release namespace", ns, 63, err);
}

/* ---- generic operations ---- */

int rel_store_create(rel_store *s, const rel_record *r, kerr *err)
{
	int rc = rel_release_name_check(r->name, err);
	return rc ? rc : s->create(s, r, err);
}

int rel_store_update(rel_store *s, const rel_record *r, kerr *err)
{
	int rc = rel_release_name_check(r->name, err);
	return rc ? rc : s->update(s, r, err);
}

int rel_store_set_status(rel_store *s, const char *name, int revision, rel_status status, kerr *err)
{
	int rc = rel_release_name_check(name, err);
	return rc ? rc : s->set_status(s, name, revision, status, err);
}

int rel_store_get(rel_store *s, karena *a, const char *name, int revision, rel_record **out, kerr *err)
{
	int rc = rel_release_name_check(name, err);
	*out = NULL;
	return rc ? rc : s->get(s, a, name, revision, out, err);
}

static int by_revision(const void *x, const void *y)
{
	const rel_rec_summary *a = x, *b = y;
	return (a->revision > b->revision) - (a->revision < b->revision);
}

int rel_store_history(rel_store *s, karena *a, const char *name, rel_rec_summary **out, size_t *n,
		      kerr *err)
{
	int rc = rel_release_name_check(name, err);
	*out = NULL;
	*n = 0;
	if (rc || (rc = s->list(s, a, name, out, n, err)))
		return rc;
	if (*n)
		qsort(*out, *n, sizeof(**out), by_revision);
	return 0;
}

int rel_store_latest(rel_store *s, karena *a, const char *name, rel_rec_summary *out, kerr *err)
{
	rel_rec_summary *v;
	size_t n;
	int rc = rel_store_history(s, a, name, &v, &n, err);
	if (rc)
		return rc;
	if (!n) {
		if (s->namespace)
			return kerr_set(err, KE_NOTFOUND, "release \"%s\" has no records in namespace \"%s\"", name,
					s->namespace);
		return kerr_set(err, KE_NOTFOUND, "release \"%s\" has no records", name);
	}
	*out = v[n - 1];
	return 0;
}

/* Fold what the revisions v[0..cut) did into the origin of revision v[cut]
 * (the oldest one kept): the earliest prior state of every object they
 * touched that is still in effect. Its origin is written before anything
 * goes, so a run killed meanwhile leaves the pruned records and an origin
 * that folding them again leaves as it is. */
static int fold_origin(rel_store *s, karena *a, const char *name, const rel_rec_summary *v, size_t cut, kerr *err)
{
	rel_rec_stage *acc = karena_alloc(a, sizeof(*acc));
	rel_record *r, *keep;
	size_t i, k;
	int rc;
	acc->name = "origin";
	acc->result = REL_SR_SUCCEEDED;
	for (i = 0; i < cut; i++) {
		if ((rc = rel_store_get(s, a, name, v[i].revision, &r, err)))
			return rc;
		if (r->status == REL_ST_UNINSTALLED) {
			acc->nobjects = 0;   /* uninstall put back all before it */
			continue;
		}
		if (r->origin)
			rel_rec_stage_fold(a, acc, r->origin);
		for (k = 0; r->status != REL_ST_ROLLED_BACK && k < r->nstages; k++)
			if (rel_rec_stage_started(&r->stages[k]))
				rel_rec_stage_fold(a, acc, &r->stages[k]);
	}
	if ((rc = rel_store_get(s, a, name, v[cut].revision, &keep, err)))
		return rc;
	if (keep->origin)
		rel_rec_stage_fold(a, acc, keep->origin);
	keep->origin = acc;
	return rel_store_update(s, keep, err);
}

int rel_store_prune(rel_store *s, const char *name, size_t max, size_t *removed, kerr *err)
{
	karena a = KARENA_INIT;
	rel_rec_summary *v;
	size_t n, i, cut;
	int rc;
	if (removed)
		*removed = 0;
	if ((rc = rel_store_history(s, &a, name, &v, &n, err)) || !max || n <= max) {
		karena_release(&a);
		return rc;
	}
	for (cut = 0; cut < n - max && v[cut].status != REL_ST_DEPLOYED && v[cut].status != REL_ST_PENDING; cut++)
		;
	if (cut && (rc = fold_origin(s, &a, name, v, cut, err)))
		kerr_wrap(err, "prune release \"%s\": keep what revisions %d to %d changed first", name, v[0].revision,
			  v[cut - 1].revision);
	for (i = 0; !rc && i < cut; i++) {
		if ((rc = s->remove(s, name, v[i].revision, err)))
			kerr_wrap(err, "prune release \"%s\" revision %d", name, v[i].revision);
		else if (removed)
			(*removed)++;
	}
	karena_release(&a);
	return rc;
}

void rel_store_free(rel_store *s)
{
	if (s)
		s->free(s);
}

/* ---- memory ---- */

typedef struct mem_rec {
	char *name;
	int revision;
	rel_status status;
	int64_t updated_ms;
	char *description;
	kbuf payload;
} mem_rec;

typedef struct mem_store {
	rel_store s;
	mem_rec *v;
	size_t n, cap;
} mem_store;

static mem_rec *mem_find(mem_store *m, const char *name, int revision)
{
	size_t i;
	for (i = 0; i < m->n; i++)
		if (m->v[i].revision == revision && !strcmp(m->v[i].name, name))
			return &m->v[i];
	return NULL;
}

static int mem_fill(mem_rec *e, const rel_record *r, kerr *err)
{
	kbuf p = KBUF_INIT;
	int rc = rel_record_encode(&p, r, err);
	if (rc) {
		kbuf_release(&p);
		return rc;
	}
	kbuf_release(&e->payload);
	e->payload = p;
	e->status = r->status;
	e->updated_ms = r->updated_ms;
	free(e->description);
	e->description = r->description ? xstrdup(r->description) : NULL;
	return 0;
}

static int mem_create(rel_store *s, const rel_record *r, kerr *err)
{
	mem_store *m = (mem_store *)s;
	mem_rec e;
	int rc;
	if (mem_find(m, r->name, r->revision))
		return kerr_set(err, KE_CONFLICT, "release \"%s\" revision %d exists already", r->name, r->revision);
	memset(&e, 0, sizeof(e));
	e.payload = (kbuf)KBUF_INIT;
	if ((rc = mem_fill(&e, r, err)))
		return rc;
	e.name = xstrdup(r->name);
	e.revision = r->revision;
	ALLOC_GROW(m->v, m->n + 1, m->cap);
	m->v[m->n++] = e;
	return 0;
}

static int mem_update(rel_store *s, const rel_record *r, kerr *err)
{
	mem_rec *e = mem_find((mem_store *)s, r->name, r->revision);
	if (!e)
		return kerr_set(err, KE_NOTFOUND, "release \"%s\" revision %d not found", r->name, r->revision);
	return mem_fill(e, r, err);
}

static int mem_set_status(rel_store *s, const char *name, int revision, rel_status status, kerr *err)
{
	mem_rec *e = mem_find((mem_store *)s, name, revision);
	if (!e)
		return kerr_set(err, KE_NOTFOUND, "release \"%s\" revision %d not found", name, revision);
	e->status = status;
	return 0;
}

static int mem_get(rel_store *s, karena *a, const char *name, int revision, rel_record **out, kerr *err)
{
	mem_rec *e = mem_find((mem_store *)s, name, revision);
	int rc;
	if (!e)
		return kerr_set(err, KE_NOTFOUND, "release \"%s\" revision %d not found", name, revision);
	rc = rel_record_decode(out, a, e->payload.ptr, e->payload.len,
			       karena_printf(a, "release record %s revision %d", name, revision), err);
	if (!rc)
		(*out)->status = e->status;   /* set_status changes it alone */
	return rc;
}

static int mem_list(rel_store *s, karena *a, const char *name, rel_rec_summary **out, size_t *n, kerr *err)
{
	mem_store *m = (mem_store *)s;
	size_t i;
	(void)err;
	*out = karena_alloc(a, (m->n + 1) * sizeof(**out));
	*n = 0;
	for (i = 0; i < m->n; i++) {
		rel_rec_summary *o;
		if (strcmp(m->v[i].name, name))
			continue;
		o = &(*out)[(*n)++];
		o->name = karena_strdup(a, name);
		o->revision = m->v[i].revision;
		o->status = m->v[i].status;
		o->updated_ms = m->v[i].updated_ms;
		o->description = m->v[i].description ? karena_strdup(a, m->v[i].description) : NULL;
		o->parts = rel_payload_nparts(m->v[i].payload.len);
		o->size = m->v[i].payload.len;
	}
	return 0;
}

static void mem_drop(mem_rec *e)
{
	free(e->name);
	free(e->description);
	kbuf_release(&e->payload);
}

static int mem_remove(rel_store *s, const char *name, int revision, kerr *err)
{
	mem_store *m = (mem_store *)s;
	mem_rec *e = mem_find(m, name, revision);
	if (!e)
		return kerr_set(err, KE_NOTFOUND, "release \"%s\" revision %d not found", name, revision);
	mem_drop(e);
	memmove(e, e + 1, (size_t)(m->v + m->n - (e + 1)) * sizeof(*e));
	m->n--;
	return 0;
}

static void mem_free(rel_store *s)
{
	mem_store *m = (mem_store *)s;
	size_t i;
	for (i = 0; i < m->n; i++)
		mem_drop(&m->v[i]);
	free(m->v);
	free(m);
}

rel_store *rel_store_memory(void)
{
	mem_store *m = xcalloc(1, sizeof(*m));
	m->s.kind = "memory";
	m->s.create = mem_create;
	m->s.update = mem_update;
	m->s.get = mem_get;
	m->s.set_status = mem_set_status;
	m->s.list = mem_list;
	m->s.remove = mem_remove;
	m->s.free = mem_free;
	m->s.impl = m;
	return &m->s;
}

/* ---- Secrets ---- */

typedef struct sec_store {
	rel_store s;
	kube_client *c;
	char *ns;
	/* what this store last wrote (a run updates one record again and
	 * again): its head's resourceVersion, generation and part count, so
	 * the next update needs no LIST; NULL name when unknown */
	char *last_name, *last_rv;
	int last_rev;
	long last_gen;
	size_t last_nparts;
} sec_store;

#define A_PARTS "kstage.dev/parts"
#define A_SIZE "kstage.dev/size"
#define A_SHA "kstage.dev/sha256"
#define A_GEN "kstage.dev/generation"
#define A_UPDATED "kstage.dev/updated"
#define A_DESC "kstage.dev/description"
#define L_PART "kstage.dev/part"
#define DESC_MAX 256

int rel_kube_send(kube_client *c, const char *method, const char *path, const kbuf *body, kube_resp *rs,
		kerr *err)
{
	kube_req rq = { 0 };
	rq.method = method;
	rq.path = path;
	if (body) {
		rq.content_type = "application/json";
		rq.body = body->ptr;
		rq.body_len = body->len;
	}
	/* GET and DELETE repeat safely, a repeated POST answers 409 and a PUT
	 * carries the resourceVersion it read */
	rq.idempotent = true;
	kube_resp_init(rs);
	return kube_do(c, &rq, rs, err);
}

int rel_kube_error(kerr *err, const kube_resp *rs, const char *what, const char *fmt, ...)
{
	kbuf ref = KBUF_INIT;
	va_list ap;
	int rc;
	va_start(ap, fmt);
	kbuf_vprintf(&ref, fmt, ap);
	va_end(ap);
	rc = kube_status_error(err, rs->status, rs->body.ptr, rs->body.len, what, ref.ptr);
	kbuf_release(&ref);
	return rc;
}

int rel_namespace_ensure(kube_client *c, const char *ns, kerr *err)
{
	kbuf body = KBUF_INIT;
	kube_resp rs;
	int rc;
	kbuf_puts(&body, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":");
	doc_json_quote(&body, ns, strlen(ns), 0);
	kbuf_puts(&body, "}}");
	rc = rel_kube_send(c, "POST", "/api/v1/namespaces", &body, &rs, err);
	if (!rc && rs.status >= 400 && rs.status != 409)   /* 409: it exists */
		rc = rel_kube_error(err, &rs, "create", "Namespace/%s", ns);
	kube_resp_release(&rs);
	kbuf_release(&body);
	return rc;
}

/* POST a release Secret; when the namespace is missing (404), create it
 * and try once more. */
static int sec_post(sec_store *st, const kbuf *body, kube_resp *rs, kerr *err)
{
	kbuf path = KBUF_INIT;
	int rc;
	kbuf_printf(&path, "/api/v1/namespaces/%s/secrets", st->ns);
	rc = rel_kube_send(st->c, "POST", path.ptr, body, rs, err);
	if (!rc && rs->status == 404) {
		kube_resp_release(rs);
		if ((rc = rel_namespace_ensure(st->c, st->ns, err)) != 0)
			kerr_wrap(err, "release namespace \"%s\"", st->ns);
		else
			rc = rel_kube_send(st->c, "POST", path.ptr, body, rs, err);
	}
	kbuf_release(&path);
	return rc;
}

/* "kstage.v1.NAME.vREV" and its parts "...gGENpI" */
static void head_name(kbuf *out, const char *name, int rev)
{
	kbuf_printf(out, "kstage.v1.%s.v%d", name, rev);
}

static void selector_path(kbuf *out, const sec_store *st, const char *name, int rev)
{
	/* owner=kstage,name=NAME[,revision=REV | ,!kstage.dev/part] */
	kbuf_printf(out, "/api/v1/namespaces/%s/secrets?labelSelector=owner%%3Dkstage%%2Cname%%3D%s", st->ns, name);
	if (rev > 0)
		kbuf_printf(out, "%%2Crevision%%3D%d", rev);
	else
		kbuf_puts(out, "%2C%21" L_PART);
}

static void put_pair(kbuf *b, const char *k, const char *v, bool comma)
{
	if (comma)
		kbuf_putc(b, ',');
	doc_json_quote(b, k, strlen(k), 0);
	kbuf_putc(b, ':');
	doc_json_quote(b, v, strlen(v), 0);
}

/* A release Secret: the head (status set, part NULL, annotations ann as
 * NULL-terminated key/value pairs, rv for a replace) or a part. */
static void secret_body(kbuf *b, const sec_store *st, const char *sname, const char *name, int rev,
			const char *status, const char *part, const char *const *ann, const char *rv,
			const void *data, size_t len)
{
	char revs[16];
	size_t i;
	snprintf(revs, sizeof(revs), "%d", rev);
	kbuf_puts(b, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"type\":\"" REL_SECRET_TYPE "\",\"metadata\":{");
	put_pair(b, "name", sname, false);
	put_pair(b, "namespace", st->ns, true);
	if (rv)
		put_pair(b, "resourceVersion", rv, true);
	kbuf_puts(b, ",\"labels\":{");
	put_pair(b, "owner", "kstage", false);
	put_pair(b, "name", name, true);
	put_pair(b, "revision", revs, true);
	if (status)
		put_pair(b, "status", status, true);
	if (part)
		put_pair(b, L_PART, part, true);
	kbuf_putc(b, '}');
	if (ann) {
		kbuf_puts(b, ",\"annotations\":{");
		for (i = 0; ann[i]; i += 2)
			put_pair(b, ann[i], ann[i + 1], i > 0);
		kbuf_putc(b, '}');
	}
	kbuf_puts(b, "},\"data\":{\"release\":\"");
	kube_b64_encode(b, data, len);
	kbuf_puts(b, "\"}}");
}

/* Parse a non-negative decimal; -1 if it is not one (or past max). */
static long parse_num(const char *s, long max)
{
	long v = 0;
	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* "gGENpI" */
static bool parse_part(const char *s, long *gen, long *idx)
{
	char g[16], p[16];
	const char *q;
	if (!s || s[0] != 'g' || !(q = strchr(s, 'p')) || q - s - 1 >= (long)sizeof(g) || strlen(q + 1) >= sizeof(p))
		return false;
	memcpy(g, s + 1, (size_t)(q - s - 1));
	g[q - s - 1] = 0;
	snprintf(p, sizeof(p), "%s", q + 1);
	*gen = parse_num(g, 1000000000);
	*idx = parse_num(p, REL_PARTS_MAX);
	return *gen >= 0 && *idx >= 0;
}

/* metadata.annotations[key] of a Secret, or NULL */
static const char *annotation(const doc_node *it, const char *key)
{
	const doc_node *m = doc_get_path(it, "metadata.annotations");
	const doc_node *v = m ? doc_map_get(m, key) : NULL;
	return v && v->type == DOC_STR ? v->u.s.ptr : NULL;
}

static const char *label(const doc_node *it, const char *key)
{
	const doc_node *m = doc_get_path(it, "metadata.labels");
	const doc_node *v = m ? doc_map_get(m, key) : NULL;
	return v && v->type == DOC_STR ? v->u.s.ptr : NULL;
}

/* What one LIST by revision found. */
typedef struct rev_state {
	doc_node *head;             /* NULL: no such revision */
	const char *rv;
	long gen, max_gen;          /* the head's generation; the largest seen anywhere */
	doc_node **parts;           /* every part Secret, any generation */
	size_t nparts;
} rev_state;

/* Parse the answer to a LIST of release records, located at the
 * collection it came from. */
static int load_list(doc_node **out, karena *a, const sec_store *st, const kube_resp *rs, kerr *err)
{
	kbuf nm = KBUF_INIT;
	int rc;
	kbuf_printf(&nm, "release records: GET %s/api/v1/namespaces/%s/secrets",
		    st->c->cfg->server ? st->c->cfg->server : "", st->ns);
	rc = doc_load_json(out, a, nm.ptr, rs->body.ptr, rs->body.len, err);
	kbuf_release(&nm);
	return rc;
}

static int sec_load(sec_store *st, karena *a, const char *name, int rev, rev_state *out, kerr *err)
{
	kbuf path = KBUF_INIT, hn = KBUF_INIT;
	kube_resp rs;
	doc_node *list = NULL, *items;
	size_t i;
	int rc;
	memset(out, 0, sizeof(*out));
	selector_path(&path, st, name, rev);
	head_name(&hn, name, rev);
	rc = rel_kube_send(st->c, "GET", path.ptr, NULL, &rs, err);
	if (!rc && rs.status >= 400)
		rc = rel_kube_error(err, &rs, "list", "Secret/%s/%s", st->ns, hn.ptr);
	if (!rc)
		rc = load_list(&list, a, st, &rs, err);
	kube_resp_release(&rs);
	items = list ? doc_map_get(list, "items") : NULL;
	if (!rc && items && items->type != DOC_SEQ)
		rc = kerr_set(err, KE_API, "listing release records: items is not a list");
	if (!rc && items && items->u.seq.len) {
		out->parts = karena_alloc(a, items->u.seq.len * sizeof(*out->parts));
		for (i = 0; i < items->u.seq.len; i++) {
			doc_node *it = items->u.seq.v[i];
			const char *sn = doc_get_str(it, "metadata.name", "");
			const char *part = label(it, L_PART);
			long g, ix;
			if (!part && !strcmp(sn, hn.ptr)) {
				out->head = it;
				out->rv = doc_get_str(it, "metadata.resourceVersion", NULL);
				out->gen = parse_num(annotation(it, A_GEN), 1000000000);
				if (out->gen > out->max_gen)
					out->max_gen = out->gen;
			} else if (part && parse_part(part, &g, &ix)) {
				out->parts[out->nparts++] = it;
				if (g > out->max_gen)
					out->max_gen = g;
			}
		}
	}
	kbuf_release(&path);
	kbuf_release(&hn);
	return rc;
}

/* data.release of a Secret, decoded (xmalloc'd into *out), at most one part. */
static int part_data(const doc_node *it, char **out, size_t *len, const char *what, size_t idx, size_t n,
		     kerr *err)
{
	const doc_node *d = doc_get_path(it, "data");
	const doc_node *v = d ? doc_map_get(d, "release") : NULL;
	*out = NULL;
	if (!v || v->type != DOC_STR)
		return kerr_set(err, KE_INPUT, "%s is corrupt: part %zu of %zu has no data", what, idx + 1, n);
	if (v->u.s.len > (REL_PART_SIZE + 2) / 3 * 4)
		return kerr_set(err, KE_INPUT, "%s is corrupt: part %zu of %zu is larger than %zu bytes", what, idx + 1, n,
				REL_PART_SIZE);
	if (kube_b64_decode(v->u.s.ptr, v->u.s.len, out, len))
		return kerr_set(err, KE_INPUT, "%s is corrupt: part %zu of %zu is not base64", what, idx + 1, n);
	return 0;
}

static int sec_get(rel_store *s, karena *a, const char *name, int revision, rel_record **out, kerr *err)
{
	sec_store *st = s->impl;
	rev_state rv;
	const char *what = karena_printf(a, "release record %s revision %d", name, revision);
	const char *sha, *type;
	char **parts = NULL;
	size_t *lens = NULL, i;
	long n, size;
	kbuf payload = KBUF_INIT;
	int rc;
	if ((rc = sec_load(st, a, name, revision, &rv, err)))
		return rc;
	if (!rv.head)
		return kerr_set(err, KE_NOTFOUND, "release \"%s\" revision %d not found in namespace \"%s\"", name, revision,
				st->ns);
	type = doc_get_str(rv.head, "type", "");
	n = parse_num(annotation(rv.head, A_PARTS), REL_PARTS_MAX);
	size = parse_num(annotation(rv.head, A_SIZE), (long)REL_PARTS_MAX * (long)REL_PART_SIZE);
	sha = annotation(rv.head, A_SHA);
	if (strcmp(type, REL_SECRET_TYPE))
		return kerr_set(err, KE_INPUT, "%s is corrupt: Secret type is \"%s\", not " REL_SECRET_TYPE, what, type);
	if (n < 1 || size < 0 || rv.gen < 0)
		return kerr_set(err, KE_INPUT, "%s is corrupt: annotations " A_PARTS ", " A_SIZE " and " A_GEN
				" must be numbers (parts 1 to %d)", what, REL_PARTS_MAX);
	parts = xcalloc((size_t)n, sizeof(*parts));
	lens = xcalloc((size_t)n, sizeof(*lens));
	rc = part_data(rv.head, &parts[0], &lens[0], what, 0, (size_t)n, err);
	for (i = 0; !rc && i < rv.nparts; i++) {
		long g, ix;
		parse_part(label(rv.parts[i], L_PART), &g, &ix);
		if (g != rv.gen || ix < 1)
			continue;
		if (ix >= n) {
			rc = kerr_set(err, KE_INPUT, "%s is corrupt: part %ld of %ld exists", what, ix + 1, n);
			break;
		}
		if (parts[ix]) {
			rc = kerr_set(err, KE_INPUT, "%s is corrupt: part %ld twice", what, ix + 1);
			break;
		}
		rc = part_data(rv.parts[i], &parts[ix], &lens[ix], what, (size_t)ix, (size_t)n, err);
	}
	if (!rc)
		rc = rel_payload_join(&payload, (const char *const *)parts, lens, (size_t)n, (size_t)size, sha, what, err);
	if (!rc)
		rc = rel_record_decode(out, a, payload.ptr, payload.len, what, err);
	if (!rc && (strcmp((*out)->name, name) || (*out)->revision != revision)) {
		rc = kerr_set(err, KE_INPUT, "%s is corrupt: it holds release \"%s\" revision %d", what, (*out)->name,
			      (*out)->revision);
		*out = NULL;
	}
	if (!rc) {   /* the label is the status (set_status changes it alone) */
		int stt = rel_status_parse(label(rv.head, "status"));
		if (stt < 0) {
			rc = kerr_set(err, KE_INPUT, "%s is corrupt: its status label is not a status", what);
			*out = NULL;
		} else {
			(*out)->status = (rel_status)stt;
		}
	}
	for (i = 0; i < (size_t)n; i++)
		free(parts[i]);
	free(parts);
	free(lens);
	kbuf_release(&payload);
	return rc;
}

static int sec_delete(sec_store *st, const char *sname, kerr *err)
{
	kbuf path = KBUF_INIT;
	kube_resp rs;
	int rc;
	kbuf_printf(&path, "/api/v1/namespaces/%s/secrets/%s", st->ns, sname);
	rc = rel_kube_send(st->c, "DELETE", path.ptr, NULL, &rs, err);
	if (!rc && rs.status >= 400 && rs.status != 404)
		rc = rel_kube_error(err, &rs, "delete", "Secret/%s/%s", st->ns, sname);
	kube_resp_release(&rs);
	kbuf_release(&path);
	return rc;
}

/* Delete parts 1..n-1 of generation gen (a write that did not complete). */
static void sec_drop_gen(sec_store *st, const rel_record *r, size_t n, long gen)
{
	kbuf sname = KBUF_INIT;
	kerr scratch = KERR_INIT;
	size_t j;
	for (j = 1; j < n; j++) {
		kbuf_reset(&sname);
		head_name(&sname, r->name, r->revision);
		kbuf_printf(&sname, ".g%ldp%zu", gen, j);
		sec_delete(st, sname.ptr, &scratch);
		kerr_clear(&scratch);
	}
	kbuf_release(&sname);
}

/* After a 409 on a write of Secret sname: the client sends a write again
 * when its answer was lost (a reset, a 5xx), and the first try may have
 * gone through. When the Secret holds exactly what this write sent (its
 * data, and for a head the annotations ann: digest, generation, time),
 * the 409 answered our own write: rs becomes the Secret as read, a 200. */
static bool own_write(sec_store *st, const char *sname, const void *data, size_t len, const char *const *ann,
		      kube_resp *rs)
{
	kbuf path = KBUF_INIT, want = KBUF_INIT;
	kube_resp got;
	karena a = KARENA_INIT;
	doc_node *d = NULL;
	kerr e = KERR_INIT;
	bool own = false;
	size_t i;
	kbuf_printf(&path, "/api/v1/namespaces/%s/secrets/%s", st->ns, sname);
	if (!rel_kube_send(st->c, "GET", path.ptr, NULL, &got, &e) && got.status == 200 &&
	    !doc_load_json(&d, &a, "release record", got.body.ptr, got.body.len, &e)) {
		kube_b64_encode(&want, data, len);
		own = !strcmp(doc_get_str(d, "data.release", ""), want.ptr);
		for (i = 0; own && ann && ann[i]; i += 2) {
			const doc_node *v = doc_map_get(doc_map_get(doc_map_get(d, "metadata"), "annotations"), ann[i]);
			own = v && v->type == DOC_STR && !strcmp(v->u.s.ptr, ann[i + 1]);
		}
	}
	if (own) {
		kube_resp_release(rs);
		*rs = got;
	} else {
		kube_resp_release(&got);
	}
	kerr_clear(&e);
	karena_release(&a);
	kbuf_release(&want);
	kbuf_release(&path);
	return own;
}

/* Write parts 1..n-1 of payload under generation gen; on failure delete
 * what was written. */
static int sec_write_parts(sec_store *st, const rel_record *r, const kbuf *payload, long gen, kerr *err)
{
	size_t n = rel_payload_nparts(payload->len), i;
	int rc = 0;
	for (i = 1; i < n && !rc; i++) {
		kbuf body = KBUF_INIT, sname = KBUF_INIT, part = KBUF_INIT;
		size_t off = i * REL_PART_SIZE, len = payload->len - off < REL_PART_SIZE ? payload->len - off : REL_PART_SIZE;
		kube_resp rs;
		kbuf_printf(&part, "g%ldp%zu", gen, i);
		head_name(&sname, r->name, r->revision);
		kbuf_printf(&sname, ".%s", part.ptr);
		secret_body(&body, st, sname.ptr, r->name, r->revision, NULL, part.ptr, NULL, NULL, payload->ptr + off, len);
		rc = sec_post(st, &body, &rs, err);
		if (!rc && rs.status == 409)
			own_write(st, sname.ptr, payload->ptr + off, len, NULL, &rs);
		if (!rc && rs.status >= 400)
			rc = rel_kube_error(err, &rs, "create", "Secret/%s/%s", st->ns, sname.ptr);
		kube_resp_release(&rs);
		if (rc)
			sec_drop_gen(st, r, i, gen);
		kbuf_release(&body);
		kbuf_release(&sname);
		kbuf_release(&part);
	}
	return rc;
}

static void forget_last(sec_store *st)
{
	free(st->last_name);
	free(st->last_rv);
	st->last_name = st->last_rv = NULL;
}

/* Note the head the server answered rs with (gen, n parts) as the last
 * write of record r. */
static void remember_last(sec_store *st, const rel_record *r, const kube_resp *rs, long gen, size_t n)
{
	karena a = KARENA_INIT;
	doc_node *d = NULL;
	kerr e = KERR_INIT;
	const char *rv;
	if (!doc_load_json(&d, &a, "release record", rs->body.ptr, rs->body.len, &e) &&
	    (rv = doc_get_str(d, "metadata.resourceVersion", NULL)) && *rv) {
		st->last_name = xstrdup(r->name);
		st->last_rv = xstrdup(rv);
		st->last_rev = r->revision;
		st->last_gen = gen;
		st->last_nparts = n;
	}
	kerr_clear(&e);
	karena_release(&a);
}

/* Write the record: parts under gen, then the head (POST, or PUT over rv). */
static int sec_write(sec_store *st, const rel_record *r, long gen, const char *rv, kerr *err)
{
	kbuf payload = KBUF_INIT, body = KBUF_INIT, path = KBUF_INIT, hn = KBUF_INIT, upd = KBUF_INIT;
	char sha[65], nparts[24], size[24], gens[24], desc[DESC_MAX + 1];
	const char *ann[14];
	size_t n;
	kube_resp rs;
	int rc;
	if ((rc = rel_record_encode(&payload, r, err)))
		goto out;
	n = rel_payload_nparts(payload.len);
	if (n > REL_PARTS_MAX) {
		rc = kerr_set(err, KE_LIMIT, "release record %s revision %d: %zu bytes of gzip, more than the %zu a record may take",
			      r->name, r->revision, payload.len, (size_t)REL_PARTS_MAX * REL_PART_SIZE);
		goto out;
	}
	if ((rc = sec_write_parts(st, r, &payload, gen, err)))
		goto out;
	rel_sha256_hex(sha, payload.ptr, payload.len);
	snprintf(nparts, sizeof(nparts), "%zu", n);
	snprintf(size, sizeof(size), "%zu", payload.len);
	snprintf(gens, sizeof(gens), "%ld", gen);
	snprintf(desc, sizeof(desc), "%s", r->description ? r->description : "");
	if (r->description && strlen(r->description) > DESC_MAX) {   /* cut between UTF-8 sequences */
		size_t l = DESC_MAX;
		while (l && ((unsigned char)r->description[l] & 0xC0) == 0x80)
			l--;
		desc[l] = 0;
	}
	rel_time_format(&upd, r->updated_ms);
	ann[0] = A_PARTS, ann[1] = nparts, ann[2] = A_SIZE, ann[3] = size, ann[4] = A_SHA, ann[5] = sha;
	ann[6] = A_GEN, ann[7] = gens, ann[8] = A_UPDATED, ann[9] = upd.ptr, ann[10] = A_DESC, ann[11] = desc;
	ann[12] = NULL;
	head_name(&hn, r->name, r->revision);
	secret_body(&body, st, hn.ptr, r->name, r->revision, rel_status_name(r->status), NULL, ann, rv, payload.ptr,
		    payload.len < REL_PART_SIZE ? payload.len : REL_PART_SIZE);
	kbuf_printf(&path, "/api/v1/namespaces/%s/secrets/%s", st->ns, hn.ptr);
	rc = rv ? rel_kube_send(st->c, "PUT", path.ptr, &body, &rs, err) : sec_post(st, &body, &rs, err);
	if (!rc && rs.status == 409)
		own_write(st, hn.ptr, payload.ptr, payload.len < REL_PART_SIZE ? payload.len : REL_PART_SIZE, ann, &rs);
	forget_last(st);
	if (!rc && rs.status < 300)
		remember_last(st, r, &rs, gen, n);
	if (!rc && rs.status == 409)
		rc = kerr_set(err, KE_CONFLICT, rv ? "release \"%s\" revision %d was changed by another run meanwhile"
					     : "release \"%s\" revision %d exists already", r->name, r->revision);
	else if (!rc && rs.status >= 400)
		rc = rel_kube_error(err, &rs, rv ? "update" : "create", "Secret/%s/%s", st->ns, hn.ptr);
	kube_resp_release(&rs);
	if (rc)
		sec_drop_gen(st, r, n, gen);
out:
	kbuf_release(&payload);
	kbuf_release(&body);
	kbuf_release(&path);
	kbuf_release(&hn);
	kbuf_release(&upd);
	return rc;
}

static int sec_create(rel_store *s, const rel_record *r, kerr *err)
{
	return sec_write(s->impl, r, 1, NULL, err);
}

/* Update the record this store wrote last, from what it remembers: no
 * LIST; a PUT over the remembered resourceVersion answers 409 when anyone
 * else wrote it since. */
static int sec_update_last(sec_store *st, const rel_record *r, kerr *err)
{
	char *rv = xstrdup(st->last_rv);
	long gen = st->last_gen;
	size_t n = st->last_nparts;
	int rc = sec_write(st, r, gen + 1, rv, err);
	free(rv);
	if (!rc)
		sec_drop_gen(st, r, n, gen);
	return rc;
}

static int sec_update(rel_store *s, const rel_record *r, kerr *err)
{
	sec_store *st = s->impl;
	karena a = KARENA_INIT;
	rev_state rv;
	long gen;
	size_t i;
	int rc;
	if (st->last_name && !strcmp(st->last_name, r->name) && st->last_rev == r->revision)
		return sec_update_last(st, r, err);
	rc = sec_load(st, &a, r->name, r->revision, &rv, err);
	if (!rc && !rv.head)
		rc = kerr_set(err, KE_NOTFOUND, "release \"%s\" revision %d not found in namespace \"%s\"", r->name,
			      r->revision, st->ns);
	if (!rc && !rv.rv)
		rc = kerr_set(err, KE_API, "release record Secret of \"%s\" revision %d has no resourceVersion", r->name,
			      r->revision);
	if (rc) {
		karena_release(&a);
		return rc;
	}
	gen = rv.max_gen + 1;   /* past every generation seen, orphans of a killed run included */
	rc = sec_write(st, r, gen, rv.rv, err);
	/* the head now names gen: every other part is stale */
	for (i = 0; !rc && i < rv.nparts; i++) {
		const char *sn = doc_get_str(rv.parts[i], "metadata.name", NULL);
		kerr scratch = KERR_INIT;
		if (sn && sec_delete(st, sn, &scratch))
			kube_emit(st->c, KEV_WARN, "release.cleanup", "could not delete a stale release record part",
				  "object", karena_printf(&a, "Secret/%s/%s", st->ns, sn), NULL);
		kerr_clear(&scratch);
	}
	karena_release(&a);
	return rc;
}

/* A record head as listed must be what its labels say: named
 * kstage.v1.NAME.vREV for its own release and revision. Anything else is
 * another object (a misnamed copy, a hostile reply) and is never used:
 * KE_INPUT naming the item, its name quoted and cut short. */
static int check_listed_head(const sec_store *st, const doc_node *it, size_t i, const char *name, long rev,
			     kerr *err)
{
	const char *sn = doc_get_str(it, "metadata.name", ""), *ln = label(it, "name");
	kbuf hn = KBUF_INIT, q = KBUF_INIT;
	int rc = 0;
	head_name(&hn, name, (int)rev);
	if (strcmp(sn, hn.ptr) || !ln || strcmp(ln, name)) {
		char cut[80];
		snprintf(cut, sizeof(cut), "%s", sn);
		kube_quote(&q, cut);
		rc = kerr_set(err, KE_INPUT, "release record Secret %s%s (item %zu of GET /api/v1/namespaces/%s/secrets) is corrupt: "
			      "a record of release \"%s\" revision %ld is named %s and labelled name=%s",
			      q.ptr, strlen(sn) >= sizeof(cut) ? "..." : "", i + 1, st->ns, name, rev, hn.ptr, name);
	}
	kbuf_release(&hn);
	kbuf_release(&q);
	return rc;
}

static int sec_list(rel_store *s, karena *a, const char *name, rel_rec_summary **out, size_t *n, kerr *err)
{
	sec_store *st = s->impl;
	kbuf path = KBUF_INIT;
	kube_resp rs;
	doc_node *list = NULL, *items;
	size_t i;
	int rc;
	*out = NULL;
	*n = 0;
	selector_path(&path, st, name, 0);
	rc = rel_kube_send(st->c, "GET", path.ptr, NULL, &rs, err);
	if (!rc && rs.status >= 400)
		rc = rel_kube_error(err, &rs, "list", "Secret/%s/kstage.v1.%s", st->ns, name);
	if (!rc)
		rc = load_list(&list, a, st, &rs, err);
	kube_resp_release(&rs);
	kbuf_release(&path);
	if (rc)
		return rc;
	items = doc_map_get(list, "items");
	if (!items || items->type != DOC_SEQ)
		return items ? kerr_set(err, KE_API, "listing release records: items is not a list") : 0;
	*out = karena_alloc(a, (items->u.seq.len + 1) * sizeof(**out));
	for (i = 0; i < items->u.seq.len; i++) {
		const doc_node *it = items->u.seq.v[i];
		const char *sn = doc_get_str(it, "metadata.name", "?"), *t;
		rel_rec_summary *o = &(*out)[*n];
		long rev = parse_num(label(it, "revision"), 1000000000);
		int stt = rel_status_parse(label(it, "status"));
		if (rev < 1 || stt < 0)
			return kerr_set(err, KE_INPUT, "release record Secret %s/%s (item %zu of GET /api/v1/namespaces/%s/secrets) "
					"has a bad revision or status label", st->ns, sn, i, st->ns);
		if (check_listed_head(st, it, i, name, rev, err))
			return err->code;
		o->name = karena_strdup(a, name);
		o->revision = (int)rev;
		o->status = (rel_status)stt;
		o->updated_ms = (t = annotation(it, A_UPDATED)) ? rel_time_parse(t) : 0;
		if (o->updated_ms < 0)
			o->updated_ms = 0;
		o->description = annotation(it, A_DESC);
		if (o->description && !*o->description)
			o->description = NULL;
		rev = parse_num(annotation(it, A_PARTS), REL_PARTS_MAX);
		o->parts = rev > 0 ? (size_t)rev : 0;
		rev = parse_num(annotation(it, A_SIZE), (long)REL_PARTS_MAX * (long)REL_PART_SIZE);
		o->size = rev > 0 ? (size_t)rev : 0;
		(*n)++;
	}
	return 0;
}

/* One merge patch of the head's status label. */
static int sec_set_status(rel_store *s, const char *name, int revision, rel_status status, kerr *err)
{
	sec_store *st = s->impl;
	kbuf path = KBUF_INIT, hn = KBUF_INIT, body = KBUF_INIT;
	kube_req rq = { 0 };
	kube_resp rs;
	int rc;
	head_name(&hn, name, revision);
	kbuf_printf(&path, "/api/v1/namespaces/%s/secrets/%s", st->ns, hn.ptr);
	kbuf_printf(&body, "{\"metadata\":{\"labels\":{\"status\":\"%s\"}}}", rel_status_name(status));
	rq.method = "PATCH";
	rq.path = path.ptr;
	rq.content_type = "application/merge-patch+json";
	rq.body = body.ptr;
	rq.body_len = body.len;
	rq.idempotent = true;
	kube_resp_init(&rs);
	if (st->last_name && !strcmp(st->last_name, name) && st->last_rev == revision)
		forget_last(st);   /* its resourceVersion changes */
	rc = kube_do(st->c, &rq, &rs, err);
	if (!rc && rs.status == 404)
		rc = kerr_set(err, KE_NOTFOUND, "release \"%s\" revision %d not found in namespace \"%s\"", name, revision,
			      st->ns);
	else if (!rc && rs.status >= 400)
		rc = rel_kube_error(err, &rs, "update", "Secret/%s/%s", st->ns, hn.ptr);
	kube_resp_release(&rs);
	kbuf_release(&path);
	kbuf_release(&hn);
	kbuf_release(&body);
	return rc;
}

static int sec_remove(rel_store *s, const char *name, int revision, kerr *err)
{
	sec_store *st = s->impl;
	if (st->last_name && !strcmp(st->last_name, name) && st->last_rev == revision)
		forget_last(st);
	kbuf path = KBUF_INIT;
	kube_resp rs;
	int rc;
	selector_path(&path, st, name, revision);
	rc = rel_kube_send(st->c, "DELETE", path.ptr, NULL, &rs, err);
	if (!rc && rs.status >= 400)
		rc = rel_kube_error(err, &rs, "delete", "Secret/%s/kstage.v1.%s.v%d", st->ns, name, revision);
	kube_resp_release(&rs);
	kbuf_release(&path);
	return rc;
}

static void sec_free(rel_store *s)
{
	sec_store *st = s->impl;
	forget_last(st);
	free(st->ns);
	free(st);
}

rel_store *rel_store_secrets(kube_client *c, const char *ns)
{
	sec_store *st = xcalloc(1, sizeof(*st));
	st->c = c;
	st->ns = xstrdup(ns ? ns : REL_STORE_NAMESPACE);
	st->s.kind = "secrets";
	st->s.namespace = st->ns;
	st->s.create = sec_create;
	st->s.update = sec_update;
	st->s.get = sec_get;
	st->s.set_status = sec_set_status;
	st->s.list = sec_list;
	st->s.remove = sec_remove;
	st->s.free = sec_free;
	st->s.impl = st;
	return &st->s;
}
