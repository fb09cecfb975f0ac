/*
 * release/lock.h - one run at a time per release, through a
 * coordination.k8s.io/v1 Lease "kstage.NAME" in the release namespace.
 *
 * The holder identity names the host, the process and, in CI, the job
 * (GITHUB_RUN_ID, CI_JOB_ID, BUILDKITE_JOB_ID, CIRCLE_WORKFLOW_JOB_ID,
 * BUILD_BUILDID, BUILD_ID), so the error a second run gets says who holds
 * the release. Every write carries the resourceVersion it read (optimistic
 * concurrency): of two runs racing for a free or expired Lease exactly one
 * wins. A Lease whose renewTime + leaseDurationSeconds has passed is taken
 * over; the takeover is reported as data (took_over, prev_holder) for the
 * caller to record and show. Judging expiry uses this machine's clock.
 *
 * The renewer (rel_lock_renewer_start): a thread with a client of its own
 * (its own connections; the run's are never shared with it) renews the
 * Lease every third of its duration for the whole run, whatever the run's
 * thread is doing (a long kind group, a stalled request, a wait). A
 * renewal the server does not answer is tried again every tenth of the
 * duration while the Lease lasts; once it is lost (taken by another run,
 * or expired unrenewed) the renewer stops and raises a flag that
 * rel_lock_keep() reports to the run, which checks it before every write.
 * While the renewer runs it alone touches the Lease; rel_lock_keep() only
 * reads its verdict, from any thread.
 *
 * Never prints.
 */
#ifndef KSTAGE_RELEASE_LOCK_H
#define KSTAGE_RELEASE_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "kube/kube.h"

#define REL_LOCK_DURATION_S 60

typedef struct rel_lock_opts {
	const char *namespace;      /* NULL: kstage-system */
	const char *release;
	const char *identity;       /* NULL: rel_lock_identity() */
	long duration_s;            /* leaseDurationSeconds; 0: REL_LOCK_DURATION_S */
	int64_t (*now_ms)(void);    /* NULL: the real clock (tests fix the time) */
} rel_lock_opts;

typedef struct rel_lock {
	kube_client *c;             /* borrowed */
	char *ns, *lease, *release, *identity;
	char *rv;                   /* resourceVersion of our last write */
	long duration_s;
	int64_t (*now_ms)(void);
	int64_t acquired_ms;        /* acquireTime we wrote */
	int64_t renewed_ms;         /* renewTime of our last write */
	bool held;
	/* set by acquire when an expired Lease was taken over: */
	bool took_over;
	char *prev_holder;          /* the expired holder, or NULL */
	int64_t prev_renew_ms;      /* when it last renewed (0: never) */
	long transitions;           /* leaseTransitions after our write */
	struct rel_lock_renewer *renewer; /* or NULL: renewed by rel_lock_keep's caller */
} rel_lock;

/* "HOST pid PID[ job VAR=VALUE]" for this process (appended to out). */
void rel_lock_identity(kbuf *out);

/* Take the Lease of o->release: create it (and the namespace) when
 * missing, take it when free or expired. KE_CONFLICT naming the holder,
 * when it renewed and when it expires, when another run holds it. *out is
 * filled in every case; rel_lock_release() it. */
int rel_lock_acquire(rel_lock *out, kube_client *c, const rel_lock_opts *o, kerr *err);
/* Renew (renewTime = now) over the resourceVersion we wrote; KE_CONFLICT
 * naming the new holder when the Lease was taken from us (held is false
 * from then on). */
int rel_lock_renew(rel_lock *l, kerr *err);
/* What a long run calls between requests and while it waits: renew when
 * a third of the Lease duration has passed since the last renewal, else
 * nothing. A renewal the server does not answer is tried again at the next
 * call as long as the Lease lasts. KE_CONFLICT once the Lease is lost
 * (another run took it, or it expired unrenewed), and from then on: the
 * caller must stop changing the release. */
int rel_lock_keep(rel_lock *l, kerr *err);
/* Start the renewer thread of a held Lease. own is its client (taken,
 * freed by rel_lock_renewer_stop; its sink should be the run's, so what it
 * emits is masked and serialized with the run's events). From then on
 * rel_lock_keep() only says whether the Lease is lost, from any thread.
 * KE_ERROR when the thread cannot be started (own freed). */
int rel_lock_renewer_start(rel_lock *l, kube_client *own, kerr *err);
/* Stop and join the renewer, free its client (nothing when none runs). */
void rel_lock_renewer_stop(rel_lock *l);
/* Give the Lease up (DELETE with our resourceVersion as precondition),
 * after stopping the renewer; KE_CONFLICT when it is no longer ours. Does
 * nothing (but stop the renewer) when not held. */
int rel_lock_unlock(rel_lock *l, kerr *err);
/* Stop the renewer, free the insides (does not unlock). */
void rel_lock_release(rel_lock *l);

#endif
