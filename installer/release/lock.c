/* release/lock.c - the per-release Lease. See lock.h. */
#include "release/lock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "release/record.h"
#include "release/store.h"

void rel_lock_identity(kbuf *out)
{
	static const char *const ci[] = {
		"GITHUB_RUN_ID", "CI_JOB_ID", "BUILDKITE_JOB_ID", "CIRCLE_WORKFLOW_JOB_ID", "BUILD_BUILDID", "BUILD_ID",
	};
	char host[256];
	size_t i, j;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "unknown-host");
	host[sizeof(host) - 1] = 0;
	kbuf_printf(out, "%s pid %ld", host, (long)getpid());
	for (i = 0; i < sizeof(ci) / sizeof(ci[0]); i++) {
		const char *v = getenv(ci[i]);
		if (!v || !*v)
			continue;
		kbuf_printf(out, " job %s=", ci[i]);
		for (j = 0; v[j] && j < 64; j++)
			kbuf_putc(out, v[j] > ' ' && v[j] < 127 ? v[j] : '?');
		break;
	}
}

/* Lease MicroTime: RFC 3339 with six fraction digits, UTC. */
static void micro_time(kbuf *out, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char b[40];
	gmtime_r(&s, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	kbuf_printf(out, "%s.%03d000Z", b, (int)(ms % 1000));
}

static int64_t now(const rel_lock *l)
{
	return l->now_ms ? l->now_ms() : rel_now_ms();
}

static void lease_path(kbuf *out, const rel_lock *l, bool with_name)
{
	kbuf_printf(out, "/apis/coordination.k8s.io/v1/namespaces/%s/leases", l->ns);
	if (with_name)
		kbuf_printf(out, "/%s", l->lease);
}

/* The Lease as this run writes it (rv NULL: a create). */
static void lease_body(kbuf *b, const rel_lock *l, const char *rv, int64_t acquired_ms, int64_t renew_ms,
		       long transitions)
{
	kbuf_puts(b, "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":");
	doc_json_quote(b, l->lease, strlen(l->lease), 0);
	kbuf_puts(b, ",\"namespace\":");
	doc_json_quote(b, l->ns, strlen(l->ns), 0);
	if (rv) {
		kbuf_puts(b, ",\"resourceVersion\":");
		doc_json_quote(b, rv, strlen(rv), 0);
	}
	kbuf_puts(b, ",\"labels\":{\"owner\":\"kstage\",\"name\":");
	doc_json_quote(b, l->release, strlen(l->release), 0);
	kbuf_puts(b, "}},\"spec\":{\"holderIdentity\":");
	doc_json_quote(b, l->identity, strlen(l->identity), 0);
	kbuf_printf(b, ",\"leaseDurationSeconds\":%ld,\"acquireTime\":\"", l->duration_s);
	micro_time(b, acquired_ms);
	kbuf_puts(b, "\",\"renewTime\":\"");
	micro_time(b, renew_ms);
	kbuf_printf(b, "\",\"leaseTransitions\":%ld}}", transitions);
}

/* What a Lease says. */
typedef struct lease_state {
	const char *holder;      /* "" when free */
	const char *rv;
	int64_t acquired_ms, renew_ms;
	long duration_s, transitions;
} lease_state;

static void lease_read(lease_state *s, const doc_node *d)
{
	const char *t;
	s->holder = doc_get_str(d, "spec.holderIdentity", "");
	s->rv = doc_get_str(d, "metadata.resourceVersion", NULL);
	s->duration_s = (long)doc_get_int(d, "spec.leaseDurationSeconds", 0);
	s->transitions = (long)doc_get_int(d, "spec.leaseTransitions", 0);
	t = doc_get_str(d, "spec.acquireTime", NULL);
	s->acquired_ms = t ? rel_time_parse(t) : 0;
	t = doc_get_str(d, "spec.renewTime", NULL);
	s->renew_ms = t ? rel_time_parse(t) : 0;
	if (s->renew_ms <= 0)
		s->renew_ms = s->acquired_ms > 0 ? s->acquired_ms : 0;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

/* The answer's resourceVersion becomes ours. */
static void take_rv(rel_lock *l, const kube_resp *rs)
{
	karena a = KARENA_INIT;
	doc_node *d = NULL;
	kerr e = KERR_INIT;
	if (!doc_load_json(&d, &a, "lease", rs->body.ptr, rs->body.len, &e))
		set_str(&l->rv, doc_get_str(d, "metadata.resourceVersion", NULL));
	kerr_clear(&e);
	karena_release(&a);
}

static int held_error(const rel_lock *l, const lease_state *s, int64_t t, kerr *err)
{
	int64_t ago = (t - s->renew_ms) / 1000, left = (s->renew_ms + s->duration_s * 1000 - t + 999) / 1000;
	return kerr_set(err, KE_CONFLICT,
			"release \"%s\" is locked by another run: %s (Lease %s/%s, renewed %llds ago, expires in %llds "
			"unless renewed)", l->release, s->holder, l->ns, l->lease, (long long)ago, (long long)left);
}

int rel_lock_acquire(rel_lock *out, kube_client *c, const rel_lock_opts *o, kerr *err)
{
	kbuf path = KBUF_INIT, coll = KBUF_INIT, id = KBUF_INIT;
	int attempt, rc = 0;
	memset(out, 0, sizeof(*out));
	out->c = c;
	out->ns = xstrdup(o->namespace ? o->namespace : REL_STORE_NAMESPACE);
	out->release = xstrdup(o->release);
	if ((rc = rel_release_name_check(o->release, err)) || (rc = rel_namespace_check(out->ns, err)))
		return rc;
	{
		kbuf n = KBUF_INIT;
		kbuf_printf(&n, "kstage.%s", o->release);
		out->lease = kbuf_detach(&n, NULL);
	}
	if (o->identity)
		kbuf_puts(&id, o->identity);
	else
		rel_lock_identity(&id);
	out->identity = kbuf_detach(&id, NULL);
	out->duration_s = o->duration_s > 0 ? o->duration_s : REL_LOCK_DURATION_S;
	out->now_ms = o->now_ms;
	lease_path(&path, out, true);
	lease_path(&coll, out, false);
	for (attempt = 0; attempt < 5 && !out->held && !rc; attempt++) {
		kube_resp rs;
		kbuf body = KBUF_INIT;
		int64_t t = now(out);
		/* the first try creates it (no Lease is left by a finished run);
		 * a 409 says there is one: read it */
		if (attempt == 0)
			kube_resp_init(&rs);
		else
			rc = rel_kube_send(out->c, "GET", path.ptr, NULL, &rs, err);
		if (!rc && (attempt == 0 || rs.status == 404)) {
			kube_resp_release(&rs);
			out->acquired_ms = t;
			lease_body(&body, out, NULL, t, t, 0);
			rc = rel_kube_send(out->c, "POST", coll.ptr, &body, &rs, err);
			if (!rc && rs.status == 404) {   /* the namespace is missing */
				kube_resp_release(&rs);
				if ((rc = rel_namespace_ensure(c, out->ns, err)) == 0)
					rc = rel_kube_send(out->c, "POST", coll.ptr, &body, &rs, err);
				else
					kube_resp_init(&rs);
			}
			if (!rc && (rs.status == 200 || rs.status == 201)) {
				out->held = true;
				out->renewed_ms = t;
				take_rv(out, &rs);
			} else if (!rc && rs.status != 409) {   /* 409: created meanwhile, read it again */
				rc = rel_kube_error(err, &rs, "create", "Lease/%s/%s", out->ns, out->lease);
			}
		} else if (!rc && rs.status == 200) {
			karena a = KARENA_INIT;
			doc_node *d = NULL;
			lease_state s;
			if ((rc = doc_load_json(&d, &a, "lease", rs.body.ptr, rs.body.len, err)) == 0) {
				bool mine, expired;
				lease_read(&s, d);
				mine = !strcmp(s.holder, out->identity);
				expired = s.renew_ms <= 0 || s.renew_ms + (int64_t)s.duration_s * 1000 < t;
				if (*s.holder && !mine && !expired) {
					rc = held_error(out, &s, t, err);
				} else {
					bool takeover = *s.holder && !mine;
					long tr = s.transitions + (mine ? 0 : 1);
					kube_resp_release(&rs);
					out->acquired_ms = mine && s.acquired_ms > 0 ? s.acquired_ms : t;
					lease_body(&body, out, s.rv, out->acquired_ms, t, tr);
					rc = rel_kube_send(out->c, "PUT", path.ptr, &body, &rs, err);
					if (!rc && rs.status == 200) {
						out->held = true;
						out->renewed_ms = t;
						out->transitions = tr;
						take_rv(out, &rs);
						if (takeover) {
							out->took_over = true;
							set_str(&out->prev_holder, s.holder);
							out->prev_renew_ms = s.renew_ms;
						}
					} else if (!rc && rs.status != 409 && rs.status != 404) {
						rc = rel_kube_error(err, &rs, "update", "Lease/%s/%s", out->ns, out->lease);
					}
				}
			}
			karena_release(&a);
		} else if (!rc) {
			rc = rel_kube_error(err, &rs, "get", "Lease/%s/%s", out->ns, out->lease);
		}
		kube_resp_release(&rs);
		kbuf_release(&body);
	}
	if (!rc && !out->held)
		rc = kerr_set(err, KE_CONFLICT, "release \"%s\": Lease %s/%s kept changing while taking it", out->release,
			      out->ns, out->lease);
	kbuf_release(&path);
	kbuf_release(&coll);
	return rc;
}

/* The Lease was changed by someone else: say who holds it now (asking
 * through c). */
static int lost_error(rel_lock *l, kube_client *c, kerr *err)
{
	karena a = KARENA_INIT;
	kbuf path = KBUF_INIT;
	doc_node *d = NULL;
	kerr e = KERR_INIT;
	const char *who = "nobody (it was deleted)";
	lease_path(&path, l, true);
	if (!kube_get_json(c, &a, path.ptr, &d, NULL, &e))
		who = doc_get_str(d, "spec.holderIdentity", "nobody");
	kerr_clear(&e);
	l->held = false;
	kerr_set(err, KE_CONFLICT, "release \"%s\": the lock (Lease %s/%s) was taken over by %s", l->release, l->ns,
		 l->lease, *who ? who : "nobody");
	karena_release(&a);
	kbuf_release(&path);
	return KE_CONFLICT;
}

/* After a 409 on a renewal: a renewal whose answer was lost (a reset, a
 * 5xx) may have gone through, and the one that answered 409 is its
 * resend, by the client within this call or by the renewer's next try
 * with a later renewTime. The Lease then still names this run (its
 * identity and the acquireTime it took it at): it is ours, its
 * resourceVersion and renewTime become ours. 1: ours; 0: someone else's
 * or gone; -1: it could not be read (err set, not a conflict). */
static int own_renewal(rel_lock *l, kube_client *c, kerr *err)
{
	karena a = KARENA_INIT;
	kbuf path = KBUF_INIT;
	doc_node *d = NULL;
	kerr e = KERR_INIT;
	int own = 0;
	lease_path(&path, l, true);
	if (!kube_get_json(c, &a, path.ptr, &d, NULL, &e)) {
		lease_state s;
		lease_read(&s, d);
		if (s.rv && !strcmp(s.holder, l->identity) && s.acquired_ms == l->acquired_ms && s.renew_ms > 0) {
			set_str(&l->rv, s.rv);
			if (s.renew_ms > l->renewed_ms)
				l->renewed_ms = s.renew_ms;
			own = 1;
		}
	} else if (e.code != KE_NOTFOUND) {
		kerr_move(err, &e);
		own = -1;
	}
	kerr_clear(&e);
	karena_release(&a);
	kbuf_release(&path);
	return own;
}

static int unlock_on(rel_lock *l, kube_client *c, kerr *err);

/* rel_lock_renew through c (the run's client, or the renewer's). */
static int renew_on(rel_lock *l, kube_client *c, kerr *err)
{
	kbuf path = KBUF_INIT, body = KBUF_INIT;
	kube_resp rs;
	int64_t t = now(l);
	int rc;
	if (!l->held)
		return kerr_set(err, KE_CONFLICT, "release \"%s\": the lock is not held", l->release);
	lease_path(&path, l, true);
	lease_body(&body, l, l->rv, l->acquired_ms, t, l->transitions);
	rc = rel_kube_send(c, "PUT", path.ptr, &body, &rs, err);
	if (!rc && rs.status == 200) {
		take_rv(l, &rs);
		l->renewed_ms = t;
	} else if (!rc && rs.status == 201) {
		/* the Lease was gone (it expired, another run took it and gave it
		 * up) and the server created it anew from this update: another run
		 * may have gone on meanwhile. Give the new one up and say so. */
		kerr scratch = KERR_INIT;
		take_rv(l, &rs);
		unlock_on(l, c, &scratch);
		kerr_clear(&scratch);
		l->held = false;
		rc = kerr_set(err, KE_CONFLICT, "release \"%s\": the lock (Lease %s/%s) expired and was gone when this run "
			      "renewed it: another run may have changed the release meanwhile", l->release, l->ns, l->lease);
	} else if (!rc && rs.status == 409) {
		int own = own_renewal(l, c, err);
		rc = own > 0 ? 0 : own < 0 ? err->code : lost_error(l, c, err);
	} else if (!rc && rs.status == 404) {
		rc = lost_error(l, c, err);
	} else if (!rc) {
		rc = rel_kube_error(err, &rs, "renew", "Lease/%s/%s", l->ns, l->lease);
	}
	kube_resp_release(&rs);
	kbuf_release(&path);
	kbuf_release(&body);
	return rc;
}

int rel_lock_renew(rel_lock *l, kerr *err)
{
	return renew_on(l, l->c, err);
}

/* A renewal failed with e (not a conflict) since ms after the last one:
 * the Lease has expired unrenewed. Moves e into err. */
static int expired_error(rel_lock *l, int64_t since, kerr *e, kerr *err)
{
	kbuf why = KBUF_INIT;
	int rc;
	kerr_format_short(e, &why);
	kerr_clear(e);
	l->held = false;
	rc = kerr_set(err, KE_CONFLICT, "release \"%s\": the lock (Lease %s/%s) could not be renewed for %llds "
		      "and has expired: %s", l->release, l->ns, l->lease, (long long)(since / 1000),
		      why.ptr ? why.ptr : "no answer");
	kbuf_release(&why);
	return rc;
}

struct rel_lock_renewer {
	rel_lock *l;
	kube_client *c;             /* its own */
	pthread_t th;
	pthread_mutex_t mu;         /* guards stop, lost, why */
	pthread_cond_t cv;
	bool stop, lost;
	char *why;                  /* how the Lease was lost */
	unsigned long retried;      /* renewals sent again after one got no answer */
};

/* Sleep up to ms or until told to stop (r->mu held). */
static void renewer_sleep(struct rel_lock_renewer *r, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &ts) == 0)
		;
}

static void *renewer_run(void *u)
{
	struct rel_lock_renewer *r = u;
	rel_lock *l = r->l;
	int64_t dur = (int64_t)l->duration_s * 1000, retry = dur / 10 > 100 ? dur / 10 : 100;
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		int64_t due = l->renewed_ms + dur / 3 - now(l);
		kerr e = KERR_INIT, lost = KERR_INIT;
		int64_t since;
		int rc;
		if (due > 0) {
			renewer_sleep(r, due);
			continue;
		}
		pthread_mutex_unlock(&r->mu);
		rc = renew_on(l, r->c, &e);
		since = now(l) - l->renewed_ms;
		if (rc && rc != KE_CONFLICT && since < dur) {
			kube_emit(r->c, KEV_DEBUG, "lock.renew", e.first.msg, "lease", l->lease, NULL);
			kerr_clear(&e);   /* no answer: again soon, while the Lease lasts */
			pthread_mutex_lock(&r->mu);
			r->retried++;
			renewer_sleep(r, retry);
			continue;
		}
		if (rc == KE_CONFLICT)
			kerr_move(&lost, &e);
		else if (rc)
			expired_error(l, since, &e, &lost);
		pthread_mutex_lock(&r->mu);
		if (rc) {
			kbuf m = KBUF_INIT;
			kerr_format_short(&lost, &m);
			r->why = kbuf_detach(&m, NULL);
			r->lost = true;
			kerr_clear(&lost);
			break;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int rel_lock_renewer_start(rel_lock *l, kube_client *own, kerr *err)
{
	struct rel_lock_renewer *r = xcalloc(1, sizeof(*r));
	pthread_condattr_t ca;
	int64_t third = (int64_t)l->duration_s * 1000 / 3;
	r->l = l;
	r->c = own;
	own->max_attempts = 1;   /* the renewer tries again itself, while the Lease lasts */
	own->request_timeout_ms = third > 1000 ? (long)third : 1000;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&r->th, NULL, renewer_run, r) != 0) {
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		kube_client_free(own);
		free(r);
		return kerr_set(err, KE_ERROR, "release \"%s\": cannot start the thread that renews its lock", l->release);
	}
	l->renewer = r;
	return 0;
}

void rel_lock_renewer_stop(rel_lock *l)
{
	struct rel_lock_renewer *r = l->renewer;
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	l->renewer = NULL;
	kube_stats_add(l->c, r->c, r->retried);   /* its requests are the run's */
	kube_client_free(r->c);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->why);
	free(r);
}

int rel_lock_keep(rel_lock *l, kerr *err)
{
	int64_t since, dur = (int64_t)l->duration_s * 1000;
	kerr e = KERR_INIT;
	int rc = 0;
	if (l->renewer) {   /* it alone touches the Lease: only its verdict is read */
		struct rel_lock_renewer *r = l->renewer;
		pthread_mutex_lock(&r->mu);
		if (r->lost)
			rc = kerr_set(err, KE_CONFLICT, "%s", r->why ? r->why : "the lock was lost");
		pthread_mutex_unlock(&r->mu);
		return rc;
	}
	since = now(l) - l->renewed_ms;
	if (!l->held)
		return kerr_set(err, KE_CONFLICT, "release \"%s\": this run no longer holds its lock (Lease %s/%s)",
				l->release, l->ns, l->lease);
	if (since < dur / 3 || !(rc = rel_lock_renew(l, &e)))
		return 0;
	if (rc != KE_CONFLICT && since < dur) {
		kerr_clear(&e);   /* no answer yet: again at the next call, while the Lease lasts */
		return 0;
	}
	if (rc != KE_CONFLICT)
		return expired_error(l, since, &e, err);
	kerr_move(err, &e);
	return rc;
}

int rel_lock_unlock(rel_lock *l, kerr *err)
{
	rel_lock_renewer_stop(l);
	return l->held ? unlock_on(l, l->c, err) : 0;
}

static int unlock_on(rel_lock *l, kube_client *c, kerr *err)
{
	kbuf path = KBUF_INIT, body = KBUF_INIT;
	kube_resp rs;
	int rc;
	lease_path(&path, l, true);
	kbuf_puts(&body, "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"preconditions\":{\"resourceVersion\":");
	doc_json_quote(&body, l->rv ? l->rv : "", l->rv ? strlen(l->rv) : 0, 0);
	kbuf_puts(&body, "}}");
	rc = rel_kube_send(c, "DELETE", path.ptr, &body, &rs, err);
	if (!rc && (rs.status == 200 || rs.status == 202 || rs.status == 404))
		l->held = false;
	else if (!rc && rs.status == 409)
		rc = lost_error(l, c, err);
	else if (!rc)
		rc = rel_kube_error(err, &rs, "delete", "Lease/%s/%s", l->ns, l->lease);
	kube_resp_release(&rs);
	kbuf_release(&path);
	kbuf_release(&body);
	return rc;
}

void rel_lock_release(rel_lock *l)
{
	rel_lock_renewer_stop(l);
	free(l->ns);
	free(l->lease);
	free(l->release);
	free(l->identity);
	free(l->rv);
	free(l->prev_holder);
	memset(l, 0, sizeof(*l));
}
