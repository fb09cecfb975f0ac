/* doc/head.c - the head of a rendered Kubernetes document as Helm reads it
 * (util.SimpleHead through sigs.k8s.io/yaml): the whole document must be
 * valid YAML that converts to JSON, and apiVersion, kind, metadata.name and
 * metadata.annotations must have the right shapes. A libyaml event scan
 * (no tree is built) that picks out kind and the helm.sh/hook annotation,
 * and words errors as helm does; head_fast.c is the fast path in front of
 * it. Thread-safe: results are malloc'd into the doc_head. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "core/alloc.h"
#include "doc.h"
#include "head.h"



/* The document has a map key sigs.k8s.io/yaml refuses (a sequence or map,
 * or null), or a tagged scalar: the doc loader reads it with go-yaml's
 * words for the error. */
static void key_error(doc_head *h)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *n = NULL;
	doc_load_opts o = { .dup = DOC_DUP_LAST, .go_errors = 1, .first_doc = 1 };
	if (doc_load_yaml1(&n, &a, h->src, h->text, h->len, &o, &e)) {
		kbuf b = KBUF_INIT;
		const char *m = e.first.msg ? e.first.msg : "invalid YAML";
		/* go-yaml's own errors say "yaml:", sigs.k8s.io/yaml's do not */
		kbuf_printf(&b, "YAML parse error on %s: error converting YAML to JSON: %s%s", h->src,
			    strncmp(m, "unsupported map key", 19) ? "yaml: " : "", m);
		h->err = kbuf_detach(&b, NULL);
	}
	kerr_clear(&e);
	karena_release(&a);
}

/* ---- Helm reads each document into a SimpleHead (apiVersion, kind,
 * metadata.name, metadata.annotations); encoding/json refuses a value of
 * the wrong shape there, the first in sorted key order. ---- */

static const char *json_kind(const doc_node *v)
{
	switch (v->type) {
	case DOC_BOOL: return "bool";
	case DOC_INT: case DOC_FLOAT: return "number";
	case DOC_STR: return "string";
	case DOC_SEQ: return "array";
	default: return "object";
	}
}

static bool is_coll(const doc_node *v)
{
	return v && (v->type == DOC_SEQ || v->type == DOC_MAP);
}

/* the pair of m whose key matches name as encoding/json does (any case)
 * and that sorts first, or NULL */
static const doc_pair *json_field(const doc_node *m, const char *name)
{
	const doc_pair *best = NULL;
	size_t i;
	for (i = 0; i < m->u.map.len; i++) {
		const doc_pair *p = &m->u.map.v[i];
		if (p->key->u.s.len == strlen(name) && !strcasecmp(p->key->u.s.ptr, name) && (!best || strcmp(p->key->u.s.ptr, best->key->u.s.ptr) < 0))
			best = p;
	}
	return best;
}

/* keep the error whose key sorts first */
static void shape_pick(kbuf *msg, const char **at, const char *key, kbuf *cand)
{
	if (cand->len && (!*at || strcmp(key, *at) < 0)) {
		kbuf_reset(msg);
		kbuf_put(msg, cand->ptr, cand->len);
		*at = key;
	}
	kbuf_reset(cand);
}

static void shape_metadata(kbuf *msg, const doc_node *md)
{
	const char *at = NULL;
	kbuf c = KBUF_INIT;
	const doc_pair *p;
	size_t i;
	if ((p = json_field(md, "name")) && is_coll(p->val)) {
		kbuf_printf(&c, "cannot unmarshal %s into Go struct field .metadata.name of type string", json_kind(p->val));
		shape_pick(msg, &at, p->key->u.s.ptr, &c);
	}
	if ((p = json_field(md, "annotations")) && p->val->type != DOC_NULL) {
		const char *inner = NULL;
		kbuf im = KBUF_INIT;
		if (p->val->type != DOC_MAP) {
			kbuf_printf(&im, "cannot unmarshal %s into Go struct field .metadata.annotations of type "
				    "map[string]string", json_kind(p->val));
		} else {
			for (i = 0; i < p->val->u.map.len; i++) {
				const doc_pair *q = &p->val->u.map.v[i];
				if (is_coll(q->val)) {
					kbuf_printf(&c, "cannot unmarshal %s into Go struct field .metadata.annotations of type string",
						    json_kind(q->val));
					shape_pick(&im, &inner, q->key->u.s.ptr, &c);
				}
			}
		}
		kbuf_put(&c, im.ptr, im.len);
		kbuf_release(&im);
		shape_pick(msg, &at, p->key->u.s.ptr, &c);
	}
	kbuf_release(&c);
}

/* Helm's "while decoding JSON" error for the document, or none */
static void shape_error(doc_head *h)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *n = NULL;
	doc_load_opts o = { .dup = DOC_DUP_LAST, .go_errors = 1, .first_doc = 1 };
	kbuf msg = KBUF_INIT, c = KBUF_INIT;
	const char *at = NULL;
	const doc_pair *p;
	if (!doc_load_yaml1(&n, &a, h->src, h->text, h->len, &o, &e) && n && n->type != DOC_NULL) {
		if (n->type != DOC_MAP) {
			kbuf_printf(&msg, "cannot unmarshal %s into Go value of type util.SimpleHead", json_kind(n));
		} else {
			static const char *const strs[] = { "apiVersion", "kind" };
			size_t i;
			for (i = 0; i < 2; i++)
				if ((p = json_field(n, strs[i])) && is_coll(p->val)) {
					kbuf_printf(&c, "cannot unmarshal %s into Go struct field SimpleHead.%s of type string",
						    json_kind(p->val), strs[i]);
					shape_pick(&msg, &at, p->key->u.s.ptr, &c);
				}
			if ((p = json_field(n, "metadata")) && p->val->type != DOC_NULL) {
				if (p->val->type != DOC_MAP)
					kbuf_printf(&c, "cannot unmarshal %s into Go struct field SimpleHead.metadata of type struct "
						    "{ Name string \"json:\\\"name\\\"\"; Annotations map[string]string "
						    "\"json:\\\"annotations\\\"\" }", json_kind(p->val));
				else
					shape_metadata(&c, p->val);
				shape_pick(&msg, &at, p->key->u.s.ptr, &c);
			}
		}
		if (msg.len) {
			kbuf b = KBUF_INIT;
			kbuf_printf(&b, "YAML parse error on %s: error unmarshaling JSON: while decoding JSON: json: %s",
				    h->src, msg.ptr);
			h->err = kbuf_detach(&b, NULL);
		}
	}
	kbuf_release(&msg);
	kbuf_release(&c);
	kerr_clear(&e);
	karena_release(&a);
}

static bool null_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value, *tag = (const char *)ev->data.scalar.tag;
	size_t vl = ev->data.scalar.length;
	if (tag)
		return !strcmp(tag, "tag:yaml.org,2002:null");
	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (vl == 0 || (vl == 1 && *v == '~') ||
		(vl == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4))));
}

/* The YAML 1.1 infinities and NaN go-yaml resolves a plain scalar to:
 * sigs.k8s.io/yaml cannot turn them into JSON, so Helm fails the document.
 * Returns Go's name of the value, or NULL. */
const char *doc_yaml11_nonfinite(const char *v, size_t n)
{
	static const char *const pos[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF" };
	static const char *const neg[] = { "-.inf", "-.Inf", "-.INF" };
	static const char *const nan[] = { ".nan", ".NaN", ".NAN" };
	size_t i;
	if (n < 4 || n > 5)
		return NULL;
	for (i = 0; i < 6; i++)
		if (strlen(pos[i]) == n && !memcmp(v, pos[i], n))
			return "+Inf";
	for (i = 0; i < 3; i++) {
		if (strlen(neg[i]) == n && !memcmp(v, neg[i], n))
			return "-Inf";
		if (strlen(nan[i]) == n && !memcmp(v, nan[i], n))
			return "NaN";
	}
	return NULL;
}

void doc_head_scan(doc_head *h)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0;
	/* per depth: 1 mapping, 2 sequence; key: next scalar in a mapping is a key */
	unsigned char kind[HEAD_STACK + 1], iskey[HEAD_STACK + 1];
	/* path matched so far: 1 = in metadata (depth 2), 2 = in annotations (depth 3) */
	int path = 0;
	int want = 0; /* 1 kind, 2 metadata, 3 annotations, 4 hook */
	/* anchors defined so far: go-yaml refuses an alias to any other */
	char **anchors = NULL;
	size_t nanchors = 0, capanchors = 0, i;
	/* a map key that is a collection or null: sigs.k8s.io/yaml refuses it */
	bool bad_key = false, typed = false;
	/* a SimpleHead field that may hold a value of the wrong shape: 1 a
	 * string (apiVersion, kind, metadata.name, an annotation), 2 a struct
	 * (metadata), 3 a map (annotations); shape: one does */
	int sw = 0;
	bool shape = false;
	/* the first value that is an infinity or NaN, which JSON cannot hold */
	const char *nonfinite = NULL;
	kind[0] = 0;
	iskey[0] = 0;
	if (!yaml_parser_initialize(&p)) {
		h->err = strdup("yaml: cannot initialise the parser");
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)h->text, h->len);
	for (;;) {
		yaml_event_type_t t;
		if (!yaml_parser_parse(&p, &ev)) {
			unsigned line = doc_yaml_go_line(p.error == YAML_SCANNER_ERROR, (unsigned)p.problem_mark.line,
							 (unsigned)p.context_mark.line);
			kbuf b = KBUF_INIT;
			kbuf_printf(&b, "YAML parse error on %s: error converting YAML to JSON: yaml: ", h->src);
			if (line)
				kbuf_printf(&b, "line %u: ", line);
			kbuf_puts(&b, p.problem ? p.problem : "unknown problem parsing YAML content");
			h->err = kbuf_detach(&b, NULL);
			break;
		}
		t = ev.type;
		/* go-yaml's Unmarshal reads the first document only: what
		 * follows its end (a stray '}' after a flow root) is not seen */
		if (t == YAML_STREAM_END_EVENT || t == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_ALIAS_EVENT) {
			const char *an = (const char *)ev.data.alias.anchor;
			for (i = 0; i < nanchors && strcmp(anchors[i], an); i++)
				;
			if (i == nanchors) {
				kbuf b = KBUF_INIT;
				kbuf_printf(&b, "YAML parse error on %s: error converting YAML to JSON: yaml: "
					    "unknown anchor '%s' referenced", h->src, an);
				h->err = kbuf_detach(&b, NULL);
				yaml_event_delete(&ev);
				break;
			}
		} else {
			const yaml_char_t *an = t == YAML_SCALAR_EVENT ? ev.data.scalar.anchor :
						t == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor :
						t == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor : NULL;
			if (an) {
				ALLOC_GROW(anchors, nanchors + 1, capanchors);
				anchors[nanchors++] = xstrdup((const char *)an);
			}
		}
		switch (t) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth >= 1 && depth <= HEAD_STACK && kind[depth] == 1 && iskey[depth])
				bad_key = true;
			else if ((depth == 0 && t == YAML_SEQUENCE_START_EVENT) || sw == 1 ||
				 (sw >= 2 && t == YAML_SEQUENCE_START_EVENT))
				shape = true;
			sw = 0;
			if (t == YAML_MAPPING_START_EVENT) {
				if (want == 2 && depth == 1)
					path = 1;
				else if (want == 3 && depth == 2 && path == 1)
					path = 2;
			}
			want = 0;
			depth++;
			if (depth <= HEAD_STACK) {
				kind[depth] = t == YAML_MAPPING_START_EVENT ? 1 : 2;
				iskey[depth] = 1;
			}
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (path == 2 && depth == 3)
				path = 1;
			else if (path == 1 && depth == 2)
				path = 0;
			depth--;
			if (depth >= 1 && depth <= HEAD_STACK && kind[depth] == 1)
				iskey[depth] = 1; /* the container was a value */
			want = 0;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT: {
			const char *v = t == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.value : "";
			size_t vl = t == YAML_SCALAR_EVENT ? ev.data.scalar.length : 0;
			bool in_map = depth >= 1 && depth <= HEAD_STACK && kind[depth] == 1;
			if (in_map && iskey[depth]) {
				const char *tag = t == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.tag : NULL;
				if (t == YAML_ALIAS_EVENT ||
				    ((tag && !strcmp(tag, "tag:yaml.org,2002:null")) ||
				     (!tag && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
				      (vl == 0 || (vl == 1 && *v == '~') ||
				       /* a merge key: go-yaml wants a map (or maps) there */
				       (vl == 2 && !memcmp(v, "<<", 2)) ||
				       (vl == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) ||
						    !memcmp(v, "NULL", 4)))))))
					bad_key = true;
				want = 0;
				sw = (depth == 1 && (!strcasecmp(v, "apiVersion") || !strcasecmp(v, "kind"))) ||
				     (depth == 2 && path == 1 && !strcasecmp(v, "name")) || (depth == 3 && path == 2) ? 1 :
				     depth == 1 && !strcasecmp(v, "metadata") ? 2 :
				     depth == 2 && path == 1 && !strcasecmp(v, "annotations") ? 3 : 0;
				if (depth == 1 && vl == 4 && !memcmp(v, "kind", 4))
					want = 1;
				else if (depth == 1 && vl == 8 && !memcmp(v, "metadata", 8))
					want = 2;
				else if (depth == 2 && path == 1 && vl == 11 && !memcmp(v, "annotations", 11))
					want = 3;
				else if (depth == 3 && path == 2 && vl == 12 && !memcmp(v, "helm.sh/hook", 12))
					want = 4;
				iskey[depth] = 0;
			} else {
				/* a scalar with a type tag may not read as that type:
				 * the doc loader tells, in go-yaml's words */
				if (t == YAML_SCALAR_EVENT && ev.data.scalar.tag &&
				    !strncmp((const char *)ev.data.scalar.tag, "tag:yaml.org,2002:", 18) &&
				    strcmp((const char *)ev.data.scalar.tag + 18, "str"))
					typed = true;
				if (t == YAML_SCALAR_EVENT && !nonfinite &&
				    ((!ev.data.scalar.tag && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) ||
				     (ev.data.scalar.tag &&
				      !strcmp((const char *)ev.data.scalar.tag, "tag:yaml.org,2002:float"))))
					nonfinite = doc_yaml11_nonfinite(v, vl);
				if (t == YAML_SCALAR_EVENT && (sw >= 2 || depth == 0) && !null_scalar(&ev))
					shape = true;
				sw = 0;
				if (want == 1 && t == YAML_SCALAR_EVENT && !h->kind)
					h->kind = strndup(v, vl);
				else if (want == 4 && t == YAML_SCALAR_EVENT && !h->hook)
					h->hook = strndup(v, vl);
				want = 0;
				if (in_map)
					iskey[depth] = 1;
			}
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	for (i = 0; i < nanchors; i++)
		free(anchors[i]);
	free(anchors);
	if ((bad_key || typed) && !h->err)
		key_error(h);
	if (nonfinite && !h->err) {
		kbuf b = KBUF_INIT;
		kbuf_printf(&b, "YAML parse error on %s: error converting YAML to JSON: json: unsupported value: %s",
			    h->src, nonfinite);
		h->err = kbuf_detach(&b, NULL);
	}
	/* after the conversion to JSON, as Helm: its unmarshal into SimpleHead */
	if (shape && !h->err)
		shape_error(h);
}

void doc_head_read(doc_head *h, bool fast)
{
	if (fast && doc_head_fast(h))
		return;
	free(h->kind);
	free(h->hook);
	h->kind = h->hook = NULL;
	doc_head_scan(h);
}

int doc_head_check(const char *text, size_t len, bool fast, char **kind, char **hook, char **err)
{
	doc_head h;
	int ok;
	memset(&h, 0, sizeof(h));
	h.src = "doc";
	h.text = text;
	h.len = len;
	if (fast) {
		ok = doc_head_fast(&h);
		if (!ok) {
			free(h.kind);
			free(h.hook);
			h.kind = h.hook = NULL;
		}
	} else {
		doc_head_scan(&h);
		ok = h.err == NULL;
	}
	*kind = h.kind;
	*hook = h.hook;
	*err = h.err;
	return ok;
}
