/*
 * tmpl/tmpl_int.h - internals of the template engine shared by lex.c,
 * parse.c, exec.c, fmt.c, value.c and funcs_*.c. Not a public API.
 *
 * Values: a template value is a doc_node pointer (arena-allocated).
 *  - NULL is Go's invalid reflect.Value (what a pipeline yields for nil);
 *  - a DOC_NULL node is a nil interface{} (a missing map key, a null value);
 *  - the Go type of a node is its doc type refined by TV_* flag bits:
 *    DOC_INT is int64 unless TV_INT (Go int), DOC_SEQ is []interface {}
 *    unless TV_STRS ([]string), DOC_STR is string unless TV_BYTES;
 *    TV_OBJ marks a tobj (a doc_node with a kind and a pointer after it) for
 *    Helm's objects (.Files, .Capabilities...) and Sprig's certificates.
 * Go maps and slices are references: sharing a node shares the value, and
 * set/unset mutate in place, visible through every reference, as in Go.
 */
#ifndef KSTAGE_TMPL_INT_H
#define KSTAGE_TMPL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "doc/doc.h"
#include "tmpl.h"

enum {
	TV_INT = 1 << 8,    /* DOC_INT is Go int (else int64) */
	TV_STRS = 1 << 9,   /* DOC_SEQ is []string */
	TV_BYTES = 1 << 10, /* DOC_STR is []byte */
	TV_OBJ = 1 << 11,   /* a tobj */
	TV_STRUCT = 1 << 12,/* DOC_MAP printed/accessed as a Go struct */
	TV_U8 = 1 << 13,    /* DOC_INT is uint8 (a byte from index of a string) */
	TV_NILSEQ = 1 << 14,/* DOC_SEQ is a nil slice (prints []), DOC_MAP a nil
			     * map (prints map[]): marshals to null */
	TV_INTS = 1 << 15,  /* DOC_SEQ is []int (until, untilStep) */
	TV_SMAP = 1 << 7,   /* DOC_MAP is map[string]string (split, splitn); the
			     * node's flags are 16 bits and doc uses only 0..3 */
};

typedef enum tobj_kind {
	TOBJ_FILES = 1,     /* .Files: methods Get, GetBytes, Glob, Lines, AsConfig, AsSecrets */
	TOBJ_APIVERSIONS,   /* .Capabilities.APIVersions: Has */
	TOBJ_KUBEVERSION,   /* .Capabilities.KubeVersion: String() */
	TOBJ_NAMED,         /* a named map or struct type, no methods (common.Values...) */
	TOBJ_SEMVER,        /* Sprig's semver: (*)semver.Version, a Stringer with methods */
} tobj_kind;

typedef struct tobj {
	doc_node n;         /* must be first */
	tobj_kind kind;
	const char *type_name;
	void *ptr;
} tobj;

/* ---- parse tree ---- */

typedef enum tnkind {
	TN_LIST, TN_TEXT, TN_ACTION, TN_PIPE, TN_CMD, TN_FIELD, TN_VAR, TN_CHAIN, TN_IDENT,
	TN_DOT, TN_NIL, TN_BOOL, TN_NUM, TN_STR, TN_IF, TN_RANGE, TN_WITH, TN_TEMPLATE,
	TN_BREAK, TN_CONTINUE, TN_ELSE_MARK, TN_END_MARK,
} tnkind;

typedef struct tfunc tfunc;
typedef struct ttree ttree;
typedef struct tnode tnode;

/* Small on purpose (counts are 32-bit, flags packed): a template-heavy
 * chart parses into tens of thousands of nodes, and their pages are most
 * of what parsing costs. */
struct tnode {
	uint8_t k;
	bool assign;          /* PIPE: '=' instead of ':=' */
	bool num_int, num_float;
	uint32_t pos;         /* byte offset in the tree's source */
	uint32_t n;           /* items in v */
	uint32_t slen;        /* bytes in s */
	uint32_t nidents;
	uint32_t ndecl;
	ttree *tree;
	tnode **v;            /* LIST items, PIPE commands, CMD args */
	const char *s;        /* TEXT bytes, STR value, IDENT name, TEMPLATE name, NUM text */
	const char **idents;  /* FIELD/CHAIN: field names; VAR: "$x" then fields */
	const char **decl;    /* PIPE: declared variable names */
	tnode *pipe;          /* ACTION/IF/RANGE/WITH/TEMPLATE pipe; CHAIN operand */
	tnode *list, *elist;  /* IF/RANGE/WITH bodies */
	doc_node *cval;       /* NUM (as arg of interface type), BOOL, STR constants */
	int64_t num_i;
	double num_f;
	const tfunc *fn;      /* IDENT: the function */
};

struct ttree {
	const char *name;     /* template name ("chart/templates/x.yaml" or a define) */
	const char *parse_name; /* the file it was parsed from */
	const char *src;      /* whole source of that file */
	size_t srclen;
	tnode *root;          /* TN_LIST */
};

/* ---- functions ---- */

typedef struct tctx tctx;
/* A function gets its evaluated arguments and sets *out (NULL for no value).
 * On error it returns tctx_fail(...) (a negative code with a message). */
typedef int (*tfn)(tctx *x, doc_node **out, doc_node **args, size_t n);

/* Signature letters, one per parameter, '*' before the last makes it
 * variadic: a interface{} (anything), s string, i int, I int64, f float64,
 * b bool, l []interface {}, S []string, m map[string]interface {},
 * t time.Time, r reflect.Value (builtins: anything, no checks). */
struct tfunc {
	const char *name;
	tfn fn;
	const char *sig;
};

typedef struct tfuncs {
	const tfunc **v;
	size_t n, cap;
} tfuncs;

struct tmpl_set {
	karena *a;
	tfuncs funcs;
	ttree **trees;     /* hash table by name */
	size_t ntrees, cap;
	struct tmpl_helm *helm; /* Helm context (render.c), or NULL */
	tmpl_set *parent;  /* tpl: defines of the text over the chart's */
	const tmpl_lookup *lookup; /* lookup's answers, or NULL (offline) */
	struct tpl_parsed **tpl; /* texts tpl parsed under this set (hash table) */
	size_t ntpl, captpl;
};

/* The execution state. */
typedef struct tvar {
	const char *name;
	doc_node *val;
} tvar;

struct tctx {
	tmpl_set *set;
	karena *a;
	kerr *err;
	kbuf *out;
	const tmpl_exec_opts *opts;
	tvar *vars;
	size_t nvars, capvars;
	size_t var_base;    /* first variable of the executing template */
	bool strict;        /* missingkey=error */
	const char *root_name; /* the name tpl parses under */
	int depth;          /* template/include nesting */
	ttree *tree;        /* executing */
	tnode *node;        /* for error context */
	char *fail_msg;     /* set by tctx_fail */
	int fail_code;      /* a lookup's error code, kept by tmpl_exec (0: KE_INPUT) */
	const char *helm_fail; /* the message of a Helm fail or required under way */
	size_t out_cap;
	uint64_t steps, max_steps;
	size_t mem_start, max_memory;
	void *signed_key;   /* genSignedCertWithKey: the EVP_PKEY to certify */
	struct tincl { const char *name; int n; } *incl; /* include nesting by name */
	size_t nincl, capincl;
};

/* ---- errors (errors.c): tmpl.h's template errors ---- */
/* Sets a template error at byte pos of file's source src[0..len): reason,
 * Go's msg after the location, and helm_fail (or NULL). Returns KE_INPUT. */
int tmpl_error_set(kerr *err, const char *reason, const char *file, const char *src, size_t len, size_t pos,
		   const char *helm_fail, const char *msg);
/* The first error as Go's text/template words it (what include and tpl
 * wrap), with no Helm rewording. */
void tmpl_error_format_go(const kerr *e, kbuf *out);
/* An execution error with no node: located by the template's name alone. */
int tmpl_error_set_name(kerr *err, const char *name, const char *helm_fail, const char *msg);

/* ---- lexer/parser (lex.c, parse.c) ---- */
/* copy false: text must outlive the set (it lives in the same arena) */
int tmpl_parse_file(tmpl_set *s, const char *name, const char *text, size_t len, bool copy, kerr *err);
const tfunc *tmpl_func_find(const tmpl_set *s, const char *name, size_t len);
void tmpl_node_string(kbuf *out, const tnode *n);
ttree *tmpl_tree_get(const tmpl_set *s, const char *name);
void tmpl_tree_put(tmpl_set *s, ttree *t);

/* ---- values (value.c) ---- */
extern doc_node tv_nil_node;     /* the nil interface{} */
#define TV_NIL (&tv_nil_node)
doc_node *tv_int(karena *a, int64_t i);     /* Go int */
doc_node *tv_int64(karena *a, int64_t i);
doc_node *tv_float(karena *a, double f);
doc_node *tv_str(karena *a, const char *s, size_t n);
doc_node *tv_strz(karena *a, const char *s);
doc_node *tv_bool(bool b);
doc_node *tv_seq(karena *a);
doc_node *tv_strs(karena *a);
doc_node *tv_map(karena *a);
bool tv_isnil(const doc_node *v);          /* NULL or DOC_NULL */
bool tv_truth(const doc_node *v);
/* Go's type name: "int", "int64", "float64", "string", "[]interface {}",
 * "map[string]interface {}", "<nil>" for an invalid value. */
const char *tv_type_name(const doc_node *v);
/* reflect Kind name: "int", "slice", "map", "ptr", "invalid"... */
const char *tv_kind_name(const doc_node *v);
/* fmt.Sprint of one value (%v). */
void tv_print(kbuf *out, const doc_node *v);
/* fmt.Sprint(args...): spaces between operands when neither is a string. */
void tv_sprint(kbuf *out, doc_node **args, size_t n);
void tv_sprintln(kbuf *out, doc_node **args, size_t n);
/* fmt.Sprintf. */
void tv_sprintf(kbuf *out, const char *fmt, size_t flen, doc_node **args, size_t n);
/* Go's strconv.Quote. */
void tv_quote(kbuf *out, const char *s, size_t n);
/* Go's unicode.IsPrint (unicode.c): false for controls, spaces other
 * than ' ', format and private-use runes and unassigned code points. */
bool tv_rune_printable(uint32_t r);
/* utf8.DecodeRune: the rune at s[0..n) and its length; a bad byte is
 * U+FFFD of length 1. */
size_t tv_utf8_decode(const unsigned char *s, size_t n, uint32_t *r);
/* utf8.AppendRune: r as UTF-8 (a surrogate or past U+10FFFF as U+FFFD). */
void tv_utf8_encode(kbuf *b, uint32_t r);

/* .Files.Glob patterns (glob.c), gobwas/glob with '/' as separator. A
 * pattern gobwas refuses compiles to NULL, which matches every path (Helm
 * falls back to "**"). Allocated in a. */
typedef struct tglob tglob;
tglob *tglob_compile(karena *a, const char *pat, size_t len);
bool tglob_match(const tglob *g, const char *s, size_t n);
/* Sprig's toString / strval: strings as is, []byte as string, else %v. */
const char *tv_strval(tctx *x, const doc_node *v, size_t *len);
/* Is the value a Go "empty" for Sprig (empty/default). */
bool tv_empty(const doc_node *v);
/* cast.ToInt64/ToFloat64 as Sprig uses them (strings parsed, else 0). */
int64_t tv_to_int64(const doc_node *v);
double tv_to_float64(const doc_node *v);
/* A Go string value's bytes (DOC_STR), else NULL. */
const char *tv_sv(const doc_node *v, size_t *len);

/* ---- exec helpers ---- */
/* Record a function error: "error calling NAME: " is added by the caller. */
int tctx_fail(tctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Execute template name with dot into out (include, template). */
int tctx_exec_named(tctx *x, const char *name, doc_node *dot, kbuf *out);
/* The memory budget (tmpl_exec_opts.max_memory), checked before
 * allocating: the bytes the execution may still take from the arena. */
size_t tctx_mem_left(const tctx *x);
/* 0 if n more bytes fit the budget, else tctx_fail's KE_INPUT with the
 * budget's message. Call it before allocating n bytes from input sizes. */
int tctx_mem_reserve(tctx *x, size_t n);
/* An empty result buffer capped at what the budget has left, so a result
 * that would pass it is refused before its memory is spent. */
kbuf tctx_buf(const tctx *x);
/* A function's string result from b (released): the string, or, if a write
 * to b was refused, the budget's failure (or "result longer than" b's own
 * cap when that was lower). */
int tctx_ret_buf(tctx *x, doc_node **out, kbuf *b);
/* Parse and execute text (tpl). */
int tctx_exec_text(tctx *x, const char *text, size_t len, doc_node *dot, kbuf *out);

void tmpl_ctx_init(tctx *x, tmpl_set *s, kbuf *out, const tmpl_exec_opts *opts, kerr *err);
void tmpl_ctx_release(tctx *x);
void tmpl_strip_no_value(kbuf *out, size_t start);
const doc_pair **tv_sorted_pairs(const doc_node *m);
doc_node *tv_strslice(tctx *x, doc_node *v);
bool tv_deep_equal(const doc_node *p, const doc_node *q);

/* ---- function tables ---- */
void tmpl_funcs_add(tmpl_set *s, const tfunc *tab);
extern const tfunc tmpl_funcs_builtin[];
extern const tfunc tmpl_funcs_strings[];
extern const tfunc tmpl_funcs_lists[];
extern const tfunc tmpl_funcs_dicts[];
extern const tfunc tmpl_funcs_math[];
extern const tfunc tmpl_funcs_encoding[];
extern const tfunc tmpl_funcs_regex[];
extern const tfunc tmpl_funcs_semver[];
extern const tfunc tmpl_funcs_dates[];
extern const tfunc tmpl_funcs_crypto[];
extern const tfunc tmpl_funcs_helm[];

/* semver (funcs_semver.c), used by render.c for KubeVersion */
typedef struct tsemver {
	uint64_t major, minor, patch;
	const char *pre;    /* "" if none */
	const char *meta;
	const char *original;
} tsemver;
int tsemver_parse(tsemver *out, karena *a, const char *s, size_t n);
/* Whether v meets a Masterminds constraint ("^1.2, <2 || >=3"): 1 yes,
 * 0 no, -1 the constraint does not parse. */
int tsemver_check(karena *a, const char *cs, size_t n, const tsemver *v);
/* A TOBJ_SEMVER's String(): "1.2.3-pre+meta" (no "v") */
void tsemver_string(kbuf *out, const doc_node *o);
/* The methods of a TOBJ_SEMVER (LessThan, IncMinor...); as tmpl_obj_method */
int tsemver_method(tctx *x, doc_node **out, doc_node *recv, const char *name, doc_node **args, size_t n,
		   bool *found);
/* Whether Go's fmt would print v through a String() method (time.Time,
 * semver); if so, appends that text to out */
bool tv_stringer(kbuf *out, const doc_node *v);

/* Helm context (render.c) */
struct tmpl_helm {
	values_num_mode num;
	doc_node *kube_version;   /* the KubeVersion object */
};
values_num_mode tmpl_helm_num_mode(const struct tmpl_helm *h);
tobj *tobj_new(karena *a, tobj_kind kind, const char *type_name, doc_type t);
int tv_to_yaml(tctx *x, kbuf *b, doc_node *v);
void tv_b64enc(kbuf *b, const unsigned char *s, size_t len);
void tv_time_string(kbuf *b, const doc_node *t);
/* Whether v is a time.Time (funcs_dates.c). */
bool tv_is_time(const doc_node *v);
/* Go's == on two time.Time values: the same instant in the same zone,
 * with the same monotonic clock reading (now's; dateModify keeps it). */
bool tv_time_equal(const doc_node *a, const doc_node *b);
/* Appends time.Time's RFC 3339 text with nanoseconds (no quotes) to b;
 * false for a year outside [0,9999], where MarshalJSON fails. */
bool tv_time_rfc3339(kbuf *b, const doc_node *t);

/* ---- manifests (manifest.c) ---- */
/* True if every comma-separated event in h is a hook event Helm knows. */
bool tmpl_hook_known(const char *h);
/* Read the head (doc_head_read) of each of docs[0..n), setting kind and
 * hook (in arena a); the first invalid document, in order, is the error.
 * no_fast: libyaml alone. */
int tmpl_manifest_heads(karena *a, tmpl_manifest *docs, size_t n, bool no_fast, kerr *err);

/* method call on an object (funcs_helm.c) */
int tmpl_obj_method(tctx *x, doc_node **out, doc_node *recv, const char *name,
		    doc_node **args, size_t n, bool *found);
/* The parameter types (signature letters) of method name of object recv
 * when Go checks its arguments before the call (.Files, .Values...), else
 * NULL. Static. */
const char *tmpl_obj_method_sig(const doc_node *recv, const char *name);
/* A subchart's common.Values seen from its parent, where Helm holds a
 * plain map: the tobj's ptr (render.c sets it). */
extern const char tobj_in_parent;
#define TOBJ_IN_PARENT ((void *)&tobj_in_parent)
/* Whether a Go type assertion to map[string]interface {} takes v: a plain
 * map, or a subchart's values seen from its parent. */
bool tv_is_plain_map(const doc_node *v);

#endif
