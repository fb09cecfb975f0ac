/*
 * values/values_int.h - helpers shared inside the values module. Not for
 * other modules.
 */
#ifndef KSTAGE_VALUES_INT_H
#define KSTAGE_VALUES_INT_H

#include "values.h"
#include "core/buf.h"

/* Read a values source into out: a path, "-" (stdin), or an http(s):// URL
 * through url (values never fetch by themselves; without a reader a URL is
 * refused). */
int values_read_source(kbuf *out, const char *src, const values_url_reader *url, kerr *err);

/* Give every node of n (recursively) the position file/line/col. */
void values_set_pos_tree(doc_node *n, const char *file, unsigned line, unsigned col);

/* Parse one --set style argument; secret_paths (may be NULL) receives the
 * path of every value the argument sets; url reads --set-file URLs. */
int values_parse_set_ex(doc_node *dst, karena *a, values_flag_kind kind, const char *arg,
			values_num_mode num, const values_url_reader *url, doc_node *secret_paths, kerr *err);

/* Helm's coalesceTablesFullKey: src fills in what dst lacks; with !merge a
 * null in dst deletes a key src has. */
void values_coalesce_tables(karena *a, doc_node *dst, const doc_node *src, bool merge, int depth);

/* The flag name of a kind: "--set", "--set-string", ... */
const char *values_flag_name(values_flag_kind kind);

/* Embedded meta-schemas (metaschemas.c): the text of the document with
 * this $id (no fragment), or NULL. */
const char *values_metaschema(const char *uri);

#endif
