/*
 * kube/wait.c - wait until objects are healthy. Objects are judged first on
 * what the caller already has (the apply answer), then re-read in parallel
 * with a growing interval (250 ms up to 2 s) until each is ready, one
 * fails (fail fast) or the deadline passes (every object that is not ready
 * is named with its conditions).
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

int kube_wait(kube_client *c, karena *a, kube_wait_item *items, size_t n,
	      const kube_wait_rule *rules, size_t nrules, long timeout_ms, kerr *err)
{
	long start = now_ms(), interval = 250;
	karena wa[WAIT_WORKERS];
	size_t i, k, *todo = xcalloc(n ? n : 1, sizeof(size_t));
	doc_node **got = xcalloc(n ? n : 1, sizeof(doc_node *));
	kerr *errs = xcalloc(n ? n : 1, sizeof(kerr));
	kbuf why = KBUF_INIT;
	int rc = 0;

	for (i = 0; i < WAIT_WORKERS; i++)
		karena_init(&wa[i]);
	for (i = 0; i < n; i++) {
		items[i].state = KUBE_PROGRESSING;
		if (items[i].live) {
			items[i].state = kube_health(items[i].live, rules, nrules, &why);
			set_why(&items[i], why.ptr);
		}
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
		if (now_ms() - start >= timeout_ms) {
			kbuf m = KBUF_INIT;
			kbuf_printf(&m, "timed out after %lds: %zu object%s not ready:", timeout_ms / 1000, pending,
				    pending == 1 ? " is" : "s are");
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
	/* keep the last live documents in the caller's arena */
	for (i = 0; i < n; i++)
		if (items[i].live)
			items[i].live = doc_copy(a, items[i].live);
	for (i = 0; i < WAIT_WORKERS; i++)
		karena_release(&wa[i]);
	for (i = 0; i < n; i++) {
		free(items[i].why);
		items[i].why = NULL;
	}
	for (i = 0; i < n; i++)
		kerr_clear(&errs[i]);
	free(errs);
	free(todo);
	free(got);
	kbuf_release(&why);
	return rc;
}
