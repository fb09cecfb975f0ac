/* tests/unit/http_srv.c - the scripted HTTP server of unit tests. See http_srv.h. */
#define _GNU_SOURCE
#include "http_srv.h"
#include "unit.h"
#include "core/buf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *srv_run(void *u)
{
	srv *s = u;
	size_t i;
	for (i = 0; i < s->n; i++) {
		char req[4096];
		kbuf resp = KBUF_INIT;
		ssize_t got = 0, r;
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			break;
		/* read the request head, then as much of its body as it announces */
		req[0] = '\0';
		while (got < (ssize_t)sizeof(req) - 1 && (r = read(c, req + got, sizeof(req) - 1 - (size_t)got)) > 0) {
			const char *end, *cl;
			got += r;
			req[got] = '\0';
			if (!(end = strstr(req, "\r\n\r\n")))
				continue;
			cl = strcasestr(req, "\r\nContent-Length:");
			if (!cl || cl > end || got - (end + 4 - req) >= strtol(cl + 17, NULL, 10))
				break;
		}
		snprintf(s->last, sizeof(s->last), "%s", req);
		kbuf_printf(&resp, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", s->status[i],
			    strlen(s->body[i]), s->body[i]);
		s->served++;
		if (write(c, resp.ptr, resp.len) < 0)
			unit_fail(__FILE__, __LINE__, "write failed");
		kbuf_release(&resp);
		close(c);
	}
	return NULL;
}

void srv_start(srv *s, const int *status, const char *const *body, size_t n)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	memset(s, 0, sizeof(*s));
	s->status = status;
	s->body = body;
	s->n = n;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) || listen(s->fd, 8) ||
	    getsockname(s->fd, (struct sockaddr *)&a, &len))
		abort();
	s->port = ntohs(a.sin_port);
	pthread_create(&s->th, NULL, srv_run, s);
}

void srv_stop(srv *s)
{
	while (s->served < s->n) {
		struct sockaddr_in a;
		int c = socket(AF_INET, SOCK_STREAM, 0);
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a.sin_port = htons((uint16_t)s->port);
		if (connect(c, (struct sockaddr *)&a, sizeof(a)) == 0 && write(c, "\r\n\r\n", 4) < 0)
			unit_fail(__FILE__, __LINE__, "write failed");
		close(c);
		if (s->served < s->n)
			usleep(1000);
		else
			break;
	}
	pthread_join(s->th, NULL);
	close(s->fd);
}

char *url_of(const srv *s, const char *path)
{
	static char u[128];
	snprintf(u, sizeof(u), "http://127.0.0.1:%d%s", s->port, path);
	return u;
}

