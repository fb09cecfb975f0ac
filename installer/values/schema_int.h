/*
 * values/schema_int.h - the JSON Schema validator's parts, shared by the
 * schema*.c files of the values module only:
 *   schema.c          evaluation (applicators, annotations) and the entry points
 *   schema_compile.c  subschemas' base URIs and drafts, resources, anchors
 *   schema_ref.c      URIs, loading documents, resolving $ref
 *   schema_kw.c       assertion keywords
 *   schema_format.c   the format keyword
 *   schema_regex.c    patterns (core/regex)
 *   schema_errors.c   errors: paths, positions, secrets kept out
 * One vs holds the state of one validation; everything it allocates lives
 * in its arena a or is freed by the validation's release.
 */
#ifndef KSTAGE_VALUES_SCHEMA_INT_H
#define KSTAGE_VALUES_SCHEMA_INT_H

#include "values_int.h"

#define VS_MAX_DEPTH 1000
#define VS_MAX_STEPS 1000000   /* subschema evaluations per validation */

typedef struct vs_info {
	const doc_node *node;
	const char *base;
	int draft;
} vs_info;

typedef struct vs_res {
	const char *uri;
	const doc_node *root;
} vs_res;

typedef struct vs_anchor {
	const char *key;   /* "base#name" */
	const doc_node *node;
	bool dynamic;
} vs_anchor;

typedef struct vs_regexes vs_regexes;   /* schema_regex.c */

typedef struct vs {
	karena *a;
	vs_info *info;     /* open addressing on node pointer */
	size_t ninfo, capinfo;
	vs_res *res;
	size_t nres, capres;
	vs_anchor *anc;
	size_t nanc, capanc;
	vs_regexes *re;    /* compiled patterns, NULL until the first */
	const values_schema_opts *o;
	const char *what;
	kerr *err;
	int depth;
	size_t steps;
	int fatal;            /* a schema error (KE_*): evaluation stops, probes included */
	bool no_validation;   /* $vocabulary without the validation vocabulary */
	const char **secret_files;   /* files (or --set arguments) of secret values */
	size_t nsecret, capsecret;
	bool all_secret;      /* the marks could not be walked: every node is */
	const char *scope[VS_MAX_DEPTH + 2];   /* dynamic scope: resource bases */
	int nscope;
} vs;

/* Which instance items/properties a schema evaluated (for unevaluated*). */
typedef struct vs_ann {
	bool *seen;
	size_t n;
} vs_ann;

static inline bool vs_is_num(const doc_node *n) { return n && (n->type == DOC_INT || n->type == DOC_FLOAT); }
static inline double vs_num(const doc_node *n) { return n->type == DOC_INT ? (double)n->u.i : n->u.f; }

/* schema_ref.c: the length of s's URI scheme ("https" for "https://..."),
 * 0 when it has none. */
size_t vs_scheme_len(const char *s);
/* ref resolved against base (RFC 3986), in arena a; an empty fragment is dropped. */
const char *vs_uri_resolve(karena *a, const char *base, const char *ref);
/* uri without its fragment (in a); *frag points at the fragment ("" if none). */
const char *vs_strip_fragment(karena *a, const char *uri, const char **frag);
/* The document at uri (no fragment): an embedded meta-schema or the
 * caller's loader, compiled into v. NULL when there is none. */
const doc_node *vs_load_remote(vs *v, const char *uri);
/* The schema ref names, from a schema whose base URI is base; NULL when
 * it does not resolve. */
const doc_node *vs_resolve_ref(vs *v, const char *base, const char *ref, int draft);

/* schema_compile.c: what is known of subschema n, or NULL. */
vs_info *vs_info_get(vs *v, const doc_node *n);
/* The root of the resource uri, or NULL. */
const doc_node *vs_res_find(vs *v, const char *uri);
/* The schema of anchor key ("base#name"), dynamic anchors only if asked. */
const doc_node *vs_anc_find(vs *v, const char *key, bool dynamic_only);
/* The draft (7 or 2020) a $schema URI names; def when it names neither. */
int vs_draft_of(const char *schema_uri, int def);
/* Compile s and its subschemas under base and draft (once per node). */
void vs_walk(vs *v, const doc_node *s, const char *base, int draft, int depth);
/* Compile a document (the root or a loaded one) as the resource uri. */
void vs_add_document(vs *v, const char *uri, const doc_node *root, int draft);

/* schema_kw.c: the assertion keywords of s on inst; errors reported when
 * report, else the first failure returns false. */
bool vs_kw_validation(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, bool report);

/* schema_format.c: false when s[0..n) is not valid for the known format fmt. */
bool vs_format_ok(const char *fmt, const char *s, size_t n);

/* schema_regex.c: 1 when the pattern node pat matches s, 0 when not, -1
 * when the pattern does not compile, -2 when the match budget ran out
 * (neither a match nor a mismatch). */
int vs_re_match(vs *v, const doc_node *pat, const char *s, size_t len);
/* Whether s[0..n) compiles as a regular expression. */
bool vs_regex_compiles(const char *s, size_t n);
/* Free v's compiled patterns. */
void vs_regex_release(vs *v);

/* schema_errors.c: append key k to a JSON path ("a.b", "a[\"x y\"]"). */
void vs_path_key(kbuf *p, const char *k, size_t len);
/* Note where the values schema marks secret come from (see error locations). */
void vs_secrets_find(vs *v, const doc_node *schema, const doc_node *instance);
/* An instance error at inst (path: its JSON path); nothing once a schema
 * error has stopped the evaluation. */
void vs_fail(vs *v, const doc_node *inst, const kbuf *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A schema error: reported once, even from a quiet probe; it stops the
 * whole evaluation with code. */
void vs_schema_error(vs *v, int code, const doc_node *inst, const kbuf *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
