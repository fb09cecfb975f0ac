/*
 * kube/wait.c - wait until objects are healthy. Objects are judged first on
 * what the caller already has (the apply answer), then re-read in parallel
 * with a growing interval (250 ms up to 2 s) until each is ready, one
 * fails (fail fast) or the deadline passes (every object that is not ready
 * is named with its conditions). Watches first (one stream per resource and
 * namespace); polling when watching is refused or the client's wait_poll is set.
 */
#include "kube.h"
#include "core/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAIT_WORKERS 8

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int kube_check_stop(const kube_client *c, kerr *err)
{
	return c->stop && *c->stop ? kerr_set(err, KE_ERROR, "interrupted") : 0;
}

int kube_wait_check(kube_client *c, kerr *err)
{
	int rc = kube_check_stop(c, err);
	return rc || !c->on_wait ? rc : c->on_wait(c->on_wait_ctx, err);
}

typedef struct wait_ctx {
	kube_client *c;
	kube_wait_item *items;
	size_t *todo;
	doc_node **got;
	kerr *errs;
} wait_ctx;

static void fetch_one(void *u, size_t i, karena *a)
{
	wait_ctx *w = u;
	kube_wait_item *it = &w->items[w->todo[i]];
	w->got[i] = NULL;
	if (kube_get(w->c, a, it->obj, &w->got[i], &w->errs[i]) != 0)
		w->got[i] = NULL;
}

static void set_why(kube_wait_item *it, const char *why)
{
	free(it->why);
	it->why = xstrdup(why);
}

/* ---- watch ----------------------------------------------------------------
 * One watch stream per (resource, namespace) of the pending objects, each on
 * its own thread. A stream asks the server to end it every few seconds
 * (timeoutSeconds) so the thread sees the deadline and a failure elsewhere,
 * and resumes from the last resourceVersion (bookmarks keep it fresh; 410
 * Gone starts over). A group whose watch is refused (403, 405...) is left
 * to the poll loop. */

#define WATCH_GROUPS 16
#define WATCH_SLICE_S 5

typedef struct wshared {
	pthread_mutex_t mu;
	pthread_cond_t ended;   /* signalled as each watch thread finishes */
	bool stop;
	size_t running;         /* watch threads not yet finished */
	kube_client *c;
	const kube_wait_rule *rules;
	size_t nrules;
	long start, timeout_ms;
} wshared;

typedef struct wgroup {
	wshared *sh;
	kube_wait_item *items;
	size_t *idx, n;
	karena a;
	kbuf line;
	char *rv;
	bool gone, fallback;
	kerr err;
} wgroup;

static bool sh_stopped(wshared *sh)
{
	bool s;
	pthread_mutex_lock(&sh->mu);
	s = sh->stop;
	pthread_mutex_unlock(&sh->mu);
	return s;
}

static void sh_stop(wshared *sh)
{
	pthread_mutex_lock(&sh->mu);
	sh->stop = true;
	pthread_mutex_unlock(&sh->mu);
}

static bool group_done(const wgroup *g)
{
	size_t i;
	for (i = 0; i < g->n; i++)
		if (g->items[g->idx[i]].state != KUBE_READY)
			return false;
	return true;
}

static void watch_event(wgroup *g, const char *text, size_t len)
{
	doc_node *ev, *obj;
	kerr e = KERR_INIT;
	const char *type, *name, *ns, *rv;
	size_t i;
	kbuf why = KBUF_INIT;
	if (doc_load_json(&ev, &g->a, "watch", text, len, &e) != 0 || ev->type != DOC_MAP) {
		kerr_clear(&e);
		return;
	}
	type = doc_get_str(ev, "type", "");
	obj = doc_map_get(ev, "object");
	if (!strcmp(type, "ERROR")) {
		if (doc_get_int(obj, "code", 0) == 410)
			g->gone = true;
		return;
	}
	rv = doc_get_str(obj, "metadata.resourceVersion", NULL);
	if (rv && *rv) {
		free(g->rv);
		g->rv = xstrdup(rv);
	}
	if (!strcmp(type, "BOOKMARK"))
		return;
	name = doc_get_str(obj, "metadata.name", "");
	ns = doc_get_str(obj, "metadata.namespace", NULL);
	for (i = 0; i < g->n; i++) {
		kube_wait_item *it = &g->items[g->idx[i]];
		kube_health_state before = it->state;
		if (strcmp(it->obj->name, name) || (it->obj->ns && (!ns || strcmp(it->obj->ns, ns))))
			continue;
		if (!strcmp(type, "DELETED")) {
			it->live = NULL;
			it->state = KUBE_PROGRESSING;
			set_why(it, "deleted while waiting");
			break;
		}
		it->live = obj;
		it->state = kube_health(obj, g->sh->rules, g->sh->nrules, &why);
		set_why(it, why.ptr);
		if (it->state == KUBE_READY && before != KUBE_READY) {
			char el[32];
			snprintf(el, sizeof(el), "%.1fs", (double)(now_ms() - g->sh->start) / 1000.0);
			kube_emit(g->sh->c, KEV_INFO, "object.ready", it->obj->ref, "object", it->obj->ref,
				  "elapsed", el, NULL);
		}
		if (it->state == KUBE_FAILED)
			sh_stop(g->sh);
		break;
	}
	kbuf_release(&why);
}

static int watch_data(void *u, const char *data, size_t len)
{
	wgroup *g = u;
	size_t i, startl = 0;
	if (!data) {
		kbuf_reset(&g->line);
		return 0;
	}
	if (kbuf_put(&g->line, data, len) < 0) {
		/* one event larger than a reply may be (kube_reply_limit): stop
		 * watching, the poll loop's GETs report the limit */
		g->fallback = true;
		return 1;
	}
	for (i = 0; i < g->line.len; i++) {
		if (g->line.ptr[i] != '\n')
			continue;
		if (i > startl)
			watch_event(g, g->line.ptr + startl, i - startl);
		startl = i + 1;
	}
	if (startl) {
		memmove(g->line.ptr, g->line.ptr + startl, g->line.len - startl);
		kbuf_truncate(&g->line, g->line.len - startl);
	}
	if (group_done(g) || g->gone)
		return 1;
	return sh_stopped(g->sh) ? 1 : 0;
}

static void *watch_group(void *u)
{
	wgroup *g = u;
	wshared *sh = g->sh;
	const kube_obj *o0 = g->items[g->idx[0]].obj;
	while (!group_done(g) && !sh_stopped(sh)) {
		long left = sh->timeout_ms - (now_ms() - sh->start);
		long slice = left / 1000 < WATCH_SLICE_S ? left / 1000 : WATCH_SLICE_S;
		kbuf p = KBUF_INIT;
		kube_req rq = { 0 };
		kube_resp rs;
		int rc;
		if (left <= 0)
			break;
		if (slice < 1)
			slice = 1;
		kube_obj_path(o0, false, &p);
		kbuf_printf(&p, "?watch=1&allowWatchBookmarks=true&timeoutSeconds=%ld", slice);
		if (g->rv && !g->gone) {
			kbuf_puts(&p, "&resourceVersion=");
			kube_path_escape(&p, g->rv);
		}
		if (g->n == 1) {
			kbuf_puts(&p, "&fieldSelector=metadata.name%3D");
			kube_path_escape(&p, o0->name);
		}
		g->gone = false;
		kbuf_reset(&g->line);
		rq.method = "GET";
		rq.path = p.ptr;
		rq.idempotent = true;
		rq.timeout_ms = (slice + 10) * 1000;
		rq.on_data = watch_data;
		rq.on_data_ctx = g;
		kube_resp_init(&rs);
		rc = kube_do(sh->c, &rq, &rs, &g->err);
		if (rc == KE_CLUSTER) {
			sh_stop(sh);
		} else if (rc) {
			kerr_clear(&g->err);   /* a broken stream: watch again */
		} else if (rs.status >= 400) {
			if (rs.status == 410) {
				free(g->rv);
				g->rv = NULL;
			} else {
				g->fallback = true;   /* not allowed to watch: the poll loop takes over */
			}
		}
		if (g->gone) {
			free(g->rv);
			g->rv = NULL;
		}
		kube_resp_release(&rs);
		kbuf_release(&p);
		if (rc == KE_CLUSTER || g->fallback)
			break;
	}
	pthread_mutex_lock(&sh->mu);
	sh->running--;
	pthread_cond_signal(&sh->ended);
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

/* Watch the pending items until they are ready, one fails, the deadline
 * passes or watching is refused. Live documents land in arenas (one per
 * group, released by the caller through *arenas_out). */
static int watch_all(kube_client *c, kube_wait_item *items, size_t n, const kube_wait_rule *rules,
		     size_t nrules, long start, long timeout_ms, wgroup **groups_out, size_t *ngroups_out,
		     kerr *err)
{
	wshared sh;
	wgroup *g = xcalloc(WATCH_GROUPS, sizeof(*g));
	pthread_t th[WATCH_GROUPS];
	bool started[WATCH_GROUPS];
	size_t ng = 0, i, k;
	int rc = 0;
	*groups_out = g;
	*ngroups_out = 0;
	for (i = 0; i < n; i++) {
		const kube_obj *o = items[i].obj;
		if (items[i].state == KUBE_READY)
			continue;
		if (!o->res)
			return 0;   /* unresolved: poll */
		for (k = 0; k < ng; k++) {
			const kube_obj *f = items[g[k].idx[0]].obj;
			if (f->res == o->res && !strcmp(f->version, o->version) &&
			    ((!f->ns && !o->ns) || (f->ns && o->ns && !strcmp(f->ns, o->ns))))
				break;
		}
		if (k == ng) {
			if (ng == WATCH_GROUPS)
				return 0;   /* too many kinds at once: poll */
			g[ng].idx = xcalloc(n, sizeof(size_t));
			karena_init(&g[ng].a);
			kbuf_init(&g[ng].line, 0);
			kbuf_set_cap(&g[ng].line, kube_reply_limit());
			ng++;
		}
		g[k].idx[g[k].n++] = i;
	}
	*ngroups_out = ng;
	if (!ng)
		return 0;
	pthread_mutex_init(&sh.mu, NULL);
	pthread_cond_init(&sh.ended, NULL);
	sh.stop = false;
	sh.c = c;
	sh.rules = rules;
	sh.nrules = nrules;
	sh.start = start;
	sh.timeout_ms = timeout_ms;
	sh.running = ng;
	for (k = 0; k < ng; k++) {
		g[k].sh = &sh;
		g[k].items = items;
		started[k] = pthread_create(&th[k], NULL, watch_group, &g[k]) == 0;
		if (!started[k]) {
			g[k].fallback = true;
			pthread_mutex_lock(&sh.mu);
			sh.running--;
			pthread_mutex_unlock(&sh.mu);
		}
	}
	/* the caller's thread keeps an eye on its stop flag and on_wait hook
	 * (every 200 ms) until every stream has ended, and goes on as soon as
	 * the last one does */
	for (;;) {
		size_t left;
		struct timespec until;
		if (!rc && (rc = kube_wait_check(c, err)))
			sh_stop(&sh);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&sh.mu);
		if (sh.running)
			pthread_cond_timedwait(&sh.ended, &sh.mu, &until);
		left = sh.running;
		pthread_mutex_unlock(&sh.mu);
		if (!left)
			break;
	}
	for (k = 0; k < ng; k++)
		if (started[k])
			pthread_join(th[k], NULL);
	for (k = 0; k < ng; k++)
		if (g[k].err.code == KE_CLUSTER && !rc) {
			kerr_move(err, &g[k].err);
			rc = KE_CLUSTER;
		}
	pthread_cond_destroy(&sh.ended);
	pthread_mutex_destroy(&sh.mu);
	return rc;
}

static void watch_free(wgroup *g, size_t ng)
{
	size_t k;
	for (k = 0; k < ng; k++) {
		free(g[k].idx);
		free(g[k].rv);
		kbuf_release(&g[k].line);
		kerr_clear(&g[k].err);
		karena_release(&g[k].a);
	}
	free(g);
}

int kube_wait(kube_client *c, karena *a, kube_wait_item *items, size_t n,
	      const kube_wait_rule *rules, size_t nrules, long timeout_ms, kerr *err)
{
	long start = now_ms(), interval = 250;
	karena wa[WAIT_WORKERS];
	size_t i, k, *todo = xcalloc(n ? n : 1, sizeof(size_t));
	doc_node **got = xcalloc(n ? n : 1, sizeof(doc_node *));
	const doc_node **given = xcalloc(n ? n : 1, sizeof(doc_node *));
	kerr *errs = xcalloc(n ? n : 1, sizeof(kerr));
	kbuf why = KBUF_INIT;
	int rc = 0;
	wgroup *wg = NULL;
	size_t nwg = 0;

	for (i = 0; i < WAIT_WORKERS; i++)
		karena_init(&wa[i]);
	for (i = 0; i < n; i++) {
		items[i].state = KUBE_PROGRESSING;
		given[i] = items[i].live;
		if (items[i].live) {
			items[i].state = kube_health(items[i].live, rules, nrules, &why);
			set_why(&items[i], why.ptr);
		}
	}
	if (!c->wait_poll) {
		rc = watch_all(c, items, n, rules, nrules, start, timeout_ms, &wg, &nwg, err);
		if (rc)
			goto out;
	}
	for (;;) {
		size_t pending = 0;
		for (i = 0; i < n; i++) {
			if (items[i].state == KUBE_FAILED) {
				kbuf cs = KBUF_INIT;
				kube_health_conditions(items[i].live, &cs);
				rc = kerr_set_obj(err, KE_ERROR, items[i].obj->ref, "%s failed: %s [%s]",
						  items[i].obj->ref, items[i].why ? items[i].why : "", cs.ptr);
				kbuf_release(&cs);
				goto out;
			}
			if (items[i].state != KUBE_READY)
				todo[pending++] = i;
		}
		if (!pending)
			break;
		if ((rc = kube_wait_check(c, err)))
			goto out;
		if (now_ms() - start >= timeout_ms) {
			kbuf m = KBUF_INIT;
			kbuf_printf(&m, "%zu object%s not ready after %.1fs:", pending, pending == 1 ? " is" : "s are",
				    (double)(now_ms() - start) / 1000.0);
			for (k = 0; k < pending; k++) {
				kube_wait_item *it = &items[todo[k]];
				kbuf_printf(&m, "\n    %s: %s", it->obj->ref, it->why ? it->why : "not ready");
				if (it->live) {
					kbuf_puts(&m, "\n      conditions: ");
					kube_health_conditions(it->live, &m);
				}
			}
			rc = kerr_set(err, KE_TIMEOUT, "%s", m.ptr);
			kbuf_release(&m);
			goto out;
		}
		{
			long left = timeout_ms - (now_ms() - start);
			sleep_ms(interval < left ? interval : left);
			interval = interval * 3 / 2;
			if (interval > 2000)
				interval = 2000;
		}
		{
			wait_ctx w = { c, items, todo, got, errs };
			kube_parallel(pending, WAIT_WORKERS, fetch_one, &w, wa);
		}
		for (k = 0; k < pending; k++) {
			kube_wait_item *it = &items[todo[k]];
			if (errs[k].code) {
				if (errs[k].code == KE_CLUSTER) {
					kerr_move(err, &errs[k]);
					rc = KE_CLUSTER;
				} else {
					set_why(it, errs[k].code == KE_NOTFOUND ? "not found" : errs[k].first.msg);
				}
				kerr_clear(&errs[k]);
				continue;
			}
			it->live = got[k];
			it->state = kube_health(it->live, rules, nrules, &why);
			set_why(it, why.ptr);
			if (it->state == KUBE_READY) {
				char el[32];
				snprintf(el, sizeof(el), "%.1fs", (double)(now_ms() - start) / 1000.0);
				kube_emit(c, KEV_INFO, "object.ready", it->obj->ref, "object", it->obj->ref,
					  "elapsed", el, NULL);
			}
		}
		for (k = pending; k-- > 0;)
			kerr_clear(&errs[k]);
		if (rc)
			goto out;
	}
out:
	/* keep the last live documents in the caller's arena (those it gave
	 * are there already: a stage of ConfigMaps is ready as applied) */
	for (i = 0; i < n; i++)
		if (items[i].live && items[i].live != given[i])
			items[i].live = doc_copy(a, items[i].live);
	for (i = 0; i < WAIT_WORKERS; i++)
		karena_release(&wa[i]);
	if (wg)
		watch_free(wg, nwg);
	for (i = 0; i < n; i++) {
		free(items[i].why);
		items[i].why = NULL;
	}
	for (i = 0; i < n; i++)
		kerr_clear(&errs[i]);
	free(errs);
	free(todo);
	free(got);
	free(given);
	kbuf_release(&why);
	return rc;
}
