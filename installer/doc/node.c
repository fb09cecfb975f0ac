/* doc/node.c - making, changing and reading nodes. */
#include "doc.h"
#include "core/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

doc_node *doc_new(karena *a, doc_type t)
{
	doc_node *n = karena_alloc(a, sizeof(*n));
	n->type = t;
	if (t == DOC_STR) {
		n->u.s.ptr = (char *)"";
		n->u.s.len = 0;
	}
	return n;
}

doc_node *doc_new_null(karena *a) { return doc_new(a, DOC_NULL); }

doc_node *doc_new_bool(karena *a, bool b)
{
	doc_node *n = doc_new(a, DOC_BOOL);
	n->u.b = b;
	return n;
}

doc_node *doc_new_int(karena *a, int64_t i)
{
	doc_node *n = doc_new(a, DOC_INT);
	n->u.i = i;
	return n;
}

doc_node *doc_new_float(karena *a, double f)
{
	doc_node *n = doc_new(a, DOC_FLOAT);
	n->u.f = f;
	return n;
}

doc_node *doc_new_strn(karena *a, const char *s, size_t len)
{
	doc_node *n = doc_new(a, DOC_STR);
	n->u.s.ptr = karena_strndup(a, s, len);
	n->u.s.len = len;
	return n;
}

doc_node *doc_new_str(karena *a, const char *s)
{
	return doc_new_strn(a, s, strlen(s));
}

doc_node *doc_new_seq(karena *a) { return doc_new(a, DOC_SEQ); }
doc_node *doc_new_map(karena *a) { return doc_new(a, DOC_MAP); }

void doc_set_pos(doc_node *n, const doc_node *from)
{
	if (!n || !from)
		return;
	n->file = from->file;
	n->line = from->line;
	n->col = from->col;
}

void doc_seq_push(karena *a, doc_node *seq, doc_node *item)
{
	if (seq->u.seq.len == seq->u.seq.cap) {
		size_t nc = seq->u.seq.cap ? st_mult(seq->u.seq.cap, 2) : 4;
		seq->u.seq.v = karena_realloc(a, seq->u.seq.v, seq->u.seq.cap * sizeof(doc_node *),
					      st_mult(nc, sizeof(doc_node *)));
		seq->u.seq.cap = nc;
	}
	seq->u.seq.v[seq->u.seq.len++] = item;
}

doc_node *doc_map_getn(const doc_node *m, const char *key, size_t klen)
{
	size_t i;
	if (!m || m->type != DOC_MAP)
		return NULL;
	for (i = 0; i < m->u.map.len; i++) {
		const doc_node *k = m->u.map.v[i].key;
		if (k->u.s.len == klen && !memcmp(k->u.s.ptr, key, klen))
			return m->u.map.v[i].val;
	}
	return NULL;
}

bool doc_key_is(const doc_node *key, const char *s)
{
	size_t n = strlen(s);
	return key->u.s.len == n && !memcmp(key->u.s.ptr, s, n);
}

doc_node *doc_map_get(const doc_node *m, const char *key)
{
	return doc_map_getn(m, key, strlen(key));
}

void doc_map_setn(karena *a, doc_node *m, const char *key, size_t klen, doc_node *val)
{
	size_t i;
	for (i = 0; i < m->u.map.len; i++) {
		doc_node *k = m->u.map.v[i].key;
		if (k->u.s.len == klen && !memcmp(k->u.s.ptr, key, klen)) {
			m->u.map.v[i].val = val;
			return;
		}
	}
	doc_map_append(a, m, doc_new_strn(a, key, klen), val);
}

void doc_map_append(karena *a, doc_node *m, doc_node *key, doc_node *val)
{
	if (m->u.map.len == m->u.map.cap) {
		size_t nc = m->u.map.cap ? st_mult(m->u.map.cap, 2) : 4;
		m->u.map.v = karena_realloc(a, m->u.map.v, m->u.map.cap * sizeof(doc_pair),
					    st_mult(nc, sizeof(doc_pair)));
		m->u.map.cap = nc;
	}
	m->u.map.v[m->u.map.len].key = key;
	m->u.map.v[m->u.map.len].val = val;
	m->u.map.len++;
}

void doc_map_set(karena *a, doc_node *m, const char *key, doc_node *val)
{
	doc_map_setn(a, m, key, strlen(key), val);
}

bool doc_map_del(doc_node *m, const char *key)
{
	size_t i, klen = strlen(key);
	if (!m || m->type != DOC_MAP)
		return false;
	for (i = 0; i < m->u.map.len; i++) {
		doc_node *k = m->u.map.v[i].key;
		if (k->u.s.len == klen && !memcmp(k->u.s.ptr, key, klen)) {
			memmove(&m->u.map.v[i], &m->u.map.v[i + 1],
				(m->u.map.len - i - 1) * sizeof(doc_pair));
			m->u.map.len--;
			return true;
		}
	}
	return false;
}

doc_node *doc_seq_get(const doc_node *s, size_t i)
{
	if (!s || s->type != DOC_SEQ || i >= s->u.seq.len)
		return NULL;
	return s->u.seq.v[i];
}

size_t doc_len(const doc_node *n)
{
	if (!n)
		return 0;
	switch (n->type) {
	case DOC_SEQ: return n->u.seq.len;
	case DOC_MAP: return n->u.map.len;
	case DOC_STR: return n->u.s.len;
	default: return 0;
	}
}

doc_node *doc_copy(karena *a, const doc_node *n)
{
	doc_node *c;
	size_t i;
	if (!n)
		return NULL;
	c = karena_memdup(a, n, sizeof(*n));
	switch (n->type) {
	case DOC_STR:
		c->u.s.ptr = karena_strndup(a, n->u.s.ptr, n->u.s.len);
		break;
	case DOC_SEQ:
		c->u.seq.cap = n->u.seq.len;
		c->u.seq.v = karena_alloc(a, st_mult(n->u.seq.len, sizeof(doc_node *)));
		for (i = 0; i < n->u.seq.len; i++)
			c->u.seq.v[i] = doc_copy(a, n->u.seq.v[i]);
		break;
	case DOC_MAP:
		c->u.map.cap = n->u.map.len;
		c->u.map.v = karena_alloc(a, st_mult(n->u.map.len, sizeof(doc_pair)));
		for (i = 0; i < n->u.map.len; i++) {
			c->u.map.v[i].key = doc_copy(a, n->u.map.v[i].key);
			c->u.map.v[i].val = doc_copy(a, n->u.map.v[i].val);
		}
		break;
	default:
		break;
	}
	return c;
}

/* One step of a path: a key (unescaped into buf) or an index. Returns the
 * rest of the path, or NULL when malformed. */
static const char *path_step(const char *p, kbuf *key, long *index)
{
	*index = -1;
	kbuf_reset(key);
	if (*p == '.')
		p++;
	if (*p == '[') {
		char *end;
		long v;
		p++;
		if (*p < '0' || *p > '9')
			return NULL;
		v = strtol(p, &end, 10);
		if (*end != ']' || v < 0)
			return NULL;
		*index = v;
		return end + 1;
	}
	while (*p && *p != '.' && *p != '[') {
		if (*p == '\\' && p[1]) {
			p++;
		}
		kbuf_putc(key, *p++);
	}
	if (!key->len)
		return NULL;
	return p;
}

doc_node *doc_get_path(const doc_node *root, const char *path)
{
	kbuf key = KBUF_INIT;
	const doc_node *cur = root;
	const char *p = path;
	if (*p == '.' && p[1] == '\0')
		return (doc_node *)root;
	while (cur && *p) {
		long idx;
		p = path_step(p, &key, &idx);
		if (!p) {
			cur = NULL;
			break;
		}
		if (idx >= 0)
			cur = doc_seq_get(cur, (size_t)idx);
		else
			cur = doc_map_getn(cur, key.ptr, key.len);
	}
	kbuf_release(&key);
	return (doc_node *)cur;
}

int doc_set_path(karena *a, doc_node *root, const char *path, doc_node *val)
{
	kbuf key = KBUF_INIT;
	doc_node *cur = root;
	const char *p = path;
	int r = -1;
	if (!root || root->type != DOC_MAP)
		return -1;
	while (*p) {
		long idx;
		p = path_step(p, &key, &idx);
		if (!p || idx >= 0)
			goto out;
		if (!*p) {
			doc_map_setn(a, cur, key.ptr, key.len, val);
			r = 0;
			goto out;
		} else {
			doc_node *next = doc_map_getn(cur, key.ptr, key.len);
			if (!next || next->type == DOC_NULL) {
				next = doc_new_map(a);
				doc_map_setn(a, cur, key.ptr, key.len, next);
			} else if (next->type != DOC_MAP) {
				goto out;
			}
			cur = next;
		}
	}
out:
	kbuf_release(&key);
	return r;
}

const char *doc_get_str(const doc_node *root, const char *path, const char *def)
{
	const doc_node *n = doc_get_path(root, path);
	return n && n->type == DOC_STR ? n->u.s.ptr : def;
}

int64_t doc_get_int(const doc_node *root, const char *path, int64_t def)
{
	const doc_node *n = doc_get_path(root, path);
	if (n && n->type == DOC_INT)
		return n->u.i;
	if (n && n->type == DOC_FLOAT && n->u.f == floor(n->u.f) && fabs(n->u.f) < 9.2e18)
		return (int64_t)n->u.f;
	return def;
}

bool doc_get_bool(const doc_node *root, const char *path, bool def)
{
	const doc_node *n = doc_get_path(root, path);
	return n && n->type == DOC_BOOL ? n->u.b : def;
}

const char *doc_type_name(doc_type t)
{
	switch (t) {
	case DOC_NULL: return "null";
	case DOC_BOOL: return "bool";
	case DOC_INT: return "int";
	case DOC_FLOAT: return "float";
	case DOC_STR: return "string";
	case DOC_SEQ: return "sequence";
	case DOC_MAP: return "map";
	}
	return "?";
}

static const doc_node *find_nonfinite(const doc_node *n, int depth)
{
	const doc_node *r = NULL;
	size_t i;
	if (!n || depth > 1000)
		return NULL;
	if (n->type == DOC_FLOAT)
		return isfinite(n->u.f) ? NULL : n;
	if (n->type == DOC_SEQ)
		for (i = 0; i < n->u.seq.len && !r; i++)
			r = find_nonfinite(n->u.seq.v[i], depth + 1);
	else if (n->type == DOC_MAP)
		for (i = 0; i < n->u.map.len && !r; i++)
			r = find_nonfinite(n->u.map.v[i].val, depth + 1);
	return r;
}

const doc_node *doc_find_nonfinite(const doc_node *n)
{
	return find_nonfinite(n, 0);
}

bool doc_is_scalar(const doc_node *n)
{
	return n && n->type != DOC_SEQ && n->type != DOC_MAP;
}

bool doc_equal(const doc_node *a, const doc_node *b)
{
	size_t i;
	if (a == b)
		return true;
	if (!a || !b)
		return false;
	if ((a->type == DOC_INT || a->type == DOC_FLOAT) && (b->type == DOC_INT || b->type == DOC_FLOAT)) {
		if (a->type == DOC_INT && b->type == DOC_INT)
			return a->u.i == b->u.i;
		{
			double x = a->type == DOC_INT ? (double)a->u.i : a->u.f;
			double y = b->type == DOC_INT ? (double)b->u.i : b->u.f;
			return x == y || (isnan(x) && isnan(y));
		}
	}
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case DOC_NULL: return true;
	case DOC_BOOL: return a->u.b == b->u.b;
	case DOC_STR:
		return a->u.s.len == b->u.s.len && !memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len);
	case DOC_SEQ:
		if (a->u.seq.len != b->u.seq.len)
			return false;
		for (i = 0; i < a->u.seq.len; i++)
			if (!doc_equal(a->u.seq.v[i], b->u.seq.v[i]))
				return false;
		return true;
	case DOC_MAP:
		if (a->u.map.len != b->u.map.len)
			return false;
		for (i = 0; i < a->u.map.len; i++) {
			const doc_node *k = a->u.map.v[i].key;
			const doc_node *bv = doc_map_getn(b, k->u.s.ptr, k->u.s.len);
			if (!bv || !doc_equal(a->u.map.v[i].val, bv))
				return false;
		}
		return true;
	default:
		return false;
	}
}

void doc_pos_format(const doc_node *n, kbuf *out)
{
	if (n && n->file && n->line)
		kbuf_printf(out, "%s:%u:%u", n->file, n->line, n->col);
	else if (n && n->file)
		kbuf_puts(out, n->file);
	else
		kbuf_puts(out, "<input>");
}
