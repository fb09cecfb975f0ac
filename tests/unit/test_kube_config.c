/* Unit tests for kube/kubeconfig.c: merging, context selection, data fields, exec. */
#include "unit.h"
#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *kc1 =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: one\n"
	"clusters:\n"
	"- name: c1\n"
	"  cluster:\n"
	"    server: https://one.example:6443/\n"
	"    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmhlbGxvIGNhCi0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K\n"
	"    tls-server-name: api.internal\n"
	"- name: c2\n"
	"  cluster: {server: https://two.example, insecure-skip-tls-verify: true, proxy-url: http://proxy:3128}\n"
	"users:\n"
	"- name: u1\n"
	"  user: {token: s3cret}\n"
	"- name: u2\n"
	"  user:\n"
	"    client-certificate: certs/u2.crt\n"
	"    client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCmtleQotLS0tLUVORCBQUklWQVRFIEtFWS0tLS0tCg==\n"
	"contexts:\n"
	"- name: one\n"
	"  context: {cluster: c1, user: u1, namespace: team}\n"
	"- name: two\n"
	"  context: {cluster: c2, user: u2}\n";

static const char *kc2 =
	"current-context: two\n"
	"clusters:\n"
	"- name: c1\n"
	"  cluster: {server: https://shadowed.example}\n"
	"users:\n"
	"- name: u3\n"
	"  user:\n"
	"    exec:\n"
	"      apiVersion: client.authentication.k8s.io/v1\n"
	"      command: ./bin/plugin\n"
	"      args: [get-token, --cluster, x]\n"
	"      env: [{name: FOO, value: bar}]\n"
	"contexts:\n"
	"- name: three\n"
	"  context: {cluster: c1, user: u3}\n";

TEST(kube_config_first_file_wins)
{
	const char *names[] = { "/home/me/.kube/a", "/etc/kube/b" };
	const char *texts[] = { kc1, kc2 };
	kube_config_opts o = { 0 };
	kube_config c;
	kerr e = KERR_INIT;
	CHECK_INT_EQ(kube_config_load_texts(&c, names, texts, 2, &o, &e), 0);
	CHECK_STR_EQ(c.context, "one");          /* current-context from the first file */
	CHECK_STR_EQ(c.server, "https://one.example:6443");   /* trailing slash gone; c1 from the first file */
	CHECK_STR_EQ(c.namespace, "team");
	CHECK_STR_EQ(c.token, "s3cret");
	CHECK_INT_EQ(c.ca_len, 63);
	CHECK_STR_EQ(c.ca_pem, "-----BEGIN CERTIFICATE-----\nhello ca\n-----END CERTIFICATE-----\n");
	CHECK_STR_EQ(c.tls_server_name, "api.internal");
	kube_config_release(&c);
	kerr_clear(&e);
}

TEST(kube_config_context_flag_and_paths)
{
	const char *names[] = { "/home/me/.kube/a", "/etc/kube/b" };
	const char *texts[] = { kc1, kc2 };
	kube_config_opts o = { NULL, "two", "override" };
	kube_config c;
	kerr e = KERR_INIT;
	CHECK_INT_EQ(kube_config_load_texts(&c, names, texts, 2, &o, &e), 0);
	CHECK(c.insecure);
	CHECK_STR_EQ(c.proxy_url, "http://proxy:3128");
	CHECK_STR_EQ(c.cert_file, "/home/me/.kube/certs/u2.crt");
	CHECK_STR_EQ(c.key_pem, "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n");
	CHECK_STR_EQ(c.namespace, "override");
	kube_config_release(&c);
	o.context = "three";
	o.namespace = NULL;
	CHECK_INT_EQ(kube_config_load_texts(&c, names, texts, 2, &o, &e), 0);
	CHECK(c.exec != NULL);
	if (c.exec) {
		CHECK_STR_EQ(c.exec->command, "/etc/kube/./bin/plugin");
		CHECK_INT_EQ(c.exec->nargs, 3);
		CHECK_STR_EQ(c.exec->env[0], "FOO=bar");
	}
	CHECK_STR_EQ(c.namespace, "default");
	CHECK_STR_EQ(c.server, "https://one.example:6443");
	kube_config_release(&c);
	kerr_clear(&e);
}

TEST(kube_config_errors)
{
	const char *names[] = { "/k" };
	const char *texts[] = { kc1 };
	const char *bad[] = { "clusters: [\n" };
	const char *b64[] = { "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
			      "clusters: [{name: c, cluster: {server: https://a, certificate-authority-data: '!!!'}}]\n" };
	kube_config_opts o = { NULL, "nope", NULL };
	kube_config c;
	kerr e = KERR_INIT;
	kbuf m = KBUF_INIT;
	CHECK_INT_EQ(kube_config_load_texts(&c, names, texts, 1, &o, &e), KE_CLUSTER);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "context \"nope\" not found");
	CHECK_CONTAINS(m.ptr, "\"one\", \"two\"");
	kube_config_release(&c);
	kerr_clear(&e);
	kbuf_reset(&m);
	o.context = NULL;
	CHECK_INT_EQ(kube_config_load_texts(&c, names, bad, 1, &o, &e), KE_INPUT);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "/k:");
	kube_config_release(&c);
	kerr_clear(&e);
	kbuf_reset(&m);
	CHECK_INT_EQ(kube_config_load_texts(&c, names, b64, 1, &o, &e), KE_INPUT);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "/k:3:");
	CHECK_CONTAINS(m.ptr, "not valid base64");
	kube_config_release(&c);
	kerr_clear(&e);
	kbuf_release(&m);
}

/* Data that is not PEM is blamed on its own field, at load, not later on
 * the CA by a TLS error. */
TEST(kube_config_names_the_bad_pem_field)
{
	const char *names[] = { "/k" };
	const char *texts[] = { "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
				"clusters: [{name: c, cluster: {server: https://a}}]\n"
				"users: [{name: u, user: {client-certificate-data: aGk=, client-key-data: aGk=}}]\n" };
	kube_config_opts o = { 0 };
	kube_config c;
	kerr e = KERR_INIT;
	kbuf m = KBUF_INIT;
	CHECK_INT_EQ(kube_config_load_texts(&c, names, texts, 1, &o, &e), KE_INPUT);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "/k:4:");
	CHECK_CONTAINS(m.ptr, "client-certificate-data does not hold a PEM block");
	CHECK(strstr(m.ptr, "certificate-authority") == NULL);
	kube_config_release(&c);
	kerr_clear(&e);
	kbuf_release(&m);
}

TEST(kube_config_in_cluster)
{
	kube_config_opts o = { 0 };
	kube_config c;
	kerr e = KERR_INIT;
	char dir[] = "/tmp/kstage-sa-XXXXXX";
	kbuf p = KBUF_INIT;
	FILE *f;
	CHECK(mkdtemp(dir) != NULL);
	kbuf_printf(&p, "%s/namespace", dir);
	f = fopen(p.ptr, "w");
	fputs("ci-ns\n", f);
	fclose(f);
	setenv("KUBECONFIG", "/nonexistent/kubeconfig", 1);
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	setenv("KSTAGE_SERVICEACCOUNT_DIR", dir, 1);
	CHECK_INT_EQ(kube_config_load(&c, &o, &e), 0);
	CHECK_STR_EQ(c.server, "https://10.0.0.1:443");
	CHECK_STR_EQ(c.namespace, "ci-ns");
	CHECK_CONTAINS(c.token_file, "/token");
	CHECK_CONTAINS(c.ca_file, "/ca.crt");
	kube_config_release(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	CHECK_INT_EQ(kube_config_load(&c, &o, &e), KE_CLUSTER);
	kube_config_release(&c);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("KSTAGE_SERVICEACCOUNT_DIR");
	unlink(p.ptr);
	rmdir(dir);
	kbuf_release(&p);
	kerr_clear(&e);
}

TEST(kube_b64_round_trip)
{
	kbuf b = KBUF_INIT;
	char *out;
	size_t n;
	kube_b64_encode(&b, "any carnal pleas", 16);
	CHECK_STR_EQ(b.ptr, "YW55IGNhcm5hbCBwbGVhcw==");
	CHECK_INT_EQ(kube_b64_decode(b.ptr, b.len, &out, &n), 0);
	CHECK_INT_EQ(n, 16);
	CHECK_STR_EQ(out, "any carnal pleas");
	free(out);
	CHECK_INT_EQ(kube_b64_decode("ab$c", 4, &out, &n), -1);
	kbuf_release(&b);
}
