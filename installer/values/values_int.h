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
 * null in dst deletes a key src has. Where one side is a table and the
 * other a value (dst's is kept), Helm's warning goes to warn (when not
 * NULL), naming the key under prefix ("top.sub.key"). */
void values_coalesce_tables(karena *a, doc_node *dst, const doc_node *src, bool merge, int depth,
			    const char *prefix, doc_node *warn);

/* Record a warning for the user once: warn is a sequence of strings (NULL:
 * the pass records none). */
void values_warn(karena *a, doc_node *warn, const char *msg);

/* The location file of values set by a flag ("--set a=b,c=d") with the
 * argument cut where its values start ("--set a=<redacted>"), for errors
 * about an argument that sets a secret; any other file is returned as is. */
const char *values_label_redact(karena *a, const char *file);

/* The flag name of a kind: "--set", "--set-string", ... */
const char *values_flag_name(values_flag_kind kind);

/* Embedded meta-schemas (metaschemas.c): the text of the document with
 * this $id (no fragment), or NULL. */
const char *values_metaschema(const char *uri);

/* Called on each value node a schema marks "x-kstage-secret": true. */
typedef void (*values_secret_fn)(void *ctx, const doc_node *n);

/* Walk vals with schema and call fn on every node marked secret (not on the
 * nodes below a marked one), following the applicators listed in mask.c
 * (every combinator branch, local $refs with their siblings, escaped
 * pointers included). Returns 0, or KE_LIMIT when the walk hit its depth
 * or step limit and is incomplete (callers then treat all of vals as
 * secret). */
int values_secret_walk(const doc_node *vals, const doc_node *schema, values_secret_fn fn, void *ctx);

/* Append s to out with %XX escapes decoded (pointer.c). */
void values_pct_decode(kbuf *out, const char *s);

/* The child of n named by one JSON-pointer token tok[0..len) (~0 and ~1
 * unescaped into scratch): a map key or a sequence index. NULL when there
 * is none. */
const doc_node *values_pointer_child(const doc_node *n, const char *tok, size_t len, kbuf *scratch);

#endif
