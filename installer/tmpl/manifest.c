/* tmpl/manifest.c - rendered templates as Helm's manifests
 * (pkg/releaseutil/manifest.go SplitManifests, manifest_sorter.go): split
 * into documents, each document's head read (doc/head.c) on a small pool
 * of threads when there is much to read, hooks told apart. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpl_int.h"

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

int tmpl_split_docs(karena *a, const char *source, const char *text, size_t len, tmpl_manifest **docs,
		    size_t *ndocs, size_t *cap)
{
	/* Go: sep = (?:^|\s*\n)---\s* over strings.TrimSpace(text) */
	const char *s = text, *e = text + len, *start;
	while (s < e && is_ws(*s))
		s++;
	while (e > s && is_ws(e[-1]))
		e--;
	start = s;
	if (e - s >= 3 && !memcmp(s, "---", 3)) {
		s += 3;
		while (s < e && is_ws(*s))
			s++;
		start = s;
	}
	for (;;) {
		const char *p = start, *cut = NULL, *next = NULL;
		while (p < e) {
			const char *nl = memchr(p, '\n', (size_t)(e - p));
			if (!nl)
				break;
			if (e - nl - 1 >= 3 && !memcmp(nl + 1, "---", 3)) {
				cut = nl;
				while (cut > start && is_ws(cut[-1]))
					cut--;
				next = nl + 4;
				while (next < e && is_ws(*next))
					next++;
				break;
			}
			p = nl + 1;
		}
		{
			const char *de = cut ? cut : e, *ds = start;
			while (ds < de && is_ws(*ds))
				ds++;
			while (de > ds && is_ws(de[-1]))
				de--;
			if (de > ds) {
				if (*ndocs == *cap) {
					size_t nc = *cap ? *cap * 2 : 64;
					*docs = karena_realloc(a, *docs, *cap * sizeof(**docs), nc * sizeof(**docs));
					*cap = nc;
				}
				memset(&(*docs)[*ndocs], 0, sizeof(**docs));
				(*docs)[*ndocs].source = source;
				(*docs)[*ndocs].content = ds;
				(*docs)[*ndocs].len = (size_t)(de - ds);
				(*ndocs)++;
			}
		}
		if (!cut)
			break;
		start = next;
	}
	return 0;
}

static const char *const hook_events[] = {
	"pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade", "post-upgrade",
	"pre-rollback", "post-rollback", "test", "test-success",
};

bool tmpl_hook_known(const char *h)
{
	const char *p = h;
	for (;;) {
		const char *c = strchr(p, ','), *e = c ? c : p + strlen(p);
		size_t i, l;
		bool ok = false;
		char buf[64];
		while (p < e && is_ws(*p))
			p++;
		while (e > p && is_ws(e[-1]))
			e--;
		l = (size_t)(e - p);
		if (l >= sizeof(buf))
			return false;
		for (i = 0; i < l; i++)
			buf[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
		buf[l] = 0;
		for (i = 0; i < sizeof(hook_events) / sizeof(hook_events[0]); i++)
			if (!strcmp(buf, hook_events[i]))
				ok = true;
		if (!ok)
			return false;
		if (!c)
			return true;
		p = c + 1;
	}
}

typedef struct head_job {
	doc_head *h;
	size_t n;
	bool no_fast;
	size_t next;
	pthread_mutex_t mu;
} head_job;

static void *head_worker(void *arg)
{
	head_job *j = arg;
	for (;;) {
		size_t i;
		pthread_mutex_lock(&j->mu);
		i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			return NULL;
		doc_head_read(&j->h[i], !j->no_fast);
	}
}

/* Scan every document's head, on several threads when there is much to scan.
 * The first invalid document (in order) is the error, as Helm reports. */
int tmpl_manifest_heads(karena *a, tmpl_manifest *docs, size_t n, bool no_fast, kerr *err)
{
	doc_head *h = calloc(n + 1, sizeof(*h));
	head_job j;
	size_t i, total = 0;
	int rc = 0;
	if (!h)
		return kerr_set(err, KE_INTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		h[i].src = docs[i].source;
		h[i].text = docs[i].content;
		h[i].len = docs[i].len;
		total += docs[i].len;
	}
	memset(&j, 0, sizeof(j));
	j.h = h;
	j.n = n;
	j.no_fast = no_fast;
	pthread_mutex_init(&j.mu, NULL);
	if (total > ((size_t)256 << 10) && n > 1) {
		pthread_t th[8];
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		size_t nt = ncpu > 1 ? (size_t)(ncpu < 8 ? ncpu : 8) : 1, started = 0;
		if (nt > n)
			nt = n;
		for (i = 1; i < nt; i++)
			if (!pthread_create(&th[started], NULL, head_worker, &j))
				started++;
		head_worker(&j);
		for (i = 0; i < started; i++)
			pthread_join(th[i], NULL);
	} else {
		head_worker(&j);
	}
	pthread_mutex_destroy(&j.mu);
	for (i = 0; i < n; i++) {
		if (h[i].err && !rc)
			rc = kerr_set(err, KE_INPUT, "%s", h[i].err);
		docs[i].kind = h[i].kind ? karena_strdup(a, h[i].kind) : "";
		docs[i].hook = h[i].hook ? karena_strdup(a, h[i].hook) : NULL;
		free(h[i].kind);
		free(h[i].hook);
		free(h[i].err);
	}
	free(h);
	return rc;
}
