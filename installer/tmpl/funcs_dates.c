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

/* ptr holds a fixed zone: (offset seconds + 1) << 1 | 1, or NULL for Local */
static doc_node *mk_time_zone(tctx *x, int64_t ns, void *zone)
{
	tobj *o = tobj_new(x->a, TOBJ_NAMED, "time.Time", DOC_INT);
	o->n.u.i = ns;
	o->ptr = zone;
	return &o->n;
}

static doc_node *mk_time(tctx *x, int64_t ns) { return mk_time_zone(x, ns, NULL); }

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

/* the time of a Sprig date argument: time.Time, or int/int64/int32 seconds */
static bool time_of(const doc_node *v, int64_t *ns)
{
	if (is_time(v)) {
		*ns = v->u.i;
		return true;
	}
	if (v && v->type == DOC_INT) {
		*ns = v->u.i * NS;
		return true;
	}
	*ns = (int64_t)time(NULL) * NS;
	return v && v->type == DOC_FLOAT ? false : true;
}

static const char *const months[] = { "January", "February", "March", "April", "May", "June", "July",
				      "August", "September", "October", "November", "December" };
static const char *const days[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };

/* Go's zero time (toDate's answer to text it cannot parse), in seconds */
#define ZERO_TIME_SECS (-62135596800LL)

static void go_format_zone(kbuf *b, const char *layout, size_t ll, int64_t ns, bool utc, const void *fz)
{
	time_t secs = (time_t)(ns >= 0 ? ns / NS : (ns - NS + 1) / NS);
	long frac = (long)(ns - (int64_t)secs * NS);
	if (ns == INT64_MIN) { /* the zero time: int64 nanoseconds cannot hold year 1 */
		secs = (time_t)ZERO_TIME_SECS;
		frac = 0;
	}
	struct tm tm;
	long off, foff;
	const char *zone;
	char zbuf[48];
	size_t i = 0;
	if (zone_of(fz, &foff)) {
		time_t shifted = secs + foff;
		gmtime_r(&shifted, &tm);
		off = foff;
		if (foff == 0) {
			zone = "UTC";
		} else {
			snprintf(zbuf, sizeof(zbuf), "%c%02ld%02ld", foff < 0 ? '-' : '+', labs(foff) / 3600, (labs(foff) % 3600) / 60);
			zone = zbuf;
		}
	} else {
		if (utc)
			gmtime_r(&secs, &tm);
		else
			localtime_r(&secs, &tm);
		off = utc ? 0 : tm.tm_gmtoff;
		zone = utc ? "UTC" : tm.tm_zone;
	}
#define LIT(s) (ll - i >= strlen(s) && !memcmp(layout + i, s, strlen(s)))
	while (i < ll) {
		if (LIT("January")) { kbuf_puts(b, months[tm.tm_mon]); i += 7; }
		else if (LIT("Jan")) { kbuf_put(b, months[tm.tm_mon], 3); i += 3; }
		else if (LIT("Monday")) { kbuf_puts(b, days[tm.tm_wday]); i += 6; }
		else if (LIT("Mon")) { kbuf_put(b, days[tm.tm_wday], 3); i += 3; }
		else if (LIT("MST")) { kbuf_puts(b, zone); i += 3; }
		else if (LIT("2006")) { kbuf_printf(b, "%04d", tm.tm_year + 1900); i += 4; }
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
		else if (LIT("01")) { kbuf_printf(b, "%02d", tm.tm_mon + 1); i += 2; }
		else if (LIT("02")) { kbuf_printf(b, "%02d", tm.tm_mday); i += 2; }
		else if (LIT("_2")) { kbuf_printf(b, "%2d", tm.tm_mday); i += 2; }
		else if (LIT("06")) { kbuf_printf(b, "%02d", (tm.tm_year + 1900) % 100); i += 2; }
		else if (LIT("15")) { kbuf_printf(b, "%02d", tm.tm_hour); i += 2; }
		else if (LIT("03")) { kbuf_printf(b, "%02d", tm.tm_hour % 12 ? tm.tm_hour % 12 : 12); i += 2; }
		else if (LIT("04")) { kbuf_printf(b, "%02d", tm.tm_min); i += 2; }
		else if (LIT("05")) { kbuf_printf(b, "%02d", tm.tm_sec); i += 2; }
		else if (LIT("PM")) { kbuf_puts(b, tm.tm_hour >= 12 ? "PM" : "AM"); i += 2; }
		else if (LIT("pm")) { kbuf_puts(b, tm.tm_hour >= 12 ? "pm" : "am"); i += 2; }
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
		else if (layout[i] == '1' && !(i + 1 < ll && layout[i + 1] >= '0' && layout[i + 1] <= '9')) { kbuf_printf(b, "%d", tm.tm_mon + 1); i++; }
		else if (layout[i] == '2' && !(i + 1 < ll && layout[i + 1] >= '0' && layout[i + 1] <= '9')) { kbuf_printf(b, "%d", tm.tm_mday); i++; }
		else if (layout[i] == '3') { kbuf_printf(b, "%d", tm.tm_hour % 12 ? tm.tm_hour % 12 : 12); i++; }
		else if (layout[i] == '4') { kbuf_printf(b, "%d", tm.tm_min); i++; }
		else if (layout[i] == '5') { kbuf_printf(b, "%d", tm.tm_sec); i++; }
		else { kbuf_putc(b, layout[i]); i++; }
	}
#undef LIT
}

static void go_format(kbuf *b, const char *layout, size_t ll, int64_t ns, bool utc)
{
	go_format_zone(b, layout, ll, ns, utc, NULL);
}

/* time.Time.String() (without the monotonic reading) */
void tv_time_string(kbuf *b, const doc_node *t)
{
	static const char layout[] = "2006-01-02 15:04:05.999999999 -0700 MST";
	if (t->u.i == INT64_MIN) {
		kbuf_puts(b, "0001-01-01 00:00:00 +0000 UTC");
		return;
	}
	go_format_zone(b, layout, sizeof(layout) - 1, t->u.i, false, ((const tobj *)t)->ptr);
}

static bool zone_utc(const doc_node *z)
{
	return z && z->type == DOC_STR && strcmp(z->u.s.ptr, "Local");
}

static int fmt_date(tctx *x, doc_node **out, const doc_node *layout, const doc_node *d, bool utc)
{
	kbuf b = KBUF_INIT;
	int64_t ns;
	time_of(d, &ns);
	go_format(&b, layout->u.s.ptr, layout->u.s.len, ns, utc);
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_now(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	struct timespec ts;
	(void)a; (void)n;
	clock_gettime(CLOCK_REALTIME, &ts);
	*out = mk_time(x, (int64_t)ts.tv_sec * NS + ts.tv_nsec);
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
	int64_t ns;
	(void)n;
	time_of(a[0], &ns);
	snprintf(buf, sizeof(buf), "%lld", ns == INT64_MIN ? ZERO_TIME_SECS : (long long)(ns / NS));
	*out = tv_strz(x->a, buf);
	return 0;
}

/* time.ParseDuration */
static bool parse_duration(const char *s, size_t l, int64_t *out)
{
	const char *p = s, *e = s + l;
	double total = 0;
	bool neg = false;
	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (p == e)
		return false;
	if (e - p == 1 && *p == '0') {
		*out = 0;
		return true;
	}
	while (p < e) {
		char *end;
		double v;
		double unit;
		char tmp[64];
		size_t k = 0;
		while (p + k < e && k < 63 && ((p[k] >= '0' && p[k] <= '9') || p[k] == '.'))
			k++;
		if (!k)
			return false;
		memcpy(tmp, p, k);
		tmp[k] = 0;
		v = strtod(tmp, &end);
		p += k;
		if (p < e && !strncmp(p, "ns", 2)) { unit = 1; p += 2; }
		else if (p < e && (!strncmp(p, "us", 2) || !strncmp(p, "\xC2\xB5s", 3))) { unit = 1e3; p += *p == 'u' ? 2 : 3; }
		else if (p < e && !strncmp(p, "ms", 2)) { unit = 1e6; p += 2; }
		else if (p < e && *p == 's') { unit = 1e9; p++; }
		else if (p < e && *p == 'm') { unit = 60e9; p++; }
		else if (p < e && *p == 'h') { unit = 3600e9; p++; }
		else return false;
		total += v * unit;
	}
	*out = (int64_t)(neg ? -total : total);
	return true;
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

static int f_datemodify(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t d, ns;
	(void)n;
	if (!parse_duration(a[0]->u.s.ptr, a[0]->u.s.len, &d)) {
		*out = a[1];
		return 0;
	}
	time_of(a[1], &ns);
	*out = mk_time(x, ns + d);
	return 0;
}

static int f_mustdatemodify(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t d, ns;
	(void)n;
	if (!parse_duration(a[0]->u.s.ptr, a[0]->u.s.len, &d))
		return tctx_fail(x, "time: invalid duration \"%s\"", a[0]->u.s.ptr);
	time_of(a[1], &ns);
	*out = mk_time(x, ns + d);
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
	int64_t ns, now = (int64_t)time(NULL) * NS;
	(void)n;
	time_of(a[0], &ns);
	fmt_duration(&b, ((now - ns) / NS) * NS);
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
		if (!parse_duration(a[0]->u.s.ptr, a[0]->u.s.len, &d))
			d = 0;
	} else if (is_time(a[0])) {
		d = (int64_t)time(NULL) * NS - a[0]->u.i;
	} else {
		d = tv_to_int64(a[0]);
	}
	u = d < 0 ? (uint64_t)-d : (uint64_t)d;
	u /= NS;
	if (u >= 365ULL * 86400) { u /= 365ULL * 86400; r = "y"; }
	else if (u >= 30ULL * 86400) { u /= 30ULL * 86400; r = "mo"; }
	else if (u >= 86400) { u /= 86400; r = "d"; }
	else if (u >= 3600) { u /= 3600; r = "h"; }
	else if (u >= 60) { u /= 60; r = "m"; }
	else r = "s";
	snprintf(buf, sizeof(buf), "%llu%s", (unsigned long long)u, r);
	*out = tv_strz(x->a, buf);
	return 0;
}

/* toDate layout value: the layouts charts use (RFC 3339, dates, times) */
static bool parse_time(const char *layout, const char *s, int64_t *ns, void **zone)
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
		*ns = ((int64_t)timegm(&tm) - off) * NS + frac;
		*zone = fixed_zone(off);
		return true;
	} else {
		return false;
	}
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	*ns = (int64_t)timegm(&tm) * NS;
	return true;
}

static int f_todate(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t ns = 0;
	void *zone = NULL;
	(void)n;
	if (!parse_time(a[0]->u.s.ptr, a[1]->u.s.ptr, &ns, &zone)) {
		ns = INT64_MIN; /* Go's zero time, which int64 nanoseconds cannot hold */
		zone = fixed_zone(0);
	}
	*out = mk_time_zone(x, ns, zone);
	return 0;
}

static int f_musttodate(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t ns = 0;
	void *zone = NULL;
	(void)n;
	if (!parse_time(a[0]->u.s.ptr, a[1]->u.s.ptr, &ns, &zone))
		return tctx_fail(x, "parsing time \"%s\" as \"%s\": cannot parse", a[1]->u.s.ptr, a[0]->u.s.ptr);
	*out = mk_time_zone(x, ns, zone);
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
