/*
 * tests/unit/http_srv.h - a small scripted HTTP/1.1 server on 127.0.0.1
 * for unit tests: connection i is answered with status[i] and body[i]
 * (Connection: close); the head and body of the last request are kept.
 */
#ifndef KSTAGE_HTTP_SRV_H
#define KSTAGE_HTTP_SRV_H

#include <pthread.h>
#include <stddef.h>

typedef struct srv {
	int fd;
	int port;
	const int *status;          /* one per connection */
	const char *const *body;
	size_t n;
	_Atomic size_t served;      /* counted before the answer goes out: a client holding
	                             * its answer sees it (the test thread reads it) */
	char last[8192];            /* the last request: head and what came of its body */
	pthread_t th;
} srv;

void srv_start(srv *s, const int *status, const char *const *body, size_t n);
/* Stop: wake a blocked accept with connections of our own. */
void srv_stop(srv *s);
/* "http://127.0.0.1:PORT" + path (a static buffer). */
char *url_of(const srv *s, const char *path);

#endif
