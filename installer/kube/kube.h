/*
 * kube/kube.h - talking to a Kubernetes API server: kubeconfig, the HTTP
 * client (libcurl behind a swappable transport), discovery and REST mapping,
 * server-side apply, API errors, object health, waiting, diffs and the
 * two patch operations kstage knows (ConfigMap JSON key merge, rollout
 * restart).
 *
 * This module never prints and never runs kubectl: it speaks HTTP to the
 * API server itself. It reports progress through a kev_sink and failures
 * through kerr, with the object ("Kind/namespace/name") as the location.
 * Secrets (tokens, keys, Secret data) never go into errors or events.
 *
 * Threads: a kube_client may be used from several threads at once (the
 * transport keeps a pool of connections); doc trees and arenas are not
 * shared between threads - kube_parallel() gives each worker its own arena.
 */
#ifndef KSTAGE_KUBE_H
#define KSTAGE_KUBE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "doc/doc.h"

/* ---- kubeconfig (kubeconfig.c) ----------------------------------------- */

typedef struct kube_exec {
	char *api_version;     /* client.authentication.k8s.io/v1 or v1beta1 */
	char *command;         /* resolved against the kubeconfig's directory if it has a '/' */
	char **args;
	size_t nargs;
	char **env;            /* "NAME=value" */
	size_t nenv;
	char *install_hint;
} kube_exec;

/* What one context resolves to. Every string is owned (freed by
 * kube_config_release); *_pem are decoded PEM bytes. Secret fields: token,
 * key_pem, key_file contents - never print them. */
typedef struct kube_config {
	char *source;           /* the file(s) it came from, or "in-cluster" */
	char *context;          /* context name, or NULL */
	char *cluster_name, *user_name;
	char *server;           /* https://host:port[/prefix] */
	char *tls_server_name;
	bool insecure;          /* insecure-skip-tls-verify */
	char *proxy_url;
	char *ca_pem; size_t ca_len;
	char *ca_file;
	char *token;            /* secret */
	char *token_file;
	char *cert_pem; size_t cert_len;
	char *cert_file;
	char *key_pem; size_t key_len;   /* secret */
	char *key_file;
	kube_exec *exec;        /* NULL unless users[].user.exec */
	char *namespace;        /* -n, else the context's, else "default" */
} kube_config;

typedef struct kube_config_opts {
	const char *kubeconfig;   /* --kubeconfig, or NULL: $KUBECONFIG, ~/.kube/config, in-cluster */
	const char *context;      /* --context or NULL */
	const char *namespace;    /* -n or NULL */
} kube_config_opts;

/* Load and merge kubeconfig files the way kubectl does (KUBECONFIG is a
 * ':'-separated list; the first file to set a name or a field wins), pick
 * the context and resolve cluster and user. Falls back to the in-cluster
 * service account ($KUBERNETES_SERVICE_HOST and the token files under
 * /var/run/secrets/kubernetes.io/serviceaccount, or $KSTAGE_SERVICEACCOUNT_DIR).
 * Errors are KE_INPUT (bad file, with file:line:col) or KE_CLUSTER (no
 * configuration at all). */
int kube_config_load(kube_config *out, const kube_config_opts *o, kerr *err);
/* Same from in-memory texts (tests): names[i] is used for messages and
 * relative paths. */
int kube_config_load_texts(kube_config *out, const char *const *names, const char *const *texts,
			   size_t n, const kube_config_opts *o, kerr *err);
void kube_config_release(kube_config *c);

/* Base64 (standard alphabet, padding optional, whitespace ignored).
 * Returns 0 or -1 for bad input; *out is xmalloc'd and NUL-terminated. */
int kube_b64_decode(const char *in, size_t len, char **out, size_t *out_len);
void kube_b64_encode(kbuf *out, const void *data, size_t len);

/* ---- HTTP (client.c) --------------------------------------------------- */

typedef struct kube_req {
	const char *method;        /* GET, PATCH, PUT, POST, DELETE */
	const char *path;          /* "/api/v1/namespaces?x=y", joined to the server URL */
	const char *content_type;  /* or NULL */
	const char *accept;        /* or NULL: application/json */
	const char *body;
	size_t body_len;
	long timeout_ms;           /* 0: the client's default */
	bool timeout_is_deadline;  /* timeout_ms is what is left of the request's deadline
				    * (kube_do sets it; messages name the limit) */
	bool idempotent;           /* safe to repeat after an unknown outcome */
	/* streaming (watch): called with each chunk of a 2xx answer, and with
	 * NULL, 0 as each attempt starts; return nonzero to stop */
	int (*on_data)(void *ctx, const char *data, size_t len);
	void *on_data_ctx;
} kube_req;

/* Why the transport ended an attempt early (messages and kube_do's tally). */
typedef enum kube_cut {
	KUBE_CUT_NONE,
	KUBE_CUT_TIMEOUT,          /* no complete answer within req->timeout_ms */
	KUBE_CUT_STALL             /* the answer stalled (KUBE_STALL_S) */
} kube_cut;

typedef struct kube_resp {
	long status;               /* HTTP status, 0 if none */
	kbuf body;
	kbuf content_type;
	long retry_after_s;        /* -1 when absent */
	kbuf warnings;             /* Warning: headers, one per line */
	bool not_sent;             /* the request never reached the server */
	kube_cut cut;              /* which limit ended a failed attempt */
} kube_resp;

void kube_resp_init(kube_resp *r);
void kube_resp_release(kube_resp *r);

/* Credentials in effect for one request, filled by the client. */
typedef struct kube_auth {
	const char *token;         /* bearer token or NULL */
	const char *cert_pem; size_t cert_len;
	const char *key_pem; size_t key_len;
} kube_auth;

/* One attempt of one request. Returns 0 when an HTTP answer was received
 * (any status), KE_IO for a connection-level failure that may be retried,
 * KE_CLUSTER for one that may not (TLS verification, bad certificate). */
typedef struct kube_transport {
	int (*send)(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err);
	void (*free)(void *impl);
	void *impl;
} kube_transport;

/* The libcurl transport for cfg (HTTP/2 when offered, pooled connections). */
int kube_transport_curl(kube_transport *out, const kube_config *cfg, kerr *err);

typedef struct kube_stats {
	unsigned long requests;    /* attempts sent */
	unsigned long retries;
	unsigned long by_method[5];/* GET PATCH PUT POST DELETE */
} kube_stats;

typedef struct kube_discovery kube_discovery;

typedef struct kube_client {
	kube_transport tr;
	const kube_config *cfg;    /* borrowed */
	kev_sink sink;             /* serialized for threads */
	pthread_mutex_t mu;        /* guards stats, credentials, discovery; never held while waiting */
	pthread_mutex_t exec_mu;   /* one exec plugin run at a time */
	pthread_mutex_t emit_mu;   /* serializes events from workers */
	kube_stats stats;
	int max_attempts;          /* 0: 8 */
	long base_delay_ms;        /* 0: 200 */
	long max_delay_ms;         /* 0: 10000 */
	char *exec_token;          /* cached exec credential (secret) */
	char *exec_cert, *exec_key;
	size_t exec_cert_len, exec_key_len;
	int64_t exec_expiry;       /* unix seconds; 0: never expires; -1: none yet */
	long exec_timeout_ms;      /* the exec plugin's time limit; 0: 60 s */
	char *file_token;
	kube_discovery *disc;
	const kev_sink *user_sink;
	bool dry_run_only;         /* a plan: kube_do refuses a mutating request without dryRun=All */
	bool wait_poll;            /* kube_wait polls and never watches (tests of the poll path) */
	const volatile sig_atomic_t *stop; /* or NULL: once *stop is nonzero, kube_wait ends (kube_check_stop) */
	int (*on_wait)(void *u, kerr *err); /* or NULL: called on the caller's thread at least every 2 s
					     * while kube_wait waits (and by kube_wait_check); nonzero
					     * ends the wait with it */
	void *on_wait_ctx;
	int (*before_write)(void *u, kerr *err); /* or NULL: called, on any thread, before each attempt
						  * of a request that is not a GET; nonzero refuses it */
	void *before_write_ctx;
	long request_timeout_ms;   /* each attempt's time limit when the request sets none; 0: 60 s */
	long request_deadline_ms;  /* all attempts, retries and backoff of one request; 0: KUBE_DEADLINE_S;
				    * a request whose own timeout_ms is longer gets that */
} kube_client;

/* Limits of every request. The environment may set others (documented in
 * README: tests make them small, a cluster behind a slow link may need a
 * longer deadline): KSTAGE_HTTP_MAX_REPLY_BYTES, KSTAGE_HTTP_STALL_SECONDS,
 * KSTAGE_HTTP_DEADLINE_SECONDS; messages of a request they end name them.
 * - A reply body (after decompression) over KUBE_REPLY_MAX bytes is refused
 *   (KE_LIMIT, not retried). The largest real replies are lists: every CRD
 *   of a cluster with a few big operators is some 10-50 MiB, aggregated
 *   discovery a few MiB, and the API server itself refuses a request body
 *   over 3 MiB and an object over etcd's 1.5 MiB. client-go sets no limit;
 *   256 MiB leaves room for any real list and still bounds memory. A watch
 *   is a stream, not a body: each of its events is bounded the same way.
 * - A reply that has begun (a header or a byte came) and then brings less
 *   than 1 byte/s over KUBE_STALL_S seconds is cut (KE_IO, retried within
 *   the deadline). Before the first complete header line (libcurl passes
 *   only complete lines) the bytes are seen at the socket (TCP_INFO): bytes
 *   that came again a second or more after the first, with no complete
 *   line within KUBE_STALL_S of the first, are a stall too. Not for
 *   watches, which idle by design; the server's time before its first
 *   byte (webhooks, up to 30 s each) is bounded by the attempt's timeout
 *   alone.
 * - Each request, all attempts and backoff included, ends within
 *   KUBE_DEADLINE_S seconds (two full attempts of the default 60 s):
 *   then the last failure is the answer, "cluster unreachable" (exit 4)
 *   for connection failures, stalls and timeouts, naming the request, the
 *   attempts and time taken, and the limits that ended them. */
#define KUBE_REPLY_MAX ((long)256 << 20)
#define KUBE_STALL_S 30L
#define KUBE_DEADLINE_S 120L

/* The limit of one reply body or watch event: KSTAGE_HTTP_MAX_REPLY_BYTES,
 * else KUBE_REPLY_MAX. */
size_t kube_reply_limit(void);
/* KE_INPUT naming the setting when KSTAGE_HTTP_MAX_REPLY_BYTES,
 * KSTAGE_HTTP_STALL_SECONDS or KSTAGE_HTTP_DEADLINE_SECONDS is set to
 * something other than a whole number in its range; the curl transport
 * checks it before any request. */
int kube_limits_check(kerr *err);

/* KE_ERROR ("interrupted") once the caller's stop flag (c->stop) is set,
 * else 0. Safe points of long runs call it between requests. */
int kube_check_stop(const kube_client *c, kerr *err);
/* kube_check_stop, then the on_wait hook: what kube_wait checks while it
 * waits, for the caller's own wait loops. */
int kube_wait_check(kube_client *c, kerr *err);

/* A client for cfg (borrowed, must outlive it) with the curl transport. */
int kube_client_new(kube_client **out, const kube_config *cfg, const kev_sink *sink, kerr *err);
/* A client over any transport (tests inject failures). Takes tr. */
kube_client *kube_client_new_with(kube_transport tr, const kube_config *cfg, const kev_sink *sink);
void kube_client_free(kube_client *c);
/* Add from's request counts to to's (a helper client's requests, such as
 * the Lease renewer's, are the run's too). retried: sends of from that
 * repeated an earlier failed one by its caller's own loop. */
void kube_stats_add(kube_client *to, kube_client *from, unsigned long retried);
void kube_emit(kube_client *c, kev_level lvl, const char *kind, const char *msg, ...);

/* Send with credentials, retries (429 with Retry-After, 5xx, connection
 * errors; only idempotent requests after an unknown outcome) and backoff
 * with jitter. Returns 0 with any HTTP answer in resp (check resp->status),
 * KE_CLUSTER when the server cannot be reached or refuses the credentials
 * (401), or the transport's error. Before anything is sent, kube_req_check()
 * must pass (KE_INTERNAL otherwise). */
int kube_do(kube_client *c, const kube_req *req, kube_resp *resp, kerr *err);
/* The backoff before attempt n (1-based retry count), ms, with jitter. */
long kube_backoff_ms(const kube_client *c, int n, long retry_after_s, unsigned *seed);

/* Run fn(ctx, i, arena) for i in [0, n) on up to bound threads. arenas
 * must hold bound initialised arenas (one per worker); results allocated in
 * them live until the caller releases them. */
void kube_parallel(size_t n, size_t bound, void (*fn)(void *ctx, size_t i, karena *a), void *ctx,
		   karena *arenas);

/* ---- names and paths (names.c) ---------------------------------------- */

/* Each returns NULL when s may be used, else why not (a static string, in
 * the API server's words). A namespace is a DNS-1123 label. A name follows
 * the rule of its kind: DNS-1123 subdomain for most (every custom resource),
 * DNS-1123 label for Namespace, DNS-1035 label for Service, a path segment
 * (not "." or "..", no "/" or "%") for RBAC and kinds kstage cannot place;
 * control characters never. */
const char *kube_check_namespace(const char *ns);
const char *kube_check_name(const char *group, const char *kind, const char *name);
/* The same once discovery resolved the kind to its resource (what goes
 * into the path): the rule of the resource's group and name, so a CRD's
 * objects under a *.k8s.io group (Gateway API) are DNS-1123 subdomains
 * too. kube_obj_resolve applies it before any request for the object. */
const char *kube_check_resource_name(const char *group, const char *resource, const char *name);
/* group ("" for core) a DNS-1123 subdomain, version a DNS-1123 label. */
const char *kube_check_api_version(const char *group, const char *version);
const char *kube_check_kind(const char *kind);
/* A resource (plural) is a DNS-1123 label. */
const char *kube_check_resource(const char *resource);
/* Append s in double quotes for a message, control characters, '"' and
 * '\\' as \xNN. */
void kube_quote(kbuf *out, const char *s);
/* Append seg percent-encoded: everything but [A-Za-z0-9._~-]. */
void kube_path_escape(kbuf *out, const char *seg);
/* The one check before any request leaves: the path starts with '/', holds
 * only escaped printable ASCII (no '#', no space), no "." or ".." segment;
 * with dry_run_only, a method other than GET/HEAD carries dryRun=All (and
 * no other dryRun value) in its query. KE_INTERNAL when not. */
int kube_req_check(const kube_req *req, bool dry_run_only, kerr *err);

/* ---- API errors (errors.c) --------------------------------------------- */

/* Turn a failed answer (status >= 400) into err, in words that fit the
 * case: field-manager conflicts with each field and its manager, stale
 * writes, immutable fields, webhook denials, 403 naming verb, resource
 * and user, 404, 401. what is "apply", "get"...; object is "Kind/ns/name" or
 * NULL. Returns the kerr code: KE_CONFLICT, KE_CLUSTER (401, 403, and 429 or
 * 5xx: kube_do retried what it may, the server is not serving), KE_INPUT
 * (422: the object sent is invalid or changes an immutable field),
 * KE_NOTFOUND, KE_API (a webhook or policy denial, other refusals). err also carries the answer as data: the Status reason ("Conflict",
 * "Invalid"...; client-go's word for the HTTP status when the body has none),
 * the HTTP status and details.causes {reason, field, message}. Callers tell
 * a field-manager conflict (a FieldManagerConflict cause) from a stale write
 * (reason Conflict, no such cause) with kerr_find_cause(), never by message. */
int kube_status_error(kerr *err, long http_status, const char *body, size_t len, const char *what,
		      const char *object);
/* The FieldManagerConflict causes of e in words, appended to out:
 * "2 fields are managed by another field manager:\n    .data.a (owned by
 * \"helm\")..." - what the 409 message says, for a plan's note. */
void kube_conflict_fields(kbuf *out, const kerr *e);

/* ---- discovery (discovery.c) ------------------------------------------- */

typedef struct kube_resource {
	char *group;        /* "" for core */
	char *version;
	char *kind;
	char *resource;     /* plural */
	bool namespaced;
} kube_resource;

/* Load discovery (aggregated, with fallback to per-group) once per client. */
int kube_discovery_load(kube_client *c, kerr *err);
/* Forget and reload. */
int kube_discovery_refresh(kube_client *c, kerr *err);
/* Learn what an Established CustomResourceDefinition serves from the
 * object itself (spec.group, names, scope, served versions), replacing
 * what discovery knew of its kind; no request. Nothing happens before
 * discovery is loaded (the load will see it). crd is borrowed. */
void kube_discovery_learn_crd(kube_client *c, const doc_node *crd);
/* Look up apiVersion ("v1", "apps/v1") and kind; NULL if unknown. The
 * result lives as long as the client (refreshes keep old entries alive). */
const kube_resource *kube_discovery_find(kube_client *c, const char *api_version, const char *kind);
/* Test hook: add a mapping by hand. */
void kube_discovery_add(kube_client *c, const char *group, const char *version, const char *kind,
			const char *resource, bool namespaced);

/* ---- objects ------------------------------------------------------------ */

/* Where a part of a manifest was written (file NULL: nowhere known). */
typedef struct kube_pos {
	const char *file;
	unsigned line, col;
} kube_pos;

typedef struct kube_obj {
	doc_node *doc;          /* the manifest; namespace is filled in by resolve.
				 * NULL when the object is kept as text (below) */
	const char *text;       /* or the manifest as JSON, for a stage of thousands
				 * of objects: kube_obj_doc() makes the tree when needed */
	size_t text_len;
	const char *api_version, *kind, *name;
	const char *ns;         /* NULL for cluster-scoped */
	const char *group, *version;
	const kube_resource *res;  /* set by kube_obj_resolve */
	int rank;               /* install order */
	const char *ref;        /* "Kind/ns/name" or "Kind/name" */
	kube_pos at, at_meta, at_name, at_ns;   /* the manifest, metadata, its name and namespace */
} kube_obj;

/* Identity of a manifest; KE_INPUT with the doc's file:line:col when
 * apiVersion, kind or metadata.name is missing, or when the apiVersion, kind,
 * name or namespace breaks the API server's rules (kube_check_*). */
int kube_obj_init(kube_obj *o, karena *a, doc_node *doc, kerr *err);
/* Keep o as text from now on: its manifest as JSON and its identity copied
 * into a; the tree (which may live in a scratch arena) is no longer used.
 * The file names of its positions are not copied: a loader keeps them in
 * its caller's arena, not in the tree's. */
void kube_obj_keep_text(kube_obj *o, karena *a);
/* o's manifest as a tree: o->doc, or its text parsed into a, with the
 * namespace kube_obj_resolve filled in. */
int kube_obj_doc(const kube_obj *o, karena *a, doc_node **out, kerr *err);
/* Map to a resource and default or check the namespace. KE_NOTFOUND when the
 * kind is unknown to the server; KE_INPUT for a namespace on a cluster-scoped
 * kind or an invalid default_ns. */
int kube_obj_resolve(kube_client *c, karena *a, kube_obj *o, const char *default_ns, kerr *err);
/* REST path of the object (or its collection when name is false), every
 * segment escaped. */
void kube_obj_path(const kube_obj *o, bool with_name, kbuf *out);

/* Install order (Helm's InstallOrder, CRDs and Namespaces first, webhooks
 * last); unknown kinds go after known ones but before webhooks. */
int kube_kind_rank(const char *kind);
/* Stable sort by rank. */
void kube_objs_sort(kube_obj *v, size_t n);

/* ---- apply (apply.c) ---------------------------------------------------- */

typedef struct kube_apply_opts {
	bool force;             /* --force-conflicts */
	bool dry_run;           /* dryRun=All */
	const char *field_manager;   /* NULL: "kstage" */
	bool absent;            /* the caller read that it does not exist: no GET before an identity-only object */
	bool lean;              /* *out without metadata.managedFields (the caller keeps many answers) */
} kube_apply_opts;

/* Server-side apply of a resolved object. *out (may be NULL) is the
 * server's answer; *created (may be NULL) tells a 201 from a 200. */
int kube_apply(kube_client *c, karena *a, const kube_obj *o, const kube_apply_opts *opts,
	       doc_node **out, bool *created, kerr *err);
/* True when applying desired (as field_manager, NULL: "kstage") would change
 * nothing in live: every field of desired has its value in live, and the
 * manager's Apply entry in managedFields owns exactly desired's fields; or
 * desired is its identity alone (kube_apply sends nothing for a live one).
 * Conservative: a list must equal the live one whole; null fields are no
 * opinion; a top-level status is left out only when live shows a status
 * subresource (a managedFields entry for it), where the server drops it. */
bool kube_apply_is_noop(const doc_node *desired, const doc_node *live, const char *field_manager);
/* GET the live object; KE_NOTFOUND (err set) when it does not exist. */
int kube_get(kube_client *c, karena *a, const kube_obj *o, doc_node **out, kerr *err);
/* GET any path, parse the JSON answer. */
int kube_get_json(kube_client *c, karena *a, const char *path, doc_node **out, const char *object,
		  kerr *err);

/* ---- health (health.c) -------------------------------------------------- */

typedef enum kube_health_state { KUBE_READY = 0, KUBE_PROGRESSING, KUBE_FAILED } kube_health_state;

/* A custom rule for kinds kstage does not know: a condition type with a
 * status, or a JSONPath-ish dotted path whose value must equal a string. */
typedef struct kube_wait_rule {
	const char *group;       /* NULL: any */
	const char *kind;        /* NULL: any kind in the stage that has status
				    (not ConfigMaps, Secrets, RBAC, CRDs...) */
	const char *condition;   /* condition type, or NULL */
	const char *status;      /* NULL: "True" */
	const char *path;        /* e.g. ".status.phase", or NULL */
	const char *equals;
} kube_wait_rule;

/* Health of a live object by the built-in rules (kstatus plus Gateway API,
 * LoadBalancer, InferenceService) and then every matching custom rule.
 * why (may be NULL) gets a short reason when not ready. */
kube_health_state kube_health(const doc_node *live, const kube_wait_rule *rules, size_t nrules,
			      kbuf *why);
/* The object's conditions quoted for a timeout message. */
void kube_health_conditions(const doc_node *live, kbuf *out);

/* ---- waiting (wait.c) --------------------------------------------------- */

typedef struct kube_wait_item {
	const kube_obj *obj;
	doc_node *live;          /* last seen (may be NULL); updated */
	kube_health_state state;
	char *why;               /* xmalloc'd, freed by kube_wait */
} kube_wait_item;

/* Wait until every item is ready (watch per object kind, poll fallback),
 * failing fast when one fails, or timeout_ms passes (KE_TIMEOUT naming
 * every object that is not ready, with its conditions). a holds live docs. */
int kube_wait(kube_client *c, karena *a, kube_wait_item *items, size_t n,
	      const kube_wait_rule *rules, size_t nrules, long timeout_ms, kerr *err);

/* ---- logs (logs.c) ----------------------------------------------------- */

/* Append the last tail_lines lines (at most 64 KiB each) of the log of
 * every container of pod ns/pod, init containers first, each under a line
 * "POD LOGS: POD (CONTAINER)" as `helm test --logs` prints them; a
 * container whose log cannot be read gets "(no log: why)". The caller masks
 * secrets before printing. KE_NOTFOUND when the pod does not exist. */
int kube_pod_logs(kbuf *out, kube_client *c, karena *a, const char *ns, const char *pod, long tail_lines,
		  kerr *err);
/* The pod of Job ns/job whose log tells most (label
 * batch.kubernetes.io/job-name): the newest Failed one, else the newest;
 * *out (in a) NULL when the Job has none. */
int kube_job_pod(const char **out, kube_client *c, karena *a, const char *ns, const char *job, kerr *err);

/* ---- diff (diff.c) ------------------------------------------------------ */

/* A copy of obj without server noise: managedFields, resourceVersion, uid,
 * generation, creationTimestamp, status, last-applied annotation... */
doc_node *kube_diff_normalize(karena *a, const doc_node *obj);
/* Mask Secret data and stringData in both (in place, copies made by
 * normalize): equal values read "<redacted>", differing ones
 * "<redacted: changed>". Either may be NULL. */
void kube_diff_mask_secrets(karena *a, doc_node *live, doc_node *want);
/* Mask the run's secrets (r, may be NULL) by value in the strings of want,
 * and the string at the same place in live whole when it differs: it was
 * written by an earlier run, whose secrets this one does not know. In
 * place, like kube_diff_mask_secrets. */
void kube_diff_mask_values(karena *a, kredact *r, doc_node *live, doc_node *want);
/* Unified diff of two YAML texts with context lines; colour with ANSI
 * codes when color. Appends to out; returns the number of changed lines. */
size_t kube_diff_unified(kbuf *out, const char *old_name, const char *old_text, const char *new_name,
			 const char *new_text, unsigned context, bool color);

/* ---- operations (ops.c) ------------------------------------------------- */

/* Read ConfigMap ns/name, parse data[key] as JSON, set the top-level keys
 * of set (a DOC_MAP) keeping every other key and the order, and write it
 * back with the read resourceVersion (retrying on 409). *changed tells
 * whether a write happened; prior (may be NULL) gets the old string. */
int kube_op_json_key_merge(kube_client *c, karena *a, const char *ns, const char *name,
			   const char *key, const doc_node *set, bool dry_run, bool *changed,
			   char **prior, kerr *err);
/* What jsonKeyMerge would do, without writing: *old_text and *new_text
 * (arena strings) and whether they differ. KE_NOTFOUND when the ConfigMap
 * or the key does not exist. */
int kube_op_json_key_merge_preview(kube_client *c, karena *a, const char *ns, const char *name,
				   const char *key, const doc_node *set, bool *changed,
				   const char **old_text, const char **new_text, kerr *err);
/* The JSON string with the keys of set replaced or appended. */
int kube_json_key_merge_text(kbuf *out, karena *a, const char *json, size_t len, const doc_node *set,
			     kerr *err);
/* Set the restartedAt annotation on a Deployment/StatefulSet/DaemonSet
 * (kind may be "deployment"); *out is the patched object. */
int kube_op_rollout_restart(kube_client *c, karena *a, const char *kind, const char *ns,
			    const char *name, bool dry_run, kube_obj *out, kerr *err);

#endif
