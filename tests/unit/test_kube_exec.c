/* Unit tests for credentials in kube/client.c: the exec plugin (environment,
 * time limit, children that keep stdout open, output size, the client lock),
 * token files and tokens that would inject headers, and kube_do's error
 * when a credential fails after a transport error. Plugins are small shell
 * scripts written to a temporary folder. */
#include "unit.h"
#include "kube/kube.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Each step: an HTTP status, or 0 for a connection reset. */
typedef struct steps {
	const long *status;
	size_t n, at;
	unsigned long sent;
	char last_auth[64];
} steps;

static int steps_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	steps *s = impl;
	long st = s->at < s->n ? s->status[s->at] : 200;
	(void)req;
	s->at++;
	s->sent++;
	snprintf(s->last_auth, sizeof(s->last_auth), "%s", auth && auth->token ? auth->token : "");
	if (st == 0)
		return kerr_set(err, KE_IO, "connection reset by peer");
	resp->status = st;
	kbuf_puts(&resp->body, "{}");
	return 0;
}

typedef struct plug {
	char dir[40];
	kbuf path;
	kube_exec ex;
	char *args[1];
	char *env[2];
	kube_config cfg;
	steps st;
	kube_client *c;
} plug;

/* A client whose credential comes from the shell script body. */
static void plug_init(plug *p, const char *body, const long *statuses, size_t n)
{
	FILE *f;
	kube_transport tr;
	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/kstage-exec-XXXXXX");
	if (!mkdtemp(p->dir))
		abort();
	kbuf_init(&p->path, 0);
	kbuf_printf(&p->path, "%s/plugin", p->dir);
	f = fopen(p->path.ptr, "w");
	fprintf(f, "#!/bin/sh\ncd %s\n%s", p->dir, body);
	fclose(f);
	chmod(p->path.ptr, 0700);
	p->ex.api_version = (char *)"client.authentication.k8s.io/v1";
	p->ex.command = p->path.ptr;
	p->ex.args = p->args;
	p->env[0] = (char *)"PLUGIN_MODE=kubeconfig";
	p->ex.env = p->env;
	p->ex.nenv = 1;
	p->cfg.server = "https://fake";
	p->cfg.exec = &p->ex;
	p->st.status = statuses;
	p->st.n = n;
	tr.send = steps_send;
	tr.free = NULL;
	tr.impl = &p->st;
	p->c = kube_client_new_with(tr, &p->cfg, NULL);
	p->c->base_delay_ms = 1;
	p->c->max_delay_ms = 2;
}

static void plug_release(plug *p)
{
	char cmd[96];
	kube_client_free(p->c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", p->dir);
	if (system(cmd) != 0)
		unit_fail(__FILE__, __LINE__, "cannot remove %s", p->dir);
	kbuf_release(&p->path);
}

static int get(kube_client *c, kerr *e)
{
	kube_req rq = { 0 };
	kube_resp rs;
	int rc;
	rq.method = "GET";
	rq.path = "/api";
	rq.idempotent = true;
	kube_resp_init(&rs);
	rc = kube_do(c, &rq, &rs, e);
	kube_resp_release(&rs);
	return rc;
}

#define CRED(tok) "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\"," \
		  "\"status\":{\"token\":\"" tok "\"}}'\n"

/* kubectl: the kubeconfig's env entries win over the inherited ones. */
TEST(kube_exec_kubeconfig_env_wins)
{
	plug p;
	kerr e = KERR_INIT;
	setenv("PLUGIN_MODE", "inherited", 1);
	/* what the plugin was given (a Go or C plugin reads the first entry), not the shell's view */
	plug_init(&p, "m=$(tr '\\0' '\\n' < /proc/$$/environ | grep '^PLUGIN_MODE=')\n"
		  "[ \"$m\" = PLUGIN_MODE=kubeconfig ] || exit 7\n" CRED("tok-env"), NULL, 0);
	CHECK_INT_EQ(get(p.c, &e), 0);
	CHECK_STR_EQ(p.st.last_auth, "tok-env");
	unsetenv("PLUGIN_MODE");
	plug_release(&p);
	kerr_clear(&e);
}

/* A plugin that never ends is stopped at the client's time limit. */
TEST(kube_exec_plugin_time_limit)
{
	plug p;
	kerr e = KERR_INIT;
	plug_init(&p, "exec sleep 30\n", NULL, 0);
	p.c->exec_timeout_ms = 200;
	CHECK_INT_EQ(get(p.c, &e), KE_CLUSTER);
	CHECK_INT_EQ(e.code, KE_CLUSTER);
	CHECK_CONTAINS(e.first.msg, "did not finish within 0.2s");
	CHECK_INT_EQ(p.st.sent, 0);
	plug_release(&p);
	/* one that closes stdout and goes on */
	plug_init(&p, CRED("t") "exec >&-\nexec sleep 30\n", NULL, 0);
	p.c->exec_timeout_ms = 200;
	CHECK_INT_EQ(get(p.c, &e), KE_CLUSTER);
	CHECK_CONTAINS(e.first.msg, "did not finish within 0.2s");
	plug_release(&p);
	kerr_clear(&e);
}

/* A child the plugin leaves behind keeps stdout open: the credential is
 * what the plugin printed before it exited (the child's later output
 * would spoil it). */
TEST(kube_exec_child_keeping_stdout_open)
{
	plug p;
	kerr e = KERR_INIT;
	plug_init(&p, CRED("tok-child") "(sleep 2; echo '}garbage') &\nexit 0\n", NULL, 0);
	CHECK_INT_EQ(get(p.c, &e), 0);
	CHECK_STR_EQ(p.st.last_auth, "tok-child");
	plug_release(&p);
	kerr_clear(&e);
}

/* Too much output: said so, not "signal 13". */
TEST(kube_exec_output_too_large)
{
	plug p;
	kerr e = KERR_INIT;
	plug_init(&p, "head -c 3000000 /dev/zero | tr '\\0' a\n", NULL, 0);
	CHECK_INT_EQ(get(p.c, &e), KE_CLUSTER);
	CHECK_CONTAINS(e.first.msg, "printed more than 1 MiB");
	CHECK(strstr(e.first.msg, "signal") == NULL);
	plug_release(&p);
	kerr_clear(&e);
}

typedef struct bg {
	kube_client *c;
	int rc;
	kerr e;
} bg;

static void *bg_get(void *u)
{
	bg *b = u;
	b->rc = get(b->c, &b->e);
	return NULL;
}

static bool wait_file(const char *path)
{
	int i;
	struct timespec ts = { 0, 10 * 1000000L };
	for (i = 0; i < 3000; i++) {
		if (access(path, F_OK) == 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* While the plugin runs, the client lock (stats, discovery, other
 * requests' credentials) stays free. The plugin waits for the test's
 * "go" file, so the check does not depend on timing. */
TEST(kube_exec_runs_without_the_client_lock)
{
	plug p;
	bg b;
	pthread_t th;
	char path[96];
	int locked;
	FILE *f;
	plug_init(&p, "touch started\nwhile [ ! -e go ]; do sleep 0.02; done\n" CRED("tok-lock"), NULL, 0);
	b.c = p.c;
	b.rc = -100;
	kerr_clear(&b.e);
	memset(&b.e, 0, sizeof(b.e));
	pthread_create(&th, NULL, bg_get, &b);
	snprintf(path, sizeof(path), "%s/started", p.dir);
	CHECK(wait_file(path));
	locked = pthread_mutex_trylock(&p.c->mu);
	CHECK_INT_EQ(locked, 0);
	if (locked == 0)
		pthread_mutex_unlock(&p.c->mu);
	snprintf(path, sizeof(path), "%s/go", p.dir);
	f = fopen(path, "w");
	fclose(f);
	pthread_join(th, NULL);
	CHECK_INT_EQ(b.rc, 0);
	CHECK_STR_EQ(p.st.last_auth, "tok-lock");
	kerr_clear(&b.e);
	plug_release(&p);
}

/* A connection reset, then the plugin fails on the retry: the plugin's
 * message is kept, and the return code is err->code. */
TEST(kube_do_keeps_the_credential_error)
{
	static const long st[] = { 0, 200 };
	plug p;
	kerr e = KERR_INIT;
	int rc;
	plug_init(&p, "if [ -e ran ]; then exit 3; fi\ntouch ran\n"
		  "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		  "\"status\":{\"token\":\"t1\",\"expirationTimestamp\":\"2000-01-01T00:00:00Z\"}}'\n", st, 2);
	rc = get(p.c, &e);
	CHECK_INT_EQ(rc, e.code);
	CHECK_INT_EQ(rc, KE_CLUSTER);
	CHECK_CONTAINS(e.first.msg, "failed (exit status 3)");
	CHECK(strstr(e.first.msg, "connection reset") == NULL);
	CHECK_INT_EQ(p.st.sent, 1);
	plug_release(&p);
	kerr_clear(&e);
}

/* A token that would add header lines is never sent, wherever it came from. */
TEST(kube_tokens_with_control_characters_are_refused)
{
	static const char *const toks[] = { "abc\r\nX-Evil: 1", "abc\n", "a\tb", "a\x7f" };
	size_t i;
	for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
		steps s = { NULL, 0, 0, 0, "" };
		kube_transport tr = { steps_send, NULL, &s };
		kube_config cfg;
		kube_client *c;
		kerr e = KERR_INIT;
		memset(&cfg, 0, sizeof(cfg));
		cfg.server = "https://fake";
		cfg.source = "/k";
		cfg.token = (char *)toks[i];
		c = kube_client_new_with(tr, &cfg, NULL);
		CHECK_INT_EQ(get(c, &e), KE_CLUSTER);
		CHECK_CONTAINS(e.first.msg, "the bearer token from the kubeconfig /k holds a control character");
		CHECK(strstr(e.first.msg, "abc") == NULL);   /* never the token */
		CHECK_INT_EQ(s.sent, 0);
		kube_client_free(c);
		kerr_clear(&e);
	}
	{
		/* from the exec plugin */
		plug p;
		kerr e = KERR_INIT;
		plug_init(&p, "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
			  "\"status\":{\"token\":\"t\\\\r\\\\nX: y\"}}'\n", NULL, 0);
		CHECK_INT_EQ(get(p.c, &e), KE_CLUSTER);
		CHECK_CONTAINS(e.first.msg, "the bearer token from exec plugin");
		CHECK_INT_EQ(p.st.sent, 0);
		plug_release(&p);
		kerr_clear(&e);
	}
}

/* Token files: a CR/LF inside is refused (trailing newlines are trimmed);
 * one over the size limit says so. */
TEST(kube_token_file_checks)
{
	char dir[] = "/tmp/kstage-tok-XXXXXX";
	char path[64];
	FILE *f;
	steps s = { NULL, 0, 0, 0, "" };
	kube_transport tr = { steps_send, NULL, &s };
	kube_config cfg;
	kube_client *c;
	kerr e = KERR_INIT;
	size_t i;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/token", dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = "https://fake";
	cfg.token_file = path;

	f = fopen(path, "w");
	fputs("good-token\n", f);
	fclose(f);
	c = kube_client_new_with(tr, &cfg, NULL);
	CHECK_INT_EQ(get(c, &e), 0);
	CHECK_STR_EQ(s.last_auth, "good-token");
	kube_client_free(c);

	f = fopen(path, "w");
	fputs("bad\r\nX-Evil: 1\n", f);
	fclose(f);
	s.sent = 0;
	c = kube_client_new_with(tr, &cfg, NULL);
	CHECK_INT_EQ(get(c, &e), KE_CLUSTER);
	CHECK_CONTAINS(e.first.msg, "the bearer token from token file");
	CHECK_INT_EQ(s.sent, 0);
	kube_client_free(c);

	f = fopen(path, "w");
	for (i = 0; i < (1 << 20) + 10; i++)
		fputc('a', f);
	fclose(f);
	c = kube_client_new_with(tr, &cfg, NULL);
	CHECK_INT_EQ(get(c, &e), KE_CLUSTER);
	CHECK_CONTAINS(e.first.msg, "is larger than 1 MiB");
	CHECK(strstr(e.first.msg, "No such file") == NULL);
	kube_client_free(c);

	unlink(path);
	rmdir(dir);
	kerr_clear(&e);
}
