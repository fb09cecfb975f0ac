/*
 * kube/kubeconfig.c - kubeconfig as kubectl reads it: a list of files
 * merged (first to set a name or current-context wins), a context chosen,
 * its cluster and user resolved, paths relative to the file that named them.
 */
#include "kube.h"
#include "core/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* one loaded file */
typedef struct kc_file {
	const char *path;
	doc_node *root;
} kc_file;

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static char *dir_of(const char *path)
{
	const char *sl = strrchr(path, '/');
	if (!sl)
		return xstrdup(".");
	if (sl == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(sl - path));
}

static char *resolve_path(const char *file, const char *p)
{
	kbuf b = KBUF_INIT;
	char *d;
	if (!p || !*p)
		return NULL;
	if (p[0] == '/' || !file)
		return xstrdup(p);
	if (p[0] == '~' && p[1] == '/' && getenv("HOME")) {
		kbuf_printf(&b, "%s%s", getenv("HOME"), p + 1);
		return kbuf_detach(&b, NULL);
	}
	d = dir_of(file);
	kbuf_printf(&b, "%s/%s", d, p);
	free(d);
	return kbuf_detach(&b, NULL);
}

/* Find a named entry (clusters/users/contexts) in the first file that has it. */
static doc_node *find_named(const kc_file *f, size_t nf, const char *list, const char *field,
			    const char *name, const char **file_out)
{
	size_t i, j;
	for (i = 0; i < nf; i++) {
		doc_node *l = doc_map_get(f[i].root, list);
		if (!l || l->type != DOC_SEQ)
			continue;
		for (j = 0; j < l->u.seq.len; j++) {
			doc_node *e = l->u.seq.v[j];
			const char *n = doc_get_str(e, "name", NULL);
			if (n && !strcmp(n, name)) {
				*file_out = f[i].path;
				return doc_map_get(e, field);
			}
		}
	}
	return NULL;
}

static void list_names(const kc_file *f, size_t nf, const char *list, kbuf *out)
{
	size_t i, j, k = 0;
	for (i = 0; i < nf; i++) {
		doc_node *l = doc_map_get(f[i].root, list);
		for (j = 0; l && l->type == DOC_SEQ && j < l->u.seq.len; j++) {
			const char *n = doc_get_str(l->u.seq.v[j], "name", NULL);
			if (n)
				kbuf_printf(out, "%s\"%s\"", k++ ? ", " : "", n);
		}
	}
	if (!k)
		kbuf_puts(out, "none");
}

static int decode_data(const doc_node *n, const char *what, char **out, size_t *len, kerr *err)
{
	const char *s = n && n->type == DOC_STR ? n->u.s.ptr : NULL;
	if (!s)
		return 0;
	if (kube_b64_decode(s, strlen(s), out, len) < 0) {
		kbuf p = KBUF_INIT;
		doc_pos_format(n, &p);
		kerr_set(err, KE_INPUT, "%s: %s is not valid base64", p.ptr, what);
		kbuf_release(&p);
		return KE_INPUT;
	}
	/* certificates and keys are PEM (client-go reads nothing else): say
	 * which field is wrong now, not a TLS error naming another later */
	if (!strstr(*out, "-----BEGIN ")) {   /* out is NUL-terminated */
		kbuf p = KBUF_INIT;
		doc_pos_format(n, &p);
		kerr_set(err, KE_INPUT, "%s: %s does not hold a PEM block (\"-----BEGIN ...\")", p.ptr, what);
		kbuf_release(&p);
		memset(*out, 0, *len);
		free(*out);
		*out = NULL;
		*len = 0;
		return KE_INPUT;
	}
	return 0;
}

static int load_exec(kube_config *c, const doc_node *ex, const char *file, kerr *err)
{
	kube_exec *e = xcalloc(1, sizeof(*e));
	const doc_node *args = doc_map_get(ex, "args"), *env = doc_map_get(ex, "env");
	const char *cmd = doc_get_str(ex, "command", NULL);
	size_t i;
	c->exec = e;
	if (!cmd || !*cmd) {
		kbuf p = KBUF_INIT;
		doc_pos_format(ex, &p);
		kerr_set(err, KE_INPUT, "%s: exec plugin has no command", p.ptr);
		kbuf_release(&p);
		return KE_INPUT;
	}
	e->api_version = xstrdup(doc_get_str(ex, "apiVersion", "client.authentication.k8s.io/v1"));
	if (strcmp(e->api_version, "client.authentication.k8s.io/v1") &&
	    strcmp(e->api_version, "client.authentication.k8s.io/v1beta1")) {
		/* client-go knows these two; another is refused before it runs */
		kbuf p = KBUF_INIT;
		doc_pos_format(doc_map_get(ex, "apiVersion"), &p);
		kerr_set(err, KE_INPUT, "%s: exec plugin: invalid apiVersion \"%s\"", p.ptr, e->api_version);
		kbuf_release(&p);
		return KE_INPUT;
	}
	e->command = strchr(cmd, '/') ? resolve_path(file, cmd) : xstrdup(cmd);
	e->install_hint = dup_or_null(doc_get_str(ex, "installHint", NULL));
	if (args && args->type == DOC_SEQ) {
		e->args = xcalloc(args->u.seq.len + 1, sizeof(char *));
		for (i = 0; i < args->u.seq.len; i++)
			if (args->u.seq.v[i]->type == DOC_STR)
				e->args[e->nargs++] = xstrdup(args->u.seq.v[i]->u.s.ptr);
	}
	if (env && env->type == DOC_SEQ) {
		e->env = xcalloc(env->u.seq.len + 1, sizeof(char *));
		for (i = 0; i < env->u.seq.len; i++) {
			const char *k = doc_get_str(env->u.seq.v[i], "name", NULL);
			const char *v = doc_get_str(env->u.seq.v[i], "value", "");
			kbuf b = KBUF_INIT;
			if (!k)
				continue;
			kbuf_printf(&b, "%s=%s", k, v);
			e->env[e->nenv++] = kbuf_detach(&b, NULL);
		}
	}
	return 0;
}

/* The namespace goes into request paths: a DNS-1123 label or KE_INPUT. */
static int check_namespace(const kube_config *c, const kube_config_opts *o, const char *from, kerr *err)
{
	const char *why = kube_check_namespace(c->namespace);
	kbuf q = KBUF_INIT;
	int rc;
	if (!why)
		return 0;
	kube_quote(&q, c->namespace);
	rc = kerr_set(err, KE_INPUT, "namespace %s (from %s): %s", q.ptr,
		      o->namespace && *o->namespace ? "-n" : from, why);
	kbuf_release(&q);
	return rc;
}

static int in_cluster(kube_config *c, const kube_config_opts *o, kerr *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = getenv("KSTAGE_SERVICEACCOUNT_DIR");
	kbuf b = KBUF_INIT, ns = KBUF_INIT;
	if (!dir || !*dir)
		dir = SA_DIR;
	if (!host || !*host || !port || !*port)
		return kerr_set(err, KE_CLUSTER,
				"no kubeconfig found: pass --kubeconfig, set KUBECONFIG or create ~/.kube/config");
	c->source = xstrdup("in-cluster");
	if (strchr(host, ':'))
		kbuf_printf(&b, "https://[%s]:%s", host, port);
	else
		kbuf_printf(&b, "https://%s:%s", host, port);
	c->server = kbuf_detach(&b, NULL);
	kbuf_printf(&b, "%s/token", dir);
	c->token_file = kbuf_detach(&b, NULL);
	kbuf_printf(&b, "%s/ca.crt", dir);
	c->ca_file = kbuf_detach(&b, NULL);
	kbuf_printf(&b, "%s/namespace", dir);
	if (o->namespace && *o->namespace)
		c->namespace = xstrdup(o->namespace);
	else if (kbuf_read_file(&ns, b.ptr, 4096) == 0 && ns.len) {
		while (ns.len && (ns.ptr[ns.len - 1] == '\n' || ns.ptr[ns.len - 1] == ' '))
			kbuf_truncate(&ns, ns.len - 1);
		c->namespace = xstrdup(ns.ptr);
	}
	kbuf_release(&b);
	kbuf_release(&ns);
	if (!c->namespace)
		c->namespace = xstrdup("default");
	return check_namespace(c, o, "the service account's namespace file", err);
}

static int resolve(kube_config *c, const kc_file *f, size_t nf, const kube_config_opts *o, kerr *err)
{
	const char *ctxname = o->context, *cfile = NULL, *clfile = NULL, *ufile = NULL;
	doc_node *ctx, *cl, *us;
	const char *clname, *uname, *s;
	size_t i;
	kbuf names = KBUF_INIT;
	int rc;

	for (i = 0; i < nf && (!ctxname || !*ctxname); i++)
		ctxname = doc_get_str(f[i].root, "current-context", NULL);
	if (!ctxname || !*ctxname) {
		list_names(f, nf, "contexts", &names);
		kerr_set(err, KE_CLUSTER, "no context: %s sets no current-context and --context was not given (contexts: %s)",
			 c->source, names.ptr);
		kbuf_release(&names);
		return KE_CLUSTER;
	}
	ctx = find_named(f, nf, "contexts", "context", ctxname, &cfile);
	if (!ctx) {
		list_names(f, nf, "contexts", &names);
		kerr_set(err, KE_CLUSTER, "context \"%s\" not found in %s (contexts: %s)", ctxname, c->source,
			 names.ptr);
		kbuf_release(&names);
		return KE_CLUSTER;
	}
	c->context = xstrdup(ctxname);
	clname = doc_get_str(ctx, "cluster", NULL);
	uname = doc_get_str(ctx, "user", NULL);
	cl = clname ? find_named(f, nf, "clusters", "cluster", clname, &clfile) : NULL;
	if (!cl) {
		list_names(f, nf, "clusters", &names);
		kerr_set(err, KE_CLUSTER, "context \"%s\": cluster \"%s\" not found in %s (clusters: %s)", ctxname,
			 clname ? clname : "", c->source, names.ptr);
		kbuf_release(&names);
		return KE_CLUSTER;
	}
	c->cluster_name = xstrdup(clname);
	s = doc_get_str(cl, "server", NULL);
	if (!s || !*s)
		return kerr_set(err, KE_CLUSTER, "cluster \"%s\" has no server", clname);
	{
		/* request paths are appended to it: no query, fragment, space or
		 * control character may come before them */
		const unsigned char *u;
		for (u = (const unsigned char *)s; *u; u++)
			if (*u <= 0x20 || *u == 0x7f || *u == '?' || *u == '#') {
				kbuf q = KBUF_INIT;
				int rc2;
				kube_quote(&q, s);
				rc2 = kerr_set(err, KE_INPUT, "cluster \"%s\": server %s may not hold '?', '#', spaces or control characters",
					       clname, q.ptr);
				kbuf_release(&q);
				return rc2;
			}
	}
	c->server = xstrdup(s);
	while (strlen(c->server) > 8 && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	c->tls_server_name = dup_or_null(doc_get_str(cl, "tls-server-name", NULL));
	c->insecure = doc_get_bool(cl, "insecure-skip-tls-verify", false);
	c->proxy_url = dup_or_null(doc_get_str(cl, "proxy-url", NULL));
	c->ca_file = resolve_path(clfile, doc_get_str(cl, "certificate-authority", NULL));
	if ((rc = decode_data(doc_map_get(cl, "certificate-authority-data"), "certificate-authority-data",
			      &c->ca_pem, &c->ca_len, err)))
		return rc;

	if (uname && *uname) {
		us = find_named(f, nf, "users", "user", uname, &ufile);
		if (!us) {
			list_names(f, nf, "users", &names);
			kerr_set(err, KE_CLUSTER, "context \"%s\": user \"%s\" not found in %s (users: %s)",
				 ctxname, uname, c->source, names.ptr);
			kbuf_release(&names);
			return KE_CLUSTER;
		}
		c->user_name = xstrdup(uname);
		c->token = dup_or_null(doc_get_str(us, "token", NULL));
		c->token_file = resolve_path(ufile, doc_get_str(us, "tokenFile", NULL));
		c->cert_file = resolve_path(ufile, doc_get_str(us, "client-certificate", NULL));
		c->key_file = resolve_path(ufile, doc_get_str(us, "client-key", NULL));
		if ((rc = decode_data(doc_map_get(us, "client-certificate-data"), "client-certificate-data",
				      &c->cert_pem, &c->cert_len, err)))
			return rc;
		if ((rc = decode_data(doc_map_get(us, "client-key-data"), "client-key-data", &c->key_pem,
				      &c->key_len, err)))
			return rc;
		if (doc_map_get(us, "exec") && (rc = load_exec(c, doc_map_get(us, "exec"), ufile, err)))
			return rc;
		if (doc_map_get(us, "auth-provider"))
			return kerr_set(err, KE_CLUSTER,
					"user \"%s\": auth-provider is not supported (removed in kubectl 1.26): use an exec credential plugin",
					uname);
		if (doc_map_get(us, "username") || doc_map_get(us, "password"))
			return kerr_set(err, KE_CLUSTER, "user \"%s\": basic authentication is not supported", uname);
	}
	if (o->namespace && *o->namespace)
		c->namespace = xstrdup(o->namespace);
	else if ((s = doc_get_str(ctx, "namespace", NULL)) && *s)
		c->namespace = xstrdup(s);
	else
		c->namespace = xstrdup("default");
	(void)cfile;
	return check_namespace(c, o, "the context", err);
}

static int load_common(kube_config *c, kc_file *f, size_t nf, const kube_config_opts *o, kerr *err)
{
	kbuf src = KBUF_INIT;
	size_t i;
	for (i = 0; i < nf; i++)
		kbuf_printf(&src, "%s%s", i ? ":" : "", f[i].path);
	c->source = kbuf_detach(&src, NULL);
	return resolve(c, f, nf, o, err);
}

static int check_root(doc_node *root, const char *path, kerr *err)
{
	if (root->type == DOC_NULL)
		return 0;
	if (root->type != DOC_MAP)
		return kerr_set_at(err, KE_INPUT, path, root->line, root->col, "kubeconfig is not a map");
	return 0;
}

int kube_config_load_texts(kube_config *out, const char *const *names, const char *const *texts,
			   size_t n, const kube_config_opts *o, kerr *err)
{
	karena a = KARENA_INIT;
	kc_file *f = xcalloc(n ? n : 1, sizeof(*f));
	size_t i;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < n && !rc; i++) {
		doc_node *root;
		rc = doc_load_yaml1(&root, &a, names[i], texts[i], strlen(texts[i]), NULL, err);
		if (!rc)
			rc = check_root(root, names[i], err);
		f[i].path = names[i];
		f[i].root = rc ? NULL : root;
	}
	if (!rc)
		rc = load_common(out, f, n, o, err);
	free(f);
	karena_release(&a);
	return rc;
}

int kube_config_load(kube_config *out, const kube_config_opts *o, kerr *err)
{
	karena a = KARENA_INIT;
	kc_file *f = NULL;
	size_t nf = 0, cap = 0;
	char *list = NULL;
	const char *env = getenv("KUBECONFIG");
	int rc = 0;
	kbuf home = KBUF_INIT;

	memset(out, 0, sizeof(*out));
	if (o->kubeconfig && *o->kubeconfig) {
		list = xstrdup(o->kubeconfig);
	} else if (env && *env) {
		list = xstrdup(env);
	} else if (getenv("HOME")) {
		struct stat st;
		kbuf_printf(&home, "%s/.kube/config", getenv("HOME"));
		if (stat(home.ptr, &st) == 0)
			list = kbuf_detach(&home, NULL);
	}
	kbuf_release(&home);
	if (!list) {
		rc = in_cluster(out, o, err);
		return rc;
	}
	{
		char *p = list, *q;
		for (;;) {
			q = strchr(p, ':');
			if (q)
				*q = '\0';
			if (*p) {
				doc_stream st;
				struct stat sb;
				int explicit_file = o->kubeconfig && *o->kubeconfig;
				/* a file the user named that cannot be read is an input error (exit 2) */
				if (stat(p, &sb) != 0) {
					if (explicit_file) {
						rc = kerr_set(err, KE_INPUT, "kubeconfig \"%s\": %s", p, strerror(errno));
						break;
					}
				} else if (S_ISDIR(sb.st_mode)) {
					rc = kerr_set(err, KE_INPUT, "kubeconfig \"%s\" is a directory, not a file", p);
					break;
				} else {
					rc = doc_load_yaml_file(&st, &a, p, NULL, err);
					if (rc == KE_IO)
						err->code = rc = KE_INPUT;
					if (rc)
						break;
					if (st.len > 0 && st.docs[0]) {
						if ((rc = check_root(st.docs[0], p, err)))
							break;
						ALLOC_GROW(f, nf + 1, cap);
						f[nf].path = karena_strdup(&a, p);
						f[nf].root = st.docs[0];
						nf++;
					}
				}
			}
			if (!q)
				break;
			p = q + 1;
		}
	}
	free(list);
	if (!rc && nf == 0)
		rc = in_cluster(out, o, err);
	else if (!rc)
		rc = load_common(out, f, nf, o, err);
	free(f);
	karena_release(&a);
	return rc;
}

static void free_secret(char *p, size_t n)
{
	if (!p)
		return;
	if (!n)
		n = strlen(p);
	memset(p, 0, n);
	free(p);
}

void kube_config_release(kube_config *c)
{
	size_t i;
	free(c->source);
	free(c->context);
	free(c->cluster_name);
	free(c->user_name);
	free(c->server);
	free(c->tls_server_name);
	free(c->proxy_url);
	free(c->ca_pem);
	free(c->ca_file);
	free_secret(c->token, 0);
	free(c->token_file);
	free(c->cert_pem);
	free(c->cert_file);
	free_secret(c->key_pem, c->key_len);
	free(c->key_file);
	free(c->namespace);
	if (c->exec) {
		free(c->exec->api_version);
		free(c->exec->command);
		free(c->exec->install_hint);
		for (i = 0; i < c->exec->nargs; i++)
			free(c->exec->args[i]);
		free(c->exec->args);
		for (i = 0; i < c->exec->nenv; i++)
			free(c->exec->env[i]);
		free(c->exec->env);
		free(c->exec);
	}
	memset(c, 0, sizeof(*c));
}

/* ---- base64 ---- */

static int b64v(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z') return ch - 'A';
	if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9') return ch - '0' + 52;
	if (ch == '+' || ch == '-') return 62;
	if (ch == '/' || ch == '_') return 63;
	return -1;
}

int kube_b64_decode(const char *in, size_t len, char **out, size_t *out_len)
{
	char *o = xmalloc(len / 4 * 3 + 4);
	size_t n = 0, i;
	unsigned acc = 0;
	int bits = 0, pad = 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];
		int v;
		if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
			continue;
		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64v(ch)) < 0) {
			free(o);
			return -1;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (bits >= 6) {
		free(o);
		return -1;
	}
	o[n] = '\0';
	*out = o;
	if (out_len)
		*out_len = n;
	return 0;
}

void kube_b64_encode(kbuf *out, const void *data, size_t len)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t i;
	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		kbuf_putc(out, tbl[v >> 18]);
		kbuf_putc(out, tbl[(v >> 12) & 63]);
		kbuf_putc(out, tbl[(v >> 6) & 63]);
		kbuf_putc(out, tbl[v & 63]);
	}
	if (i < len) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
		kbuf_putc(out, tbl[v >> 18]);
		kbuf_putc(out, tbl[(v >> 12) & 63]);
		kbuf_putc(out, i + 1 < len ? tbl[(v >> 6) & 63] : '=');
		kbuf_putc(out, '=');
	}
}
