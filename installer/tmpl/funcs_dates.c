/* tmpl/funcs_dates.c - Sprig's date functions over a time value (a tobj
 * "time.Time"): now, date, dateInZone, htmlDate, htmlDateInZone,
 * unixEpoch, toDate, dateModify, ago, duration, durationRound, as Sprig
 * v3 defines them over Go's time package (gotime.c: locations, layouts,
 * parsing). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gotime.h"
#include "tmpl_int.h"

#define NS 1000000000LL

/* Go's zero time (toDate's answer to text it cannot parse), in seconds */
#define ZERO_TIME_SECS (-62135596800LL)

/* a point in time as Go's time.Time holds it: Unix seconds (any int64)
 * and nanoseconds 0..999999999 */
typedef struct gtime {
	int64_t sec;
	long nsec;
} gtime;

/* a time value: a tobj "time.Time" whose n.u.i holds the Unix seconds,
 * with the nanoseconds beside it; ptr holds its gt_loc (compared by
 * identity, as Go compares *Location). mono: the time carries a monotonic
 * clock reading (Go's now, and Add keeps it), which takes part in Go's == */
typedef struct ttime {
	tobj o;
	long nsec;
	bool mono;
} ttime;

static doc_node *mk_time(tctx *x, gtime t, const gt_loc *loc)
{
	ttime *o = karena_alloc(x->a, sizeof(*o));
	o->o.n.type = DOC_INT;
	o->o.n.flags = TV_OBJ;
	o->o.kind = TOBJ_NAMED;
	o->o.type_name = "time.Time";
	o->o.n.u.i = t.sec;
	o->o.ptr = (void *)(uintptr_t)loc;
	o->nsec = t.nsec;
	o->mono = false;
	return &o->o.n;
}

static gtime time_value(const doc_node *v)
{
	gtime t = { v->u.i, ((const ttime *)v)->nsec };
	return t;
}

static const gt_loc *time_loc(const doc_node *v) { return ((const tobj *)v)->ptr; }

static bool is_time(const doc_node *v)
{
	return v && (v->flags & TV_OBJ) && v->type == DOC_INT && !strcmp(((const tobj *)v)->type_name, "time.Time");
}

bool tv_is_time(const doc_node *v) { return is_time(v); }

bool tv_time_equal(const doc_node *p, const doc_node *q)
{
	const ttime *a = (const ttime *)p, *b = (const ttime *)q;
	return p->u.i == q->u.i && a->nsec == b->nsec && a->o.ptr == b->o.ptr && a->mono == b->mono;
}

static gtime now(void)
{
	struct timespec ts;
	gtime t;
	clock_gettime(CLOCK_REALTIME, &ts);
	t.sec = (int64_t)ts.tv_sec;
	t.nsec = ts.tv_nsec;
	return t;
}

/* the time of a Sprig date argument: time.Time, or int/int64 seconds
 * (time.Unix: any int64, in Local); anything else is now */
static gtime time_of(const doc_node *v)
{
	gtime t = { 0, 0 };
	if (is_time(v))
		return time_value(v);
	if (v && v->type == DOC_INT && !(v->flags & (TV_U8 | TV_OBJ))) {
		t.sec = v->u.i;
		return t;
	}
	return now();
}

/* now - t in nanoseconds, saturated as Go's time.Since saturates */
static int64_t since(gtime t)
{
	gtime n = now();
	int64_t d;
	if (__builtin_sub_overflow(n.sec, t.sec, &d) || __builtin_mul_overflow(d, NS, &d) ||
	    __builtin_add_overflow(d, (int64_t)(n.nsec - t.nsec), &d))
		return n.sec < t.sec ? INT64_MIN : INT64_MAX;
	return d;
}

/* Go's Time.Add: seconds wrap as Go's int64 does */
static gtime gtime_add(gtime t, int64_t d)
{
	t.sec = (int64_t)((uint64_t)t.sec + (uint64_t)(d / NS));
	t.nsec += (long)(d % NS);
	if (t.nsec < 0) {
		t.nsec += NS;
		t.sec = (int64_t)((uint64_t)t.sec - 1);
	} else if (t.nsec >= NS) {
		t.nsec -= NS;
		t.sec = (int64_t)((uint64_t)t.sec + 1);
	}
	return t;
}

/* time.Time.String() (without the monotonic reading) */
void tv_time_string(kbuf *b, const doc_node *t)
{
	static const char layout[] = "2006-01-02 15:04:05.999999999 -0700 MST";
	gtime g = time_value(t);
	gt_format(b, layout, sizeof(layout) - 1, g.sec, g.nsec, time_loc(t));
}

bool tv_time_rfc3339(kbuf *b, const doc_node *t)
{
	static const char layout[] = "2006-01-02T15:04:05.999999999Z07:00";
	size_t start = b->len;
	gtime g = time_value(t);
	gt_format(b, layout, sizeof(layout) - 1, g.sec, g.nsec, time_loc(t));
	/* a year of four digits: no sign, nothing past 9999 */
	return b->len - start > 4 && b->ptr[start] != '-' && b->ptr[start + 4] == '-';
}

/* Sprig's dateInZone: the date argument in the named location (one that
 * does not load is UTC), formatted */
static int fmt_date(tctx *x, doc_node **out, const doc_node *layout, const doc_node *d, const char *zone,
		    size_t zl)
{
	kbuf b = KBUF_INIT;
	gtime t = time_of(d);
	const gt_loc *loc;
	if (gt_load(x->a, zone, zl, &loc))
		loc = gt_utc();
	gt_format(&b, layout->u.s.ptr, layout->u.s.len, t.sec, t.nsec, loc);
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_now(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)a; (void)n;
	*out = mk_time(x, now(), gt_local());
	((ttime *)*out)->mono = true;
	return 0;
}

static const doc_node html_layout = { DOC_STR, 0, 0, 0, NULL, { .s = { (char *)"2006-01-02", 10 } } };

static int f_date(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return fmt_date(x, out, a[0], a[1], "Local", 5); }
static int f_dateinzone(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return fmt_date(x, out, a[0], a[1], a[2]->u.s.ptr, a[2]->u.s.len);
}
static int f_htmldate(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return fmt_date(x, out, &html_layout, a[0], "Local", 5);
}
static int f_htmldateinzone(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return fmt_date(x, out, &html_layout, a[0], a[1]->u.s.ptr, a[1]->u.s.len);
}

static int f_unixepoch(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	char buf[32];
	(void)n;
	snprintf(buf, sizeof(buf), "%lld", (long long)a[0]->u.i);
	*out = tv_strz(x->a, buf);
	return 0;
}

/* time.ParseDuration, Go's algorithm: integer nanoseconds, fractions
 * scaled in float64, anything past 1<<63 an error. On error returns false
 * and, when msg is given, sets Go's message in it. */
static bool parse_duration(const char *str, size_t l, int64_t *out, kbuf *msg)
{
	static const struct { const char *name; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xC2\xB5s", 1000 }, { "\xCE\xBCs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000ULL }, { "m", 60000000000ULL }, { "h", 3600000000000ULL },
	};
	const uint64_t lim = 1ULL << 63;
	const char *p = str, *e = str + l;
	uint64_t d = 0;
	bool neg = false;
	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (e - p == 1 && *p == '0') {
		*out = 0;
		return true;
	}
	if (p == e)
		goto invalid;
	while (p < e) {
		uint64_t v = 0, f = 0, unit = 0;
		double scale = 1;
		const char *start = p, *u;
		bool pre, post = false, over = false;
		size_t k;
		if (!(*p == '.' || (*p >= '0' && *p <= '9')))
			goto invalid;
		for (; p < e && *p >= '0' && *p <= '9'; p++) {
			if (v > lim / 10)
				goto invalid;
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > lim)
				goto invalid;
		}
		pre = p != start;
		if (p < e && *p == '.') {
			const char *fs = ++p;
			for (; p < e && *p >= '0' && *p <= '9'; p++) {
				uint64_t y;
				if (over)
					continue;
				if (f > (lim - 1) / 10) {
					over = true;
					continue;
				}
				y = f * 10 + (uint64_t)(*p - '0');
				if (y > lim) {
					over = true;
					continue;
				}
				f = y;
				scale *= 10;
			}
			post = p != fs;
		}
		if (!pre && !post)
			goto invalid;
		for (u = p; p < e && *p != '.' && !(*p >= '0' && *p <= '9'); p++)
			;
		if (p == u) {
			if (msg) {
				kbuf_puts(msg, "time: missing unit in duration ");
				gt_quote(msg, str, l);
			}
			return false;
		}
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
			if (strlen(units[k].name) == (size_t)(p - u) && !memcmp(units[k].name, u, (size_t)(p - u)))
				unit = units[k].ns;
		if (!unit) {
			if (msg) {
				kbuf_puts(msg, "time: unknown unit ");
				gt_quote(msg, u, (size_t)(p - u));
				kbuf_puts(msg, " in duration ");
				gt_quote(msg, str, l);
			}
			return false;
		}
		if (v > lim / unit)
			goto invalid;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				goto invalid;
		}
		d += v;
		if (d > lim)
			goto invalid;
	}
	if (neg) {
		*out = (int64_t)(0 - d);
		return true;
	}
	if (d > lim - 1)
		goto invalid;
	*out = (int64_t)d;
	return true;
invalid:
	if (msg) {
		kbuf_puts(msg, "time: invalid duration ");
		gt_quote(msg, str, l);
	}
	return false;
}

static void fmt_duration(kbuf *b, int64_t d)
{
	uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
	if (d < 0)
		kbuf_putc(b, '-');
	if (u < (uint64_t)NS) {
		if (u == 0) kbuf_puts(b, "0s");
		else if (u < 1000) kbuf_printf(b, "%lluns", (unsigned long long)u);
		else if (u < 1000000) kbuf_printf(b, "%gµs", (double)u / 1e3);
		else kbuf_printf(b, "%gms", (double)u / 1e6);
		return;
	}
	if (u >= 3600ULL * NS)
		kbuf_printf(b, "%lluh", (unsigned long long)(u / (3600ULL * NS)));
	if (u >= 60ULL * NS)
		kbuf_printf(b, "%llum", (unsigned long long)((u / (60ULL * NS)) % 60));
	{
		uint64_t s = (u / NS) % 60, f = u % NS;
		kbuf_printf(b, "%llu", (unsigned long long)s);
		if (f) {
			char digs[16];
			size_t k = 9;
			snprintf(digs, sizeof(digs), "%09llu", (unsigned long long)f);
			while (k > 0 && digs[k - 1] == '0')
				k--;
			kbuf_putc(b, '.');
			kbuf_put(b, digs, k);
		}
		kbuf_putc(b, 's');
	}
}

/* Go's t.Add(d): the zone and the monotonic reading stay */
static doc_node *time_add(tctx *x, const doc_node *v, int64_t d)
{
	doc_node *r = mk_time(x, gtime_add(time_value(v), d), time_loc(v));
	((ttime *)r)->mono = ((const ttime *)v)->mono;
	return r;
}

static int f_datemodify(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t d;
	(void)n;
	if (!parse_duration(a[0]->u.s.ptr, a[0]->u.s.len, &d, NULL)) {
		*out = a[1];
		return 0;
	}
	*out = time_add(x, a[1], d);
	return 0;
}

static int f_mustdatemodify(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t d;
	kbuf msg = KBUF_INIT;
	int r;
	(void)n;
	if (!parse_duration(a[0]->u.s.ptr, a[0]->u.s.len, &d, &msg)) {
		r = tctx_fail(x, "%s", msg.ptr);
		kbuf_release(&msg);
		return r;
	}
	*out = time_add(x, a[1], d);
	return 0;
}

/* Sprig's duration takes a string (base 10; what does not parse is 0, out
 * of range the nearest int64) or an int64: any other type, a template's int
 * literal or a values file's float64, counts as 0 seconds. The product
 * wraps as Go's does. */
static int f_duration(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	int64_t s = 0;
	(void)n;
	if (a[0] && a[0]->type == DOC_STR && !(a[0]->flags & TV_BYTES)) {
		kbuf t = KBUF_INIT;
		char *end;
		long long v;
		kbuf_put(&t, a[0]->u.s.ptr, a[0]->u.s.len);
		/* strtoll clamps out-of-range values as ParseInt does; it also
		 * takes leading blanks, which ParseInt does not */
		if (t.len && strchr("+-0123456789", t.ptr[0])) {
			v = strtoll(t.ptr, &end, 10);
			if (end == t.ptr + t.len && end > t.ptr + (t.ptr[0] == '+' || t.ptr[0] == '-'))
				s = v;
		}
		kbuf_release(&t);
	} else if (a[0] && a[0]->type == DOC_INT && !(a[0]->flags & (TV_INT | TV_U8 | TV_OBJ))) {
		s = a[0]->u.i;
	}
	fmt_duration(&b, (int64_t)((uint64_t)s * (uint64_t)NS));
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

/* Duration.Round(time.Second) */
static int64_t round_second(int64_t d)
{
	int64_t r = d % NS;
	if (d < 0) {
		r = -r;
		if ((uint64_t)r + (uint64_t)r < (uint64_t)NS)
			return d + r;
		return d - NS + r < d ? d - NS + r : INT64_MIN;
	}
	if ((uint64_t)r + (uint64_t)r < (uint64_t)NS)
		return d - r;
	return d + NS - r > d ? d + NS - r : INT64_MAX;
}

/* Sprig's dateAgo: int, int64 or time.Time (anything else is now) */
static int f_ago(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	(void)n;
	fmt_duration(&b, round_second(since(time_of(a[0]))));
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_durationround(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t d = 0;
	uint64_t u;
	const char *r;
	char buf[32];
	(void)n;
	if (a[0] && a[0]->type == DOC_STR) {
		if (!parse_duration(a[0]->u.s.ptr, a[0]->u.s.len, &d, NULL))
			d = 0;
	} else if (is_time(a[0])) {
		d = since(time_value(a[0]));
	} else if (a[0] && a[0]->type == DOC_INT && !(a[0]->flags & (TV_INT | TV_U8 | TV_OBJ))) {
		d = a[0]->u.i; /* an int64; Sprig takes any other type as 0 */
	}
	u = d < 0 ? 0 - (uint64_t)d : (uint64_t)d;
	/* Sprig's thresholds are strict: exactly one hour is "60m" */
	if (u > 365ULL * 86400 * NS) { u /= 365ULL * 86400 * NS; r = "y"; }
	else if (u > 30ULL * 86400 * NS) { u /= 30ULL * 86400 * NS; r = "mo"; }
	else if (u > 86400ULL * NS) { u /= 86400ULL * NS; r = "d"; }
	else if (u > 3600ULL * NS) { u /= 3600ULL * NS; r = "h"; }
	else if (u > 60ULL * NS) { u /= 60ULL * NS; r = "m"; }
	else if (u > (uint64_t)NS) { u /= NS; r = "s"; }
	else { u = 0; r = "s"; }
	snprintf(buf, sizeof(buf), "%llu%s", (unsigned long long)u, r);
	*out = tv_strz(x->a, buf);
	return 0;
}

/* Sprig's toDate: time.ParseInLocation(layout, value, time.Local); what
 * does not parse is Go's zero time */
static int f_todate(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	gtime t;
	const gt_loc *loc;
	kbuf err = KBUF_INIT;
	(void)n;
	if (gt_parse(x->a, a[0]->u.s.ptr, a[0]->u.s.len, a[1]->u.s.ptr, a[1]->u.s.len, gt_local(), &t.sec, &t.nsec,
		     &loc, &err)) {
		t.sec = ZERO_TIME_SECS;
		t.nsec = 0;
		loc = gt_utc();
	}
	kbuf_release(&err);
	*out = mk_time(x, t, loc);
	return 0;
}

static int f_musttodate(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	gtime t;
	const gt_loc *loc;
	kbuf err = KBUF_INIT;
	int r = 0;
	(void)n;
	if (gt_parse(x->a, a[0]->u.s.ptr, a[0]->u.s.len, a[1]->u.s.ptr, a[1]->u.s.len, gt_local(), &t.sec, &t.nsec,
		     &loc, &err))
		r = tctx_fail(x, "%s", err.ptr);
	else
		*out = mk_time(x, t, loc);
	kbuf_release(&err);
	return r;
}

const tfunc tmpl_funcs_dates[] = {
	{ "now", f_now, "" },
	{ "date", f_date, "sa" },
	{ "date_in_zone", f_dateinzone, "sas" },
	{ "dateInZone", f_dateinzone, "sas" },
	{ "htmlDate", f_htmldate, "a" },
	{ "htmlDateInZone", f_htmldateinzone, "as" },
	{ "unixEpoch", f_unixepoch, "t" },
	{ "dateModify", f_datemodify, "st" },
	{ "date_modify", f_datemodify, "st" },
	{ "mustDateModify", f_mustdatemodify, "st" },
	{ "must_date_modify", f_mustdatemodify, "st" },
	{ "duration", f_duration, "a" },
	{ "durationRound", f_durationround, "a" },
	{ "ago", f_ago, "a" },
	{ "toDate", f_todate, "ss" },
	{ "mustToDate", f_musttodate, "ss" },
	{ NULL, NULL, NULL },
};
