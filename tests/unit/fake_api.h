/*
 * tests/unit/fake_api.h - a small in-memory API server behind a
 * kube_transport, for tests of code that keeps state in the cluster
 * (release records, Leases): namespaces, and any namespaced collection
 * under /api/v1 or /apis/G/V, with GET (one or a LIST by labelSelector:
 * "k=v" and "!k" terms), POST (409 when it exists, 404 when the namespace
 * does not), PUT (409 when metadata.resourceVersion is stale), DELETE (one,
 * with preconditions.resourceVersion, or a collection by labelSelector),
 * PATCH (application/merge-patch+json only).
 * Every write bumps a global resourceVersion. A SelfSubjectAccessReview
 * is allowed unless "verb group/resource ns" (ns "" cluster-wide) is a
 * line of deny. Requests are counted by
 * method; fail_* make requests answer 500 for fault tests, lose_* answer 500
 * after carrying the request out (a lost reply); before_put runs
 * before a PUT is handled (a racing writer).
 */
#ifndef KSTAGE_FAKE_API_H
#define KSTAGE_FAKE_API_H

#include <stdbool.h>

#include "kube/kube.h"

typedef struct fake_obj {
	char *coll;        /* "namespaces" or "NS/resource" */
	char *name;
	doc_node *doc;     /* lives in the fake's arena */
	bool gone;
} fake_obj;

typedef struct fake_api {
	karena a;
	fake_obj *v;
	size_t n, cap;
	long rv;
	int gets, lists, posts, puts, deletes, patches;
	const char *fail_method;   /* answer 500 to this method ... */
	const char *fail_path;     /* ... when the path contains this (NULL: any) */
	int fail_count;            /* this many times (-1: always) */
	const char *lose_method;   /* carry this method out, then answer 500 (a lost reply) ... */
	const char *lose_path;     /* ... when the path contains this (NULL: any) */
	int lose_count;            /* this many times (-1: always) */
	void (*before_put)(struct fake_api *f, const char *path);
	bool put_creates;          /* a PUT of a missing object creates it (201), as
				    * the API server does for Leases */
	const char *status_sub;    /* or NULL: collections whose name ends so have a
				    * status subresource (a PUT keeps the old status,
				    * a PUT of NAME/status changes only the status) */
	const char *deny;          /* SelfSubjectAccessReviews denied, "verb group/resource ns\n" lines */
	const char *git_version;   /* GET /version answers it; NULL: v1.36.3 */
	int reviews;               /* SelfSubjectAccessReviews answered */
	void *user;
	kube_config cfg;           /* what clients borrow */
} fake_api;

void fake_api_init(fake_api *f);
void fake_api_release(fake_api *f);
/* A client talking to f (retries are fast; max_attempts 1). */
kube_client *fake_api_client(fake_api *f);
/* The live object coll ("ns/secrets") name, or NULL. */
doc_node *fake_api_find(fake_api *f, const char *coll, const char *name);
/* Objects alive in coll. */
size_t fake_api_count(fake_api *f, const char *coll);
/* Put an object as is (a namespace: coll "namespaces"). */
void fake_api_put(fake_api *f, const char *coll, const char *name, doc_node *doc);

#endif
