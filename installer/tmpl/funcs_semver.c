/* tmpl/funcs_semver.c - semver and semverCompare as Sprig (Masterminds
 * semver v3): loose versions ("v1.2", "1"), constraints with =, !=, >, <,
 * >=, <=, ~, ^, x, X and star wildcards, hyphen ranges, "," or space for AND and
 * "||" for OR, and v3's rule that a prerelease version only satisfies a
 * constraint that itself names a prerelease. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_int.h"

/* [0-9A-Za-z-]+ parts joined by single dots, as Masterminds' regex */
static bool ident_ok(const char *s, size_t n)
{
	size_t i;
	if (!n || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || (s[i] == '.' && s[i + 1] != '.')))
			return false;
	return true;
}

/* digits at *p; *ovf set to them when they overflow a uint64 */
static bool num(const char **p, const char *e, uint64_t *out, const char **ovf, size_t *ovfl)
{
	const char *s = *p;
	uint64_t v = 0;
	bool big = false;
	if (s >= e || !isdigit((unsigned char)*s))
		return false;
	while (s < e && isdigit((unsigned char)*s)) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			big = true;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	if (big && !*ovf) {
		*ovf = *p;
		*ovfl = (size_t)(s - *p);
	}
	*out = v;
	*p = s;
	return true;
}

/* a numeric prerelease part with a leading zero ("01") */
static bool pre_zero(const char *s)
{
	while (*s) {
		size_t l = strcspn(s, "."), i;
		for (i = 0; i < l && isdigit((unsigned char)s[i]); i++)
			;
		if (i == l && l > 1 && s[0] == '0')
			return true;
		s += l + (s[l] == '.');
	}
	return false;
}

/* tsemver_parse, with Masterminds' reason in msg (when not NULL) */
static int semver_parse_msg(tsemver *out, karena *a, const char *s, size_t n, kbuf *msg)
{
	const char *p = s, *e = s + n, *q, *ovf = NULL;
	size_t ovfl = 0;
	memset(out, 0, sizeof(*out));
	out->pre = "";
	out->meta = "";
	out->original = karena_strndup(a, s, n);
	if (p < e && *p == 'v')
		p++;
	if (!num(&p, e, &out->major, &ovf, &ovfl))
		goto bad;
	if (p < e && *p == '.') {
		p++;
		if (!num(&p, e, &out->minor, &ovf, &ovfl))
			goto bad;
		if (p < e && *p == '.') {
			p++;
			if (!num(&p, e, &out->patch, &ovf, &ovfl))
				goto bad;
		}
	}
	if (p < e && *p == '-') {
		p++;
		q = p;
		while (q < e && *q != '+')
			q++;
		if (!ident_ok(p, (size_t)(q - p)))
			goto bad;
		out->pre = karena_strndup(a, p, (size_t)(q - p));
		p = q;
	}
	if (p < e && *p == '+') {
		p++;
		if (!ident_ok(p, (size_t)(e - p)))
			goto bad;
		out->meta = karena_strndup(a, p, (size_t)(e - p));
		p = e;
	}
	if (p != e)
		goto bad;
	/* past the regex, as NewVersion: the numbers, then the prerelease */
	if (ovf) {
		if (msg)
			kbuf_printf(msg, "error parsing version segment: strconv.ParseUint: parsing \"%.*s\": value out of range",
				    (int)ovfl, ovf);
		return -2;
	}
	if (pre_zero(out->pre)) {
		if (msg)
			kbuf_puts(msg, "version segment starts with 0");
		return -2;
	}
	return 0;
bad:
	if (msg)
		kbuf_puts(msg, "invalid semantic version");
	return -1;
}

int tsemver_parse(tsemver *out, karena *a, const char *s, size_t n)
{
	return semver_parse_msg(out, a, s, n, NULL);
}

static int cmp_u(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

static int cmp_pre(const char *a, const char *b)
{
	if (!*a && !*b)
		return 0;
	if (!*a)
		return 1;
	if (!*b)
		return -1;
	while (*a || *b) {
		const char *ea = strchr(a, '.'), *eb = strchr(b, '.');
		size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b), i;
		bool na = la > 0, nb = lb > 0;
		int c;
		if (!*a)
			return -1;
		if (!*b)
			return 1;
		for (i = 0; i < la; i++)
			if (!isdigit((unsigned char)a[i]))
				na = false;
		for (i = 0; i < lb; i++)
			if (!isdigit((unsigned char)b[i]))
				nb = false;
		if (na && nb) {
			c = cmp_u(strtoull(a, NULL, 10), strtoull(b, NULL, 10));
		} else if (na) {
			c = -1;
		} else if (nb) {
			c = 1;
		} else {
			c = strncmp(a, b, la < lb ? la : lb);
			if (!c)
				c = cmp_u(la, lb);
		}
		if (c)
			return c;
		a += la + (ea ? 1 : 0);
		b += lb + (eb ? 1 : 0);
		if (!ea && !eb)
			return 0;
		if (!ea)
			return -1;
		if (!eb)
			return 1;
	}
	return 0;
}

static int vcmp(const tsemver *a, const tsemver *b)
{
	int c = cmp_u(a->major, b->major);
	if (!c)
		c = cmp_u(a->minor, b->minor);
	if (!c)
		c = cmp_u(a->patch, b->patch);
	if (!c)
		c = cmp_pre(a->pre, b->pre);
	return c;
}

typedef struct constraint {
	char op[3];
	tsemver v;
	bool dirty, minor_dirty, patch_dirty, any;
} constraint;

static bool is_x(const char *s, size_t n) { return n == 1 && (*s == 'x' || *s == 'X' || *s == '*'); }

/* parse "op version" (no spaces inside) */
static int parse_constraint(constraint *c, karena *a, const char *s, size_t n)
{
	size_t ol = 0, i;
	const char *v, *parts[3] = { 0 };
	size_t pl[3] = { 0 }, np = 0, xat;
	kbuf b = KBUF_INIT;
	int r;
	memset(c, 0, sizeof(*c));
	while (ol < n && ol < 2 && strchr("=!<>~^", s[ol]))
		ol++;
	memcpy(c->op, s, ol);
	{
		static const char *const ops[] = { "", "=", "!=", ">", "<", ">=", "=>", "<=", "=<", "~", "~>", "^" };
		size_t k;
		bool known = false;
		for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
			if (!strcmp(c->op, ops[k]))
				known = true;
		if (!known)
			return -1;
	}
	if (!strcmp(c->op, "=>"))
		memcpy(c->op, ">=", 3);
	if (!strcmp(c->op, "=<"))
		memcpy(c->op, "<=", 3);
	v = s + ol;
	n -= ol;
	if (n && *v == 'v')
		v++, n--;
	if (n == 0)
		return -1;
	/* split off prerelease/metadata from the numeric part */
	{
		size_t k = 0, start = 0;
		while (k <= n) {
			if (k == n || v[k] == '.' || v[k] == '-' || v[k] == '+') {
				if (np < 3) {
					parts[np] = v + start;
					pl[np++] = k - start;
				}
				if (k == n || v[k] != '.')
					break;
				start = k + 1;
			}
			k++;
		}
		if (np == 1 && is_x(parts[0], pl[0]) && ol == 0 && n == 1) {
			/* "*": version 0.0.0, no prerelease (so none matches one) */
			c->any = true;
			c->v.pre = c->v.meta = c->v.original = "";
			return 0;
		}
		/* as Masterminds: the version stops at the first wildcard or
		 * missing part ("x.1" is 0.0.0, "1.x" 1.0.0); a wildcard major
		 * is only dirty, a minor minor-dirty, a patch patch-dirty */
		for (xat = 0; xat < np && !is_x(parts[xat], pl[xat]); xat++)
			;
		if (xat == 0)
			c->any = c->dirty = true;
		else if (xat == 1)
			c->minor_dirty = c->dirty = true;
		else if (xat == 2)
			c->patch_dirty = c->dirty = true;
		for (i = 0; i < 3; i++) {
			if (i)
				kbuf_putc(&b, '.');
			if (i < xat)
				kbuf_put(&b, parts[i], pl[i]);
			else
				kbuf_putc(&b, '0');
		}
		kbuf_put(&b, v + (size_t)(parts[np - 1] - v) + pl[np - 1], n - ((size_t)(parts[np - 1] - v) + pl[np - 1]));
	}
	r = tsemver_parse(&c->v, a, b.ptr, b.len);
	kbuf_release(&b);
	if (c->minor_dirty)
		c->patch_dirty = true;
	return r;
}

/* include_pre: a prerelease version may match a constraint without one */
static bool check1(const constraint *c, const tsemver *v, bool include_pre)
{
	const tsemver *cv = &c->v;
	const char *op = c->op;
	if (!include_pre && *v->pre && !*cv->pre)
		return false;
	if (c->any && (!*op || !strcmp(op, "=") || !strcmp(op, ">=") || !strcmp(op, "~")))
		return true;
	if (!*op || !strcmp(op, "=")) {
		if (c->dirty) {
			if (vcmp(v, cv) < 0)
				return false;
			if (v->major != cv->major)
				return false;
			if (v->minor != cv->minor && !c->minor_dirty)
				return false;
			return true;
		}
		return vcmp(v, cv) == 0;
	}
	if (!strcmp(op, "!=")) {
		if (c->dirty) {
			if (cv->major != v->major)
				return true;
			if (c->minor_dirty)
				return false;
			if (cv->minor != v->minor)
				return true;
			if (c->patch_dirty)
				return false;
			if (cv->patch != v->patch)
				return true;
		}
		return vcmp(v, cv) != 0;
	}
	if (!strcmp(op, ">")) {
		if (!c->dirty)
			return vcmp(v, cv) > 0;
		if (v->major != cv->major)
			return v->major > cv->major;
		if (c->minor_dirty)
			return false;
		if (c->patch_dirty)
			return v->minor > cv->minor;
		return vcmp(v, cv) > 0;
	}
	if (!strcmp(op, "<"))
		return vcmp(v, cv) < 0;
	if (!strcmp(op, ">="))
		return vcmp(v, cv) >= 0;
	if (!strcmp(op, "<=")) {
		if (!c->dirty)
			return vcmp(v, cv) <= 0;
		if (v->major > cv->major)
			return false;
		if (v->major == cv->major && v->minor > cv->minor && !c->minor_dirty)
			return false;
		return true;
	}
	if (!strcmp(op, "~") || !strcmp(op, "~>")) {
		if (vcmp(v, cv) < 0)
			return false;
		if (!cv->major && !cv->minor && !cv->patch && !c->minor_dirty && !c->patch_dirty)
			return true;
		if (v->major != cv->major)
			return false;
		if (v->minor != cv->minor && !c->minor_dirty)
			return false;
		return true;
	}
	if (!strcmp(op, "^")) {
		if (vcmp(v, cv) < 0)
			return false;
		if (cv->major > 0 || c->minor_dirty)
			return v->major == cv->major;
		if (v->major > 0)
			return false;
		if (cv->minor > 0 || c->patch_dirty)
			return v->minor == cv->minor;
		if (v->minor > 0)
			return false;
		return v->patch == cv->patch;
	}
	return false;
}

/* Returns 1 match, 0 no match, -1 bad constraint, -2 a version in it that
 * Masterminds' regex takes but NewVersion refuses. */
static int check_constraints(karena *a, const char *cs, size_t n, const tsemver *v)
{
	const char *p = cs, *e = cs + n;
	bool any_or = false;
	while (p <= e) {
		const char *oe = p;
		bool ok = true, pre = false;
		int r;
		/* the AND group, checked once all of it is parsed: as Masterminds,
		 * a prerelease in one of its constraints lets prereleases match
		 * all of them */
		constraint group[128];
		size_t ng = 0, k;
		while (oe + 1 < e && !(oe[0] == '|' && oe[1] == '|'))
			oe++;
		if (oe + 1 >= e)
			oe = e;
		{
			/* tokens separated by spaces or commas; "a - b" is a range */
			const char *t = p;
			const char *toks[64];
			size_t tl[64], nt = 0, i;
			while (t < oe && nt < 64) {
				const char *te;
				while (t < oe && (*t == ' ' || *t == ',' || *t == '\t'))
					t++;
				if (t >= oe)
					break;
				te = t;
				while (te < oe && *te != ' ' && *te != ',' && *te != '\t')
					te++;
				toks[nt] = t;
				tl[nt++] = (size_t)(te - t);
				t = te;
			}
			for (i = 0; i < nt; i++) {
				constraint *c = &group[ng];
				const char *tok = toks[i];
				size_t len = tl[i];
				/* an operator alone followed by the version: "> 1.2" */
				if (len <= 2 && strchr("=!<>~^", tok[0]) && i + 1 < nt) {
					kbuf b = KBUF_INIT;
					kbuf_put(&b, tok, len);
					kbuf_put(&b, toks[i + 1], tl[i + 1]);
					r = parse_constraint(c, a, b.ptr, b.len);
					kbuf_release(&b);
					if (r)
						return r;
					i++;
				} else if (i + 2 < nt && tl[i + 1] == 1 && toks[i + 1][0] == '-') {
					kbuf b = KBUF_INIT;
					kbuf_puts(&b, ">=");
					kbuf_put(&b, tok, len);
					r = parse_constraint(c, a, b.ptr, b.len);
					kbuf_reset(&b);
					kbuf_puts(&b, "<=");
					kbuf_put(&b, toks[i + 2], tl[i + 2]);
					r = r ? r : parse_constraint(c + 1, a, b.ptr, b.len);
					kbuf_release(&b);
					if (r)
						return r;
					ng += 2;
					i += 2;
					continue;
				} else if ((r = parse_constraint(c, a, tok, len))) {
					return r;
				}
				ng++;
			}
		}
		if (!ng)
			return -1;
		for (k = 0; k < ng; k++)
			if (*group[k].v.pre)
				pre = true;
		for (k = 0; k < ng && ok; k++)
			if (!check1(&group[k], v, pre))
				ok = false;
		if (ok)
			any_or = true;
		if (oe >= e)
			break;
		p = oe + 2;
	}
	return any_or;
}

int tsemver_check(karena *a, const char *cs, size_t n, const tsemver *v)
{
	return check_constraints(a, cs, n, v);
}

long tmpl_semver_pick(const char *cs, const char *const *versions, size_t n)
{
	karena a = KARENA_INIT;
	tsemver best, v;
	long r = -1;
	size_t i;
	for (i = 0; i < n; i++) {
		int ok;
		if (tsemver_parse(&v, &a, versions[i], strlen(versions[i])) != 0)
			continue;
		ok = tsemver_check(&a, cs, strlen(cs), &v);
		if (ok < 0) {
			r = -2;
			break;
		}
		if (ok == 1 && (r < 0 || vcmp(&v, &best) > 0)) {
			best = v;
			r = (long)i;
		}
	}
	karena_release(&a);
	return r;
}

static int f_semvercompare(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	tsemver v;
	kbuf msg = KBUF_INIT;
	int r;
	(void)n;
	if (semver_parse_msg(&v, x->a, a[1]->u.s.ptr, a[1]->u.s.len, &msg)) {
		/* Sprig parses the constraint first: its error wins */
		tsemver zero = { 0, 0, 0, "", "", "" };
		r = check_constraints(x->a, a[0]->u.s.ptr, a[0]->u.s.len, &zero);
		r = r < 0 ? 0 : tctx_fail(x, "%s", msg.ptr);
		kbuf_release(&msg);
		if (r)
			return r;
		v = zero;
	}
	r = check_constraints(x->a, a[0]->u.s.ptr, a[0]->u.s.len, &v);
	if (r == -2)
		return tctx_fail(x, "constraint parser error");
	if (r < 0)
		return tctx_fail(x, "improper constraint: %s", a[0]->u.s.ptr);
	*out = tv_bool(r == 1);
	return 0;
}

/* Sprig's semver gives a *semver.Version; IncMajor... a semver.Version.
 * Its methods Major, Minor... read as the fields of a struct here. */
static doc_node *semver_obj(karena *a, const tsemver *v, bool ptr)
{
	tobj *o = tobj_new(a, TOBJ_SEMVER, ptr ? "*semver.Version" : "semver.Version", DOC_MAP);
	o->n.flags |= TV_STRUCT;
	doc_map_set(a, &o->n, "Major", tv_int64(a, (int64_t)v->major));
	doc_map_set(a, &o->n, "Minor", tv_int64(a, (int64_t)v->minor));
	doc_map_set(a, &o->n, "Patch", tv_int64(a, (int64_t)v->patch));
	doc_map_set(a, &o->n, "Prerelease", tv_strz(a, v->pre));
	doc_map_set(a, &o->n, "Metadata", tv_strz(a, v->meta));
	if (ptr) /* Original() has a pointer receiver */
		doc_map_set(a, &o->n, "Original", tv_strz(a, v->original));
	return &o->n;
}

static void semver_of(const doc_node *o, tsemver *v)
{
	const doc_node *f;
	memset(v, 0, sizeof(*v));
	v->pre = v->meta = v->original = "";
	if ((f = doc_map_get(o, "Major")) && f->type == DOC_INT) v->major = (uint64_t)f->u.i;
	if ((f = doc_map_get(o, "Minor")) && f->type == DOC_INT) v->minor = (uint64_t)f->u.i;
	if ((f = doc_map_get(o, "Patch")) && f->type == DOC_INT) v->patch = (uint64_t)f->u.i;
	if ((f = doc_map_get(o, "Prerelease")) && f->type == DOC_STR) v->pre = f->u.s.ptr;
	if ((f = doc_map_get(o, "Metadata")) && f->type == DOC_STR) v->meta = f->u.s.ptr;
	if ((f = doc_map_get(o, "Original")) && f->type == DOC_STR) v->original = f->u.s.ptr;
}

static void semver_text(kbuf *out, const tsemver *v)
{
	kbuf_printf(out, "%llu.%llu.%llu", (unsigned long long)v->major, (unsigned long long)v->minor,
		    (unsigned long long)v->patch);
	if (*v->pre)
		kbuf_printf(out, "-%s", v->pre);
	if (*v->meta)
		kbuf_printf(out, "+%s", v->meta);
}

void tsemver_string(kbuf *out, const doc_node *o)
{
	tsemver v;
	semver_of(o, &v);
	semver_text(out, &v);
}

static bool is_semver(const doc_node *v)
{
	return v && (v->flags & TV_OBJ) && ((const tobj *)v)->kind == TOBJ_SEMVER;
}

int tsemver_method(tctx *x, doc_node **out, doc_node *recv, const char *name, doc_node **args, size_t n,
		   bool *found)
{
	tsemver v, o;
	int which;
	semver_of(recv, &v);
	if (!strcmp(name, "String")) {
		kbuf b = KBUF_INIT;
		*found = true;
		if (n)
			return tctx_fail(x, "wrong number of args for String: want 0 got %zu", n);
		semver_text(&b, &v);
		*out = tv_str(x->a, b.ptr, b.len);
		kbuf_release(&b);
		return 0;
	}
	which = !strcmp(name, "LessThan") ? 1 : !strcmp(name, "GreaterThan") ? 2 : !strcmp(name, "Equal") ? 3 :
		!strcmp(name, "Compare") ? 4 : !strcmp(name, "LessThanEqual") ? 5 :
		!strcmp(name, "GreaterThanEqual") ? 6 : 0;
	/* pointer receivers: not methods of the semver.Version IncMajor gives */
	if (which && ((tobj *)recv)->type_name[0] == '*') {
		int c;
		*found = true;
		if (n != 1)
			return tctx_fail(x, "wrong number of args for %s: want 1 got %zu", name, n);
		if (!is_semver(args[0]) || strcmp(((tobj *)args[0])->type_name, "*semver.Version"))
			return tctx_fail(x, "wrong type for value; expected *semver.Version; got %s",
					 tv_type_name(args[0]));
		semver_of(args[0], &o);
		c = vcmp(&v, &o);
		*out = which == 1 ? tv_bool(c < 0) : which == 2 ? tv_bool(c > 0) : which == 3 ? tv_bool(c == 0) :
		       which == 5 ? tv_bool(c <= 0) : which == 6 ? tv_bool(c >= 0) : tv_int(x->a, c);
		return 0;
	}
	if (!strcmp(name, "IncMajor") || !strcmp(name, "IncMinor") || !strcmp(name, "IncPatch")) {
		/* Masterminds: a pre-release only drops its suffix on IncPatch */
		tsemver nv = v;
		kbuf b = KBUF_INIT;
		*found = true;
		if (n)
			return tctx_fail(x, "wrong number of args for %s: want 0 got %zu", name, n);
		if (name[3] == 'M' && name[4] == 'a') {
			nv.major++;
			nv.minor = nv.patch = 0;
		} else if (name[3] == 'M') {
			nv.minor++;
			nv.patch = 0;
		} else if (!*v.pre) {
			nv.patch++;
		}
		nv.pre = nv.meta = "";
		if (v.original[0] == 'v')
			kbuf_putc(&b, 'v');
		semver_text(&b, &nv);
		nv.original = karena_strndup(x->a, b.ptr, b.len);
		kbuf_release(&b);
		*out = semver_obj(x->a, &nv, false);
		return 0;
	}
	return 0;
}

static int f_semver(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	tsemver v;
	kbuf msg = KBUF_INIT;
	int r;
	(void)n;
	if (semver_parse_msg(&v, x->a, a[0]->u.s.ptr, a[0]->u.s.len, &msg)) {
		r = tctx_fail(x, "%s", msg.ptr);
		kbuf_release(&msg);
		return r;
	}
	*out = semver_obj(x->a, &v, true);
	return 0;
}

const tfunc tmpl_funcs_semver[] = {
	{ "semverCompare", f_semvercompare, "ss" },
	{ "semver", f_semver, "s" },
	{ NULL, NULL, NULL },
};
