/*
 * release/store.h - where release records live: a back end behind a struct
 * of function pointers (Helm's storage driver), so every rollback path can
 * be tested against the memory store and judged against the real one.
 *
 * The Secrets store keeps one revision as a head Secret
 * "kstage.v1.NAME.vREV" (type kstage.dev/release.v1, labels owner=kstage,
 * name, revision, status; annotations with the payload's part count, size,
 * sha256 and generation; data.release holds part 1) and, for a payload past
 * REL_PART_SIZE, part Secrets "kstage.v1.NAME.vREV.gGENpI" (labels owner,
 * name, revision and kstage.dev/part=gGENpI). Reading a revision is one
 * LIST by label selector; history is one LIST of the heads.
 *
 * An update is crash-safe: the new parts are written under a new
 * generation first, then the head is replaced in one PUT guarded by its
 * resourceVersion, then the old generation's parts are deleted. A run
 * killed at any point leaves a head whose parts are all there; parts of
 * another generation are ignored and cleaned up by the next update.
 *
 * The store namespace (--release-namespace, default kstage-system) is
 * created by the first write that finds it missing (its POST answers 404),
 * so reading needs no rights on namespaces. Never prints.
 *
 * How a run uses it (with release/lock.h): take the Lease; refuse when the
 * latest revision is pending (a killed run: rollback --recover); create
 * revision latest+1 as pending; per stage, journal every object's prior
 * state (rel_record_add_object) and rel_store_update() BEFORE changing
 * anything, then record the result and update again; at the end set the
 * status (the previous deployed one becomes superseded), prune past
 * --history-max, give the Lease up.
 */
#ifndef KSTAGE_RELEASE_STORE_H
#define KSTAGE_RELEASE_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"
#include "kube/kube.h"
#include "release/record.h"

#define REL_STORE_NAMESPACE "kstage-system"
#define REL_SECRET_TYPE "kstage.dev/release.v1"
#define REL_HISTORY_MAX 10

/* What history shows without decoding a payload (from the head's labels
 * and annotations; the payload stays the authority, but for the status:
 * the head's label, which set_status changes alone). */
typedef struct rel_rec_summary {
	const char *name;
	int revision;
	rel_status status;
	int64_t updated_ms;         /* 0 when unknown */
	const char *description;    /* or NULL */
	size_t parts;               /* Secrets (or 1) the payload takes */
	size_t size;                /* gzip bytes */
} rel_rec_summary;

typedef struct rel_store rel_store;
struct rel_store {
	const char *kind;           /* "secrets" or "memory" */
	const char *namespace;      /* secrets: where the records live */
	/* Write a new revision; KE_CONFLICT when it exists already. */
	int (*create)(rel_store *s, const rel_record *r, kerr *err);
	/* Replace an existing revision (status, stage results, journal);
	 * KE_NOTFOUND when it does not exist, KE_CONFLICT when another writer
	 * changed it meanwhile. */
	int (*update)(rel_store *s, const rel_record *r, kerr *err);
	/* Change only the status of a revision (one request); KE_NOTFOUND. */
	int (*set_status)(rel_store *s, const char *name, int revision, rel_status status, kerr *err);
	/* Read one revision whole, or refuse it (KE_NOTFOUND, KE_INPUT). */
	int (*get)(rel_store *s, karena *a, const char *name, int revision, rel_record **out, kerr *err);
	/* Every revision of a release, in any order (rel_store_history sorts). */
	int (*list)(rel_store *s, karena *a, const char *name, rel_rec_summary **out, size_t *n, kerr *err);
	/* Delete a revision and all its parts. */
	int (*remove)(rel_store *s, const char *name, int revision, kerr *err);
	void (*free)(rel_store *s);
	void *impl;
};

/* Release names are DNS-1123 labels of at most 53 characters (Helm's rule:
 * they go into Secret names and label values). KE_USAGE otherwise. */
int rel_release_name_check(const char *name, kerr *err);
/* A namespace for the records: a DNS-1123 label of at most 63 characters. */
int rel_namespace_check(const char *ns, kerr *err);

/* The Secrets store in namespace ns (NULL: kstage-system; checked by the
 * caller with rel_namespace_check) over c (borrowed). */
rel_store *rel_store_secrets(kube_client *c, const char *ns);
/* A store in memory (tests): records are encoded and decoded as in the
 * cluster, so nothing is shared with the caller's arena. */
rel_store *rel_store_memory(void);
void rel_store_free(rel_store *s);

/* Each checks the release name, then calls the back end. */
int rel_store_create(rel_store *s, const rel_record *r, kerr *err);
int rel_store_update(rel_store *s, const rel_record *r, kerr *err);
int rel_store_get(rel_store *s, karena *a, const char *name, int revision, rel_record **out, kerr *err);
int rel_store_set_status(rel_store *s, const char *name, int revision, rel_status status, kerr *err);
/* Revisions sorted by revision number, oldest first (*n may be 0). */
int rel_store_history(rel_store *s, karena *a, const char *name, rel_rec_summary **out, size_t *n,
		      kerr *err);
/* The newest revision's summary; KE_NOTFOUND (message naming the release
 * and namespace) when there is none. */
int rel_store_latest(rel_store *s, karena *a, const char *name, rel_rec_summary *out, kerr *err);
/* Delete the oldest revisions until at most max remain (0: no limit),
 * stopping at a deployed or a pending one. What the deleted ones changed
 * and is still in effect (the earliest prior state of each object) is
 * first folded into the origin of the oldest kept record, so uninstall can
 * still put back what the release found. *removed (may be NULL) gets how
 * many went. */
int rel_store_prune(rel_store *s, const char *name, size_t max, size_t *removed, kerr *err);

/* One request with an optional JSON body (store.c and lock.c): every
 * write they make is repeatable (guarded by a resourceVersion, or a create
 * that answers 409). 0 with any HTTP status in rs (the caller releases it). */
int rel_kube_send(kube_client *c, const char *method, const char *path, const kbuf *body, kube_resp *rs,
		  kerr *err);
/* A failed answer (status >= 400) as kube_status_error words it, about the
 * object named by fmt ("Secret/ns/name"). */
int rel_kube_error(kerr *err, const kube_resp *rs, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Create namespace ns (a 409, it exists, is fine). */
int rel_namespace_ensure(kube_client *c, const char *ns, kerr *err);

#endif
