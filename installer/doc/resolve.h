/*
 * doc/resolve.h - YAML 1.1 scalar resolution as go-yaml v2 does it (what
 * Kubernetes and Helm see through sigs.k8s.io/yaml). Internal to doc/.
 */
#ifndef KSTAGE_DOC_RESOLVE_H
#define KSTAGE_DOC_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "doc.h"

typedef struct doc_scalar {
	doc_type type;       /* DOC_NULL, DOC_BOOL, DOC_INT, DOC_FLOAT or DOC_STR */
	bool b;
	int64_t i;
	double f;
	bool is_timestamp;   /* a string that go-yaml would read as a timestamp */
} doc_scalar;

/* Resolve a plain (unquoted, untagged) scalar. */
void doc_resolve_plain(const char *s, size_t len, doc_scalar *out);
/* Parse s as an integer with Go's strconv.ParseInt(s, 0, 64) rules after
 * removing '_'. Returns false if it is not one. */
bool doc_parse_int(const char *s, size_t len, int64_t *out, bool *overflow_u64);
bool doc_parse_float(const char *s, size_t len, double *out);
bool doc_is_base60_float(const char *s, size_t len);

/* The map's pairs in emit order (sorted with DOC_EMIT_SORT_KEYS unless the
 * map is DOC_F_ORDERED); free() the array. */
const doc_pair **doc_emit_order(const doc_node *m, unsigned flags);
/* doc_emit_yaml's own writer for ASCII text in block collections: the bytes
 * libyaml's emitter would write (with the trailing newline), or 1 with out
 * unchanged where it leaves the text to libyaml (non-ASCII text, a key that
 * is not a simple key, a scalar at the root). */
int doc_emit_yaml_direct(kbuf *out, const doc_node *n, unsigned flags);
/* doc_key_cmp_go (v2) where the first difference is between ASCII bytes
 * with no digit at or just before it, or one key is a prefix of the other:
 * true with the answer in out; false where the full comparison must run. */
bool doc_key_cmp_go_quick(const char *a, size_t alen, const char *b, size_t blen, int *out);

#endif
