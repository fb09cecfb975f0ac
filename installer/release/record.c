/* release/record.c - the release record and its payload codec (JSON through
 * doc/, gzip through zlib, sha256 through nettle). See record.h. */
#include "release/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/sha2.h>
#include <zlib.h>

#include "core/alloc.h"
#include "values/values.h"

static const char *const status_names[] = {
	"pending", "deployed", "failed", "rolled-back", "superseded", "uninstalled",
};
static const char *const result_names[] = {
	"pending", "running", "succeeded", "failed", "skipped", "rolled-back",
};

#define NELEM(x) (sizeof(x) / sizeof((x)[0]))

static int name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;
	for (i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

const char *rel_status_name(rel_status s)
{
	return (size_t)s < NELEM(status_names) ? status_names[s] : "unknown";
}

int rel_status_parse(const char *s)
{
	return name_index(status_names, NELEM(status_names), s);
}

const char *rel_stage_result_name(rel_stage_result r)
{
	return (size_t)r < NELEM(result_names) ? result_names[r] : "unknown";
}

int rel_stage_result_parse(const char *s)
{
	return name_index(result_names, NELEM(result_names), s);
}

/* ---- time ---- */

int64_t rel_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void rel_time_format(kbuf *out, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char b[40];
	gmtime_r(&s, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	kbuf_printf(out, "%s.%03dZ", b, (int)(ms % 1000));
}

static int digits(const char *s, int n, int *out)
{
	int i, v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int64_t rel_time_parse(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, se, ms = 0, nd = 0, oh, om, off;
	const char *p;
	time_t t;
	if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 || y < 1970)
		return -1;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nd++)
			if (nd < 3)
				ms = ms * 10 + (*p - '0');
		if (!nd)
			return -1;
		for (; nd < 3; nd++)
			ms *= 10;
	}
	if (!strcmp(p, "Z")) {
		off = 0;
	} else if ((p[0] == '+' || p[0] == '-') && strlen(p) == 6 && p[3] == ':' && !digits(p + 1, 2, &oh) &&
		   !digits(p + 4, 2, &om) && oh < 24 && om < 60) {
		off = (p[0] == '-' ? -1 : 1) * (oh * 60 + om);   /* Go's RFC 3339, as Helm's records hold it */
	} else {
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return ((int64_t)t - (int64_t)off * 60) * 1000 + ms;
}

/* ---- building ---- */

static const char *dup_or_null(karena *a, const char *s)
{
	return s ? karena_strdup(a, s) : NULL;
}

rel_record *rel_record_new(karena *a, const char *name, int revision)
{
	rel_record *r = karena_alloc(a, sizeof(*r));
	r->name = karena_strdup(a, name);
	r->revision = revision;
	r->status = REL_ST_PENDING;
	r->created_ms = r->updated_ms = rel_now_ms();
	return r;
}

rel_rec_stage *rel_record_add_stage(karena *a, rel_record *r, const char *name)
{
	rel_rec_stage *s;
	if (r->nstages == r->cap) {
		size_t nc = r->cap ? st_mult(r->cap, 2) : 8;
		r->stages = karena_realloc(a, r->stages, r->cap * sizeof(*r->stages), st_mult(nc, sizeof(*r->stages)));
		r->cap = nc;
	}
	s = &r->stages[r->nstages++];
	memset(s, 0, sizeof(*s));
	s->name = karena_strdup(a, name);
	return s;
}

rel_rec_stage *rel_record_stage(const rel_record *r, const char *name)
{
	size_t i;
	for (i = 0; i < r->nstages; i++)
		if (!strcmp(r->stages[i].name, name))
			return &r->stages[i];
	return NULL;
}

rel_rec_object *rel_record_add_object(karena *a, rel_rec_stage *s, const char *api_version,
				      const char *kind, const char *ns, const char *name,
				      doc_node *prior)
{
	rel_rec_object *o;
	if (s->nobjects == s->cap) {
		size_t nc = s->cap ? st_mult(s->cap, 2) : 16;
		s->objects = karena_realloc(a, s->objects, s->cap * sizeof(*s->objects),
					    st_mult(nc, sizeof(*s->objects)));
		s->cap = nc;
	}
	o = &s->objects[s->nobjects++];
	memset(o, 0, sizeof(*o));
	o->api_version = karena_strdup(a, api_version);
	o->kind = karena_strdup(a, kind);
	o->ns = dup_or_null(a, ns);
	o->name = karena_strdup(a, name);
	o->prior = prior;
	o->existed = prior != NULL;
	return o;
}

bool rel_rec_object_same(const rel_rec_object *x, const rel_rec_object *y)
{
	const char *gx = strchr(x->api_version, '/'), *gy = strchr(y->api_version, '/');
	size_t lx = gx ? (size_t)(gx - x->api_version) : 0, ly = gy ? (size_t)(gy - y->api_version) : 0;
	return lx == ly && !strncmp(x->api_version, y->api_version, lx) && !strcmp(x->kind, y->kind) &&
	       !strcmp(x->name, y->name) && ((!x->ns && !y->ns) || (x->ns && y->ns && !strcmp(x->ns, y->ns)));
}

size_t rel_record_mark_cleaned(rel_record *r, const rel_rec_object *o)
{
	size_t s, i, n = 0;
	for (s = 0; s < r->nstages; s++)
		for (i = 0; i < r->stages[s].nobjects; i++)
			if (rel_rec_object_same(&r->stages[s].objects[i], o)) {
				r->stages[s].objects[i].cleaned = true;
				n++;
			}
	return n;
}

bool rel_rec_stage_started(const rel_rec_stage *s)
{
	return s->result != REL_SR_PENDING && s->result != REL_SR_SKIPPED;
}

void rel_rec_stage_fold(karena *a, rel_rec_stage *acc, const rel_rec_stage *s)
{
	size_t i, k, n = acc->nobjects;
	for (i = 0; i < s->nobjects; i++) {
		const rel_rec_object *e = &s->objects[i];
		rel_rec_object *o;
		for (k = 0; k < n && !rel_rec_object_same(&acc->objects[k], e); k++)
			;
		if (k < n)
			continue;
		o = rel_record_add_object(a, acc, e->api_version, e->kind, e->ns, e->name, e->prior);
		o->existed = e->existed;
		o->keep = e->keep;
		o->key = e->key;
		o->key_prior = e->key_prior;
		o->key_prior_len = e->key_prior_len;
		n++;
	}
}

void rel_record_set_values(karena *a, rel_record *r, const doc_node *vals, const doc_node *schema,
			   const doc_node *secret_paths)
{
	r->values = vals ? values_mask_secrets(a, vals, schema, secret_paths) : NULL;
}

const char *rel_rec_object_ref(karena *a, const rel_rec_object *o)
{
	return o->ns ? karena_printf(a, "%s/%s/%s", o->kind, o->ns, o->name)
		     : karena_printf(a, "%s/%s", o->kind, o->name);
}

/* ---- to JSON ---- */

static void set_str(karena *a, doc_node *m, const char *k, const char *v)
{
	if (v)
		doc_map_set(a, m, k, doc_new_str(a, v));
}

static void set_time(karena *a, doc_node *m, const char *k, int64_t ms)
{
	kbuf b = KBUF_INIT;
	if (!ms)
		return;
	rel_time_format(&b, ms);
	doc_map_set(a, m, k, doc_new_strn(a, b.ptr, b.len));
	kbuf_release(&b);
}

/* A journal as a list. */
static doc_node *objects_doc(karena *a, const rel_rec_stage *s)
{
	doc_node *objs = doc_new_seq(a);
	size_t j;
	for (j = 0; j < s->nobjects; j++) {
		const rel_rec_object *o = &s->objects[j];
		doc_node *od = doc_new_map(a);
		set_str(a, od, "apiVersion", o->api_version);
		set_str(a, od, "kind", o->kind);
		set_str(a, od, "namespace", o->ns);
		set_str(a, od, "name", o->name);
		doc_map_set(a, od, "prior", o->existed && o->prior ? o->prior : doc_new_str(a, "absent"));
		if (o->keep)
			doc_map_set(a, od, "policy", doc_new_str(a, "keep"));
		if (o->cleaned)
			doc_map_set(a, od, "cleaned", doc_new_bool(a, true));
		if (o->key) {
			doc_map_set(a, od, "key", doc_new_str(a, o->key));
			doc_map_set(a, od, "keyPrior", o->key_prior ? doc_new_strn(a, o->key_prior, o->key_prior_len)
								: doc_new_null(a));
		}
		doc_seq_push(a, objs, od);
	}
	return objs;
}

doc_node *rel_record_to_doc(karena *a, const rel_record *r)
{
	doc_node *d = doc_new_map(a), *stages = doc_new_seq(a);
	size_t i;
	set_str(a, d, "name", r->name);
	doc_map_set(a, d, "revision", doc_new_int(a, r->revision));
	set_str(a, d, "status", rel_status_name(r->status));
	set_time(a, d, "created", r->created_ms);
	set_time(a, d, "updated", r->updated_ms);
	set_str(a, d, "description", r->description);
	if (r->bundle_name || r->bundle_version || r->bundle_digest || r->lock_digest) {
		doc_node *b = doc_new_map(a);
		set_str(a, b, "name", r->bundle_name);
		set_str(a, b, "version", r->bundle_version);
		set_str(a, b, "digest", r->bundle_digest);
		set_str(a, b, "lockDigest", r->lock_digest);
		doc_map_set(a, d, "bundle", b);
	}
	if (r->values)
		doc_map_set(a, d, "values", (doc_node *)r->values);
	set_str(a, d, "holder", r->holder);
	set_str(a, d, "takeover", r->takeover);
	for (i = 0; i < r->nstages; i++) {
		const rel_rec_stage *s = &r->stages[i];
		doc_node *sd = doc_new_map(a);
		set_str(a, sd, "name", s->name);
		set_str(a, sd, "result", rel_stage_result_name(s->result));
		set_time(a, sd, "started", s->started_ms);
		set_time(a, sd, "finished", s->finished_ms);
		set_str(a, sd, "error", s->error);
		set_str(a, sd, "manifest", s->manifest);
		doc_map_set(a, sd, "objects", objects_doc(a, s));
		doc_seq_push(a, stages, sd);
	}
	doc_map_set(a, d, "stages", stages);
	if (r->origin)
		doc_map_set(a, d, "origin", objects_doc(a, r->origin));
	return d;
}

int rel_record_to_json(kbuf *out, const rel_record *r, kerr *err)
{
	karena a = KARENA_INIT;
	int rc = doc_emit_json(out, rel_record_to_doc(&a, r), 0, err);
	karena_release(&a);
	return rc;
}

/* ---- gzip ---- */

int rel_record_encode(kbuf *out, const rel_record *r, kerr *err)
{
	kbuf js = KBUF_INIT;
	int rc;
	if ((rc = rel_record_to_json(&js, r, err))) {
		kbuf_release(&js);
		return rc;
	}
	if (js.len > REL_RECORD_JSON_MAX) {
		rc = kerr_set(err, KE_LIMIT, "release record %s revision %d: %zu bytes of JSON, more than the %zu a record may hold",
			      r->name, r->revision, js.len, REL_RECORD_JSON_MAX);
		kbuf_release(&js);
		return rc;
	}
	rc = rel_gzip(out, js.ptr, js.len, Z_DEFAULT_COMPRESSION, err);
	kbuf_release(&js);
	if (rc)
		kerr_wrap(err, "release record %s revision %d", r->name, r->revision);
	return rc;
}

int rel_gzip(kbuf *out, const void *data, size_t len, int level, kerr *err)
{
	z_stream z;
	int zr;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return kerr_set(err, KE_INTERNAL, "gzip: cannot start");
	if (kbuf_grow(out, deflateBound(&z, len))) {
		deflateEnd(&z);
		return kerr_set(err, KE_LIMIT, "too large to compress");
	}
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out->ptr + out->len;
	z.avail_out = (uInt)(out->cap - out->len - 1);
	zr = deflate(&z, Z_FINISH);
	if (zr == Z_STREAM_END) {
		out->len += z.total_out;
		out->ptr[out->len] = 0;
	}
	deflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : kerr_set(err, KE_INTERNAL, "gzip failed");
}

static int inflate_all(kbuf *out, const void *gz, size_t len, const char *what, kerr *err)
{
	return rel_gunzip(out, gz, len, REL_RECORD_JSON_MAX, what, err);
}

int rel_gunzip(kbuf *out, const void *gz, size_t len, size_t max, const char *what, kerr *err)
{
	z_stream z;
	int zr = Z_OK;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return kerr_set(err, KE_INTERNAL, "gunzip: cannot start");
	kbuf_set_cap(out, max + 1);
	z.next_in = (Bytef *)gz;
	z.avail_in = (uInt)len;
	while (zr != Z_STREAM_END) {
		size_t room = len > 4096 ? len * 4 : 16384;
		if (out->len + room > max)
			room = max + 1 - out->len;
		if (!room || kbuf_grow(out, room)) {
			inflateEnd(&z);
			return kerr_set(err, KE_INPUT, "%s is corrupt: more than %zu bytes once inflated", what,
					max);
		}
		z.next_out = (Bytef *)out->ptr + out->len;
		z.avail_out = (uInt)room;
		zr = inflate(&z, Z_NO_FLUSH);
		out->len += room - z.avail_out;
		out->ptr[out->len] = 0;
		if (zr == Z_STREAM_END)
			break;
		if (zr != Z_OK || (z.avail_in == 0 && z.avail_out != 0)) {
			inflateEnd(&z);
			return kerr_set(err, KE_INPUT, "%s is corrupt: %s", what,
					zr == Z_OK || zr == Z_BUF_ERROR ? "gzip data ends early" : "bad gzip data");
		}
	}
	if (z.avail_in) {
		inflateEnd(&z);
		return kerr_set(err, KE_INPUT, "%s is corrupt: data after the gzip stream", what);
	}
	inflateEnd(&z);
	return 0;
}

/* ---- from JSON ---- */

typedef struct rd {
	karena *a;
	const char *what;
	kerr *err;
	int rc;
} rd;

static int bad(rd *r, const char *field, const char *want)
{
	if (!r->rc)
		r->rc = kerr_set(r->err, KE_INPUT, "%s is corrupt: %s %s", r->what, field, want);
	return r->rc;
}

/* A string field: NULL when absent; must be a string when present (or
 * required). */
static const char *get_s(rd *r, const doc_node *m, const char *k, bool required, const char *ctx)
{
	const doc_node *v = doc_map_get(m, k);
	if (!v) {
		if (required)
			bad(r, karena_printf(r->a, "%s%s", ctx, k), "is missing");
		return NULL;
	}
	if (v->type != DOC_STR) {
		bad(r, karena_printf(r->a, "%s%s", ctx, k), "is not a string");
		return NULL;
	}
	return v->u.s.ptr;
}

static int64_t get_t(rd *r, const doc_node *m, const char *k, const char *ctx)
{
	const char *s = get_s(r, m, k, false, ctx);
	int64_t t;
	if (!s)
		return 0;
	if ((t = rel_time_parse(s)) < 0)
		bad(r, karena_printf(r->a, "%s%s", ctx, k), "is not an RFC 3339 UTC time");
	return t < 0 ? 0 : t;
}

static void read_object(rd *r, rel_rec_stage *s, const doc_node *od, const char *ctx)
{
	const char *av, *kind, *name, *ns, *key;
	const doc_node *prior, *kp;
	rel_rec_object *o;
	if (od->type != DOC_MAP) {
		bad(r, ctx, "is not an object");
		return;
	}
	av = get_s(r, od, "apiVersion", true, ctx);
	kind = get_s(r, od, "kind", true, ctx);
	name = get_s(r, od, "name", true, ctx);
	ns = get_s(r, od, "namespace", false, ctx);
	key = get_s(r, od, "key", false, ctx);
	prior = doc_map_get(od, "prior");
	if (r->rc)
		return;
	if (!prior || (prior->type != DOC_MAP && !(prior->type == DOC_STR && !strcmp(prior->u.s.ptr, "absent"))))
		return (void)bad(r, karena_printf(r->a, "%sprior", ctx), "is neither an object nor \"absent\"");
	o = rel_record_add_object(r->a, s, av, kind, ns, name, prior->type == DOC_MAP ? (doc_node *)prior : NULL);
	{
		const char *pol = get_s(r, od, "policy", false, ctx);
		if (pol && strcmp(pol, "keep"))
			return (void)bad(r, karena_printf(r->a, "%spolicy", ctx), "is not \"keep\"");
		o->keep = pol != NULL;
	}
	{
		const doc_node *cl = doc_map_get(od, "cleaned");
		if (cl && cl->type != DOC_BOOL)
			return (void)bad(r, karena_printf(r->a, "%scleaned", ctx), "is not a boolean");
		o->cleaned = cl && cl->u.b;
	}
	if (key) {
		o->key = key;
		kp = doc_map_get(od, "keyPrior");
		if (!kp || (kp->type != DOC_STR && kp->type != DOC_NULL))
			return (void)bad(r, karena_printf(r->a, "%skeyPrior", ctx), "is neither a string nor null");
		if (kp->type == DOC_STR) {
			o->key_prior = kp->u.s.ptr;
			o->key_prior_len = kp->u.s.len;
		}
	}
}

/* A journal (objs may be NULL: none) into s; what names it in errors. */
static void read_objects(rd *r, rel_rec_stage *s, const doc_node *objs, const char *what)
{
	size_t j;
	if (objs && objs->type != DOC_SEQ)
		return (void)bad(r, what, "is not a list");
	for (j = 0; objs && j < objs->u.seq.len && !r->rc; j++)
		read_object(r, s, objs->u.seq.v[j], karena_printf(r->a, "%s[%zu].", what, j));
}

static void read_stage(rd *r, rel_record *rec, const doc_node *sd, size_t i)
{
	const char *ctx = karena_printf(r->a, "stages[%zu].", i), *name, *res;
	rel_rec_stage *s;
	int ri;
	if (sd->type != DOC_MAP)
		return (void)bad(r, karena_printf(r->a, "stages[%zu]", i), "is not an object");
	name = get_s(r, sd, "name", true, ctx);
	res = get_s(r, sd, "result", true, ctx);
	if (r->rc)
		return;
	if ((ri = rel_stage_result_parse(res)) < 0)
		return (void)bad(r, karena_printf(r->a, "%sresult", ctx), karena_printf(r->a, "\"%s\" is not a stage result", res));
	s = rel_record_add_stage(r->a, rec, name);
	s->result = (rel_stage_result)ri;
	s->started_ms = get_t(r, sd, "started", ctx);
	s->finished_ms = get_t(r, sd, "finished", ctx);
	s->error = get_s(r, sd, "error", false, ctx);
	s->manifest = get_s(r, sd, "manifest", false, ctx);
	read_objects(r, s, doc_map_get(sd, "objects"), karena_printf(r->a, "%sobjects", ctx));
}

int rel_record_from_doc(rel_record **out, karena *a, const doc_node *d, const char *what, kerr *err)
{
	rd r = { a, what, err, 0 };
	const doc_node *rev, *stages, *b, *vals, *origin;
	const char *name, *st;
	rel_record *rec;
	int si;
	size_t i;
	*out = NULL;
	if (!d || d->type != DOC_MAP)
		return kerr_set(err, KE_INPUT, "%s is corrupt: not a JSON object", what);
	name = get_s(&r, d, "name", true, "");
	st = get_s(&r, d, "status", true, "");
	rev = doc_map_get(d, "revision");
	if (r.rc)
		return r.rc;
	if (!rev || rev->type != DOC_INT || rev->u.i < 1 || rev->u.i > 1000000000)
		return bad(&r, "revision", "is not a positive integer");
	if ((si = rel_status_parse(st)) < 0)
		return bad(&r, "status", karena_printf(a, "\"%s\" is not a release status", st));
	rec = rel_record_new(a, name, (int)rev->u.i);
	rec->status = (rel_status)si;
	rec->created_ms = get_t(&r, d, "created", "");
	rec->updated_ms = get_t(&r, d, "updated", "");
	rec->description = get_s(&r, d, "description", false, "");
	rec->holder = get_s(&r, d, "holder", false, "");
	rec->takeover = get_s(&r, d, "takeover", false, "");
	if ((b = doc_map_get(d, "bundle"))) {
		if (b->type != DOC_MAP)
			return bad(&r, "bundle", "is not an object");
		rec->bundle_name = get_s(&r, b, "name", false, "bundle.");
		rec->bundle_version = get_s(&r, b, "version", false, "bundle.");
		rec->bundle_digest = get_s(&r, b, "digest", false, "bundle.");
		rec->lock_digest = get_s(&r, b, "lockDigest", false, "bundle.");
	}
	if ((vals = doc_map_get(d, "values"))) {
		if (vals->type != DOC_MAP)
			return bad(&r, "values", "is not an object");
		rec->values = (doc_node *)vals;
	}
	stages = doc_map_get(d, "stages");
	if (!stages || stages->type != DOC_SEQ)
		return bad(&r, "stages", "is not a list");
	for (i = 0; i < stages->u.seq.len && !r.rc; i++)
		read_stage(&r, rec, stages->u.seq.v[i], i);
	if (!r.rc && (origin = doc_map_get(d, "origin"))) {
		if (origin->type != DOC_SEQ)
			return bad(&r, "origin", "is not a list");
		rec->origin = karena_alloc(a, sizeof(*rec->origin));
		rec->origin->name = "origin";
		rec->origin->result = REL_SR_SUCCEEDED;
		read_objects(&r, rec->origin, origin, "origin");
	}
	if (r.rc)
		return r.rc;
	*out = rec;
	return 0;
}

int rel_record_decode(rel_record **out, karena *a, const void *gz, size_t len, const char *what,
		      kerr *err)
{
	kbuf js = KBUF_INIT;
	doc_node *d = NULL;
	int rc;
	*out = NULL;
	if ((rc = inflate_all(&js, gz, len, what, err)) == 0) {
		rc = doc_load_json(&d, a, what, js.ptr, js.len, err);
		if (rc)
			kerr_wrap(err, "%s is corrupt", what);
	}
	kbuf_release(&js);
	if (!rc)
		rc = rel_record_from_doc(out, a, d, what, err);
	return rc;
}

/* ---- parts ---- */

void rel_sha256_hex(char out[65], const void *data, size_t len)
{
	static const char hx[] = "0123456789abcdef";
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	size_t i;
	sha256_init(&c);
	sha256_update(&c, len, data);
	sha256_digest(&c, sizeof(d), d);
	for (i = 0; i < sizeof(d); i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[64] = 0;
}

size_t rel_payload_nparts(size_t len)
{
	return len ? (len + REL_PART_SIZE - 1) / REL_PART_SIZE : 1;
}

int rel_payload_join(kbuf *out, const char *const *parts, const size_t *lens, size_t n, size_t size,
		     const char *sha256_hex, const char *what, kerr *err)
{
	char got[65];
	size_t i, total = 0;
	if (n < 1 || n > REL_PARTS_MAX)
		return kerr_set(err, KE_INPUT, "%s is corrupt: %zu parts (1 to %d allowed)", what, n, REL_PARTS_MAX);
	if (size > (size_t)REL_PARTS_MAX * REL_PART_SIZE || rel_payload_nparts(size) != n)
		return kerr_set(err, KE_INPUT, "%s is corrupt: %zu bytes do not fit %zu parts", what, size, n);
	for (i = 0; i < n; i++) {
		if (!parts[i])
			return kerr_set(err, KE_INPUT, "%s is incomplete: part %zu of %zu is missing", what, i + 1, n);
		if (lens[i] > REL_PART_SIZE || (i + 1 < n && lens[i] != REL_PART_SIZE))
			return kerr_set(err, KE_INPUT, "%s is corrupt: part %zu of %zu has %zu bytes", what, i + 1, n,
					lens[i]);
		total += lens[i];
	}
	if (total != size)
		return kerr_set(err, KE_INPUT, "%s is truncated: %zu bytes of %zu", what, total, size);
	if (kbuf_grow(out, size))
		return kerr_set(err, KE_LIMIT, "%s: %zu bytes is too large", what, size);
	for (i = 0; i < n; i++)
		kbuf_put(out, parts[i], lens[i]);
	rel_sha256_hex(got, out->ptr, out->len);
	if (!sha256_hex || strcmp(got, sha256_hex)) {
		kbuf_reset(out);
		return kerr_set(err, KE_INPUT, "%s is corrupt: sha256 %s, the record says %s", what, got,
				sha256_hex ? sha256_hex : "nothing");
	}
	return 0;
}
