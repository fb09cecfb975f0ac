/*
 * doc/doc.h - the one document model: YAML and JSON in and out, with source
 * positions.
 *
 * A document is a tree of doc_node: null, bool, int64, float, string,
 * sequence, or ordered map (string keys, insertion order kept). Every node
 * loaded from text remembers its file, line and column (1-based), so any
 * later error (a bad value, a schema violation, a rejected object) can point
 * at the source. Nodes made by code have line 0 and file NULL, unless copied
 * from a source node with doc_set_pos().
 *
 * Ownership: every node, string and array lives in a karena (core/arena.h)
 * passed to the function that makes it. Nothing is freed one by one; the
 * arena is released as a whole. Trees may share subtrees freely while their
 * arenas live: mutate only nodes you made, or copy first (doc_copy).
 *
 * YAML loading follows what Kubernetes and Helm see (sigs.k8s.io/yaml over
 * go-yaml v2, i.e. YAML 1.1 resolution): yes/no/on/off/y/n are booleans,
 * integers are kept exact as int64 (0x.., 0o.., 0b.., leading-0 octal, _
 * separators), floats as double, timestamps stay strings, merge keys (<<)
 * apply, non-string keys become strings. Aliases are expanded by copy with a
 * budget (an alias bomb is an error), nesting depth and input size are
 * capped, duplicate keys are an error by default.
 *
 * This module never prints: errors come back in a kerr with file:line:col.
 */
#ifndef KSTAGE_DOC_H
#define KSTAGE_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"

typedef enum doc_type {
	DOC_NULL = 0,
	DOC_BOOL,
	DOC_INT,
	DOC_FLOAT,
	DOC_STR,
	DOC_SEQ,
	DOC_MAP,
} doc_type;

/* Node flags: how a scalar was written, for emitters and diagnostics. */
enum {
	DOC_F_QUOTED = 1 << 0,   /* string was quoted (or block) in the source */
	DOC_F_TAGGED = 1 << 1,   /* an explicit tag decided the type */
	DOC_F_FLOW = 1 << 2,     /* collection written in flow style */
	DOC_F_ORDERED = 1 << 3,  /* map: JSON keeps its order even with DOC_EMIT_SORT_KEYS (a Go struct) */
};

typedef struct doc_node doc_node;

typedef struct doc_pair {
	doc_node *key;   /* always DOC_STR */
	doc_node *val;
} doc_pair;

struct doc_node {
	doc_type type;
	uint16_t flags;
	uint32_t line, col;   /* 1-based; 0 when made by code */
	const char *file;     /* arena string or static; NULL when made by code */
	union {
		bool b;
		int64_t i;
		double f;
		struct { char *ptr; size_t len; } s;            /* NUL-terminated */
		struct { doc_node **v; size_t len, cap; } seq;
		struct { doc_pair *v; size_t len, cap; } map;
	} u;
};

/* ---- loading ---------------------------------------------------------- */

typedef enum doc_dup_mode {
	DOC_DUP_ERROR = 0,   /* duplicate map key is an error (default) */
	DOC_DUP_LAST,        /* last one wins, as go-yaml v2 and Helm do; go-yaml's
			      * leniency too: any tag on a sequence or map is ignored */
} doc_dup_mode;

typedef struct doc_load_opts {
	size_t max_size;          /* bytes; 0: 64 MiB */
	unsigned max_depth;       /* 0: 1000 */
	size_t max_alias_nodes;   /* nodes created by alias expansion; 0: 1,000,000 */
	doc_dup_mode dup;
	int go_errors;            /* syntax errors as go-yaml v2 (Helm) words them: the
				   * bare problem at doc_yaml_go_line (0: no line) */
	int first_doc;            /* as go-yaml v2's Unmarshal: read the first document
				   * only, what follows is not parsed */
	size_t max_mem;           /* arena bytes the load may take, checked before each
				   * alias copy with what the copy costs (nodes, arrays,
				   * text); 0: no limit but the alias limits above. Past
				   * it: KE_LIMIT with reason DOC_REASON_MEMORY */
	int no_fast;              /* libyaml alone, no fast path for plain block YAML (tests) */
	/* Streaming: each document is handed to each() as it ends, built in an
	 * arena of its own that is emptied after the call (copy what you keep;
	 * file names stay valid: they live in the caller's arena). out stays
	 * empty; anchors do not reach across documents (go-yaml v2's rule);
	 * max_mem counts per document. A nonzero return stops the load. */
	int (*each)(void *u, doc_node *doc, kerr *err);
	void *each_u;
} doc_load_opts;

/* kerr reason of a load stopped by doc_load_opts.max_mem */
#define DOC_REASON_MEMORY "MemoryLimit"

/* The line go-yaml v2 puts in a syntax error ("yaml: line N: ..."), from
 * libyaml's 0-based marks: the problem's line, plus one for a scanner error
 * only (its parser errors print the 0-based line), else the context's line;
 * 0 when both are 0, and go-yaml then prints no line at all. */
unsigned doc_yaml_go_line(int scanner_error, unsigned problem_line, unsigned context_line);

typedef struct doc_stream {
	doc_node **docs;   /* one root per document; an empty document is DOC_NULL */
	size_t len;
} doc_stream;

/* Load a YAML stream (one or more documents). name is used in locations and
 * copied into the arena. opts may be NULL. Returns 0 or KE_INPUT/KE_LIMIT. */
int doc_load_yaml(doc_stream *out, karena *a, const char *name, const char *text, size_t len,
		  const doc_load_opts *opts, kerr *err);
/* Load exactly one YAML document (an empty stream gives DOC_NULL; more than
 * one document is an error). */
int doc_load_yaml1(doc_node **out, karena *a, const char *name, const char *text, size_t len,
		   const doc_load_opts *opts, kerr *err);
/* Load a file (path "-" is stdin) as a YAML stream. */
int doc_load_yaml_file(doc_stream *out, karena *a, const char *path,
		       const doc_load_opts *opts, kerr *err);
/* Load JSON as Go's encoding/json reads it into an interface{} (Helm's
 * fromJson): last duplicate key wins, U+FFFD for invalid UTF-8 and lone
 * surrogates, integers that fit as DOC_INT. Returns 0; -1 for a syntax
 * error (out NULL); 1 when a number overflows float64 (Go's type error:
 * out is the rest of the value, that number null). err gets Go's words. */
int doc_load_json_go(doc_node **out, karena *a, const char *text, size_t len, kbuf *err);
/* Load JSON (API replies). Integers stay exact int64 where they fit; object
 * key order is kept. Positions are not tracked (line 0) except in errors. */
int doc_load_json(doc_node **out, karena *a, const char *name, const char *text, size_t len,
		  kerr *err);
/* doc_load_json without the key inner of the top-level map outer (never
 * built: a caller that keeps big answers leaves out what it never reads). */
int doc_load_json_skip(doc_node **out, karena *a, const char *name, const char *text, size_t len, const char *outer,
		       const char *inner, kerr *err);
/* Load the one JSON value at the start of text[0..len), leaving what
 * follows it (--set-json reads "k={...},k2=..."); duplicate keys and NUL
 * characters are refused. Returns 0 with *used the bytes it took;
 * KE_INPUT with *used the offset of the error and jansson's words
 * appended to why; KE_LIMIT when it nests too deep (*used 0). */
int doc_load_json_prefix(doc_node **out, karena *a, const char *text, size_t len, size_t *used, kbuf *why);

/* ---- making and changing nodes ----------------------------------------- */

doc_node *doc_new(karena *a, doc_type t);
doc_node *doc_new_null(karena *a);
doc_node *doc_new_bool(karena *a, bool b);
doc_node *doc_new_int(karena *a, int64_t i);
doc_node *doc_new_float(karena *a, double f);
doc_node *doc_new_str(karena *a, const char *s);              /* copies s */
doc_node *doc_new_strn(karena *a, const char *s, size_t len);  /* copies */
doc_node *doc_new_seq(karena *a);
doc_node *doc_new_map(karena *a);
void doc_set_pos(doc_node *n, const doc_node *from);

void doc_seq_push(karena *a, doc_node *seq, doc_node *item);
/* Set key to val in map m: replaces an existing key in place, else appends.
 * The key string is copied. */
void doc_map_set(karena *a, doc_node *m, const char *key, doc_node *val);
void doc_map_setn(karena *a, doc_node *m, const char *key, size_t klen, doc_node *val);
/* Append a pair whose key (a string node) the caller made and knows is not
 * in m yet: no lookup, no copy (the loaders, which check duplicates). */
void doc_map_append(karena *a, doc_node *m, doc_node *key, doc_node *val);
/* Remove key; returns true if it was there. Order of the rest is kept. */
bool doc_map_del(doc_node *m, const char *key);

/* Deep copy into arena a (positions kept). */
doc_node *doc_copy(karena *a, const doc_node *n);

/* ---- reading ------------------------------------------------------------ */

/* Map lookup; NULL if m is not a map or has no such key. */
doc_node *doc_map_get(const doc_node *m, const char *key);
doc_node *doc_map_getn(const doc_node *m, const char *key, size_t klen);
/* Whether string node key is exactly s: keys are compared with their
 * length, since a JSON or YAML key may hold a NUL ("\u0000", "\0"). */
bool doc_key_is(const doc_node *key, const char *s);
doc_node *doc_seq_get(const doc_node *s, size_t i);
size_t doc_len(const doc_node *n);   /* seq/map length, string bytes, else 0 */

/* Path access: "metadata.name", "spec.listeners[0].port", "data.a\.b"
 * (backslash escapes a dot or bracket), a leading "." is allowed.
 * Returns NULL when any step is missing or the path is malformed. */
doc_node *doc_get_path(const doc_node *root, const char *path);
/* Typed getters with a default for missing or mistyped nodes. */
const char *doc_get_str(const doc_node *root, const char *path, const char *def);
int64_t doc_get_int(const doc_node *root, const char *path, int64_t def);
bool doc_get_bool(const doc_node *root, const char *path, bool def);
/* Set a value at a dotted path, creating maps on the way (no indexes).
 * Returns 0, or -1 when a step exists and is not a map. */
int doc_set_path(karena *a, doc_node *root, const char *path, doc_node *val);

const char *doc_type_name(doc_type t);   /* "null", "bool", "int", ... */
bool doc_is_scalar(const doc_node *n);
/* The first NaN or infinite float in n (document order, to 1000 levels), or
 * NULL: what Go's encoding/json refuses, so what Helm cannot read from a
 * values file or fromYaml ("json: unsupported value: +Inf"). */
const doc_node *doc_find_nonfinite(const doc_node *n);
/* Semantic equality: same types and values, maps equal regardless of key
 * order, int 3 == float 3.0. */
bool doc_equal(const doc_node *a, const doc_node *b);
/* "file:line:col" of a node into out ("<input>" when unknown). */
void doc_pos_format(const doc_node *n, kbuf *out);

/* ---- emitting ----------------------------------------------------------- */

enum {
	DOC_EMIT_SORT_KEYS = 1 << 0,   /* keys sorted: JSON in byte order, YAML in go-yaml's order */
	DOC_EMIT_INDENT = 1 << 1,      /* JSON: indent by two spaces */
	DOC_EMIT_HTML_ESCAPE = 1 << 2, /* JSON: escape < > & as Go's json.Marshal */
	DOC_EMIT_NO_DOC_END = 1 << 3,  /* YAML: no trailing newline */
	DOC_EMIT_FLOAT_G = 1 << 4,     /* floats as Go %v ('g') instead of JSON style */
	DOC_EMIT_NO_WRAP = 1 << 5,     /* YAML: no folding of long scalars (go-yaml v3) */
	DOC_EMIT_LIBYAML = 1 << 6,     /* YAML: libyaml's emitter even where the direct writer would do */
};

/* YAML in the style of Helm's toYaml (go-yaml v2 emitter, which is libyaml's):
 * two-space indent, sequences not indented under their key, plain scalars
 * where they read back the same, literal blocks for multi-line strings,
 * quoting only where needed, ints exact, floats as Go's JSON encoder writes
 * them. Appends to out. Returns 0 or KE_INPUT (e.g. a NaN in strict mode is
 * not an error in YAML: it is .nan). */
int doc_emit_yaml(kbuf *out, const doc_node *n, unsigned flags, kerr *err);
/* go-yaml's map key order (its keyList.Less), which Helm's toYaml (v2) and
 * toYamlPretty (v3) show: runs of digits compare as numbers ("9" before
 * "10") and, at the first differing character, a non-letter sorts before a
 * letter (v3: unless a digit came just before). The order is not always
 * transitive; Go sorts keys taken in random map order, so only consistent
 * sets have one answer. Returns <0, 0 or >0 as qsort wants. */
int doc_key_cmp_go(const char *a, size_t alen, const char *b, size_t blen, bool v3);
/* JSON as Go's encoding/json writes it (compact unless DOC_EMIT_INDENT).
 * Returns KE_INPUT for NaN or infinities. */
int doc_emit_json(kbuf *out, const doc_node *n, unsigned flags, kerr *err);
/* Append a JSON string literal (quoted, escaped as Go does). */
void doc_json_quote(kbuf *out, const char *s, size_t len, unsigned flags);

/* ---- the head of a rendered Kubernetes document (head.c) ----
 * As Helm reads it (util.SimpleHead through sigs.k8s.io/yaml): the whole
 * document must be valid YAML that converts to JSON, and apiVersion, kind,
 * metadata.name and metadata.annotations must have the right shapes. */
typedef struct doc_head {
	const char *src;      /* the document's name in errors ("chart/templates/x.yaml") */
	const char *text;     /* the document, len bytes, not NUL-terminated */
	size_t len;
	char *kind, *hook;    /* kind and the helm.sh/hook annotation: malloc'd, or NULL */
	char *err;            /* helm's "YAML parse error on src: ..." text: malloc'd, or NULL */
} doc_head;

/* Read h's document into kind, hook and err (free() them). fast: try the
 * fast path for plain block YAML first (it only ever accepts what libyaml
 * accepts). Thread-safe. */
void doc_head_read(doc_head *h, bool fast);
/* For tests: the fast path alone (fast; returns 1 only when it is sure the
 * YAML is valid) or the libyaml scan alone (returns 1 when valid). kind,
 * hook, err are malloc'd or NULL. */
int doc_head_check(const char *text, size_t len, bool fast, char **kind, char **hook, char **err);

#endif
