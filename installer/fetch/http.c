/*
 * fetch/http.c - kstage's one HTTP client setup over libcurl: TLS (CA file
 * or in-memory bundle, or no verification when asked), proxies (given, or
 * libcurl's *_proxy environment), timeouts, allowed protocols, the user
 * agent; and a GET with retries, backoff with jitter and a size cap. The
 * kube transport configures its pooled handles with fetch_http_setup().
 */
#include "fetch.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void fetch_http_global_init(void)
{
	pthread_once(&once, init_once);
}

void fetch_http_setup(void *curl, const fetch_http_opts *o)
{
	CURL *h = curl;
	const char *ca = o->ca_file ? o->ca_file : getenv("SSL_CERT_FILE");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kstage/" KSTAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 15000L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, o->allow_http ? "https,http" : "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	if (o->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (o->ca_pem) {
		struct curl_blob b = { (void *)o->ca_pem, o->ca_len, CURL_BLOB_COPY };
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	} else if (ca && *ca) {
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	}
	if (o->proxy && *o->proxy)
		curl_easy_setopt(h, CURLOPT_PROXY, o->proxy);
}

typedef struct sink {
	kbuf *out;
	size_t max;
	bool too_big;
} sink;

static size_t on_write(char *p, size_t sz, size_t n, void *u)
{
	sink *s = u;
	size_t len = sz * n;
	if (s->out->len + len > s->max || kbuf_put(s->out, p, len) < 0) {
		s->too_big = true;
		return 0;
	}
	return len;
}

/* Header lines of the last response only (a redirect starts a new one). */
static size_t on_header(char *p, size_t sz, size_t n, void *u)
{
	kbuf *h = u;
	size_t len = sz * n;
	if (len >= 5 && !memcmp(p, "HTTP/", 5))
		kbuf_reset(h);
	if (h->len + len <= (64u << 10))
		kbuf_put(h, p, len);
	return len;
}

typedef struct progress {
	const fetch_http_opts *o;
	const char *name;
	struct timespec last;
	curl_off_t bytes, total;
} progress;

static void progress_emit(const progress *p, bool done)
{
	char b[32], t[32];
	snprintf(b, sizeof(b), "%lld", (long long)p->bytes);
	snprintf(t, sizeof(t), "%lld", (long long)p->total);
	kev_emit(p->o->progress, KEV_INFO, "fetch.progress", p->name, "name", p->name, "bytes", b, "total", t, "done",
		 done ? "true" : "false", NULL);
}

static int on_progress(void *u, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	progress *p = u;
	struct timespec now;
	(void)ultotal;
	(void)ulnow;
	p->bytes = dlnow;
	p->total = dltotal;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (dlnow > 0 && (now.tv_sec - p->last.tv_sec) * 1000 + (now.tv_nsec - p->last.tv_nsec) / 1000000 >= 500) {
		p->last = now;
		progress_emit(p, false);
	}
	return 0;
}

/* A failed transfer of url in kstage's words: a timeout names the limit
 * that ended it (of the connection or of the whole transfer) and how long
 * it was, instead of libcurl's "Operation timed out after N milliseconds". */
static int transfer_failed(kerr *err, const char *url, CURLcode cc, const char *ebuf, curl_off_t pretransfer,
			   const fetch_http_opts *o)
{
	long ms = o->timeout_ms > 0 ? o->timeout_ms : 300000L;
	long cms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 15000L;
	if (cc != CURLE_OPERATION_TIMEDOUT)
		return kerr_set(err, KE_IO, "%s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
	if (!pretransfer)
		return kerr_set(err, KE_IO, "%s: timed out: no connection within %.1f s, the time limit of a connection",
				url, (double)(cms < ms ? cms : ms) / 1000.0);
	return kerr_set(err, KE_IO, "%s: timed out: no complete answer within %.1f s, the time limit of one transfer",
			url, (double)ms / 1000.0);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0)
		;
}

int fetch_http_check_url(const char *url, const fetch_http_opts *o, kerr *err)
{
	if (!strncmp(url, "https://", 8))
		return 0;
	if (!strncmp(url, "http://", 7)) {
		if (o->allow_http)
			return 0;
		return kerr_set(err, KE_INPUT, "%s: plain http is not allowed (anyone on the path can read and change it): "
				"use https://, or --plain-http to accept it", url);
	}
	return kerr_set(err, KE_INPUT, "%s: not an https:// URL", url);
}

int fetch_http_get(kbuf *out, const char *url, const fetch_http_opts *o, kerr *err)
{
	int max = o->max_attempts > 0 ? o->max_attempts : 4;
	long base = o->base_delay_ms > 0 ? o->base_delay_ms : 300;
	size_t cap = o->max_bytes ? o->max_bytes : FETCH_MAX;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)out;
	int attempt, rc;

	if ((rc = fetch_http_check_url(url, o, err)))
		return rc;
	fetch_http_global_init();
	for (attempt = 1; attempt <= max; attempt++) {
		CURL *h = curl_easy_init();
		char ebuf[CURL_ERROR_SIZE] = "";
		sink s = { out, cap, false };
		CURLcode cc;
		long status = 0;
		curl_off_t pre = 0;
		bool retry = false;
		struct curl_slist *hl = NULL;
		progress pg;
		size_t i;
		if (!h)
			return kerr_set(err, KE_INTERNAL, "%s: cannot start an HTTP client", url);
		kbuf_reset(out);
		fetch_http_setup(h, o);
		for (i = 0; o->headers && o->headers[i]; i++)
			hl = curl_slist_append(hl, o->headers[i]);
		if (hl)
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
		if (o->progress) {
			memset(&pg, 0, sizeof(pg));
			pg.o = o;
			pg.name = o->progress_name ? o->progress_name : url;
			clock_gettime(CLOCK_MONOTONIC, &pg.last);
			curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
			curl_easy_setopt(h, CURLOPT_XFERINFODATA, &pg);
		}
		if (o->resp_headers) {
			kbuf_reset(o->resp_headers);
			curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
			curl_easy_setopt(h, CURLOPT_HEADERDATA, o->resp_headers);
		}
		curl_easy_setopt(h, CURLOPT_URL, url);
		if (o->method) {
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, o->method);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, o->body ? o->body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
		}
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 300000L);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
		cc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre);
		if (o->effective_url) {
			char *eff = NULL;
			kbuf_reset(o->effective_url);
			curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
			kbuf_puts(o->effective_url, eff ? eff : url);
		}
		curl_easy_cleanup(h);
		curl_slist_free_all(hl);
		if (o->status)
			*o->status = status;
		if (s.too_big) {
			kbuf_reset(out);
			return kerr_set(err, KE_LIMIT, "%s: larger than %zu bytes", url, cap);
		}
		if (cc != CURLE_OK) {
			rc = transfer_failed(err, url, cc, ebuf, pre, o);
			retry = cc != CURLE_PEER_FAILED_VERIFICATION && cc != CURLE_UNSUPPORTED_PROTOCOL &&
				cc != CURLE_SSL_CACERT_BADFILE && cc != CURLE_URL_MALFORMAT;
		} else if (status >= 400 && status < 500 && status != 429 && o->status) {
			rc = 0;   /* the caller judges it */
			break;
		} else if (status >= 400) {
			rc = kerr_set(err, KE_IO, "%s: HTTP status %ld", url, status);
			retry = status >= 500 || status == 429;
		} else {
			rc = 0;
			if (o->progress) {
				pg.bytes = pg.total = (curl_off_t)out->len;
				progress_emit(&pg, true);
			}
			break;
		}
		if (!retry || attempt == max)
			break;
		{
			/* exponential, equal jitter: half fixed, half random */
			long d = base << (attempt - 1 < 6 ? attempt - 1 : 6);
			sleep_ms(d / 2 + (long)(rand_r(&seed) % (unsigned)(d / 2 + 1)));
		}
	}
	if (rc && attempt > 1)
		kerr_wrap(err, "after %d attempts", attempt > max ? max : attempt);
	if (rc)
		kbuf_reset(out);
	return rc;
}

int fetch_http_send(kbuf *out, long *status, const fetch_http_request *rq, const fetch_http_opts *o, kerr *err)
{
	size_t cap = o->max_bytes ? o->max_bytes : FETCH_MAX, i;
	struct curl_slist *hl = NULL;
	char ebuf[CURL_ERROR_SIZE] = "";
	sink s = { out, cap, false };
	CURL *h;
	CURLcode cc;
	curl_off_t pre = 0;
	int rc;
	*status = 0;
	kbuf_reset(out);
	if ((rc = fetch_http_check_url(rq->url, o, err)))
		return rc;
	fetch_http_global_init();
	if (!(h = curl_easy_init()))
		return kerr_set(err, KE_INTERNAL, "%s: cannot start an HTTP client", rq->url);
	fetch_http_setup(h, o);
	for (i = 0; i < rq->nheaders; i++)
		hl = curl_slist_append(hl, rq->headers[i]);
	if (rq->body)
		hl = curl_slist_append(hl, "Expect:");   /* no 100-continue round trip */
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	if (!strcmp(rq->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (rq->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms > 0 ? o->timeout_ms : 300000L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_cleanup(h);
	curl_slist_free_all(hl);
	if (s.too_big) {
		kbuf_reset(out);
		return kerr_set(err, KE_LIMIT, "%s: larger than %zu bytes", rq->url, cap);
	}
	if (cc != CURLE_OK) {
		kbuf_reset(out);
		return transfer_failed(err, rq->url, cc, ebuf, pre, o);
	}
	return 0;
}

int fetch_read_url(void *ctx, const char *url, kbuf *out, kerr *err)
{
	return fetch_http_get(out, url, ctx, err);
}
