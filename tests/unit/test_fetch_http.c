/* Unit tests for fetch/http.c, kstage's one HTTP client, against a small
 * scripted HTTP/1.1 server on 127.0.0.1 (plain http, so allow_http): retries
 * with backoff, no retry on 404, the size cap, http refused unless allowed;
 * and values reading a URL only through the reader it is handed. */
#include "unit.h"
#include "fetch/fetch.h"
#include "values/values.h"
#include "http_srv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(fetch_http_retries_then_succeeds)
{
	static const int st[] = { 503, 500, 200 };
	static const char *const b[] = { "busy", "oops", "hello" };
	srv s;
	fetch_http_opts o;
	kbuf out = KBUF_INIT;
	kerr e = KERR_INIT;
	memset(&o, 0, sizeof(o));
	o.allow_http = true;
	o.base_delay_ms = 1;
	srv_start(&s, st, b, 3);
	CHECK_INT_EQ(fetch_http_get(&out, url_of(&s, "/x"), &o, &e), 0);
	CHECK_STR_EQ(out.ptr, "hello");
	srv_stop(&s);
	CHECK_INT_EQ(s.served, 3);
	kbuf_release(&out);
	kerr_clear(&e);
}

TEST(fetch_http_no_retry_on_404_and_size_cap)
{
	static const int st[] = { 404, 200 };
	static const char *const b[] = { "no", "0123456789abcdef" };
	srv s;
	fetch_http_opts o;
	kbuf out = KBUF_INIT;
	kerr e = KERR_INIT;
	memset(&o, 0, sizeof(o));
	o.allow_http = true;
	o.base_delay_ms = 1;
	o.max_bytes = 8;
	srv_start(&s, st, b, 2);
	CHECK_INT_EQ(fetch_http_get(&out, url_of(&s, "/a"), &o, &e), KE_IO);
	CHECK_CONTAINS(e.first.msg, "HTTP status 404");
	CHECK_INT_EQ(s.served, 1);
	CHECK_INT_EQ(fetch_http_get(&out, url_of(&s, "/b"), &o, &e), KE_LIMIT);
	CHECK_CONTAINS(e.first.msg, "larger than 8 bytes");
	CHECK_STR_EQ(out.ptr, "");
	srv_stop(&s);
	kbuf_release(&out);
	kerr_clear(&e);
}

/* A server that takes the connection and never answers: the transfer's
 * time limit ends each attempt, said in kstage's words (the limit, how
 * long, how many attempts), not libcurl's "Operation timed out". */
TEST(fetch_http_timeout_names_the_limit)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	fetch_http_opts o;
	kbuf out = KBUF_INIT, m = KBUF_INIT, url = KBUF_INIT;
	kerr e = KERR_INIT;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) && !listen(fd, 8) &&
	      !getsockname(fd, (struct sockaddr *)&a, &alen));
	kbuf_printf(&url, "http://127.0.0.1:%d/slow", ntohs(a.sin_port));
	memset(&o, 0, sizeof(o));
	o.allow_http = true;
	o.base_delay_ms = 1;
	o.max_attempts = 2;
	o.timeout_ms = 300;
	CHECK_INT_EQ(fetch_http_get(&out, url.ptr, &o, &e), KE_IO);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "after 2 attempts: http://127.0.0.1:");
	CHECK_CONTAINS(m.ptr, "/slow: timed out: no complete answer within 0.3 s, the time limit of one transfer");
	CHECK(!strstr(m.ptr, "Operation timed out"));
	close(fd);
	kbuf_release(&out);
	kbuf_release(&m);
	kbuf_release(&url);
	kerr_clear(&e);
}

TEST(fetch_http_plain_http_needs_consent)
{
	fetch_http_opts o;
	kbuf out = KBUF_INIT;
	kerr e = KERR_INIT;
	memset(&o, 0, sizeof(o));
	CHECK_INT_EQ(fetch_http_get(&out, "http://127.0.0.1:9/v.yaml", &o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "plain http is not allowed");
	CHECK_INT_EQ(fetch_http_get(&out, "ftp://127.0.0.1:9/v.yaml", &o, &e), KE_INPUT);
	CHECK_INT_EQ(fetch_http_get(&out, "file:///etc/passwd", &o, &e), KE_INPUT);
	kbuf_release(&out);
	kerr_clear(&e);
}

/* values read a URL only through the reader the caller hands them. */
TEST(fetch_values_url_through_the_reader)
{
	static const int st[] = { 200 };
	static const char *const b[] = { "replicas: 3\nimage: {tag: v1}\n" };
	srv s;
	fetch_http_opts o;
	values_opts vo;
	const char *files[1];
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *v = NULL;
	memset(&vo, 0, sizeof(vo));
	memset(&o, 0, sizeof(o));
	srv_start(&s, st, b, 1);
	files[0] = url_of(&s, "/values.yaml");
	vo.files = files;
	vo.nfiles = 1;
	/* no reader: refused, nothing fetched */
	CHECK(values_read_user(&v, NULL, &a, &vo, &e) != 0);
	CHECK_CONTAINS(e.first.msg, "cannot be read from a URL here");
	/* a reader that refuses plain http */
	vo.url.read = fetch_read_url;
	vo.url.ctx = &o;
	CHECK_INT_EQ(values_read_user(&v, NULL, &a, &vo, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "plain http is not allowed");
	CHECK_INT_EQ(s.served, 0);
	/* and with consent */
	o.allow_http = true;
	CHECK_INT_EQ(values_read_user(&v, NULL, &a, &vo, &e), 0);
	CHECK_INT_EQ(doc_get_int(v, "replicas", 0), 3);
	CHECK_STR_EQ(doc_get_str(v, "image.tag", NULL), "v1");
	srv_stop(&s);
	kerr_clear(&e);
	karena_release(&a);
}

/* A url source through a mirror rule to the scripted server: resolved
 * (500 twice, then the bytes), stored 0600 under its digest, then read
 * back offline; a pinned fetch of other bytes is refused naming both
 * digests and nothing is cached for them. */
TEST(fetch_get_mirror_resolve_cache_and_mismatch)
{
	static const int st[] = { 500, 500, 200, 200, 200 };
	static const char *const b[] = { "x", "y", "hello\n", "tampered\n", "0123456789" };
	char dir[] = "/tmp/kstage-fetch-get-XXXXXX";
	char rule[160];
	const char *rules[1];
	srv s;
	fetch_opts o;
	fetch_result res;
	kbuf out = KBUF_INIT, p = KBUF_INIT;
	kerr e = KERR_INIT;
	struct stat sb;
	CHECK(mkdtemp(dir) != NULL);
	srv_start(&s, st, b, 5);
	snprintf(rule, sizeof(rule), "https://github.com/=%s", url_of(&s, "/m/"));
	rules[0] = rule;
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.cache_dir = dir;
	o.config_file = "/dev/null";
	o.mirrors = rules;
	o.nmirrors = 1;
	o.base_delay_ms = 1;
	/* the rewrite to http needs consent */
	CHECK_INT_EQ(fetch_get(&out, &res, "https://github.com/a/hello.txt", NULL, &o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "--allow-insecure-http");
	CHECK_INT_EQ(s.served, 0);
	o.allow_http = true;
	CHECK_INT_EQ(fetch_get(&out, &res, "https://github.com/a/hello.txt", NULL, &o, &e), 0);
	CHECK_STR_EQ(out.ptr, "hello\n");
	CHECK_STR_EQ(res.sha256, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
	CHECK_INT_EQ(res.size, 6);
	CHECK_STR_EQ(res.resolved.ptr, url_of(&s, "/m/a/hello.txt"));
	CHECK_INT_EQ(s.served, 3);
	kbuf_printf(&p, "%s/sha256/%s", dir, res.sha256);
	CHECK_INT_EQ(stat(p.ptr, &sb), 0);
	CHECK_INT_EQ(sb.st_mode & 0777, 0600);
	/* offline, from the cache */
	o.offline = true;
	kbuf_reset(&out);
	CHECK_INT_EQ(fetch_url(&out, "https://github.com/a/hello.txt", res.sha256, &o, &e), 0);
	CHECK_STR_EQ(out.ptr, "hello\n");
	CHECK_INT_EQ(fetch_get(&out, NULL, "https://github.com/a/new.txt", NULL, &o, &e), KE_IO);
	CHECK_CONTAINS(e.first.msg, "not pinned, so not resolvable with --offline");
	/* pinned to digest D, the server sends other bytes */
	o.offline = false;
	kbuf_reset(&out);
	CHECK_INT_EQ(fetch_url(&out, "https://github.com/a/b.txt",
			       "1111111111111111111111111111111111111111111111111111111111111111", &o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "sha256 mismatch: pinned 1111111111111111111111111111111111111111111111111111111111111111, got ");
	CHECK_CONTAINS(e.first.msg, "(9 bytes from http://127.0.0.1:");
	CHECK_STR_EQ(out.ptr, "");
	/* larger than the size it is locked with: stopped there */
	{
		char want[65];
		fetch_sha256_hex("0123456789", 10, want);
		o.max_bytes = 5;
		CHECK_INT_EQ(fetch_url(&out, "https://github.com/a/c.txt", want, &o, &e), KE_LIMIT);
		CHECK_CONTAINS(e.first.msg, "larger than 5 bytes");
	}
	srv_stop(&s);
	{
		/* only the one good entry is in the cache: no temporary files left */
		kbuf ls = KBUF_INIT;
		FILE *f;
		char line[256];
		int n = 0;
		kbuf_printf(&ls, "ls -A %s/sha256", dir);
		f = popen(ls.ptr, "r");
		while (f && fgets(line, sizeof(line), f))
			n++;
		if (f)
			pclose(f);
		CHECK_INT_EQ(n, 1);
		kbuf_reset(&ls);
		kbuf_printf(&ls, "rm -rf %s", dir);
		CHECK_INT_EQ(system(ls.ptr), 0);
		kbuf_release(&ls);
	}
	kbuf_release(&out);
	kbuf_release(&p);
	kbuf_release(&res.resolved);
	kerr_clear(&e);
}
