/*
 * core/event.h - events: how lower modules tell the user what happens.
 *
 * Modules below cli/ never print. They emit events to a sink the caller
 * passes down; cli/ owns the sinks (human text on stderr, JSON lines on
 * stdout with -o json). An event is a level, a dotted kind ("stage.start",
 * "object.applied"), a message, and string fields. A module that learns a
 * secret (a token, a Secret's data) tells the sink with kev_secret(): cli/
 * masks it, by value, in everything it prints (core/redact.h). Producers
 * still never put secret material in an event on purpose.
 */
#ifndef KSTAGE_CORE_EVENT_H
#define KSTAGE_CORE_EVENT_H

#include <stdarg.h>
#include <stddef.h>

#include "redact.h"

typedef enum kev_level { KEV_DEBUG, KEV_INFO, KEV_WARN, KEV_ERROR } kev_level;

typedef struct kev_field {
	const char *key;
	const char *val;
} kev_field;

#define KEV_MAX_FIELDS 16

typedef struct kevent {
	kev_level level;
	const char *kind;
	const char *msg;
	kev_field fields[KEV_MAX_FIELDS];
	size_t nfields;
} kevent;

typedef struct kev_sink {
	void (*emit)(void *ctx, const kevent *ev);
	void *ctx;
	kredact *redact;    /* the run's secrets, masked where cli/ prints; may be NULL */
} kev_sink;

/* A sink that drops everything (tests, fuzzers). */
extern const kev_sink kev_null_sink;

/* Emit with fields given as a NULL-terminated list of key, value pairs:
 * kev_emit(s, KEV_INFO, "stage.start", "stage gateway", "stage", "gateway", NULL).
 * A NULL sink is allowed and drops the event. */
void kev_emit(const kev_sink *s, kev_level level, const char *kind, const char *msg, ...);
/* As kev_emit with the field list in a va_list (for wrappers). */
void kev_emitv(const kev_sink *s, kev_level level, const char *kind, const char *msg, va_list ap);
void kev_emitf(const kev_sink *s, kev_level level, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
const char *kev_level_name(kev_level l);
/* Tell the sink's redaction set that v[0..len) is secret (kredact_add with
 * KREDACT_FRAGMENTS). A NULL sink or set is allowed. */
void kev_secret(const kev_sink *s, const char *v, size_t len);
/* The value of field key, or NULL. */
const char *kev_get(const kevent *ev, const char *key);

#endif
