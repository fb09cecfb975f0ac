/* tmpl/funcs_dates.c - Sprig's date functions over a time value (a tobj
 * "time.Time" holding Unix nanoseconds in a DOC_INT): now, date,
 * dateInZone, htmlDate, htmlDateInZone, unixEpoch, toDate, dateModify,
 * ago, duration, durationRound, with Go's reference-time layouts.
 * Decision: zones are "UTC" and "Local" (plus fixed offsets written in
 * the input); IANA names other than UTC are treated as UTC. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
 * with the nanoseconds beside it; ptr holds a fixed zone
 * ((offset seconds + 100000) << 1 | 1) or NULL for Local. mono: the time
 * carries a monotonic clock reading (Go's now, and Add keeps it), which
 * takes part in Go's == */
typedef struct ttime {
	tobj o;
	long nsec;
	bool mono;
} ttime;

static doc_node *mk_time_zone(tctx *x, gtime t, void *zone)
{
	ttime *o = karena_alloc(x->a, sizeof(*o));
	o->o.n.type = DOC_INT;
	o->o.n.flags = TV_OBJ;
	o->o.kind = TOBJ_NAMED;
	o->o.type_name = "time.Time";
	o->o.n.u.i = t.sec;
	o->o.ptr = zone;
	o->nsec = t.nsec;
	o->mono = false;
	return &o->o.n;
}

static doc_node *mk_time(tctx *x, gtime t) { return mk_time_zone(x, t, NULL); }

static gtime time_value(const doc_node *v)
{
	gtime t = { v->u.i, ((const ttime *)v)->nsec };
	return t;
}

static void *fixed_zone(long off) { return (void *)(intptr_t)(((off + 100000) << 1) | 1); }
static bool zone_of(const void *z, long *off)
{
	intptr_t v = (intptr_t)z;
	if (!(v & 1))
		return false;
	*off = (long)(v >> 1) - 100000;
	return true;
}

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

/* the time of a Sprig date argument: time.Time, or int/int64/int32 seconds
 * (time.Unix: any int64); false for a float (then, like a missing one, now) */
static bool time_of(const doc_node *v, gtime *t)
{
	if (is_time(v)) {
		*t = time_value(v);
		return true;
	}
	if (v && v->type == DOC_INT) {
		t->sec = v->u.i;
		t->nsec = 0;
		return true;
	}
	t->sec = (int64_t)time(NULL);
	t->nsec = 0;
	return v && v->type == DOC_FLOAT ? false : true;
}

/* now - t in nanoseconds, saturated as Go's time.Since saturates */
static int64_t since(gtime t)
{
	struct timespec ts;
	int64_t d;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (__builtin_sub_overflow((int64_t)ts.tv_sec, t.sec, &d) || __builtin_mul_overflow(d, NS, &d) ||
	    __builtin_add_overflow(d, (int64_t)(ts.tv_nsec - t.nsec), &d))
		return (int64_t)ts.tv_sec < t.sec ? INT64_MIN : INT64_MAX;
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

/* a broken-down civil time with a year as wide as Go's */
typedef struct gdate {
	int64_t year;
	int mon, mday, hour, min, sec, wday; /* mon 0..11, wday 0 = Sunday */
} gdate;

/* Unix seconds shifted by off to civil time; as in Go, seconds are first
 * taken modulo 2^64 into the window that starts at Go's absolute zero
 * time (March of year -292277022399), so the extremes wrap as Go's do */
static void gdate_of(gdate *d, int64_t sec, long off)
{
	const int64_t abs_epoch = -9223372028715321600LL; /* Unix seconds of Go's absolute zero */
	__int128 t = (__int128)abs_epoch + (__int128)((uint64_t)sec - (uint64_t)abs_epoch) + off;
	__int128 days128 = t / 86400, rem = t % 86400;
	int64_t days, era, doe, yoe, doy, mp;
	if (rem < 0) {
		rem += 86400;
		days128--;
	}
	days = (int64_t)days128;
	d->hour = (int)(rem / 3600);
	d->min = (int)(rem / 60 % 60);
	d->sec = (int)(rem % 60);
	d->wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
	/* H. Hinnant's civil_from_days */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	d->mon = (int)(mp < 10 ? mp + 2 : mp - 10);
	d->year = yoe + era * 400 + (d->mon < 2);
}

static const char *const months[] = { "January", "February", "March", "April", "May", "June", "July",
				      "August", "September", "October", "November", "December" };
static const char *const days[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };

static void go_format_zone(kbuf *b, const char *layout, size_t ll, gtime t, bool utc, const void *fz)
{
	long frac = t.nsec;
	gdate tm;
	long off = 0, foff;
	const char *zone = "UTC";
	char zbuf[48];
	size_t i = 0;
	if (zone_of(fz, &foff)) {
		off = foff;
		if (foff != 0) {
			snprintf(zbuf, sizeof(zbuf), "%c%02ld%02ld", foff < 0 ? '-' : '+', labs(foff) / 3600, (labs(foff) % 3600) / 60);
			zone = zbuf;
		}
	} else if (!utc) {
		/* the local zone's offset where the C library knows the time
		 * (its struct tm holds an int year), else UTC's */
		time_t secs = (time_t)t.sec;
		struct tm lt;
		if (localtime_r(&secs, &lt)) {
			off = lt.tm_gmtoff;
			snprintf(zbuf, sizeof(zbuf), "%s", lt.tm_zone);
			zone = zbuf;
		}
	}
	gdate_of(&tm, t.sec, off);
#define LIT(s) (ll - i >= strlen(s) && !memcmp(layout + i, s, strlen(s)))
	while (i < ll) {
		if (LIT("January")) { kbuf_puts(b, months[tm.mon]); i += 7; }
		else if (LIT("Jan")) { kbuf_put(b, months[tm.mon], 3); i += 3; }
		else if (LIT("Monday")) { kbuf_puts(b, days[tm.wday]); i += 6; }
		else if (LIT("Mon")) { kbuf_put(b, days[tm.wday], 3); i += 3; }
		else if (LIT("MST")) { kbuf_puts(b, zone); i += 3; }
		else if (LIT("2006")) { kbuf_printf(b, tm.year < 0 ? "-%04lld" : "%04lld", (long long)(tm.year < 0 ? -tm.year : tm.year)); i += 4; }
		else if (LIT("Z07:00") || LIT("-07:00") || LIT("Z0700") || LIT("-0700") || LIT("-07")) {
			bool z = layout[i] == 'Z';
			size_t n = LIT("Z07:00") || LIT("-07:00") ? 6 : LIT("Z0700") || LIT("-0700") ? 5 : 3;
			if (z && off == 0)
				kbuf_putc(b, 'Z');
			else if (n == 3)
				kbuf_printf(b, "%c%02ld", off < 0 ? '-' : '+', labs(off) / 3600);
			else
				kbuf_printf(b, n == 6 ? "%c%02ld:%02ld" : "%c%02ld%02ld", off < 0 ? '-' : '+', labs(off) / 3600,
					    (labs(off) % 3600) / 60);
			i += n;
		}
		else if (LIT("01")) { kbuf_printf(b, "%02d", tm.mon + 1); i += 2; }
		else if (LIT("02")) { kbuf_printf(b, "%02d", tm.mday); i += 2; }
		else if (LIT("_2")) { kbuf_printf(b, "%2d", tm.mday); i += 2; }
		else if (LIT("06")) { kbuf_printf(b, "%02d", (int)(tm.year % 100)); i += 2; }
		else if (LIT("15")) { kbuf_printf(b, "%02d", tm.hour); i += 2; }
		else if (LIT("03")) { kbuf_printf(b, "%02d", tm.hour % 12 ? tm.hour % 12 : 12); i += 2; }
		else if (LIT("04")) { kbuf_printf(b, "%02d", tm.min); i += 2; }
		else if (LIT("05")) { kbuf_printf(b, "%02d", tm.sec); i += 2; }
		else if (LIT("PM")) { kbuf_puts(b, tm.hour >= 12 ? "PM" : "AM"); i += 2; }
		else if (LIT("pm")) { kbuf_puts(b, tm.hour >= 12 ? "pm" : "am"); i += 2; }
		else if ((LIT(".000") || LIT(".999") || LIT(",000") || LIT(",999"))) {
			size_t n = 1;
			char c = layout[i + 1];
			char digs[24]; /* frac is 0..999999999; room for any long */
			while (i + n < ll && layout[i + n] == c)
				n++;
			snprintf(digs, sizeof(digs), "%09ld", frac);
			if (n - 1 > 9)
				n = 10;
			if (c == '9') {
				size_t k = n - 1;
				while (k > 0 && digs[k - 1] == '0')
					k--;
				if (k) {
					kbuf_putc(b, layout[i]);
					kbuf_put(b, digs, k);
				}
			} else {
				kbuf_putc(b, layout[i]);
				kbuf_put(b, digs, n - 1);
			}
			i += n;
		}
		else if (layout[i] == '1' && !(i + 1 < ll && layout[i + 1] >= '0' && layout[i + 1] <= '9')) { kbuf_printf(b, "%d", tm.mon + 1); i++; }
		else if (layout[i] == '2' && !(i + 1 < ll && layout[i + 1] >= '0' && layout[i + 1] <= '9')) { kbuf_printf(b, "%d", tm.mday); i++; }
		else if (layout[i] == '3') { kbuf_printf(b, "%d", tm.hour % 12 ? tm.hour % 12 : 12); i++; }
		else if (layout[i] == '4') { kbuf_printf(b, "%d", tm.min); i++; }
		else if (layout[i] == '5') { kbuf_printf(b, "%d", tm.sec); i++; }
		else { kbuf_putc(b, layout[i]); i++; }
	}
#undef LIT
}

static void go_format(kbuf *b, const char *layout, size_t ll, gtime t, bool utc)
{
	go_format_zone(b, layout, ll, t, utc, NULL);
}

/* time.Time.String() (without the monotonic reading) */
void tv_time_string(kbuf *b, const doc_node *t)
{
	static const char layout[] = "2006-01-02 15:04:05.999999999 -0700 MST";
	go_format_zone(b, layout, sizeof(layout) - 1, time_value(t), false, ((const tobj *)t)->ptr);
}

bool tv_time_rfc3339(kbuf *b, const doc_node *t)
{
	static const char layout[] = "2006-01-02T15:04:05.999999999Z07:00";
	size_t start = b->len;
	go_format_zone(b, layout, sizeof(layout) - 1, time_value(t), false, ((const tobj *)t)->ptr);
	/* a year of four digits: no sign, nothing past 9999 */
	return b->len - start > 4 && b->ptr[start] != '-' && b->ptr[start + 4] == '-';
}

static bool zone_utc(const doc_node *z)
{
	return z && z->type == DOC_STR && strcmp(z->u.s.ptr, "Local");
}

static int fmt_date(tctx *x, doc_node **out, const doc_node *layout, const doc_node *d, bool utc)
{
	kbuf b = KBUF_INIT;
	gtime t;
	time_of(d, &t);
	go_format(&b, layout->u.s.ptr, layout->u.s.len, t, utc);
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_now(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	struct timespec ts;
	gtime t;
	(void)a; (void)n;
	clock_gettime(CLOCK_REALTIME, &ts);
	t.sec = (int64_t)ts.tv_sec;
	t.nsec = ts.tv_nsec;
	*out = mk_time(x, t);
	((ttime *)*out)->mono = true;
	return 0;
}

static int f_date(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return fmt_date(x, out, a[0], a[1], false); }
static int f_dateinzone(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return fmt_date(x, out, a[0], a[1], zone_utc(a[2])); }
static int f_htmldate(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node l = { DOC_STR, 0, 0, 0, NULL, { .s = { (char *)"2006-01-02", 10 } } };
	(void)n;
	return fmt_date(x, out, &l, a[0], false);
}
static int f_htmldateinzone(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node l = { DOC_STR, 0, 0, 0, NULL, { .s = { (char *)"2006-01-02", 10 } } };
	(void)n;
	return fmt_date(x, out, &l, a[0], zone_utc(a[1]));
}

static int f_unixepoch(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	char buf[32];
	gtime t;
	(void)n;
	time_of(a[0], &t);
	snprintf(buf, sizeof(buf), "%lld", (long long)t.sec);
	*out = tv_strz(x->a, buf);
	return 0;
}

/* the time package's quote: bytes outside printable ASCII as \xNN */
static void time_quote(kbuf *b, const char *s, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;
	kbuf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80 || c < ' ') {
			kbuf_puts(b, "\\x");
			kbuf_putc(b, hx[c >> 4]);
			kbuf_putc(b, hx[c & 15]);
			continue;
		}
		if (c == '"' || c == '\\')
			kbuf_putc(b, '\\');
		kbuf_putc(b, (char)c);
	}
	kbuf_putc(b, '"');
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
				time_quote(msg, str, l);
			}
			return false;
		}
		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
			if (strlen(units[k].name) == (size_t)(p - u) && !memcmp(units[k].name, u, (size_t)(p - u)))
				unit = units[k].ns;
		if (!unit) {
			if (msg) {
				kbuf_puts(msg, "time: unknown unit ");
				time_quote(msg, u, (size_t)(p - u));
				kbuf_puts(msg, " in duration ");
				time_quote(msg, str, l);
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
		time_quote(msg, str, l);
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
	gtime t;
	doc_node *r;
	time_of(v, &t);
	r = mk_time_zone(x, gtime_add(t, d), is_time(v) ? ((const tobj *)v)->ptr : NULL);
	((ttime *)r)->mono = is_time(v) && ((const ttime *)v)->mono;
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

static int f_ago(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	gtime t;
	(void)n;
	time_of(a[0], &t);
	fmt_duration(&b, (since(t) / NS) * NS);
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

/* toDate layout value: the layouts charts use (RFC 3339, dates, times) */
static bool parse_time(const char *layout, const char *s, gtime *t, void **zone)
{
	struct tm tm;
	int Y = 0, M = 1, D = 1, h = 0, m = 0, sec = 0, n = 0;
	memset(&tm, 0, sizeof(tm));
	if (!strcmp(layout, "2006-01-02")) {
		if (sscanf(s, "%4d-%2d-%2d%n", &Y, &M, &D, &n) != 3 || s[n])
			return false;
	} else if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) == 6) {
		const char *z = s + n;
		long off = 0;
		int64_t frac = 0, scale = NS;
		if (*z == '.')
			while (*++z >= '0' && *z <= '9')
				if (scale > 1) {
					scale /= 10;
					frac += (*z - '0') * scale;
				}
		if (*z == 'Z')
			z++;
		else if (*z == '+' || *z == '-') {
			int oh = 0, om = 0;
			if (sscanf(z + 1, "%2d:%2d", &oh, &om) != 2)
				return false;
			off = (oh * 3600L + om * 60L) * (*z == '-' ? -1 : 1);
			z += 6;
		}
		if (*z)
			return false;
		tm.tm_year = Y - 1900;
		tm.tm_mon = M - 1;
		tm.tm_mday = D;
		tm.tm_hour = h;
		tm.tm_min = m;
		tm.tm_sec = sec;
		t->sec = (int64_t)timegm(&tm) - off;
		t->nsec = (long)frac;
		*zone = fixed_zone(off);
		if (z[-1] != 'Z') {
			/* Go's Parse takes Local when the offset is Local's there */
			time_t secs = (time_t)t->sec;
			struct tm lt;
			if (localtime_r(&secs, &lt) && lt.tm_gmtoff == off)
				*zone = NULL;
		}
		return true;
	} else {
		return false;
	}
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	t->sec = (int64_t)timegm(&tm);
	t->nsec = 0;
	return true;
}

static int f_todate(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	gtime t;
	void *zone = NULL;
	(void)n;
	if (!parse_time(a[0]->u.s.ptr, a[1]->u.s.ptr, &t, &zone)) {
		/* Go's zero time */
		t.sec = ZERO_TIME_SECS;
		t.nsec = 0;
		zone = fixed_zone(0);
	}
	*out = mk_time_zone(x, t, zone);
	return 0;
}

static int f_musttodate(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	gtime t;
	void *zone = NULL;
	(void)n;
	if (!parse_time(a[0]->u.s.ptr, a[1]->u.s.ptr, &t, &zone))
		return tctx_fail(x, "parsing time \"%s\" as \"%s\": cannot parse", a[1]->u.s.ptr, a[0]->u.s.ptr);
	*out = mk_time_zone(x, t, zone);
	return 0;
}

const tfunc tmpl_funcs_dates[] = {
	{ "now", f_now, "" },
	{ "date", f_date, "sa" },
	{ "date_in_zone", f_dateinzone, "sas" },
	{ "dateInZone", f_dateinzone, "sas" },
	{ "htmlDate", f_htmldate, "a" },
	{ "htmlDateInZone", f_htmldateinzone, "as" },
	{ "unixEpoch", f_unixepoch, "a" },
	{ "dateModify", f_datemodify, "sa" },
	{ "date_modify", f_datemodify, "sa" },
	{ "mustDateModify", f_mustdatemodify, "sa" },
	{ "must_date_modify", f_mustdatemodify, "sa" },
	{ "duration", f_duration, "a" },
	{ "durationRound", f_durationround, "a" },
	{ "ago", f_ago, "a" },
	{ "toDate", f_todate, "ss" },
	{ "mustToDate", f_musttodate, "ss" },
	{ NULL, NULL, NULL },
};
