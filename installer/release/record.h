/*
 * release/record.h - the release record: what one revision of a release
 * did, and what every object it touched was before, so that a rollback can
 * put the cluster back exactly.
 *
 * A record is plain data in a karena: the release name and revision, its
 * status, timestamps, the computed values (masked before they get here:
 * rel_record_set_values), bundle and lock digests, and per stage its result,
 * timings, rendered manifest and journal (rel_rec_object: each object's
 * prior live state or "absent"; for a ConfigMap jsonKeyMerge the exact
 * prior string of the key), and, once older revisions were pruned, the
 * origin: what the pruned revisions changed, as the earliest prior state of
 * every object they touched (rel_store_prune folds it into the oldest
 * record kept; uninstall puts it back after undoing the kept revisions,
 * then empties it). README.md "Release records and the lock" describes the
 * payload for readers.
 *
 * Encoding (the payload of the release Secrets, release/store.h): the
 * record as JSON (doc/), gzip. A payload is cut into parts of at most
 * REL_PART_SIZE bytes, each stored in its own Secret; rel_payload_join()
 * puts them back together and checks the total size and sha256 before
 * anything is decoded. A corrupted, truncated or mismatched payload is
 * refused as a whole (KE_INPUT, "release record NAME revision N: ..."),
 * never half-used. Every size is checked before the memory it bounds is
 * allocated.
 *
 * This module never prints and never talks to the cluster.
 */
#ifndef KSTAGE_RELEASE_RECORD_H
#define KSTAGE_RELEASE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "doc/doc.h"

/* One part of a payload in one Secret. The Secret size limit is 1 MiB of
 * data (the API server's MaxSecretSize) and etcd refuses requests past
 * 1.5 MiB by default; a part of 512 KiB travels as ~683 KiB of base64 in
 * a JSON body, which leaves half the limit for labels, annotations and
 * managedFields, and keeps every request far below both limits. */
#define REL_PART_SIZE ((size_t)512 * 1024)
/* At most this many parts (32 MiB of gzip), and this much JSON once
 * inflated (5,000 objects of 10 KiB each take 50 MiB): a record past them
 * is refused, its parts before they are allocated. */
#define REL_PARTS_MAX 64
#define REL_RECORD_JSON_MAX ((size_t)128 * 1024 * 1024)

typedef enum rel_status {
	REL_ST_PENDING = 0,     /* a run is in progress (or was killed) */
	REL_ST_DEPLOYED,
	REL_ST_FAILED,          /* failed, rollback incomplete or not asked for */
	REL_ST_ROLLED_BACK,     /* failed and put back */
	REL_ST_SUPERSEDED,      /* a later revision is deployed */
	REL_ST_UNINSTALLED,
} rel_status;

typedef enum rel_stage_result {
	REL_SR_PENDING = 0,     /* not started */
	REL_SR_RUNNING,
	REL_SR_SUCCEEDED,
	REL_SR_FAILED,
	REL_SR_SKIPPED,         /* disabled or filtered out */
	REL_SR_ROLLED_BACK,
} rel_stage_result;

/* "pending", "deployed", "failed", "rolled-back", "superseded", "uninstalled". */
const char *rel_status_name(rel_status s);
/* Parse a status name; -1 if unknown. */
int rel_status_parse(const char *s);
const char *rel_stage_result_name(rel_stage_result r);
int rel_stage_result_parse(const char *s);

/* One object a stage touched, journaled before the stage changed it. */
typedef struct rel_rec_object {
	const char *api_version, *kind, *name;
	const char *ns;             /* NULL for cluster-scoped */
	bool existed;               /* false: "absent" before the run */
	doc_node *prior;            /* existed: the live object as read (NULL otherwise) */
	bool keep;                  /* rollback policy keep: never deleted by a rollback */
	const char *key;            /* a jsonKeyMerge into this ConfigMap: the key, else NULL */
	const char *key_prior;      /* its exact prior string; NULL when the key was absent */
	size_t key_prior_len;
	bool cleaned;               /* a test's cleanup deleted it after this revision applied it
	                             * (apply or kstage verify): a rollback does not re-create it */
} rel_rec_object;

typedef struct rel_rec_stage {
	const char *name;
	rel_stage_result result;
	int64_t started_ms, finished_ms;   /* unix ms; 0: not yet */
	const char *error;          /* why it failed, or NULL */
	const char *manifest;       /* the rendered objects as YAML, or NULL */
	rel_rec_object *objects;    /* journal, in the order they were recorded */
	size_t nobjects, cap;
} rel_rec_stage;

typedef struct rel_record {
	const char *name;           /* release name */
	int revision;               /* 1, 2, ... */
	rel_status status;
	int64_t created_ms, updated_ms;
	const char *description;    /* one line ("apply failed at stage x"), or NULL */
	const char *bundle_name, *bundle_version;
	const char *bundle_digest;  /* "sha256:..." or NULL */
	const char *lock_digest;
	doc_node *values;           /* masked computed values, or NULL */
	const char *holder;         /* lock holder identity that wrote it, or NULL */
	const char *takeover;       /* an expired holder this run took the lock from, or NULL */
	rel_rec_stage *stages;
	size_t nstages, cap;
	/* Pruned history (rel_store_prune): the earliest prior state of every
	 * object the pruned revisions still in effect touched, kept with the
	 * oldest remaining record so that uninstall puts back what the release
	 * found; NULL when nothing was pruned (empty once uninstall used it). */
	rel_rec_stage *origin;
} rel_record;

/* A fresh record in a (strings are copied); status pending, timestamps now. */
rel_record *rel_record_new(karena *a, const char *name, int revision);
/* Append a stage (name copied); returns it, result pending. */
rel_rec_stage *rel_record_add_stage(karena *a, rel_record *r, const char *name);
/* Find a stage by name, or NULL. */
rel_rec_stage *rel_record_stage(const rel_record *r, const char *name);
/* Append a journal entry to s: the object's identity (copied), prior (may be
 * NULL: absent; not copied, must live in a). Returns the entry so the caller
 * can set keep, key and key_prior. */
rel_rec_object *rel_record_add_object(karena *a, rel_rec_stage *s, const char *api_version,
				      const char *kind, const char *ns, const char *name,
				      doc_node *prior);
/* Same object: API group (not version), kind, namespace and name. */
bool rel_rec_object_same(const rel_rec_object *x, const rel_rec_object *y);
/* Mark every journal entry of r for the object o (rel_rec_object_same) as
 * cleaned by a test; returns how many there were. */
size_t rel_record_mark_cleaned(rel_record *r, const rel_rec_object *o);
/* A stage whose journal counts: it started (not pending, not skipped). */
bool rel_rec_stage_started(const rel_rec_stage *s);
/* Append to acc each entry of s whose object acc does not hold yet (the
 * earliest prior state wins); the entries' strings and prior are shared,
 * so s must live in a too. */
void rel_rec_stage_fold(karena *a, rel_rec_stage *acc, const rel_rec_stage *s);
/* Store vals with secrets masked (values_mask_secrets: schema and
 * secret_paths may be NULL). */
void rel_record_set_values(karena *a, rel_record *r, const doc_node *vals, const doc_node *schema,
			   const doc_node *secret_paths);
/* "Kind/ns/name" or "Kind/name" of an entry (arena string). */
const char *rel_rec_object_ref(karena *a, const rel_rec_object *o);

/* Unix time in ms, and RFC 3339 UTC with milliseconds ("2026-12-06T20:30:00.123Z"). */
int64_t rel_now_ms(void);
void rel_time_format(kbuf *out, int64_t ms);
/* Parse what rel_time_format writes (fraction optional), or RFC 3339 with
 * a "+HH:MM"/"-HH:MM" offset (Go's, in Helm's records); -1 if bad. */
int64_t rel_time_parse(const char *s);

/* The record as JSON (the decoded payload). */
int rel_record_to_json(kbuf *out, const rel_record *r, kerr *err);
/* The record as a doc tree (in a), as in the payload. */
doc_node *rel_record_to_doc(karena *a, const rel_record *r);
/* JSON, then gzip: the payload. */
int rel_record_encode(kbuf *out, const rel_record *r, kerr *err);
/* Inflate (at most REL_RECORD_JSON_MAX bytes), parse, check every field;
 * what names the record in errors ("release record x revision 3"). */
int rel_record_decode(rel_record **out, karena *a, const void *gz, size_t len, const char *what,
		      kerr *err);
/* Read a record from its JSON doc; every field is checked (type, enum). */
int rel_record_from_doc(rel_record **out, karena *a, const doc_node *d, const char *what, kerr *err);

/* gzip data[0..len) at zlib level (0-9, or Z_DEFAULT_COMPRESSION) onto out. */
int rel_gzip(kbuf *out, const void *data, size_t len, int level, kerr *err);
/* Inflate the gzip stream gz into out, at most max bytes (KE_INPUT naming
 * what past it, or for bad, short or trailing data). */
int rel_gunzip(kbuf *out, const void *gz, size_t len, size_t max, const char *what, kerr *err);

/* Lowercase hex sha256 of data (65 bytes with the NUL). */
void rel_sha256_hex(char out[65], const void *data, size_t len);

/* How many parts a payload of len bytes takes. */
size_t rel_payload_nparts(size_t len);
/* Put parts[0..n) back together into out, checking that n is within
 * REL_PARTS_MAX, every part is there (non-NULL) and at most REL_PART_SIZE,
 * every part but the last is full, the total is size and its sha256 is
 * sha256_hex. The size is checked before out grows. KE_INPUT with what
 * in the message otherwise. */
int rel_payload_join(kbuf *out, const char *const *parts, const size_t *lens, size_t n, size_t size,
		     const char *sha256_hex, const char *what, kerr *err);

#endif
