/*
 * release/sources.c - a bundle's remote sources (url sources, charts from
 * OCI registries, git sources and charts) against kstage.lock: pinning
 * them when the bundle loads; fetching every one of them into the cache
 * (`kstage fetch`, bundle export), or those of the stages a run may run
 * (plan, apply, verify, before they touch the cluster: the --stage ones
 * its values enable); resolving them into a new lock (`kstage fetch
 * --update-lock`).
 */
#include "release.h"
#include "tmpl/tmpl.h"

#include <string.h>

bool rel_stage_remote(const rel_stage *st)
{
	return st->src == REL_SRC_URL || st->src == REL_SRC_GIT || (st->src == REL_SRC_CHART && (st->ref || st->git));
}

/* A chart version that is a range (Helm's --version "^1.2", "~0.15",
 * ">=1 <2", "1.2.x") rather than one tag. */
static bool version_range(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	return n && (strpbrk(v, "^~<>=*|, !") || (n > 2 && v[n - 2] == '.' && (v[n - 1] == 'x' || v[n - 1] == 'X')));
}

int rel_oci_version(const char **out, karena *a, const char *ref, const char *version, const fetch_opts *fo,
		    kerr *err)
{
	kbuf tags = KBUF_INIT;
	const char **v = NULL;
	char *p, *nl;
	size_t n = 0, cap = 0;
	long best;
	int rc;
	*out = version;
	if (!version_range(version))
		return 0;
	if ((rc = fetch_oci_tags(&tags, ref, fo, err)))
		return rc;
	/* tags stand for versions with "+" written "_" */
	for (p = tags.ptr; *p; p = nl + 1) {
		char *q;
		nl = strchr(p, '\n');
		*nl = '\0';
		for (q = p; *q; q++)
			if (*q == '_')
				*q = '+';
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			v = karena_realloc(a, v, n * sizeof(*v), cap * sizeof(*v));
		}
		v[n++] = karena_strdup(a, p);
	}
	best = tmpl_semver_pick(version, v, n);
	kbuf_release(&tags);
	if (best == -2)
		return kerr_set(err, KE_INPUT, "%s: version \"%s\" is neither a version nor a range", ref, version);
	if (best < 0)
		return kerr_set(err, KE_INPUT, "%s: no tag meets version \"%s\" (%zu tags)", ref, version, n);
	*out = v[best];
	kev_emitf(fo ? fo->sink : NULL, KEV_INFO, "fetch.version", "%s: version %s resolved to %s", ref, version,
		  v[best]);
	return 0;
}

static void lock_path(kbuf *out, const rel_bundle *b)
{
	kbuf_printf(out, "%s/kstage.lock", b->dir);
}

int rel_bundle_pin(rel_bundle *b, karena *a, kerr *err)
{
	fetch_lock lock;
	kbuf path = KBUF_INIT;
	size_t i;
	int rc;
	if (b->is_chart)
		return 0;
	lock_path(&path, b);
	rc = fetch_lock_load(&lock, a, path.ptr, err);
	kbuf_release(&path);
	if (rc)
		return rc;
	for (i = 0; i < b->nstages; i++) {
		rel_stage *st = &b->stages[i];
		const fetch_lock_entry *e;
		const doc_node *n;
		if (!rel_stage_remote(st) || !st->url)
			continue;
		e = fetch_lock_find(&lock, st->url);
		n = doc_get_path(st->node, st->src == REL_SRC_CHART ? "chart" : "source");
		if (e && st->sha256 && strcmp(e->sha256, st->sha256)) {
			kerr_add_at(err, KE_INPUT, lock.file, e->line, e->col,
				    "stage %s: source %s: kstage.yaml pins sha256 %s, the lock line %s:%u has %s: "
				    "fix one, or run kstage fetch --update-lock", st->name, st->url, st->sha256,
				    lock.file, e->line, e->sha256);
		} else if (st->sha256) {
			kbuf at = KBUF_INIT;
			st->size = e ? e->size : 0;
			kbuf_printf(&at, "%s:%u", b->file, n ? n->line : 0);
			st->pin_at = karena_strdup(a, at.ptr);
			kbuf_release(&at);
		} else if (e) {
			kbuf at = KBUF_INIT;
			const char *c = strrchr(e->resolved ? e->resolved : "", '@');
			kbuf_printf(&at, "%s:%u", lock.file, e->line);
			if (st->git && c)
				st->commit = c + 1;
			st->sha256 = e->sha256;
			st->size = e->size;
			st->pin_at = karena_strdup(a, at.ptr);
			kbuf_release(&at);
		} else if (!st->pin_optional) {
			kerr_add_at(err, KE_INPUT, n && n->file ? n->file : b->file, n ? n->line : 0, n ? n->col : 0,
				    "stage %s: source %s is not pinned: no sha256 here and no entry in %s: "
				    "run kstage fetch --update-lock", st->name, st->url, lock.file);
		}
	}
	return err->code ? KE_INPUT : 0;
}

/* Fetch and verify the remote sources of b's stages into the cache, or
 * resolve them into a new lock (update_lock); skip (may be NULL) says why
 * the run needs no source of stage i (NULL: it does). */
static int fetch_sources(const rel_bundle *b, const char *const *skip, const fetch_opts *fo, bool update_lock,
			 rel_fetch_report *rep, kerr *err)
{
	fetch_opts none, one;
	fetch_lock lock;
	karena a;
	kbuf data = KBUF_INIT, path = KBUF_INIT, msg = KBUF_INIT;
	fetch_result res;
	size_t i;
	int rc = 0;
	if (!fo) {
		memset(&none, 0, sizeof(none));
		fo = &none;
	}
	if (rep) {
		rep->sources = 0;
		rep->lock_written = false;
	}
	karena_init(&a);
	memset(&lock, 0, sizeof(lock));
	memset(&res, 0, sizeof(res));
	lock.v = karena_alloc(&a, (b->nstages + 1) * sizeof(*lock.v));
	for (i = 0; i < b->nstages && !rc; i++) {
		const rel_stage *st = &b->stages[i];
		fetch_lock_entry *e;
		if (!rel_stage_remote(st) || (!update_lock && !st->sha256 && st->pin_optional))
			continue;   /* an optional source not pinned: the preflight refuses it if enabled */
		if (skip && skip[i]) {
			kev_emitf(fo->sink, KEV_INFO, "fetch.skipped", "stage %s: %s not fetched: %s", st->name, st->url,
				  skip[i]);
			continue;
		}
		if (update_lock && fetch_lock_find(&lock, st->url))
			continue;   /* an earlier stage's source too: its one entry pins both (by url) */
		kbuf_reset(&data);
		if (!update_lock && !st->sha256)
			rc = kerr_set(err, KE_INPUT, "source %s is not pinned", st->url);
		else {
			/* the locked size bounds the download: an oversized answer stops there */
			one = *fo;
			one.max_bytes = update_lock ? 0 : st->size;
			if (st->git) {
				rc = fetch_git(&data, &res, st->git, st->git_ref, st->git_path, update_lock ? NULL : st->commit,
					       st->sha256, &one, err);
			} else if (st->ref) {
				const char *v = st->version;
				if (update_lock && !st->sha256)
					rc = rel_oci_version(&v, &a, st->ref, st->version, &one, err);
				if (!rc)
					rc = fetch_oci_chart(&data, &res, st->ref, v, st->sha256, &one, err);
			} else {
				rc = fetch_get(&data, &res, st->url, st->sha256, &one, err);
			}
		}
		if (rc && update_lock && st->pin_optional && rc != KE_USAGE) {
			/* optional: pinned when it can be fetched, else left out, said */
			kbuf_reset(&msg);
			kerr_format_short(err, &msg);
			kev_emitf(fo->sink, KEV_WARN, "fetch.unpinned",
				  "stage %s: optional source %s left unpinned (a run that enables the stage is refused): %s",
				  st->name, st->url, msg.ptr ? msg.ptr : "");
			kerr_clear(err);
			rc = 0;
			continue;
		}
		if (rc) {
			if (st->pin_at)
				kerr_wrap(err, "sha256 from %s", st->pin_at);
			kerr_wrap(err, "stage %s", st->name);
			break;
		}
		if (rep) {
			rep->sources++;
			kbuf_printf(&rep->digests, "%s\n", res.sha256);
			if (res.extra[0])
				kbuf_printf(&rep->digests, "%s\n", res.extra);
		}
		kbuf_reset(&msg);
		kbuf_printf(&msg, "stage %s: %s verified (sha256 %s, %zu bytes)", st->name, st->url, res.sha256,
			    res.size);
		kev_emit(fo->sink, KEV_INFO, "fetch.verified", msg.ptr, "stage", st->name, "url", st->url,
			 "sha256", res.sha256, NULL);
		e = &lock.v[lock.len++];
		e->stage = st->name;
		e->url = st->url;
		e->resolved = karena_strdup(&a, res.resolved.ptr);
		e->sha256 = karena_strdup(&a, res.sha256);
		e->size = res.size;
	}
	if (!rc && update_lock) {
		lock_path(&path, b);
		if (!(rc = fetch_lock_write(&lock, path.ptr, err)) && rep)
			rep->lock_written = true;
	}
	kbuf_release(&data);
	kbuf_release(&path);
	kbuf_release(&msg);
	kbuf_release(&res.resolved);
	karena_release(&a);
	return rc;
}

int rel_fetch(const rel_bundle *b, const fetch_opts *fo, bool update_lock, rel_fetch_report *rep, kerr *err)
{
	return fetch_sources(b, NULL, fo, update_lock, rep, err);
}

/* The lookup of the enabled conditions rendered before the run: it notes
 * that the condition reads the cluster (u: a bool) and answers nothing. */
static int lookup_noted(void *u, doc_node **out, karena *a, const char *api_version, const char *kind,
			const char *ns, const char *name, kerr *err)
{
	(void)api_version;
	(void)kind;
	(void)ns;
	(void)name;
	(void)err;
	*(bool *)u = true;
	*out = doc_new_map(a);
	return 0;
}

/* Whether a run with ctx's values may run stage s: its enabled condition
 * rendered without the cluster is true, or reads the cluster (lookup), or
 * fails (the run reports that where the stage renders). */
static bool stage_needed(karena *a, const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx)
{
	rel_ctx c = *ctx;
	rel_lookup noted;
	bool reads = false, on = true, failed;
	kerr err = KERR_INIT;
	memset(&noted, 0, sizeof(noted));
	noted.t.fn = lookup_noted;
	noted.t.u = &reads;
	c.client = NULL;
	c.lookup = &noted;
	failed = rel_stage_enabled(&on, a, b, s, &c, &err) != 0;
	kerr_clear(&err);
	return failed || on || reads;
}

int rel_fetch_run(const rel_bundle *b, const rel_ctx *ctx, kerr *err)
{
	karena a;
	const char **skip;
	size_t i;
	int rc;
	karena_init(&a);
	skip = karena_alloc(&a, (b->nstages + 1) * sizeof(*skip));
	for (i = 0; i < b->nstages; i++) {
		const rel_stage *s = &b->stages[i];
		skip[i] = NULL;
		if (!rel_stage_remote(s))
			continue;
		if (!rel_stage_selected(ctx, s))
			skip[i] = "the run's --stage filter leaves the stage out";
		else if (!stage_needed(&a, b, s, ctx))
			skip[i] = "the values disable the stage";
	}
	rc = fetch_sources(b, skip, ctx->fetch, false, NULL, err);
	karena_release(&a);
	return rc;
}
