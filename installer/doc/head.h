/* doc/head.h - private to doc/head.c and doc/head_fast.c. */
#ifndef KSTAGE_DOC_HEAD_H
#define KSTAGE_DOC_HEAD_H

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

#endif
