/*
 * kube/client.c - requests to the API server: credentials (static, token
 * file, exec plugin), retries with backoff and jitter, the libcurl
 * transport (a pool of easy handles, each keeping its connection, sharing
 * DNS and TLS sessions; HTTP/2 where the server offers it), and a small worker pool.
 */
#include "kube.h"
#include "core/alloc.h"
#include "core/proc.h"
#include "fetch/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- responses ---------------------------------------------------------- */

void kube_resp_init(kube_resp *r)
{
	memset(r, 0, sizeof(*r));
	kbuf_init(&r->body, 0);
	kbuf_init(&r->content_type, 0);
	kbuf_init(&r->warnings, 0);
	r->retry_after_s = -1;
}

void kube_resp_release(kube_resp *r)
{
	kbuf_release(&r->body);
	kbuf_release(&r->content_type);
	kbuf_release(&r->warnings);
}

static void resp_reset(kube_resp *r)
{
	kbuf_reset(&r->body);
	kbuf_reset(&r->content_type);
	kbuf_reset(&r->warnings);
	r->status = 0;
	r->retry_after_s = -1;
	r->not_sent = false;
	r->cut = KUBE_CUT_NONE;
}

/* ---- the curl transport ------------------------------------------------- */

typedef struct curl_tr {
	CURLSH *sh;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t pool_mu;
	CURL **pool;
	size_t npool, cap;
	char *base;                   /* URL prefix requests are joined to */
	struct curl_slist *connect_to;
	const kube_config *cfg;
	fetch_http_opts http;         /* what every handle is set up with */
	size_t max_reply;             /* bytes of one reply body (kube_reply_limit) */
	long stall_s;                 /* a reply under 1 byte/s for this long is cut */
} curl_tr;

static void sh_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
	curl_tr *t = u;
	(void)h; (void)a;
	pthread_mutex_lock(&t->locks[d]);
}

static void sh_unlock(CURL *h, curl_lock_data d, void *u)
{
	curl_tr *t = u;
	(void)h;
	pthread_mutex_unlock(&t->locks[d]);
}

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct xfer {
	CURL *h;
	kube_resp *resp;
	const kube_req *req;
	bool stopped;
	size_t max_reply;
	bool too_big;                 /* the body passed max_reply */
	long stall_ms;                /* 0: no speed check (a watch may idle) */
	bool got_any;                 /* a byte of the answer came: the server is answering */
	long win_start;               /* the current speed window */
	size_t win_bytes;
	bool stalled;                 /* fewer than 1 byte/s over stall_ms */
	long long sock_rx;            /* bytes the socket had received at the last look; -1: none yet */
	long rx_first, rx_last;       /* when socket bytes came before any complete header line */
	bool stalled_in_head;         /* bytes came, but no complete header line over stall_ms */
} xfer;

/* The socket of a pooled handle's connection (CURLOPT_PRIVATE): libcurl
 * 7.88 names it (CURLINFO_ACTIVESOCKET) only once a transfer is done. */
typedef struct conn_sock {
	curl_socket_t fd;
} conn_sock;

static int on_sockopt(void *u, curl_socket_t fd, curlsocktype purpose)
{
	if (purpose == CURLSOCKTYPE_IPCXN)
		((conn_sock *)u)->fd = fd;
	return CURL_SOCKOPT_OK;
}

static int on_closesocket(void *u, curl_socket_t fd)
{
	conn_sock *cs = u;
	if (cs->fd == fd)
		cs->fd = CURL_SOCKET_BAD;
	return close(fd);
}

/* Bytes the connection's socket has received (TLS records, any HTTP
 * framing), or -1 when unknown: libcurl passes header lines only once they
 * are complete, so a status line sent a byte at a time shows only here. */
static long long sock_received(CURL *h)
{
	conn_sock *cs = NULL;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&cs) != CURLE_OK || !cs || cs->fd == CURL_SOCKET_BAD)
		return -1;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(cs->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) ||
	    len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		return -1;
	return (long long)ti.tcpi_bytes_received;
}

/* Before the first complete header line: once the connection is set up
 * (TLS handshake done) and the request sent, socket bytes arriving again a
 * second or more after the first ones mean the server is answering,
 * slowly; no complete line within stall_ms of the first is a stall. One
 * burst alone (TLS session tickets, HTTP/2 settings) followed by silence
 * is the server thinking (webhooks): the attempt's timeout bounds that. */
static bool head_stalled(xfer *x, long now, bool sent)
{
	curl_off_t pre = 0;
	long long rx;
	if (!sent || curl_easy_getinfo(x->h, CURLINFO_PRETRANSFER_TIME_T, &pre) != CURLE_OK || !pre ||
	    (rx = sock_received(x->h)) < 0)
		return false;
	if (x->sock_rx < 0) {
		x->sock_rx = rx;      /* what came before: the connection's setup */
		return false;
	}
	if (rx > x->sock_rx) {
		x->sock_rx = rx;
		if (!x->rx_first)
			x->rx_first = now;
		else
			x->rx_last = now;
	}
	return x->rx_first && x->rx_last - x->rx_first >= 1000 && now - x->rx_first >= x->stall_ms;
}

/* Bytes of the answer arrived (headers or body): the speed window counts
 * them from the first one on, so the server's own think time before it
 * answers is bounded by the request timeout alone. */
static void xfer_got(xfer *x, size_t len)
{
	if (!x->got_any) {
		x->got_any = true;
		x->win_start = mono_ms();
	}
	x->win_bytes += len;
}

/* libcurl calls this about once a second, also while nothing arrives. */
static int on_progress(void *u, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	xfer *x = u;
	long now;
	(void)dltotal; (void)dlnow;
	if (!x->stall_ms)
		return 0;
	now = mono_ms();
	if (!x->got_any) {
		if (head_stalled(x, now, ulnow >= ultotal)) {
			x->stalled = x->stalled_in_head = true;
			return 1;
		}
		return 0;
	}
	if (now - x->win_start < x->stall_ms)
		return 0;
	if (x->win_bytes * 1000 < (size_t)(now - x->win_start)) {
		x->stalled = true;
		return 1;
	}
	x->win_start = now;
	x->win_bytes = 0;
	return 0;
}

/* A stream's consumer gets the body of a 2xx answer only: an error's
 * body (a Status without a newline) is the reply's, for kube_do to judge
 * and retry, never text glued to the next attempt's first event. */
static bool stream_ok(xfer *x)
{
	long code = 0;
	return curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code >= 200 && code < 300;
}

static size_t on_write(char *p, size_t sz, size_t n, void *u)
{
	xfer *x = u;
	size_t len = sz * n;
	xfer_got(x, len);
	if (x->req->on_data && stream_ok(x)) {
		if (x->req->on_data(x->req->on_data_ctx, p, len)) {
			x->stopped = true;
			return 0;
		}
		return len;
	}
	if (len > x->max_reply - x->resp->body.len) {
		x->too_big = true;
		return 0;
	}
	if (kbuf_put(&x->resp->body, p, len) < 0)
		return 0;
	return len;
}

static int hdr_is(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && !strncasecmp(p, name, n) && p[n] == ':';
}

static void hdr_val(const char *p, size_t len, const char *name, kbuf *out)
{
	size_t n = strlen(name) + 1;
	while (n < len && (p[n] == ' ' || p[n] == '\t'))
		n++;
	while (len > n && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
		len--;
	kbuf_put(out, p + n, len - n);
}

static size_t on_header(char *p, size_t sz, size_t n, void *u)
{
	xfer *x = u;
	size_t len = sz * n;
	xfer_got(x, len);
	if (len > 5 && !strncmp(p, "HTTP/", 5)) {
		kbuf_reset(&x->resp->content_type);
		kbuf_reset(&x->resp->warnings);
		x->resp->retry_after_s = -1;
	} else if (hdr_is(p, len, "content-type")) {
		hdr_val(p, len, "content-type", &x->resp->content_type);
	} else if (hdr_is(p, len, "retry-after")) {
		kbuf v = KBUF_INIT;
		hdr_val(p, len, "retry-after", &v);
		x->resp->retry_after_s = strtol(v.ptr, NULL, 10);
		kbuf_release(&v);
	} else if (hdr_is(p, len, "warning")) {
		hdr_val(p, len, "warning", &x->resp->warnings);
		kbuf_putc(&x->resp->warnings, '\n');
	}
	return len;
}

static void handle_free(CURL *h)
{
	conn_sock *cs = NULL;
	curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&cs);
	curl_easy_cleanup(h);   /* may close the socket: cs after it */
	free(cs);
}

static CURL *pool_get(curl_tr *t)
{
	CURL *h = NULL;
	conn_sock *cs;
	pthread_mutex_lock(&t->pool_mu);
	if (t->npool)
		h = t->pool[--t->npool];
	pthread_mutex_unlock(&t->pool_mu);
	if (h)
		return h;
	h = curl_easy_init();
	if (!h)
		return NULL;
	cs = xmalloc(sizeof(*cs));
	cs->fd = CURL_SOCKET_BAD;
	curl_easy_setopt(h, CURLOPT_PRIVATE, cs);
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, cs);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, on_closesocket);
	curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, cs);
	/* TLS, CA, proxy, timeouts, protocols: the one HTTP setup (fetch/) */
	fetch_http_setup(h, &t->http);
	curl_easy_setopt(h, CURLOPT_SHARE, t->sh);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	if (t->connect_to)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, t->connect_to);
	if (t->cfg->cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, t->cfg->cert_file);
	if (t->cfg->key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, t->cfg->key_file);
	return h;
}

static void pool_put(curl_tr *t, CURL *h)
{
	pthread_mutex_lock(&t->pool_mu);
	ALLOC_GROW(t->pool, t->npool + 1, t->cap);
	t->pool[t->npool++] = h;
	pthread_mutex_unlock(&t->pool_mu);
}

static int curl_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	curl_tr *t = impl;
	CURL *h = pool_get(t);
	struct curl_slist *hd = NULL;
	kbuf url = KBUF_INIT, line = KBUF_INIT;
	char ebuf[CURL_ERROR_SIZE] = "";
	xfer x;
	CURLcode cc;
	int rc = 0;
	int plen = (int)strcspn(req->path, "?");   /* the request in messages: no query */

	if (!h)
		return kerr_set(err, KE_INTERNAL, "cannot make a curl handle");
	memset(&x, 0, sizeof(x));
	x.h = h;
	x.sock_rx = -1;
	x.resp = resp;
	x.req = req;
	x.max_reply = t->max_reply;
	x.stall_ms = req->on_data ? 0 : t->stall_s * 1000;
	if (req->on_data)
		req->on_data(req->on_data_ctx, NULL, 0);   /* a new attempt: drop a broken one's partial line */
	kbuf_printf(&url, "%s%s", t->base, req->path);
	curl_easy_setopt(h, CURLOPT_URL, url.ptr);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
	kbuf_printf(&line, "Accept: %s", req->accept ? req->accept : "application/json");
	hd = curl_slist_append(hd, line.ptr);
	if (req->content_type) {
		kbuf_reset(&line);
		kbuf_printf(&line, "Content-Type: %s", req->content_type);
		hd = curl_slist_append(hd, line.ptr);
	}
	if (auth && auth->token) {
		kbuf_reset(&line);
		kbuf_printf(&line, "Authorization: Bearer %s", auth->token);
		hd = curl_slist_append(hd, line.ptr);
		memset(line.ptr, 0, line.len);
	}
	hd = curl_slist_append(hd, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	if (auth && auth->cert_pem && auth->key_pem) {
		struct curl_blob c = { (void *)auth->cert_pem, auth->cert_len, CURL_BLOB_COPY };
		struct curl_blob k = { (void *)auth->key_pem, auth->key_len, CURL_BLOB_COPY };
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &c);
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &k);
	}
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 60000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);

	cc = curl_easy_perform(h);
	if (cc == CURLE_WRITE_ERROR && x.stopped)
		cc = CURLE_OK;
	if (cc == CURLE_WRITE_ERROR && x.too_big) {
		/* a budget, not a failure to retry: the same request gets the same reply */
		kbuf_release(&resp->body);
		kbuf_init(&resp->body, 0);
		rc = kerr_set(err, KE_LIMIT, "%s %s%.*s: the API server's reply is larger than %zu bytes, the limit for one reply (KSTAGE_HTTP_MAX_REPLY_BYTES): refusing it",
			      req->method, t->base, plen, req->path, t->max_reply);
	} else if (cc == CURLE_ABORTED_BY_CALLBACK && x.stalled) {
		resp->cut = KUBE_CUT_STALL;
		if (x.stalled_in_head)
			rc = kerr_set(err, KE_IO, "%s %s%.*s: the reply stalled: bytes came, but no complete header line within %ld s (KSTAGE_HTTP_STALL_SECONDS)",
				      req->method, t->base, plen, req->path, t->stall_s);
		else
			rc = kerr_set(err, KE_IO, "%s %s%.*s: the reply stalled: less than 1 byte/s for %ld s (KSTAGE_HTTP_STALL_SECONDS)",
				      req->method, t->base, plen, req->path, t->stall_s);
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		long ms = req->timeout_ms > 0 ? req->timeout_ms : 60000L;
		curl_off_t pre = 0;
		const char *limit = req->timeout_is_deadline ? "what was left of the request's deadline"
							     : "the time limit of one attempt";
		resp->cut = KUBE_CUT_TIMEOUT;
		curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pre);
		if (!pre && ms > t->http.connect_timeout_ms) {
			ms = t->http.connect_timeout_ms;
			limit = "the time limit of a connection";
		}
		rc = kerr_set(err, KE_IO, "%s %s%.*s: %s within %.1f s (%s)", req->method, t->base, plen, req->path,
			      pre ? "no complete answer" : "no connection", (double)ms / 1000.0, limit);
	} else if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	} else {
		const char *detail = ebuf[0] ? ebuf : curl_easy_strerror(cc);
		switch (cc) {
		case CURLE_SSL_CERTPROBLEM:
			rc = kerr_set(err, KE_CLUSTER, "%s: TLS client certificate: %s (check client-certificate and client-key%s of user \"%s\" in %s)",
				      t->base, detail, t->cfg->exec ? ", or what the exec plugin printed" : "",
				      t->cfg->user_name ? t->cfg->user_name : "",
				      t->cfg->source ? t->cfg->source : "the kubeconfig");
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
			rc = kerr_set(err, KE_CLUSTER, "%s: TLS: %s (check certificate-authority%s in %s)", t->base,
				      detail, t->cfg->tls_server_name ? " and tls-server-name" : "",
				      t->cfg->source ? t->cfg->source : "the kubeconfig");
			break;
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			rc = kerr_set(err, KE_CLUSTER, "%s: %s", t->base, detail);
			break;
		default:
			resp->not_sent = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
					 cc == CURLE_COULDNT_RESOLVE_PROXY;
			rc = kerr_set(err, KE_IO, "%s %s%.*s: %s", req->method, t->base, plen, req->path, detail);
			break;
		}
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, NULL);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
	curl_slist_free_all(hd);
	kbuf_release(&url);
	kbuf_release(&line);
	if (cc != CURLE_OK) {
		/* a failed connection is not worth keeping */
		handle_free(h);
	} else {
		pool_put(t, h);
	}
	return rc;
}

static void curl_tr_free(void *impl)
{
	curl_tr *t = impl;
	size_t i;
	for (i = 0; i < t->npool; i++)
		handle_free(t->pool[i]);
	free(t->pool);
	curl_share_cleanup(t->sh);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&t->locks[i]);
	pthread_mutex_destroy(&t->pool_mu);
	curl_slist_free_all(t->connect_to);
	free(t->base);
	free(t);
}

/* A file the kubeconfig names (certificate-authority, client-certificate,
 * client-key) must be readable before any connection, as client-go checks:
 * libcurl would only fail on it after connecting, or report the server as
 * unreachable first. KE_INPUT naming the key and the file. */
static int check_file(const kube_config *cfg, const char *key, const char *path, kerr *err)
{
	struct stat st;
	const char *why;
	if (!path)
		return 0;
	if (stat(path, &st))
		why = strerror(errno);
	else if (S_ISDIR(st.st_mode))
		why = "is a directory";
	else if (access(path, R_OK))
		why = strerror(errno);
	else
		return 0;
	return kerr_set(err, KE_INPUT, "%s: unable to read %s %s: %s", cfg->source ? cfg->source : "kubeconfig", key,
			path, why);
}

/* The transport limits the environment may set (README: for tests, which
 * make them small, and for clusters that need other ones). */
static const struct env_lim {
	const char *name, *unit;
	long def, min, max;
} env_lims[] = {
	{ "KSTAGE_HTTP_MAX_REPLY_BYTES", "bytes", KUBE_REPLY_MAX, 1024, (long)(KBUF_MAX / 2) },
	{ "KSTAGE_HTTP_STALL_SECONDS", "seconds", KUBE_STALL_S, 1, 3600 },
	{ "KSTAGE_HTTP_DEADLINE_SECONDS", "seconds", KUBE_DEADLINE_S, 1, 86400 },
};

/* The value of limit i set in the environment into *out: 1, or 0 when it
 * is not set, -1 when it is not a number in the limit's range. */
static int env_value(size_t i, long *out)
{
	const struct env_lim *l = &env_lims[i];
	const char *v = getenv(l->name);
	char *end;
	long n;
	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*end || errno || n < l->min || n > l->max)
		return -1;
	*out = n;
	return 1;
}

/* Limit i: the environment's value, else its default (kube_limits_check
 * refused an invalid one before any request). */
static long env_limit(size_t i)
{
	long n;
	return env_value(i, &n) > 0 ? n : env_lims[i].def;
}

int kube_limits_check(kerr *err)
{
	size_t i;
	long n;
	for (i = 0; i < sizeof(env_lims) / sizeof(env_lims[0]); i++)
		if (env_value(i, &n) < 0)
			return kerr_set(err, KE_INPUT, "%s=\"%s\": want a whole number of %s from %ld to %ld (default %ld)",
					env_lims[i].name, getenv(env_lims[i].name), env_lims[i].unit, env_lims[i].min,
					env_lims[i].max, env_lims[i].def);
	return 0;
}

size_t kube_reply_limit(void)
{
	return (size_t)env_limit(0);
}

int kube_transport_curl(kube_transport *out, const kube_config *cfg, kerr *err)
{
	curl_tr *t;
	size_t i;
	const char *s = cfg->server;
	if (strncmp(s, "https://", 8) && strncmp(s, "http://", 7))
		return kerr_set(err, KE_CLUSTER, "server \"%s\" in %s is not an https:// URL", s,
				cfg->source ? cfg->source : "the kubeconfig");
	{
		int rc;
		if ((rc = kube_limits_check(err)) ||
		    (rc = check_file(cfg, "certificate-authority", cfg->ca_file, err)) ||
		    (rc = check_file(cfg, "client-certificate", cfg->cert_file, err)) ||
		    (rc = check_file(cfg, "client-key", cfg->key_file, err)))
			return rc;
	}
	fetch_http_global_init();
	t = xcalloc(1, sizeof(*t));
	t->cfg = cfg;
	t->http.ca_pem = cfg->ca_pem;
	t->http.ca_len = cfg->ca_len;
	t->http.ca_file = cfg->ca_file;
	t->http.insecure = cfg->insecure;
	t->http.proxy = cfg->proxy_url;
	t->http.allow_http = !strncmp(s, "http://", 7);   /* the kubeconfig asked for it */
	t->http.connect_timeout_ms = 10000;
	t->max_reply = kube_reply_limit();
	t->stall_s = env_limit(1);
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&t->locks[i], NULL);
	pthread_mutex_init(&t->pool_mu, NULL);
	t->sh = curl_share_init();
	curl_share_setopt(t->sh, CURLSHOPT_LOCKFUNC, sh_lock);
	curl_share_setopt(t->sh, CURLSHOPT_UNLOCKFUNC, sh_unlock);
	curl_share_setopt(t->sh, CURLSHOPT_USERDATA, t);
	/* not CURL_LOCK_DATA_CONNECT: libcurl does not support sharing live
	 * connections between concurrent threads; each pooled handle keeps its
	 * own connection alive instead */
	curl_share_setopt(t->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(t->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	if (cfg->tls_server_name && *cfg->tls_server_name) {
		/* verify and send SNI for tls-server-name, connect to the real host */
		const char *hs = strstr(s, "://") + 3, *he = hs, *port = "443", *rest;
		kbuf b = KBUF_INIT, ct = KBUF_INIT;
		char *host, *portbuf = NULL;
		if (*hs == '[') {
			he = strchr(hs, ']');
			he = he ? he + 1 : hs + strlen(hs);
		} else {
			while (*he && *he != ':' && *he != '/')
				he++;
		}
		host = xstrndup(hs, (size_t)(he - hs));
		rest = he;
		if (*rest == ':') {
			const char *pe = rest + 1;
			while (*pe && *pe != '/')
				pe++;
			portbuf = xstrndup(rest + 1, (size_t)(pe - rest - 1));
			port = portbuf;
			rest = pe;
		}
		kbuf_printf(&b, "https://%s:%s%s", cfg->tls_server_name, port, rest);
		kbuf_printf(&ct, "%s:%s:%s:%s", cfg->tls_server_name, port, host, port);
		t->connect_to = curl_slist_append(NULL, ct.ptr);
		t->base = kbuf_detach(&b, NULL);
		kbuf_release(&ct);
		free(host);
		free(portbuf);
	} else {
		t->base = xstrdup(s);
	}
	out->send = curl_send;
	out->free = curl_tr_free;
	out->impl = t;
	return 0;
}

/* ---- credentials -------------------------------------------------------- */

static int64_t parse_rfc3339(const char *s)
{
	struct tm tm;
	const char *p;
	int64_t t;
	int n = 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &n) < 6 || n <= 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	p = s + n;
	t = (int64_t)timegm(&tm);
	while (*p == '.' || (*p >= '0' && *p <= '9'))
		p++;
	if (*p == '+' || *p == '-') {
		int hh = 0, mm = 0;
		if (sscanf(p + 1, "%d:%d", &hh, &mm) >= 1)
			t -= (*p == '+' ? 1 : -1) * (int64_t)(hh * 3600 + mm * 60);
	}
	return t;
}

/* What one run of the exec plugin gave (secrets, wiped by exec_cred_release). */
typedef struct exec_cred {
	char *token, *cert, *key;
	size_t cert_len, key_len;
	int64_t expiry;
} exec_cred;

static void wipe_free(char *p, size_t len)
{
	if (p) {
		memset(p, 0, len);
		free(p);
	}
}

static void exec_cred_release(exec_cred *x)
{
	wipe_free(x->token, x->token ? strlen(x->token) : 0);
	wipe_free(x->key, x->key_len);
	free(x->cert);
	memset(x, 0, sizeof(*x));
}

static bool env_named(const char *entry, const char *const *names, size_t n)
{
	size_t i, len = strcspn(entry, "=");
	for (i = 0; i < n; i++)
		if (!strncmp(names[i], entry, len) && names[i][len] == '=')
			return true;
	return false;
}

#define EXEC_OUTPUT_MAX ((size_t)1 << 20)

/* Run the exec plugin and parse its ExecCredential into *x. Takes no lock:
 * the caller serializes runs with c->exec_mu and keeps c->mu free. */
static int run_exec(kube_client *c, exec_cred *x, kerr *err)
{
	const kube_exec *e = c->cfg->exec;
	char **argv, **envp;
	size_t nenv = 0, i, k = 0;
	kbuf out = KBUF_INIT, info = KBUF_INIT;
	int status = 0, spawn_errno = 0, rc;
	karena a = KARENA_INIT;
	doc_node *cred;
	kerr perr = KERR_INIT;
	long timeout_ms = c->exec_timeout_ms > 0 ? c->exec_timeout_ms : 60000;

	memset(x, 0, sizeof(*x));
	while (environ[nenv])
		nenv++;
	envp = xcalloc(st_add(st_add(nenv, e->nenv), 2), sizeof(char *));
	/* the kubeconfig's env wins over the inherited environment (kubectl) */
	for (i = 0; i < nenv; i++)
		if (!env_named(environ[i], (const char *const *)e->env, e->nenv) &&
		    strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21))
			envp[k++] = environ[i];
	for (i = 0; i < e->nenv; i++)
		envp[k++] = e->env[i];
	kbuf_printf(&info, "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
		    "\"spec\":{\"interactive\":false}}", e->api_version);
	envp[k++] = info.ptr;
	argv = xcalloc(e->nargs + 2, sizeof(char *));
	argv[0] = e->command;
	for (i = 0; i < e->nargs; i++)
		argv[i + 1] = e->args[i];
	rc = kproc_run(argv, envp, NULL, 0, timeout_ms, EXEC_OUTPUT_MAX, &out, &status, &spawn_errno);
	free(envp);
	free(argv);
	kbuf_release(&info);
	if (rc == KE_IO)
		return kerr_set(err, KE_CLUSTER, "exec plugin \"%s\": %s%s%s", e->command, strerror(spawn_errno),
				e->install_hint ? ": " : "", e->install_hint ? e->install_hint : "");
	if (rc || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		memset(out.ptr, 0, out.len);
		kbuf_release(&out);
	}
	if (rc == KE_TIMEOUT)
		return kerr_set(err, KE_CLUSTER, "exec plugin \"%s\" did not finish within %.1fs: stopped it",
				e->command, (double)timeout_ms / 1000.0);
	if (rc == KE_LIMIT)
		return kerr_set(err, KE_CLUSTER, "exec plugin \"%s\" printed more than %zu MiB: stopped it",
				e->command, EXEC_OUTPUT_MAX >> 20);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return kerr_set(err, KE_CLUSTER, "exec plugin \"%s\" failed (%s %d)", e->command,
				WIFEXITED(status) ? "exit status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	rc = doc_load_json(&cred, &a, "exec plugin output", out.ptr, out.len, &perr);
	memset(out.ptr, 0, out.len);
	kbuf_release(&out);
	if (rc || cred->type != DOC_MAP || strcmp(doc_get_str(cred, "kind", ""), "ExecCredential")) {
		kerr_clear(&perr);
		karena_release(&a);
		return kerr_set(err, KE_CLUSTER, "exec plugin \"%s\" did not print an ExecCredential", e->command);
	}
	kerr_clear(&perr);
	if (strcmp(doc_get_str(cred, "apiVersion", ""), e->api_version)) {
		/* client-go's words: a credential of another version is not read */
		rc = kerr_set(err, KE_CLUSTER, "exec plugin \"%s\" is configured to use API version %s, plugin returned version %s",
			      e->command, e->api_version, doc_get_str(cred, "apiVersion", ""));
		karena_release(&a);
		return rc;
	}
	{
		const char *tok = doc_get_str(cred, "status.token", NULL);
		const char *crt = doc_get_str(cred, "status.clientCertificateData", NULL);
		const char *key = doc_get_str(cred, "status.clientKeyData", NULL);
		const char *exp = doc_get_str(cred, "status.expirationTimestamp", NULL);
		if (tok)
			x->token = xstrdup(tok);
		if (crt && key) {
			x->cert = xstrdup(crt);
			x->cert_len = strlen(crt);
			x->key = xstrdup(key);
			x->key_len = strlen(key);
		}
		x->expiry = exp ? parse_rfc3339(exp) : 0;
		if (!tok && !(crt && key))
			rc = kerr_set(err, KE_CLUSTER,
				      "exec plugin \"%s\" gave neither a token nor a client certificate and key",
				      e->command);
	}
	/* the credential's strings were in the arena: wipe it */
	{
		doc_node *st = doc_map_get(cred, "status");
		size_t j;
		for (j = 0; st && st->type == DOC_MAP && j < st->u.map.len; j++)
			if (st->u.map.v[j].val->type == DOC_STR)
				memset(st->u.map.v[j].val->u.s.ptr, 0, st->u.map.v[j].val->u.s.len);
	}
	karena_release(&a);
	if (rc)
		exec_cred_release(x);
	else
		kube_emit(c, KEV_DEBUG, "auth.exec", "exec credential plugin ran", "command", e->command, NULL);
	return rc;
}

/* The exec credential, run again when missing or (about to be) expired.
 * One run at a time (c->exec_mu); c->mu is held only to read and store. */
static int exec_refresh(kube_client *c, kerr *err)
{
	int rc = 0;
	bool need;
	exec_cred x;
	pthread_mutex_lock(&c->exec_mu);
	pthread_mutex_lock(&c->mu);
	{
		int64_t now = (int64_t)time(NULL);
		need = c->exec_expiry < 0 || (c->exec_expiry > 0 && now + 10 >= c->exec_expiry);
	}
	pthread_mutex_unlock(&c->mu);
	if (need && !(rc = run_exec(c, &x, err))) {
		pthread_mutex_lock(&c->mu);
		wipe_free(c->exec_token, c->exec_token ? strlen(c->exec_token) : 0);
		wipe_free(c->exec_key, c->exec_key_len);
		free(c->exec_cert);
		c->exec_token = x.token;
		c->exec_cert = x.cert;
		c->exec_cert_len = x.cert_len;
		c->exec_key = x.key;
		c->exec_key_len = x.key_len;
		c->exec_expiry = x.expiry;
		pthread_mutex_unlock(&c->mu);
	}
	pthread_mutex_unlock(&c->exec_mu);
	return rc;
}

static int read_token_file(kube_client *c, kerr *err)
{
	kbuf b = KBUF_INIT;
	int r = kbuf_read_file(&b, c->cfg->token_file, 1 << 20);
	if (r < 0) {
		int e = errno;
		memset(b.ptr, 0, b.len);
		kbuf_release(&b);
		if (r == -2)
			return kerr_set(err, KE_CLUSTER, "token file \"%s\" is larger than 1 MiB: not a token",
					c->cfg->token_file);
		return kerr_set(err, KE_CLUSTER, "token file \"%s\": %s", c->cfg->token_file, strerror(e));
	}
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r' || b.ptr[b.len - 1] == ' '))
		kbuf_truncate(&b, b.len - 1);
	free(c->file_token);
	c->file_token = kbuf_detach(&b, NULL);
	return 0;
}

/* A bearer token goes into a header line: a control character (CR/LF
 * would add headers) refuses it. Never quotes the token. */
static int check_token(const char *tok, const char *from, const char *where, kerr *err)
{
	const unsigned char *p;
	for (p = (const unsigned char *)tok; p && *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return kerr_set(err, KE_CLUSTER,
					"the bearer token from %s%s%s holds a control character (0x%02x at byte %zu): refusing to send it",
					from, where ? " " : "", where ? where : "", *p, (size_t)(p - (const unsigned char *)tok));
	return 0;
}

static void auth_release(kube_auth *a);

/* Fill a with the credentials to use now (copies, wiped by auth_release). */
static int get_auth(kube_client *c, kube_auth *a, kerr *err)
{
	const kube_config *cfg = c->cfg;
	int rc = 0;
	memset(a, 0, sizeof(*a));
	if (cfg->exec && (rc = exec_refresh(c, err)))
		return rc;
	pthread_mutex_lock(&c->mu);
	if (cfg->exec) {
		if (c->exec_token)
			rc = check_token(c->exec_token, "exec plugin", cfg->exec->command, err);
		if (!rc) {
			a->token = c->exec_token ? xstrdup(c->exec_token) : NULL;
			if (c->exec_cert) {
				a->cert_pem = xmemdup(c->exec_cert, c->exec_cert_len + 1);
				a->cert_len = c->exec_cert_len;
				a->key_pem = xmemdup(c->exec_key, c->exec_key_len + 1);
				a->key_len = c->exec_key_len;
			}
		}
	}
	if (!rc && !a->token && cfg->token) {
		rc = check_token(cfg->token, "the kubeconfig", cfg->source, err);
		if (!rc)
			a->token = xstrdup(cfg->token);
	}
	if (!rc && !a->token && cfg->token_file) {
		if (!c->file_token)
			rc = read_token_file(c, err);
		if (!rc)
			rc = check_token(c->file_token, "token file", cfg->token_file, err);
		if (!rc)
			a->token = xstrdup(c->file_token);
	}
	if (!rc && !a->cert_pem && cfg->cert_pem && cfg->key_pem) {
		a->cert_pem = xmemdup(cfg->cert_pem, cfg->cert_len + 1);
		a->cert_len = cfg->cert_len;
		a->key_pem = xmemdup(cfg->key_pem, cfg->key_len + 1);
		a->key_len = cfg->key_len;
	}
	pthread_mutex_unlock(&c->mu);
	if (rc)
		auth_release(a);
	/* whatever credential is used is masked in all output */
	if (a->token)
		kev_secret(c->user_sink, a->token, strlen(a->token));
	if (a->key_pem)
		kev_secret(c->user_sink, a->key_pem, a->key_len);
	return rc;
}

static void auth_release(kube_auth *a)
{
	if (a->token) {
		memset((char *)a->token, 0, strlen(a->token));
		free((char *)a->token);
	}
	if (a->key_pem) {
		memset((char *)a->key_pem, 0, a->key_len);
		free((char *)a->key_pem);
	}
	free((char *)a->cert_pem);
	memset(a, 0, sizeof(*a));
}

/* ---- the client ---------------------------------------------------------- */

static void locked_emit(void *ctx, const kevent *ev)
{
	kube_client *c = ctx;
	pthread_mutex_lock(&c->emit_mu);
	if (c->user_sink && c->user_sink->emit)
		c->user_sink->emit(c->user_sink->ctx, ev);
	pthread_mutex_unlock(&c->emit_mu);
}

kube_client *kube_client_new_with(kube_transport tr, const kube_config *cfg, const kev_sink *sink)
{
	kube_client *c = xcalloc(1, sizeof(*c));
	c->tr = tr;
	c->cfg = cfg;
	c->user_sink = sink;
	c->sink.emit = locked_emit;
	c->sink.ctx = c;
	c->exec_expiry = -1;
	c->request_deadline_ms = env_limit(2) * 1000;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->exec_mu, NULL);
	pthread_mutex_init(&c->emit_mu, NULL);
	return c;
}

int kube_client_new(kube_client **out, const kube_config *cfg, const kev_sink *sink, kerr *err)
{
	kube_transport tr;
	int rc = kube_transport_curl(&tr, cfg, err);
	if (rc)
		return rc;
	*out = kube_client_new_with(tr, cfg, sink);
	if (cfg->insecure)
		kube_emit(*out, KEV_WARN, "tls.insecure",
			  "insecure-skip-tls-verify is set: the API server's certificate is NOT checked; anyone on the network path can read and change what kstage sends",
			  "cluster", cfg->cluster_name, NULL);
	return 0;
}

void kube_discovery_free(kube_discovery *d);

void kube_stats_add(kube_client *to, kube_client *from, unsigned long retried)
{
	kube_stats st;
	size_t i;
	pthread_mutex_lock(&from->mu);
	st = from->stats;
	pthread_mutex_unlock(&from->mu);
	pthread_mutex_lock(&to->mu);
	to->stats.requests += st.requests;
	to->stats.retries += st.retries + retried;
	for (i = 0; i < sizeof(st.by_method) / sizeof(st.by_method[0]); i++)
		to->stats.by_method[i] += st.by_method[i];
	pthread_mutex_unlock(&to->mu);
}

void kube_client_free(kube_client *c)
{
	if (!c)
		return;
	if (c->tr.free)
		c->tr.free(c->tr.impl);
	kube_discovery_free(c->disc);
	if (c->exec_token) {
		memset(c->exec_token, 0, strlen(c->exec_token));
		free(c->exec_token);
	}
	if (c->exec_key) {
		memset(c->exec_key, 0, c->exec_key_len);
		free(c->exec_key);
	}
	free(c->exec_cert);
	if (c->file_token) {
		memset(c->file_token, 0, strlen(c->file_token));
		free(c->file_token);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->exec_mu);
	pthread_mutex_destroy(&c->emit_mu);
	free(c);
}

void kube_emit(kube_client *c, kev_level lvl, const char *kind, const char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	kev_emitv(&c->sink, lvl, kind, msg, ap);
	va_end(ap);
}

long kube_backoff_ms(const kube_client *c, int n, long retry_after_s, unsigned *seed)
{
	long base = c->base_delay_ms > 0 ? c->base_delay_ms : 200;
	long max = c->max_delay_ms > 0 ? c->max_delay_ms : 10000;
	long d = base;
	int i;
	for (i = 1; i < n && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	/* equal jitter: half fixed, half random */
	d = d / 2 + (long)(rand_r(seed) % (unsigned)(d / 2 + 1));
	if (retry_after_s >= 0) {
		long ra = (retry_after_s > 60 ? 60 : retry_after_s) * 1000;
		if (ra > d)
			d = ra + (long)(rand_r(seed) % 100);
	}
	return d;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int method_index(const char *m)
{
	if (!strcmp(m, "GET")) return 0;
	if (!strcmp(m, "PATCH")) return 1;
	if (!strcmp(m, "PUT")) return 2;
	if (!strcmp(m, "POST")) return 3;
	return 4;
}

int kube_do(kube_client *c, const kube_req *req, kube_resp *resp, kerr *err)
{
	int max = c->max_attempts > 0 ? c->max_attempts : 8;
	int attempt, rc = 0;
	kube_req rq = *req;
	bool refreshed = false;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)resp;
	kerr last = KERR_INIT;
	long start = mono_ms(), deadline, left, own, attempt_ms;
	bool out_of_time = false, deadline_cut = false;
	int stalls = 0;

	if ((rc = kube_req_check(req, c->dry_run_only, err)))
		return rc;
	own = req->timeout_ms;
	attempt_ms = own > 0 ? own : c->request_timeout_ms > 0 ? c->request_timeout_ms : 60000;
	/* every attempt, retry and backoff of the request within one deadline;
	 * a request given a longer time of its own (a watch) gets that for one
	 * attempt */
	deadline = c->request_deadline_ms > 0 ? c->request_deadline_ms : KUBE_DEADLINE_S * 1000L;
	if (deadline < own)
		deadline = own;

	for (attempt = 1; attempt <= max; attempt++) {
		kube_auth auth;
		bool retry = false;
		long ra = -1;
		resp_reset(resp);
		if (c->before_write && strcmp(req->method, "GET") && (rc = c->before_write(c->before_write_ctx, err))) {
			kerr_clear(&last);   /* why it may not write is the message to keep */
			break;
		}
		if ((rc = get_auth(c, &auth, err))) {
			kerr_clear(&last);   /* the credential's message is the one to keep */
			break;
		}
		kerr_clear(&last);
		left = deadline - (mono_ms() - start);
		rq.timeout_ms = attempt_ms < left ? attempt_ms : left > 1000 ? left : 1000;
		rq.timeout_is_deadline = attempt_ms >= left;
		rc = c->tr.send(c->tr.impl, &rq, &auth, resp, &last);
		if (resp->cut == KUBE_CUT_STALL)
			stalls++;
		deadline_cut = resp->cut == KUBE_CUT_TIMEOUT && rq.timeout_is_deadline;
		auth_release(&auth);
		pthread_mutex_lock(&c->mu);
		c->stats.requests++;
		c->stats.by_method[method_index(req->method)]++;
		if (attempt > 1)
			c->stats.retries++;
		pthread_mutex_unlock(&c->mu);
		if (rc == KE_IO) {
			retry = req->idempotent || resp->not_sent;
			if (resp->not_sent && attempt >= 4)
				retry = false;
		} else if (rc) {
			break;
		} else if (resp->status == 429) {
			retry = true;
			ra = resp->retry_after_s;
		} else if (resp->status == 503 || resp->status == 504 || resp->status == 502 ||
			   resp->status == 500) {
			retry = req->idempotent || resp->status == 503;
			ra = resp->retry_after_s;
		} else if (resp->status == 401 && !refreshed && (c->cfg->exec || c->cfg->token_file)) {
			/* the credential may have expired or rotated: get a new one once */
			refreshed = true;
			pthread_mutex_lock(&c->mu);
			c->exec_expiry = -1;
			free(c->file_token);
			c->file_token = NULL;
			pthread_mutex_unlock(&c->mu);
			continue;
		}
		if (!retry || attempt == max)
			break;
		{
			long d = kube_backoff_ms(c, attempt, ra, &seed);
			char ms[32], at[16];
			if (mono_ms() - start + d + 1000 > deadline) {
				out_of_time = true;   /* no time left for another attempt */
				break;
			}
			snprintf(ms, sizeof(ms), "%ld", d);
			snprintf(at, sizeof(at), "%d", attempt);
			kube_emit(c, KEV_DEBUG, "http.retry", rc ? last.first.msg : "retrying after a server error",
				  "method", req->method, "attempt", at, "delay_ms", ms, NULL);
			sleep_ms(d);
		}
	}
	if (rc == KE_IO) {
		/* how many attempts over how long, and which limits ended them;
		 * the last attempt's failure, naming the request, follows */
		int n = attempt > max ? max : attempt;
		char ended[128] = "", stalled[64] = "";
		if (deadline_cut)
			snprintf(ended, sizeof(ended), ", ended by the %ld s deadline of one request (KSTAGE_HTTP_DEADLINE_SECONDS)",
				 deadline / 1000);
		else if (out_of_time)
			snprintf(ended, sizeof(ended), ", no time left for another within the %ld s deadline of one request (KSTAGE_HTTP_DEADLINE_SECONDS)",
				 deadline / 1000);
		if (stalls && (stalls > 1 || resp->cut != KUBE_CUT_STALL))
			snprintf(stalled, sizeof(stalled), ", %d of them stalled (KSTAGE_HTTP_STALL_SECONDS)", stalls);
		kerr_move(err, &last);
		kerr_wrap(err, "cluster unreachable after %d attempt%s in %.1f s%s%s", n, n > 1 ? "s" : "",
			  (double)(mono_ms() - start) / 1000.0, ended, stalled);
		err->code = KE_CLUSTER;
		rc = KE_CLUSTER;
	} else if (rc) {
		if (last.code)
			kerr_move(err, &last);
		rc = err->code;
	} else if (resp->status == 401) {
		rc = kerr_set(err, KE_CLUSTER, "401 Unauthorized: the API server at %s did not accept the credentials of user \"%s\" (context \"%s\")",
			      c->cfg->server, c->cfg->user_name ? c->cfg->user_name : "", c->cfg->context ? c->cfg->context : "");
	}
	kerr_clear(&last);
	if (!rc && resp->warnings.len) {
		char *w = resp->warnings.ptr, *nl;
		while (*w && (nl = strchr(w, '\n'))) {
			*nl = '\0';
			if (*w)
				kube_emit(c, KEV_WARN, "api.warning", w, NULL);
			w = nl + 1;
		}
		kbuf_reset(&resp->warnings);
	}
	return rc;
}

/* ---- worker pool ---------------------------------------------------------- */

typedef struct par {
	pthread_mutex_t mu;
	size_t next, n;
	void (*fn)(void *ctx, size_t i, karena *a);
	void *ctx;
} par;

typedef struct par_worker {
	par *p;
	karena *a;
} par_worker;

static void *par_run(void *u)
{
	par_worker *w = u;
	par *p = w->p;
	for (;;) {
		size_t i;
		pthread_mutex_lock(&p->mu);
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			break;
		p->fn(p->ctx, i, w->a);
	}
	return NULL;
}

void kube_parallel(size_t n, size_t bound, void (*fn)(void *ctx, size_t i, karena *a), void *ctx,
		   karena *arenas)
{
	par p;
	par_worker *w;
	pthread_t *th;
	size_t k, i, started = 0;
	if (bound == 0)
		bound = 1;
	k = n < bound ? n : bound;
	if (k <= 1) {
		for (i = 0; i < n; i++)
			fn(ctx, i, &arenas[0]);
		return;
	}
	pthread_mutex_init(&p.mu, NULL);
	p.next = 0;
	p.n = n;
	p.fn = fn;
	p.ctx = ctx;
	w = xcalloc(k, sizeof(*w));
	th = xcalloc(k, sizeof(*th));
	for (i = 0; i < k; i++) {
		w[i].p = &p;
		w[i].a = &arenas[i];
		if (pthread_create(&th[i], NULL, par_run, &w[i]) != 0)
			break;
		started++;
	}
	if (!started) {
		w[0].p = &p;
		w[0].a = &arenas[0];
		par_run(&w[0]);
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&p.mu);
	free(w);
	free(th);
}
