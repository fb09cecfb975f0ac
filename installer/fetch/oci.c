/*
 * fetch/oci.c - Helm charts from OCI registries (the distribution API, as
 * `helm pull oci://...` speaks it): the manifest by tag or by digest, then
 * the chart layer by digest; both verified by their SHA-256 and kept in the
 * content-addressed cache, so a pinned chart is read from the cache with no
 * network at all. Access is anonymous until the registry answers 401: then
 * its WWW-Authenticate challenge is followed (Bearer: a token from the
 * realm, asked with the credentials if there are any; Basic: the
 * credentials), once per client. Credentials come from a Docker-style
 * config.json ("auths": {"HOST": {"auth": base64("user:pass")}}): the
 * --registry-config file, else Helm's ($HELM_REGISTRY_CONFIG, else
 * $XDG_CONFIG_HOME/helm/registry/config.json), else Docker's
 * ($DOCKER_CONFIG/config.json, else ~/.docker/config.json). As in Docker,
 * a credential helper named for the host ("credHelpers": {"HOST": NAME})
 * or for every host ("credsStore": NAME) wins over "auths": kstage runs
 * docker-credential-NAME get with the host on stdin (Docker's protocol),
 * bounded in time and output. Passwords, the basic header and tokens are
 * added to the sink's redaction list.
 */
#include "fetch_int.h"
#include "core/proc.h"
#include "doc/doc.h"

#include <ctype.h>
#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#define MANIFEST_MAX ((size_t)4 << 20)
#define TOKEN_MAX ((size_t)1 << 20)
#define HELPER_OUTPUT_MAX ((size_t)64 << 10)
#define HELPER_TIMEOUT_MS 30000L

static const char accept_manifest[] =
	"Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

typedef struct oci_client {
	const fetch_opts *o;
	const char *host, *repo;      /* where requests go (after mirror rules) */
	kbuf auth;                    /* "Authorization: ..." once a challenge was met, else empty */
	bool challenged;              /* one challenge per client */
	kbuf user, pass, creds_file;  /* credentials for host, when a config file has them */
	bool have_creds;
} oci_client;

static void client_release(oci_client *c)
{
	kbuf_release(&c->auth);
	kbuf_release(&c->user);
	kbuf_release(&c->pass);
	kbuf_release(&c->creds_file);
}

/* c for r's repository after o's mirror rules (plain: the reference
 * without tag; moved: after the rules; from: moved, parsed). */
static int client_open(oci_client *c, fetch_oci_ref *from, kbuf *plain, kbuf *moved, karena *a,
		       const fetch_oci_ref *r, const fetch_opts *o, kerr *err)
{
	int rc;
	kbuf_printf(plain, "oci://%s/%s", r->host, r->repo);
	if ((rc = fetch_mirror_url(moved, plain->ptr, o, err)) || (rc = fetch_oci_ref_parse(from, a, moved->ptr, err)))
		return rc;
	c->o = o;
	c->host = from->host;
	c->repo = from->repo;
	return 0;
}

static void mask(const oci_client *c, const char *s, size_t len)
{
	if (c->o && c->o->sink && c->o->sink->redact && len)
		kredact_add(c->o->sink->redact, s, len, 0);
}

/* ---- references ---- */

/* Components of lowercase letters and digits, joined inside by . _ - */
static bool repo_ok(const char *r)
{
	const char *p;
	size_t n = strlen(r);
	if (!n || n > 255)
		return false;
	for (p = r; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
		bool edge = p == r || p[-1] == '/' || !p[1] || p[1] == '/';
		if (!alnum && (edge || !strchr("._-/", *p)))
			return false;
	}
	return !strstr(r, "//");
}

static bool host_ok(const char *h)
{
	size_t n = strlen(h);
	return n && n < 256 && strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == n &&
	       h[0] != '.' && h[0] != '-';
}

static bool tag_ok(const char *t)
{
	size_t n = strlen(t);
	return n && n <= 128 && t[0] != '.' && t[0] != '-' &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

int fetch_oci_ref_parse(fetch_oci_ref *out, karena *a, const char *ref, kerr *err)
{
	const char *rest, *slash, *colon;
	char *repo;
	memset(out, 0, sizeof(*out));
	if (strncmp(ref, "oci://", 6))
		return kerr_set(err, KE_INPUT, "\"%s\" is not an oci:// reference", ref);
	rest = ref + 6;
	slash = strchr(rest, '/');
	if (!slash || slash == rest)
		return kerr_set(err, KE_INPUT, "\"%s\": want oci://HOST/REPOSITORY", ref);
	out->host = karena_strndup(a, rest, (size_t)(slash - rest));
	repo = karena_strdup(a, slash + 1);
	/* a tag after the last component: oci://host/repo:tag */
	colon = strrchr(repo, ':');
	if (colon && !strchr(colon, '/')) {
		out->tag = karena_strdup(a, colon + 1);
		repo[colon - repo] = '\0';
		if (!tag_ok(out->tag))
			return kerr_set(err, KE_INPUT, "\"%s\": tag \"%s\" is not a valid OCI tag", ref, out->tag);
	}
	out->repo = repo;
	if (!host_ok(out->host))
		return kerr_set(err, KE_INPUT, "\"%s\": \"%s\" is not a registry host", ref, out->host);
	if (!repo_ok(out->repo))
		return kerr_set(err, KE_INPUT, "\"%s\": repository \"%s\" must be lowercase letters, digits and "
				"separators (. _ - /) between them", ref, out->repo);
	return 0;
}

/* Helm's tag for a chart version: "+" is not allowed in tags, "_" stands for it. */
static char *version_tag(karena *a, const char *version)
{
	char *t = karena_strdup(a, version), *p;
	for (p = t; *p; p++)
		if (*p == '+')
			*p = '_';
	return t;
}

/* ---- credentials ---- */

static bool b64_decode(kbuf *out, const char *s, size_t len)
{
	struct base64_decode_ctx ctx;
	size_t n = BASE64_DECODE_LENGTH(len);
	uint8_t *dst;
	kbuf_reset(out);
	if (kbuf_grow(out, n + 1) < 0)
		return false;
	dst = (uint8_t *)out->ptr;
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &n, dst, len, s) || !base64_decode_final(&ctx))
		return false;
	out->len = n;
	out->ptr[n] = '\0';
	return true;
}

static void b64_encode(kbuf *out, const char *s, size_t len)
{
	size_t n = BASE64_ENCODE_RAW_LENGTH(len);
	if (kbuf_grow(out, n + 1) < 0)
		return;
	base64_encode_raw((char *)out->ptr + out->len, len, (const uint8_t *)s);
	out->len += n;
	out->ptr[out->len] = '\0';
}

/* A helper name as Docker takes it: the tail of a program's name. */
static bool helper_name_ok(const char *n)
{
	size_t i;
	for (i = 0; n[i]; i++)
		if (!isalnum((unsigned char)n[i]) && !strchr("-_.", n[i]))
			return false;
	return i > 0 && i <= 64 && n[0] != '.';
}

/* Credentials for c->host from docker-credential-NAME (named in file):
 * `get` with the host on stdin prints {"Username": ..., "Secret": ...}.
 * 1 found, 0 when the helper has none ("credentials not found", as Docker
 * reads it: anonymous), else KE_INPUT saying what went wrong. The
 * helper's output is wiped once read; the secret is masked. */
static int creds_helper(oci_client *c, const char *file, const char *name, kerr *err)
{
	kbuf prog = KBUF_INIT, out = KBUF_INIT;
	char *argv[3];
	long timeout = c->o && c->o->timeout_ms > 0 && c->o->timeout_ms < HELPER_TIMEOUT_MS ? c->o->timeout_ms
											       : HELPER_TIMEOUT_MS;
	int status = 0, spawn_errno = 0, rc;
	karena a = KARENA_INIT;
	doc_node *j = NULL;
	kerr perr = KERR_INIT;
	if (!helper_name_ok(name))
		return kerr_set(err, KE_INPUT, "%s: credential helper \"%s\" is not a helper name", file, name);
	kbuf_printf(&prog, "docker-credential-%s", name);
	argv[0] = prog.ptr;
	argv[1] = (char *)"get";
	argv[2] = NULL;
	rc = kproc_run(argv, NULL, c->host, strlen(c->host), timeout, HELPER_OUTPUT_MAX, &out, &status, &spawn_errno);
	if (rc == KE_IO)
		rc = kerr_set(err, KE_INPUT, "%s: credential helper %s for %s: %s", file, prog.ptr, c->host,
			      strerror(spawn_errno));
	else if (rc == KE_TIMEOUT)
		rc = kerr_set(err, KE_INPUT, "credential helper %s for %s did not finish within %.1fs: stopped it",
			      prog.ptr, c->host, (double)timeout / 1000.0);
	else if (rc == KE_LIMIT)
		rc = kerr_set(err, KE_INPUT, "credential helper %s for %s printed more than %zu KiB: stopped it",
			      prog.ptr, c->host, HELPER_OUTPUT_MAX >> 10);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		/* Docker's helpers say "credentials not found in native keychain" */
		rc = out.len && strstr(out.ptr, "credentials not found") ? 0
		     : kerr_set(err, KE_INPUT, "credential helper %s for %s failed (%s %d)", prog.ptr, c->host,
				WIFEXITED(status) ? "exit status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	else if (doc_load_json(&j, &a, prog.ptr, out.ptr, out.len, &perr) || j->type != DOC_MAP ||
		 !doc_map_get(j, "Username") || doc_map_get(j, "Username")->type != DOC_STR ||
		 !doc_map_get(j, "Secret") || doc_map_get(j, "Secret")->type != DOC_STR)
		rc = kerr_set(err, KE_INPUT, "credential helper %s for %s did not print {\"Username\", \"Secret\"}",
			      prog.ptr, c->host);
	else if (!strcmp(doc_map_get(j, "Username")->u.s.ptr, "<token>"))
		rc = kerr_set(err, KE_INPUT, "credential helper %s for %s gave an identity token: kstage takes a "
			      "username and password", prog.ptr, c->host);
	else {
		const doc_node *sec = doc_map_get(j, "Secret");
		kbuf_puts(&c->user, doc_map_get(j, "Username")->u.s.ptr);
		kbuf_put(&c->pass, sec->u.s.ptr, sec->u.s.len);
		mask(c, c->pass.ptr, c->pass.len);
		kbuf_printf(&c->creds_file, "%s (%s)", file, prog.ptr);
		c->have_creds = true;
		rc = 1;
	}
	if (j && j->type == DOC_MAP) {
		const doc_node *sec = doc_map_get(j, "Secret");
		if (sec && sec->type == DOC_STR)
			memset(sec->u.s.ptr, 0, sec->u.s.len);
	}
	memset(out.ptr, 0, out.len);
	kbuf_release(&out);
	kbuf_release(&prog);
	kerr_clear(&perr);
	karena_release(&a);
	return rc;
}

/* Credentials for c->host from one config file. 1 found, 0 not there, or
 * KE_INPUT for a file that does not parse or a helper that fails. */
static int creds_from(oci_client *c, const char *file, bool must_exist, kerr *err)
{
	karena a = KARENA_INIT;
	kbuf text = KBUF_INIT, dec = KBUF_INIT, key = KBUF_INIT;
	doc_node *root = NULL, *auths, *e = NULL;
	static const char *const prefixes[] = { "", "https://", "http://" };
	size_t i;
	int rc = 0;
	if (kbuf_read_file(&text, file, 1 << 20) != 0) {
		if (must_exist)
			rc = kerr_set(err, KE_INPUT, "registry config \"%s\" cannot be read", file);
		goto done;
	}
	if ((rc = doc_load_json(&root, &a, file, text.ptr, text.len, err)))
		goto done;
	if (root && root->type == DOC_MAP) {
		const doc_node *hs = doc_map_get(root, "credHelpers"), *h = NULL;
		if (hs && hs->type == DOC_MAP)
			h = doc_map_get(hs, c->host);
		if (!h || h->type != DOC_STR)
			h = doc_map_get(root, "credsStore");
		if (h && h->type == DOC_STR && h->u.s.len) {
			rc = creds_helper(c, file, h->u.s.ptr, err);
			goto done;
		}
	}
	auths = root && root->type == DOC_MAP ? doc_map_get(root, "auths") : NULL;
	for (i = 0; auths && auths->type == DOC_MAP && !e && i < 3; i++) {
		kbuf_reset(&key);
		kbuf_printf(&key, "%s%s", prefixes[i], c->host);
		e = doc_map_get(auths, key.ptr);
	}
	if (!e || e->type != DOC_MAP)
		goto done;
	{
		const char *auth = doc_get_str(e, "auth", NULL);
		const char *u = doc_get_str(e, "username", NULL), *p = doc_get_str(e, "password", NULL);
		if (auth && *auth) {
			const char *colon;
			if (!b64_decode(&dec, auth, strlen(auth)) || !(colon = memchr(dec.ptr, ':', dec.len))) {
				rc = kerr_set_at(err, KE_INPUT, file, e->line, e->col,
						 "auths.%s.auth must be base64 of USER:PASSWORD", c->host);
				goto done;
			}
			kbuf_put(&c->user, dec.ptr, (size_t)(colon - dec.ptr));
			kbuf_puts(&c->pass, colon + 1);
		} else if (u && p) {
			kbuf_puts(&c->user, u);
			kbuf_puts(&c->pass, p);
		} else {
			goto done;
		}
	}
	mask(c, c->pass.ptr, c->pass.len);
	kbuf_puts(&c->creds_file, file);
	c->have_creds = true;
	rc = 1;
done:
	kbuf_release(&text);
	kbuf_release(&dec);
	kbuf_release(&key);
	karena_release(&a);
	return rc;
}

static int creds_load(oci_client *c, kerr *err)
{
	const char *given = c->o ? c->o->registry_config : NULL;
	const char *helm = getenv("HELM_REGISTRY_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *docker = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	kbuf f = KBUF_INIT;
	int rc;
	if (given && *given) {
		rc = creds_from(c, given, true, err);
		return rc < 0 ? rc : 0;
	}
	if (helm && *helm)
		kbuf_puts(&f, helm);
	else if (xdg && *xdg)
		kbuf_printf(&f, "%s/helm/registry/config.json", xdg);
	else if (home && *home)
		kbuf_printf(&f, "%s/.config/helm/registry/config.json", home);
	rc = f.len ? creds_from(c, f.ptr, false, err) : 0;
	kbuf_reset(&f);
	if (!rc) {
		if (docker && *docker)
			kbuf_printf(&f, "%s/config.json", docker);
		else if (home && *home)
			kbuf_printf(&f, "%s/.docker/config.json", home);
		rc = f.len ? creds_from(c, f.ptr, false, err) : 0;
	}
	kbuf_release(&f);
	return rc < 0 ? rc : 0;
}

/* ---- challenges ---- */

/* The value of header name in the header lines hdrs, into out. */
static bool header_get(kbuf *out, const kbuf *hdrs, const char *name)
{
	const char *p = hdrs->ptr, *end = hdrs->ptr + hdrs->len;
	size_t n = strlen(name);
	kbuf_reset(out);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		if ((size_t)(le - p) > n && !strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			while (le > v && (le[-1] == '\r' || le[-1] == ' '))
				le--;
			kbuf_put(out, v, (size_t)(le - v));
			return true;
		}
		p = eol ? eol + 1 : end;
	}
	return false;
}

/* The parameter key of a challenge (after its scheme), into out. */
static bool challenge_param(kbuf *out, const char *params, const char *key)
{
	const char *p = params;
	size_t kl = strlen(key);
	kbuf_reset(out);
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!strncasecmp(p, key, kl) && p[kl] == '=') {
			p += kl + 1;
			if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1])
						p++;
					kbuf_putc(out, *p);
				}
			} else {
				while (*p && *p != ',' && *p != ' ')
					kbuf_putc(out, *p++);
			}
			return true;
		}
		/* skip this parameter, quoted commas included */
		while (*p && *p != ',') {
			if (*p == '"')
				for (p++; *p && *p != '"'; p++)
					if (*p == '\\' && p[1])
						p++;
			if (*p)
				p++;
		}
	}
	return false;
}

static void url_escape(kbuf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
			kbuf_putc(out, (char)ch);
		else
			kbuf_printf(out, "%%%02X", ch);
	}
}

static void http_opts(fetch_http_opts *ho, const oci_client *c, size_t max)
{
	memset(ho, 0, sizeof(*ho));
	ho->ca_file = c->o ? c->o->ca_file : NULL;
	ho->base_delay_ms = c->o ? c->o->base_delay_ms : 0;
	ho->connect_timeout_ms = c->o ? c->o->connect_timeout_ms : 0;
	ho->timeout_ms = c->o ? c->o->timeout_ms : 0;
	ho->max_bytes = max;
}

static void basic_header(kbuf *out, const oci_client *c)
{
	kbuf up = KBUF_INIT;
	size_t start;
	kbuf_printf(&up, "%s:%s", c->user.ptr, c->pass.ptr);
	kbuf_reset(out);
	kbuf_puts(out, "Authorization: Basic ");
	start = out->len;
	b64_encode(out, up.ptr, up.len);
	mask(c, out->ptr + start, out->len - start);
	kbuf_release(&up);
}

static int no_creds(const oci_client *c, const char *scheme, kerr *err)
{
	return kerr_set(err, KE_INPUT, "registry %s wants %s authentication for %s and no credentials for it were "
			"found: give a Docker config.json with --registry-config (or log in with helm registry login)",
			c->host, scheme, c->repo);
}

/* Meet the WWW-Authenticate challenge in hdrs: c->auth is set. */
static int authorize(oci_client *c, const kbuf *hdrs, kerr *err)
{
	kbuf ch = KBUF_INIT, realm = KBUF_INIT, service = KBUF_INIT, scope = KBUF_INIT, url = KBUF_INIT;
	kbuf body = KBUF_INIT, basic = KBUF_INIT;
	karena a = KARENA_INIT;
	int rc;
	c->challenged = true;
	if (!header_get(&ch, hdrs, "WWW-Authenticate")) {
		rc = kerr_set(err, KE_INPUT, "registry %s answered 401 for %s without a WWW-Authenticate challenge", c->host,
			      c->repo);
		goto done;
	}
	if ((rc = creds_load(c, err)))
		goto done;
	if (!strncasecmp(ch.ptr, "Basic", 5) && (ch.ptr[5] == ' ' || !ch.ptr[5])) {
		if (!c->have_creds) {
			rc = no_creds(c, "basic", err);
			goto done;
		}
		basic_header(&c->auth, c);
		goto done;
	}
	if (strncasecmp(ch.ptr, "Bearer ", 7)) {
		rc = kerr_set(err, KE_INPUT, "registry %s: unsupported authentication challenge \"%.40s\"", c->host, ch.ptr);
		goto done;
	}
	if (!challenge_param(&realm, ch.ptr + 7, "realm") || strncmp(realm.ptr, "https://", 8)) {
		rc = kerr_set(err, KE_INPUT, "registry %s: bearer challenge without an https:// realm: \"%.200s\"", c->host,
			      ch.ptr);
		goto done;
	}
	challenge_param(&service, ch.ptr + 7, "service");
	if (!challenge_param(&scope, ch.ptr + 7, "scope") || !scope.len)
		kbuf_printf(&scope, "repository:%s:pull", c->repo);
	kbuf_printf(&url, "%s%c", realm.ptr, strchr(realm.ptr, '?') ? '&' : '?');
	if (service.len) {
		kbuf_puts(&url, "service=");
		url_escape(&url, service.ptr);
		kbuf_putc(&url, '&');
	}
	kbuf_puts(&url, "scope=");
	url_escape(&url, scope.ptr);
	{
		fetch_http_opts ho;
		const char *hdr[2] = { NULL, NULL };
		long status = 0;
		doc_node *d = NULL;
		const char *tok;
		http_opts(&ho, c, TOKEN_MAX);
		if (c->have_creds) {
			basic_header(&basic, c);
			hdr[0] = basic.ptr;
		}
		ho.headers = hdr;
		ho.status = &status;
		if ((rc = fetch_http_get(&body, url.ptr, &ho, err))) {
			kerr_wrap(err, "registry %s: token for %s", c->host, c->repo);
			goto done;
		}
		if (status == 401 || status == 403) {
			if (c->have_creds)
				rc = kerr_set(err, KE_INPUT, "registry %s: the token service %s refused the credentials for "
					      "%s from %s (HTTP %ld)", c->host, realm.ptr, c->host, c->creds_file.ptr, status);
			else
				rc = no_creds(c, "token", err);
			goto done;
		}
		if (status >= 400) {
			rc = kerr_set(err, KE_IO, "registry %s: token service %s: HTTP status %ld", c->host, realm.ptr, status);
			goto done;
		}
		if (doc_load_json(&d, &a, realm.ptr, body.ptr, body.len, err) || !d || d->type != DOC_MAP) {
			kerr_clear(err);
			rc = kerr_set(err, KE_IO, "registry %s: token service %s did not answer a JSON object", c->host,
				      realm.ptr);
			goto done;
		}
		tok = doc_get_str(d, "token", NULL);
		if (!tok || !*tok)
			tok = doc_get_str(d, "access_token", NULL);
		if (!tok || !*tok || strpbrk(tok, "\r\n")) {
			rc = kerr_set(err, KE_IO, "registry %s: token service %s gave no token", c->host, realm.ptr);
			goto done;
		}
		mask(c, tok, strlen(tok));
		kbuf_reset(&c->auth);
		kbuf_printf(&c->auth, "Authorization: Bearer %s", tok);
	}
done:
	kbuf_release(&ch);
	kbuf_release(&realm);
	kbuf_release(&service);
	kbuf_release(&scope);
	kbuf_release(&url);
	kbuf_release(&body);
	kbuf_release(&basic);
	karena_release(&a);
	return rc;
}

/* METHOD url (a full URL) with body (may be NULL) into out (at most max
 * bytes), meeting one authentication challenge. head: one more request
 * header (Accept, Content-Type) or NULL; hdrs gets the answer's header
 * lines; progress (may be NULL) names the download in progress events. */
static int oci_req(oci_client *c, const char *method, const char *url, const void *body, size_t len, const char *head,
		   kbuf *out, kbuf *hdrs, size_t max, const char *progress, kerr *err)
{
	long status = 0;
	int rc;
	for (;;) {
		fetch_http_opts ho;
		const char *hdr[3] = { NULL, NULL, NULL };
		size_t n = 0;
		http_opts(&ho, c, max);
		if (head)
			hdr[n++] = head;
		if (c->auth.len)
			hdr[n++] = c->auth.ptr;
		ho.headers = hdr;
		ho.status = &status;
		ho.resp_headers = hdrs;
		ho.progress = progress && c->o ? c->o->sink : NULL;
		ho.progress_name = progress;
		ho.method = strcmp(method, "GET") ? method : NULL;
		ho.body = body;
		ho.body_len = len;
		if ((rc = fetch_http_get(out, url, &ho, err)))
			goto done;
		if (status != 401 || c->challenged)
			break;
		if ((rc = authorize(c, hdrs, err)))
			goto done;
	}
	if (status == 401 || status == 403)
		rc = kerr_set(err, KE_INPUT, "registry %s refused access to %s (HTTP %ld)%s%s", c->host, c->repo, status,
			      c->have_creds ? " with the credentials from " : ": give credentials with --registry-config",
			      c->have_creds ? c->creds_file.ptr : "");
	else if (status == 404)
		rc = kerr_set(err, KE_INPUT, "%s: not found in registry %s (HTTP 404)", url, c->host);
	else if (status >= 400)
		rc = kerr_set(err, KE_IO, "%s %s: HTTP status %ld", method, url, status);
done:
	if (rc)
		kbuf_reset(out);
	return rc;
}

/* GET https://host/v2/REPO/WHAT (see oci_req). */
static int oci_get(oci_client *c, kbuf *out, kbuf *hdrs, const char *what, const char *accept, size_t max,
		   const char *progress, kerr *err)
{
	kbuf url = KBUF_INIT;
	int rc;
	kbuf_printf(&url, "https://%s/v2/%s/%s", c->host, c->repo, what);
	rc = oci_req(c, "GET", url.ptr, NULL, 0, accept, out, hdrs, max, progress, err);
	kbuf_release(&url);
	return rc;
}

/* ---- manifests ---- */

static const char *const layer_types[] = {
	"application/vnd.cncf.helm.chart.content.v1.tar+gzip",
	"application/tar+gzip",     /* charts pushed by Helm 3.0-3.7 */
	NULL,
};

/* The chart layer of manifest text m: its digest (hex) and size. */
static int chart_layer(char hex[65], size_t *size, const char *ref, const kbuf *m, size_t max, kerr *err)
{
	karena a = KARENA_INIT;
	doc_node *d = NULL, *layers;
	const char *mt, *cmt;
	size_t i, k;
	int rc = 0;
	if (doc_load_json(&d, &a, ref, m->ptr, m->len, err) || !d || d->type != DOC_MAP) {
		kerr_clear(err);
		rc = kerr_set(err, KE_INPUT, "%s: the manifest is not a JSON object", ref);
		goto done;
	}
	mt = doc_get_str(d, "mediaType", "");
	if (strstr(mt, "index") || strstr(mt, "manifest.list")) {
		rc = kerr_set(err, KE_INPUT, "%s is an image index (%s), not a Helm chart", ref, mt);
		goto done;
	}
	cmt = doc_get_str(d, "config.mediaType", "");
	if (strcmp(cmt, "application/vnd.cncf.helm.config.v1+json")) {
		rc = kerr_set(err, KE_INPUT, "%s is not a Helm chart: its config media type is \"%s\", not "
			      "application/vnd.cncf.helm.config.v1+json", ref, cmt);
		goto done;
	}
	layers = doc_map_get(d, "layers");
	for (i = 0; layers && layers->type == DOC_SEQ && i < layers->u.seq.len; i++) {
		const doc_node *l = layers->u.seq.v[i];
		const char *lt = doc_get_str(l, "mediaType", ""), *dg = doc_get_str(l, "digest", "");
		int64_t sz = doc_get_int(l, "size", -1);
		for (k = 0; layer_types[k] && strcmp(lt, layer_types[k]); k++)
			;
		if (!layer_types[k])
			continue;
		if (strncmp(dg, "sha256:", 7) || !fetch_valid_sha256(dg + 7)) {
			rc = kerr_set(err, KE_INPUT, "%s: chart layer digest \"%.80s\" is not sha256:<64 hex>", ref, dg);
			goto done;
		}
		if (sz <= 0 || (uint64_t)sz > max) {
			rc = kerr_set(err, sz > 0 ? KE_LIMIT : KE_INPUT,
				      "%s: chart layer size %lld is not within 1..%zu bytes", ref, (long long)sz, max);
			goto done;
		}
		memcpy(hex, dg + 7, 65);
		*size = (size_t)sz;
		goto done;
	}
	rc = kerr_set(err, KE_INPUT, "%s: the manifest has no Helm chart layer (%s)", ref, layer_types[0]);
done:
	karena_release(&a);
	return rc;
}

int fetch_oci_tags(kbuf *out, const char *ref, const fetch_opts *o, kerr *err)
{
	karena a = KARENA_INIT;
	fetch_oci_ref r, from;
	oci_client c;
	kbuf plain = KBUF_INIT, moved = KBUF_INIT, body = KBUF_INIT, hdrs = KBUF_INIT;
	doc_node *d = NULL, *tags;
	size_t i;
	int rc;
	memset(&c, 0, sizeof(c));
	if (o && o->offline) {
		rc = kerr_set(err, KE_IO, "%s: listing tags needs the network, and --offline was given", ref);
		goto done;
	}
	if ((rc = fetch_oci_ref_parse(&r, &a, ref, err)))
		goto done;
	if ((rc = client_open(&c, &from, &plain, &moved, &a, &r, o, err)))
		goto done;
	if ((rc = oci_get(&c, &body, &hdrs, "tags/list", "Accept: application/json", MANIFEST_MAX, NULL, err))) {
		kerr_wrap(err, "list the tags of %s", plain.ptr);
		goto done;
	}
	if (doc_load_json(&d, &a, plain.ptr, body.ptr, body.len, err) || !d || d->type != DOC_MAP) {
		kerr_clear(err);
		rc = kerr_set(err, KE_IO, "%s: the tag list is not a JSON object", plain.ptr);
		goto done;
	}
	tags = doc_map_get(d, "tags");
	for (i = 0; tags && tags->type == DOC_SEQ && i < tags->u.seq.len; i++)
		if (tags->u.seq.v[i]->type == DOC_STR && tag_ok(tags->u.seq.v[i]->u.s.ptr))
			kbuf_printf(out, "%s\n", tags->u.seq.v[i]->u.s.ptr);
done:
	kbuf_release(&plain);
	kbuf_release(&moved);
	kbuf_release(&body);
	kbuf_release(&hdrs);
	client_release(&c);
	karena_release(&a);
	return rc;
}

int fetch_oci_chart(kbuf *out, fetch_result *res, const char *ref, const char *version, const char *digest,
		    const fetch_opts *o, kerr *err)
{
	karena a = KARENA_INIT;
	fetch_oci_ref r, from;
	oci_client c;
	kbuf dir = KBUF_INIT, plain = KBUF_INIT, moved = KBUF_INIT, name = KBUF_INIT, what = KBUF_INIT;
	kbuf man = KBUF_INIT, hdrs = KBUF_INIT, blob = KBUF_INIT, path = KBUF_INIT, dcd = KBUF_INIT;
	size_t max = o && o->max_bytes ? o->max_bytes : FETCH_MAX, lsize = 0;
	char mhex[65], lhex[65], got[65];
	const kev_sink *sink = o ? o->sink : NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = fetch_oci_ref_parse(&r, &a, ref, err)))
		goto done;
	if (version && r.tag && strcmp(version, r.tag)) {
		rc = kerr_set(err, KE_INPUT, "%s: the reference has tag %s and the version is %s: give one", ref, r.tag,
			      version);
		goto done;
	}
	if (version)
		r.tag = version_tag(&a, version);
	if (r.tag && !tag_ok(r.tag) && digest)
		r.tag = NULL;   /* a version range, resolved when the lock was written */
	if (r.tag && !tag_ok(r.tag)) {
		rc = kerr_set(err, KE_INPUT, "%s: version \"%s\" is not a valid OCI tag", ref, r.tag);
		goto done;
	}
	if (!r.tag && !digest) {
		rc = kerr_set(err, KE_INPUT, "%s: give a version (or a tag: oci://HOST/REPO:TAG)", ref);
		goto done;
	}
	if (digest && !fetch_valid_sha256(digest)) {
		rc = kerr_set(err, KE_INPUT, "%s: the manifest digest must be 64 lowercase hex digits", ref);
		goto done;
	}
	kbuf_printf(&name, "oci://%s/%s%s%s", r.host, r.repo, r.tag ? ":" : "", r.tag ? r.tag : "");
	/* mirror rules rewrite the reference without its tag */
	if ((rc = client_open(&c, &from, &plain, &moved, &a, &r, o, err)))
		goto done;
	fetch_cache_dir(&dir, o);

	/* the manifest: pinned from the cache or by digest; else by tag */
	if (digest && fetch_cache_read(&man, &path, dir.ptr, digest, sink) == 0) {
		memcpy(mhex, digest, 65);
	} else if (o && o->offline) {
		if (digest)
			rc = kerr_set(err, KE_IO, "fetch %s: manifest sha256:%s not in the cache (%s) and --offline was given",
				      name.ptr, digest, path.ptr);
		else
			rc = kerr_set(err, KE_IO, "fetch %s: not pinned, so not resolvable with --offline", name.ptr);
		goto done;
	} else {
		if (strcmp(moved.ptr, plain.ptr))
			kev_emitf(sink, KEV_INFO, "fetch.start", "fetching %s from %s", name.ptr, moved.ptr);
		else
			kev_emitf(sink, KEV_INFO, "fetch.start", "fetching %s", name.ptr);
		if (digest)
			kbuf_printf(&what, "manifests/sha256:%s", digest);
		else
			kbuf_printf(&what, "manifests/%s", r.tag);
		if ((rc = oci_get(&c, &man, &hdrs, what.ptr, accept_manifest, MANIFEST_MAX, NULL, err))) {
			kerr_wrap(err, "fetch %s", name.ptr);
			goto done;
		}
		fetch_sha256_hex(man.ptr, man.len, mhex);
		if (digest && strcmp(mhex, digest)) {
			rc = kerr_set(err, KE_INPUT, "fetch %s: manifest sha256 mismatch: pinned %s, got %s (from %s): not "
				      "using it", name.ptr, digest, mhex, moved.ptr);
			goto done;
		}
		if (header_get(&dcd, &hdrs, "Docker-Content-Digest") && !strncmp(dcd.ptr, "sha256:", 7) &&
		    strcmp(dcd.ptr + 7, mhex)) {
			rc = kerr_set(err, KE_INPUT, "fetch %s: the registry says the manifest is %s, its bytes are "
				      "sha256:%s: not using it", name.ptr, dcd.ptr, mhex);
			goto done;
		}
	}
	if ((rc = chart_layer(lhex, &lsize, name.ptr, &man, max, err)))
		goto done;

	/* the chart layer, by digest */
	if (fetch_cache_read(&blob, &path, dir.ptr, lhex, sink) == 0) {
		kev_emit(sink, KEV_DEBUG, "fetch.cached", name.ptr, "url", name.ptr, "path", path.ptr, NULL);
	} else if (o && o->offline) {
		rc = kerr_set(err, KE_IO, "fetch %s: chart layer sha256:%s not in the cache (%s) and --offline was given",
			      name.ptr, lhex, path.ptr);
		goto done;
	} else {
		kbuf_reset(&what);
		kbuf_printf(&what, "blobs/sha256:%s", lhex);
		if ((rc = oci_get(&c, &blob, &hdrs, what.ptr, NULL, lsize, name.ptr, err))) {
			kerr_wrap(err, "fetch %s", name.ptr);
			goto done;
		}
		fetch_sha256_hex(blob.ptr, blob.len, got);
		if (strcmp(got, lhex) || blob.len != lsize) {
			rc = kerr_set(err, KE_INPUT, "fetch %s: chart layer sha256 mismatch: the manifest says sha256:%s (%zu "
				      "bytes), got sha256:%s (%zu bytes): not using it", name.ptr, lhex, lsize, got, blob.len);
			goto done;
		}
		fetch_cache_store(dir.ptr, lhex, &blob);
	}
	/* the manifest is kept once its layer checked out */
	fetch_cache_store(dir.ptr, mhex, &man);
	kbuf_put(out, blob.ptr, blob.len);
	if (res) {
		memcpy(res->sha256, mhex, 65);
		memcpy(res->extra, lhex, 65);
		res->size = blob.len;
		kbuf_reset(&res->resolved);
		kbuf_printf(&res->resolved, "oci://%s/%s%s%s@sha256:%s", from.host, from.repo, r.tag ? ":" : "",
			    r.tag ? r.tag : "", mhex);
	}
done:
	kbuf_release(&dir);
	kbuf_release(&plain);
	kbuf_release(&moved);
	kbuf_release(&name);
	kbuf_release(&what);
	kbuf_release(&man);
	kbuf_release(&hdrs);
	kbuf_release(&blob);
	kbuf_release(&path);
	kbuf_release(&dcd);
	client_release(&c);
	karena_release(&a);
	return rc;
}

/* ---- artifacts of kstage's own (bundle push / pull) ---- */

/* c for ref, which must name a tag; verb says what needs the network. */
static int tagged_client(oci_client *c, fetch_oci_ref *r, fetch_oci_ref *from, kbuf *plain, kbuf *moved, karena *a,
			 const char *ref, const char *verb, const fetch_opts *o, kerr *err)
{
	int rc;
	if (o && o->offline)
		return kerr_set(err, KE_IO, "%s: %s needs the network, and --offline was given", ref, verb);
	if ((rc = fetch_oci_ref_parse(r, a, ref, err)))
		return rc;
	if (!r->tag)
		return kerr_set(err, KE_INPUT, "%s: give a tag (oci://HOST/REPO:TAG)", ref);
	return client_open(c, from, plain, moved, a, r, o, err);
}

/* One blob up: POST an upload, PUT the bytes to where it says. */
static int push_blob(oci_client *c, const void *data, size_t len, char hex[65], kerr *err)
{
	kbuf url = KBUF_INIT, out = KBUF_INIT, hdrs = KBUF_INIT, loc = KBUF_INIT;
	int rc;
	fetch_sha256_hex(data, len, hex);
	kbuf_printf(&url, "https://%s/v2/%s/blobs/uploads/", c->host, c->repo);
	if ((rc = oci_req(c, "POST", url.ptr, NULL, 0, NULL, &out, &hdrs, MANIFEST_MAX, NULL, err)))
		goto done;
	if (!header_get(&loc, &hdrs, "Location") || !loc.len) {
		rc = kerr_set(err, KE_IO, "registry %s: a blob upload without Location", c->host);
		goto done;
	}
	kbuf_reset(&url);
	if (loc.ptr[0] == '/')
		kbuf_printf(&url, "https://%s", c->host);
	kbuf_printf(&url, "%s%cdigest=sha256:%s", loc.ptr, strchr(loc.ptr, '?') ? '&' : '?', hex);
	if (strncmp(url.ptr, "https://", 8)) {
		rc = kerr_set(err, KE_IO, "registry %s: upload location \"%.200s\" is not https://", c->host, url.ptr);
		goto done;
	}
	rc = oci_req(c, "PUT", url.ptr, data, len, "Content-Type: application/octet-stream", &out, &hdrs, MANIFEST_MAX,
		     NULL, err);
done:
	kbuf_release(&url);
	kbuf_release(&out);
	kbuf_release(&hdrs);
	kbuf_release(&loc);
	return rc;
}

int fetch_oci_push(const char *ref, const void *data, size_t len, const char *config_type, const char *layer_type,
		   char manifest_hex[65], const fetch_opts *o, kerr *err)
{
	karena a = KARENA_INIT;
	fetch_oci_ref r, from;
	oci_client c;
	kbuf plain = KBUF_INIT, moved = KBUF_INIT, man = KBUF_INIT, url = KBUF_INIT, out = KBUF_INIT, hdrs = KBUF_INIT;
	char chex[65], lhex[65], mhex[65];
	int rc;
	memset(&c, 0, sizeof(c));
	if ((rc = tagged_client(&c, &r, &from, &plain, &moved, &a, ref, "pushing", o, err)) ||
	    (rc = push_blob(&c, "{}", 2, chex, err)) || (rc = push_blob(&c, data, len, lhex, err)))
		goto done;
	kbuf_printf(&man, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		    "\"config\":{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":2},"
		    "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%zu}]}",
		    config_type, chex, layer_type, lhex, len);
	fetch_sha256_hex(man.ptr, man.len, mhex);
	kbuf_printf(&url, "https://%s/v2/%s/manifests/%s", c.host, c.repo, r.tag);
	if ((rc = oci_req(&c, "PUT", url.ptr, man.ptr, man.len, "Content-Type: application/vnd.oci.image.manifest.v1+json",
			  &out, &hdrs, MANIFEST_MAX, NULL, err)))
		goto done;
	if (manifest_hex)
		memcpy(manifest_hex, mhex, 65);
done:
	if (rc)
		kerr_wrap(err, "push %s", ref);
	kbuf_release(&plain);
	kbuf_release(&moved);
	kbuf_release(&man);
	kbuf_release(&url);
	kbuf_release(&out);
	kbuf_release(&hdrs);
	client_release(&c);
	karena_release(&a);
	return rc;
}

int fetch_oci_pull(kbuf *out, const char *ref, const char *config_type, char manifest_hex[65], const fetch_opts *o,
		   kerr *err)
{
	karena a = KARENA_INIT;
	fetch_oci_ref r, from;
	oci_client c;
	kbuf plain = KBUF_INIT, moved = KBUF_INIT, man = KBUF_INIT, hdrs = KBUF_INIT, what = KBUF_INIT, blob = KBUF_INIT;
	doc_node *d = NULL;
	const char *dg;
	int64_t sz;
	char got[65];
	int rc;
	memset(&c, 0, sizeof(c));
	if ((rc = tagged_client(&c, &r, &from, &plain, &moved, &a, ref, "pulling", o, err)))
		goto done;
	kbuf_printf(&what, "manifests/%s", r.tag);
	if ((rc = oci_get(&c, &man, &hdrs, what.ptr, accept_manifest, MANIFEST_MAX, NULL, err)))
		goto done;
	if (doc_load_json(&d, &a, ref, man.ptr, man.len, err) || !d || d->type != DOC_MAP) {
		kerr_clear(err);
		rc = kerr_set(err, KE_INPUT, "%s: the manifest is not a JSON object", ref);
		goto done;
	}
	if (strcmp(doc_get_str(d, "config.mediaType", ""), config_type)) {
		rc = kerr_set(err, KE_INPUT, "%s is not a kstage bundle: config media type \"%s\"", ref,
			      doc_get_str(d, "config.mediaType", ""));
		goto done;
	}
	dg = doc_get_str(d, "layers[0].digest", "");
	sz = doc_get_int(d, "layers[0].size", -1);
	if (strncmp(dg, "sha256:", 7) || !fetch_valid_sha256(dg + 7) || sz <= 0 ||
	    (uint64_t)sz > (o && o->max_bytes ? o->max_bytes : FETCH_MAX)) {
		rc = kerr_set(err, KE_INPUT, "%s: the manifest's layer is not sha256:<hex> of a size kstage takes", ref);
		goto done;
	}
	kbuf_reset(&what);
	kbuf_printf(&what, "blobs/%s", dg);
	if ((rc = oci_get(&c, &blob, &hdrs, what.ptr, NULL, (size_t)sz, ref, err)))
		goto done;
	fetch_sha256_hex(blob.ptr, blob.len, got);
	if (strcmp(got, dg + 7) || blob.len != (size_t)sz) {
		rc = kerr_set(err, KE_INPUT, "%s: layer sha256 mismatch: the manifest says %s, got sha256:%s", ref, dg, got);
		goto done;
	}
	kbuf_put(out, blob.ptr, blob.len);
	if (manifest_hex)
		fetch_sha256_hex(man.ptr, man.len, manifest_hex);
done:
	if (rc)
		kerr_wrap(err, "pull %s", ref);
	kbuf_release(&plain);
	kbuf_release(&moved);
	kbuf_release(&man);
	kbuf_release(&hdrs);
	kbuf_release(&what);
	kbuf_release(&blob);
	client_release(&c);
	karena_release(&a);
	return rc;
}
