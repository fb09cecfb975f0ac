/* doc/head.h - private to doc/ (head.c, head_fast.c, load_yaml.c, load_yaml_fast.c) and its tests. */
#ifndef KSTAGE_DOC_HEAD_H
#define KSTAGE_DOC_HEAD_H

#include <stdbool.h>
#include <stdint.h>
#include <yaml.h>

#include "core/arena.h"
#include "doc.h"

#define HEAD_STACK 64

/* Go's name ("+Inf", "-Inf", "NaN") of a YAML 1.1 infinity or NaN
 * spelled v[0..n), or NULL. */
const char *doc_yaml11_nonfinite(const char *v, size_t n);
/* The libyaml scan: kind, hook and Helm's error for h. */
void doc_head_scan(doc_head *h);
/* The fast path: 1 with kind and hook set if it is sure the YAML is
 * valid; 0 when it is not sure (kind and hook may hold partial results). */
int doc_head_fast(doc_head *h);

/* Scanning helpers of the fast paths (head_fast.c). */
/* the spaces that start the line [l, e) */
int doc_fy_indent(const char *l, const char *e);
/* a character of the plain keys the fast paths take */
bool doc_fy_key_char(char c);
/* a character that cannot start or end anything in flow context */
bool doc_fy_flow_plain(char c);
/* only printable ASCII and newlines in s[0..n)? */
bool doc_fy_plain_bytes(const unsigned char *s, size_t n);
/* only what libyaml's reader takes as text, with no line break but the
 * newline (UTF-8 in its shortest form, in libyaml's printable ranges, not
 * NEL, LS, PS or a BOM)? */
bool doc_fy_text_bytes(const unsigned char *s, size_t n);
/* The escape after the backslash at p in a one-line double-quoted scalar
 * ending before e, as libyaml's scanner (and go-yaml's, its port) takes it:
 * its last byte, with the code point it stands for in *cp, or NULL for one
 * libyaml refuses or that goes on past the line (an escaped line break). */
const char *doc_fy_escape(const char *p, const char *e, uint32_t *cp);

/* libyaml's events for a plain block-YAML text (load_yaml_fast.c). */
typedef struct doc_fast_events {
	yaml_event_t *v;
	size_t n, cap;
	karena a;          /* unescaped scalar values */
} doc_fast_events;
/* 1 with the events of text[0..len) in out (released by the caller with
 * doc_fast_events_release, whatever the result) when it is sure libyaml
 * reads it into the same events; 0 when libyaml must read it. */
int doc_fast_events_scan(doc_fast_events *out, const char *text, size_t len);
void doc_fast_events_release(doc_fast_events *e);

#endif
