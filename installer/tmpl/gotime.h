/*
 * tmpl/gotime.h - the parts of Go's time package that Sprig's date
 * functions reach, ported to give Go's results: locations (UTC, Local from
 * $TZ or /etc/localtime, fixed zones, IANA zones read from the system's
 * TZif files with their POSIX TZ footer), Time.Format and ParseInLocation
 * with Go's reference-time layouts and Go's error text. Internal to tmpl.
 *
 * A point in time is Unix seconds (any int64) and nanoseconds with a
 * location; locations compare by identity as Go's *Location does (UTC,
 * Local and the unnamed whole-hour fixed zones are shared, every other
 * fixed zone is its own).
 */
#ifndef KSTAGE_TMPL_GOTIME_H
#define KSTAGE_TMPL_GOTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"

typedef struct gt_loc gt_loc;

/* Go's time.UTC and time.Local (Local is read once per process, as Go
 * does: $TZ unset /etc/localtime, "" UTC, else the named or absolute
 * file; what cannot be read is UTC). Both are static. */
const gt_loc *gt_utc(void);
const gt_loc *gt_local(void);

/* time.LoadLocation(name): "" and "UTC" UTC, "Local" Local, else the
 * TZif file from $ZONEINFO or the system zoneinfo directories, read into
 * arena a. Returns 0, or -1 where Go returns an error. */
int gt_load(karena *a, const char *name, size_t len, const gt_loc **out);

/* Time.Format(layout) of the instant (sec, nsec) in loc. */
void gt_format(kbuf *b, const char *layout, size_t ll, int64_t sec, long nsec, const gt_loc *loc);

/* time.ParseInLocation(layout, value, loc). Returns 0 with the instant and
 * its location (loc, UTC or a fixed zone in arena a), or -1 with Go's
 * error text in err. */
int gt_parse(karena *a, const char *layout, size_t ll, const char *value, size_t vl, const gt_loc *loc,
	     int64_t *sec, long *nsec, const gt_loc **out, kbuf *err);

/* The time package's quote(): bytes outside printable ASCII as \xNN. */
void gt_quote(kbuf *b, const char *s, size_t n);

#endif
