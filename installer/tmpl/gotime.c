/* tmpl/gotime.c - Go's time package as Sprig's date functions reach it:
 * locations (TZif files and their TZ footer, as zoneinfo_read.go and
 * zoneinfo.go read them), Time.Format and ParseInLocation (format.go),
 * with Go's calendar arithmetic (time.go) so that every int64 second
 * prints as Go prints it. Function names follow Go's where they port one. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gotime.h"

#define SECS_PER_DAY 86400
#define ALPHA INT64_MIN
#define OMEGA INT64_MAX
#define ABSOLUTE_YEARS 292277022400ULL
#define MARCH_THRU_DECEMBER 306
#define UNIX_TO_ABSOLUTE 9223372028741760000ULL /* unixToInternal + internalToAbsolute */
#define MAX_TZ_FILE (10 << 20)                  /* Go's readFile limit */

typedef struct gt_zone {
	const char *name;
	long offset;
	bool dst;
} gt_zone;

typedef struct gt_trans {
	int64_t when;
	unsigned char index;
} gt_trans;

struct gt_loc {
	const char *name;
	gt_zone *zones;
	size_t nzones;
	gt_trans *tx;
	size_t ntx;
	const char *extend;
};

/* ---- calendar (time.go) ---- */

static bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

static const int days_before[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365 };

static int days_in(int month, int64_t year)
{
	if (month == 2 && is_leap(year))
		return 29;
	return days_before[month] - days_before[month - 1];
}

typedef struct gt_civil {
	int64_t year;
	int month, day, yday, hour, min, sec, wday;
} gt_civil;

/* absDays.split, date, yearYday, weekday and absSeconds.clock */
static void civil_of_abs(gt_civil *c, uint64_t abs)
{
	uint64_t days = abs / SECS_PER_DAY, d = 4 * days + 3, century = d / 146097;
	uint32_t cd = (uint32_t)(d % 146097) | 3, cyear, ayday, md;
	uint64_t prod = (uint64_t)2939745 * cd;
	int jan_feb, leap;
	int s = (int)(abs % SECS_PER_DAY);
	cyear = (uint32_t)(prod >> 32);
	ayday = (uint32_t)prod / 2939745 / 4;
	md = 2141 * ayday + 197913;
	jan_feb = ayday >= MARCH_THRU_DECEMBER;
	leap = (cyear % 4 == 0) & ((cyear != 0) | (century % 4 == 0));
	c->year = (int64_t)(century * 100 - ABSOLUTE_YEARS) + (int64_t)cyear + jan_feb;
	c->month = (int)(md >> 16) - jan_feb * 12;
	c->day = 1 + (int)((md & 0xFFFF) / 2141);
	c->yday = (int)ayday + (1 + 31 + 28) + (leap & ~jan_feb) - 365 * jan_feb;
	c->wday = (int)((days + 3) % 7); /* March 1 of the absolute year was a Wednesday */
	c->hour = s / 3600;
	c->min = s / 60 % 60;
	c->sec = s % 60;
}

/* dateToAbsDays */
static uint64_t abs_days_of(int64_t year, int month, int day)
{
	uint32_t amonth = (uint32_t)month, jan_feb = amonth < 3;
	uint64_t y, century, centurydays;
	uint32_t cyear, cday, ayday;
	amonth += 12 * jan_feb;
	y = (uint64_t)year - jan_feb + ABSOLUTE_YEARS;
	ayday = (979 * amonth - 2919) >> 5;
	century = y / 100;
	cyear = (uint32_t)(y % 100);
	cday = 1461 * cyear / 4;
	centurydays = 146097 * century / 4;
	return centurydays + (uint64_t)((int64_t)(cday + ayday) + day - 1);
}

/* ---- locations (zoneinfo.go, zoneinfo_read.go) ---- */

static const gt_loc utc_loc = { "UTC", NULL, 0, NULL, 0, NULL };
static gt_loc local_loc;
static pthread_once_t local_once = PTHREAD_ONCE_INIT;

const gt_loc *gt_utc(void) { return &utc_loc; }

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* LoadLocationFromTZData, into arena a */
static int loc_from_tzdata(gt_loc *l, const char *name, const unsigned char *d, size_t len, karena *a)
{
	size_t off = 0, n[6], i, size = 4, need;
	const unsigned char *txt, *txz, *zd, *abbrev, *rest;
	int version;
#define TAKE(k) (len - off >= (k) ? (off += (k), d + off - (k)) : NULL)
	if (len < 20 || memcmp(d, "TZif", 4))
		return -1;
	version = d[4] == 0 ? 1 : d[4] == '2' ? 2 : d[4] == '3' ? 3 : 0;
	if (!version)
		return -1;
	off = 20;
	for (i = 0; i < 6; i++) {
		const unsigned char *p = TAKE(4);
		if (!p || be32(p) > INT32_MAX)
			return -1;
		n[i] = be32(p);
	}
	if (version > 1) {
		/* skip the 32-bit data and the second header */
		need = n[3] * 4 + n[3] + n[4] * 6 + n[5] + n[2] * 8 + n[1] + n[0] + 20;
		off = len - off >= need ? off + need : len;
		for (i = 0; i < 6; i++) {
			const unsigned char *p = TAKE(4);
			if (!p || be32(p) > INT32_MAX)
				return -1;
			n[i] = be32(p);
		}
		size = 8;
	}
	txt = TAKE(n[3] * size);
	txz = TAKE(n[3]);
	zd = TAKE(n[4] * 6);
	abbrev = TAKE(n[5]);
	if (!txt || !txz || !zd || !abbrev || !TAKE(n[2] * (size + 4)) || !TAKE(n[1]) || !TAKE(n[0]))
		return -1;
#undef TAKE
	rest = d + off;
	if (len - off > 2 && rest[0] == '\n' && rest[len - off - 1] == '\n') {
		char *e = karena_alloc(a, len - off - 1);
		memcpy(e, rest + 1, len - off - 2);
		l->extend = e;
	}
	if (n[4] == 0)
		return -1;
	l->zones = karena_alloc(a, n[4] * sizeof(gt_zone));
	l->nzones = n[4];
	for (i = 0; i < n[4]; i++) {
		const unsigned char *z = zd + 6 * i;
		size_t k = z[5], e;
		char *nm;
		if (k >= n[5])
			return -1;
		for (e = k; e < n[5] && abbrev[e]; e++)
			;
		nm = karena_alloc(a, e - k + 1);
		memcpy(nm, abbrev + k, e - k);
		l->zones[i].name = nm;
		l->zones[i].offset = (long)(int32_t)be32(z);
		l->zones[i].dst = z[4] != 0;
	}
	l->ntx = n[3] ? n[3] : 1;
	l->tx = karena_alloc(a, l->ntx * sizeof(gt_trans));
	if (!n[3])
		l->tx[0].when = ALPHA; /* fixed locations such as Etc/GMT0 */
	for (i = 0; i < n[3]; i++) {
		if (size == 8)
			l->tx[i].when = (int64_t)((uint64_t)be32(txt + 8 * i) << 32 | be32(txt + 8 * i + 4));
		else
			l->tx[i].when = (int32_t)be32(txt + 4 * i);
		if (txz[i] >= n[4])
			return -1;
		l->tx[i].index = txz[i];
	}
	l->name = name;
	return 0;
}

/* loadLocation: name under each of dirs; 0 when one read */
static int load_from(gt_loc *l, const char *name, const char *const *dirs, size_t ndirs, karena *a)
{
	size_t i;
	for (i = 0; i < ndirs; i++) {
		kbuf path = KBUF_INIT, data = KBUF_INIT;
		int r;
		kbuf_puts(&path, dirs[i]);
		if (path.len && path.ptr[path.len - 1] != '/' && dirs[i][0])
			kbuf_putc(&path, '/');
		kbuf_puts(&path, name);
		r = kbuf_read_file(&data, path.ptr, MAX_TZ_FILE);
		kbuf_release(&path);
		if (r == 0) {
			r = loc_from_tzdata(l, name, (const unsigned char *)data.ptr, data.len, a);
			kbuf_release(&data);
			return r;
		}
		kbuf_release(&data);
	}
	return -1;
}

static const char *const zone_dirs[] = { "/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/",
					 "/etc/zoneinfo" };

/* initLocal; the location lives for the process, as Go's does */
static karena local_arena = KARENA_INIT;

static void local_init(void)
{
	const char *tz = getenv("TZ");
	static const char *const etc[] = { "/etc" }, *const root[] = { "" };
	gt_loc l = { 0 };
	if (!tz) {
		if (!load_from(&l, "localtime", etc, 1, &local_arena)) {
			local_loc = l;
			local_loc.name = "Local";
			return;
		}
	} else if (*tz) {
		if (*tz == ':')
			tz++;
		if (*tz == '/') {
			if (!load_from(&l, tz, root, 1, &local_arena)) {
				local_loc = l;
				local_loc.name = strcmp(tz, "/etc/localtime") ? tz : "Local";
				return;
			}
		} else if (*tz && strcmp(tz, "UTC")) {
			if (!load_from(&l, tz, zone_dirs, sizeof(zone_dirs) / sizeof(zone_dirs[0]), &local_arena)) {
				local_loc = l;
				return;
			}
		}
	}
	memset(&local_loc, 0, sizeof(local_loc));
	local_loc.name = "UTC";
}

const gt_loc *gt_local(void)
{
	pthread_once(&local_once, local_init);
	return &local_loc;
}

int gt_load(karena *a, const char *name, size_t len, const gt_loc **out)
{
	const char *zi = getenv("ZONEINFO");
	gt_loc *l;
	char *nm;
	size_t i;
	if (len == 0 || (len == 3 && !memcmp(name, "UTC", 3))) {
		*out = &utc_loc;
		return 0;
	}
	if (len == 5 && !memcmp(name, "Local", 5)) {
		*out = gt_local();
		return 0;
	}
	if (name[0] == '/' || name[0] == '\\' || memchr(name, 0, len))
		return -1;
	for (i = 0; i + 1 < len; i++)
		if (name[i] == '.' && name[i + 1] == '.')
			return -1;
	nm = karena_strndup(a, name, len);
	l = karena_alloc(a, sizeof(*l));
	if (zi && *zi && !load_from(l, nm, &zi, 1, a)) {
		*out = l;
		return 0;
	}
	memset(l, 0, sizeof(*l));
	if (!load_from(l, nm, zone_dirs, sizeof(zone_dirs) / sizeof(zone_dirs[0]), a)) {
		*out = l;
		return 0;
	}
	return -1;
}

/* FixedZone: unnamed whole-hour zones are shared, as in Go */
static gt_loc unnamed[27];
static gt_zone unnamed_z[27];
static gt_trans unnamed_tx = { ALPHA, 0 };
static pthread_once_t unnamed_once = PTHREAD_ONCE_INIT;

static void unnamed_init(void)
{
	int i;
	for (i = 0; i < 27; i++) {
		unnamed_z[i].name = "";
		unnamed_z[i].offset = (i - 12) * 3600L;
		unnamed[i] = (gt_loc){ "", &unnamed_z[i], 1, &unnamed_tx, 1, NULL };
	}
}

static const gt_loc *fixed_zone(karena *a, const char *name, size_t nl, long offset)
{
	long hour = offset / 3600;
	gt_loc *l;
	if (nl == 0 && hour >= -12 && hour <= 14 && hour * 3600 == offset) {
		pthread_once(&unnamed_once, unnamed_init);
		return &unnamed[hour + 12];
	}
	l = karena_alloc(a, sizeof(*l));
	l->zones = karena_alloc(a, sizeof(gt_zone));
	l->tx = karena_alloc(a, sizeof(gt_trans));
	l->name = l->zones->name = karena_strndup(a, name, nl);
	l->zones->offset = offset;
	l->nzones = l->ntx = 1;
	l->tx->when = ALPHA;
	return l;
}

/* ---- the TZ footer (Go's tzset) ---- */

typedef struct tz_rule {
	int kind; /* 0 Julian, 1 day of year, 2 month-week-day */
	int day, week, mon;
	long time;
} tz_rule;

static bool tzset_name(const char **s, const char **name, size_t *nl)
{
	const char *p = *s;
	if (!*p)
		return false;
	if (*p != '<') {
		size_t i;
		for (i = 0; p[i]; i++)
			if (strchr("0123456789,-+", p[i])) {
				if (i < 3)
					return false;
				break;
			}
		if (i < 3)
			return false;
		*name = p;
		*nl = i;
		*s = p + i;
		return true;
	} else {
		const char *e = strchr(p, '>');
		if (!e)
			return false;
		*name = p + 1;
		*nl = (size_t)(e - p - 1);
		*s = e + 1;
		return true;
	}
}

static bool tzset_num(const char **s, int min, int max, int *out)
{
	const char *p = *s;
	int num = 0;
	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9') {
			if (p == *s || num < min)
				return false;
			*out = num;
			*s = p;
			return true;
		}
		num = num * 10 + (*p - '0');
		if (num > max)
			return false;
	}
	if (num < min)
		return false;
	*out = num;
	*s = p;
	return true;
}

static bool tzset_offset(const char **s, long *out)
{
	const char *p = *s;
	bool neg = false;
	int h, m, sec;
	long off;
	if (!*p)
		return false;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!tzset_num(&p, 0, 24 * 7, &h))
		return false;
	off = h * 3600L;
	if (*p == ':') {
		p++;
		if (!tzset_num(&p, 0, 59, &m))
			return false;
		off += m * 60L;
		if (*p == ':') {
			p++;
			if (!tzset_num(&p, 0, 59, &sec))
				return false;
			off += sec;
		}
	}
	*out = neg ? -off : off;
	*s = p;
	return true;
}

static bool tzset_rule(const char **s, tz_rule *r)
{
	const char *p = *s;
	memset(r, 0, sizeof(*r));
	if (!*p)
		return false;
	if (*p == 'J') {
		p++;
		if (!tzset_num(&p, 1, 365, &r->day))
			return false;
		r->kind = 0;
	} else if (*p == 'M') {
		p++;
		if (!tzset_num(&p, 1, 12, &r->mon) || *p != '.')
			return false;
		p++;
		if (!tzset_num(&p, 1, 5, &r->week) || *p != '.')
			return false;
		p++;
		if (!tzset_num(&p, 0, 6, &r->day))
			return false;
		r->kind = 2;
	} else {
		if (!tzset_num(&p, 0, 365, &r->day))
			return false;
		r->kind = 1;
	}
	r->time = 2 * 3600;
	if (*p == '/') {
		p++;
		if (!tzset_offset(&p, &r->time))
			return false;
	}
	*s = p;
	return true;
}

static long tzrule_time(int64_t year, const tz_rule *r, long off)
{
	long s = 0;
	if (r->kind == 0) {
		s = (r->day - 1) * (long)SECS_PER_DAY;
		if (is_leap(year) && r->day >= 60)
			s += SECS_PER_DAY;
	} else if (r->kind == 1) {
		s = r->day * (long)SECS_PER_DAY;
	} else {
		/* Zeller's congruence, in Go's int arithmetic */
		int64_t m1 = (r->mon + 9) % 12 + 1, yy0 = year, yy1, yy2, dow, d;
		int i;
		if (r->mon <= 2)
			yy0--;
		yy1 = yy0 / 100;
		yy2 = yy0 % 100;
		dow = ((26 * m1 - 2) / 10 + 1 + yy2 + yy2 / 4 + yy1 / 4 - 2 * yy1) % 7;
		if (dow < 0)
			dow += 7;
		d = r->day - dow;
		if (d < 0)
			d += 7;
		for (i = 1; i < r->week; i++) {
			if (d + 7 >= days_in(r->mon, year))
				break;
			d += 7;
		}
		d += days_before[r->mon - 1];
		if (is_leap(year) && r->mon > 2)
			d++;
		s = (long)d * SECS_PER_DAY;
	}
	return s + r->time - off;
}

/* Go's int64 arithmetic wraps */
static int64_t wadd(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }

typedef struct zone_at {
	const char *name;
	size_t nl;
	long offset;
	int64_t start, end;
} zone_at;

static bool tz_footer(const char *s, int64_t last_tx, int64_t sec, zone_at *z)
{
	const char *std, *dst;
	size_t stdl, dstl;
	long stdoff, dstoff;
	tz_rule sr, er;
	gt_civil c;
	int64_t ysec, ystart, ss, es;
	if (!tzset_name(&s, &std, &stdl) || !tzset_offset(&s, &stdoff))
		return false;
	stdoff = -stdoff;
	if (!*s || *s == ',') {
		*z = (zone_at){ std, stdl, stdoff, last_tx, OMEGA };
		return true;
	}
	if (!tzset_name(&s, &dst, &dstl))
		return false;
	if (!*s || *s == ',') {
		dstoff = stdoff + 3600;
	} else {
		if (!tzset_offset(&s, &dstoff))
			return false;
		dstoff = -dstoff;
	}
	if (!*s)
		s = ",M3.2.0,M11.1.0";
	if (*s != ',' && *s != ';')
		return false;
	s++;
	if (!tzset_rule(&s, &sr) || *s != ',')
		return false;
	s++;
	if (!tzset_rule(&s, &er) || *s)
		return false;
	civil_of_abs(&c, (uint64_t)sec + UNIX_TO_ABSOLUTE);
	ysec = (int64_t)(c.yday - 1) * SECS_PER_DAY + sec % SECS_PER_DAY;
	ystart = wadd(sec, -ysec);
	ss = tzrule_time(c.year, &sr, stdoff);
	es = tzrule_time(c.year, &er, dstoff);
	if (es < ss) {
		int64_t t = ss;
		const char *tn = std;
		size_t tl = stdl;
		long to = stdoff;
		ss = es;
		es = t;
		std = dst;
		stdl = dstl;
		dst = tn;
		dstl = tl;
		stdoff = dstoff;
		dstoff = to;
	}
	if (ysec < ss)
		*z = (zone_at){ std, stdl, stdoff, ystart, wadd(ss, ystart) };
	else if (ysec >= es)
		*z = (zone_at){ std, stdl, stdoff, wadd(es, ystart), wadd(ystart, 365 * SECS_PER_DAY) };
	else
		*z = (zone_at){ dst, dstl, dstoff, wadd(ss, ystart), wadd(es, ystart) };
	return true;
}

static size_t lookup_first_zone(const gt_loc *l)
{
	size_t i;
	bool used = false;
	for (i = 0; i < l->ntx; i++)
		used |= l->tx[i].index == 0;
	if (!used)
		return 0;
	if (l->ntx && l->zones[l->tx[0].index].dst)
		for (i = l->tx[0].index; i-- > 0;)
			if (!l->zones[i].dst)
				return i;
	for (i = 0; i < l->nzones; i++)
		if (!l->zones[i].dst)
			return i;
	return 0;
}

/* Location.lookup */
static void loc_lookup(const gt_loc *l, int64_t sec, zone_at *z)
{
	size_t lo = 0, hi = l->ntx;
	const gt_zone *zn;
	if (!l->nzones) {
		*z = (zone_at){ "UTC", 3, 0, ALPHA, OMEGA };
		return;
	}
	if (!l->ntx || sec < l->tx[0].when) {
		zn = &l->zones[lookup_first_zone(l)];
		*z = (zone_at){ zn->name, strlen(zn->name), zn->offset, ALPHA, l->ntx ? l->tx[0].when : OMEGA };
		return;
	}
	z->end = OMEGA;
	while (hi - lo > 1) {
		size_t m = (lo + hi) / 2;
		if (sec < l->tx[m].when) {
			z->end = l->tx[m].when;
			hi = m;
		} else {
			lo = m;
		}
	}
	zn = &l->zones[l->tx[lo].index];
	z->name = zn->name;
	z->nl = strlen(zn->name);
	z->offset = zn->offset;
	z->start = l->tx[lo].when;
	if (lo == l->ntx - 1 && l->extend) {
		zone_at e;
		if (tz_footer(l->extend, z->start, sec, &e))
			*z = e;
	}
}

/* Location.lookupName */
static bool loc_lookup_name(const gt_loc *l, const char *name, size_t nl, int64_t unix, long *off)
{
	size_t i;
	for (i = 0; i < l->nzones; i++) {
		const gt_zone *zn = &l->zones[i];
		if (strlen(zn->name) == nl && !memcmp(zn->name, name, nl)) {
			zone_at z;
			loc_lookup(l, wadd(unix, -zn->offset), &z);
			if (z.nl == nl && !memcmp(z.name, name, nl)) {
				*off = z.offset;
				return true;
			}
		}
	}
	for (i = 0; i < l->nzones; i++)
		if (strlen(l->zones[i].name) == nl && !memcmp(l->zones[i].name, name, nl)) {
			*off = l->zones[i].offset;
			return true;
		}
	return false;
}

/* ---- layouts (format.go) ---- */

enum {
	STD_NEED_DATE = 1 << 8,
	STD_NEED_YDAY = 1 << 9,
	STD_NEED_CLOCK = 1 << 10,
	STD_ARG_SHIFT = 16,
	STD_SEP_SHIFT = 28,
	STD_MASK = (1 << STD_ARG_SHIFT) - 1,
	STD_LONG_MONTH = 1 + STD_NEED_DATE, STD_MONTH, STD_NUM_MONTH, STD_ZERO_MONTH, STD_LONG_WEEKDAY,
	STD_WEEKDAY, STD_DAY, STD_UNDER_DAY, STD_ZERO_DAY,
	STD_UNDER_YEARDAY = 10 + STD_NEED_YDAY, STD_ZERO_YEARDAY,
	STD_HOUR = 12 + STD_NEED_CLOCK, STD_HOUR12, STD_ZERO_HOUR12, STD_MINUTE, STD_ZERO_MINUTE, STD_SECOND,
	STD_ZERO_SECOND,
	STD_LONG_YEAR = 19 + STD_NEED_DATE, STD_YEAR,
	STD_PM = 21 + STD_NEED_CLOCK, STD_pm,
	STD_TZ = 23, STD_ISO8601_TZ, STD_ISO8601_SECONDS_TZ, STD_ISO8601_SHORT_TZ, STD_ISO8601_COLON_TZ,
	STD_ISO8601_COLON_SECONDS_TZ, STD_NUM_TZ, STD_NUM_SECONDS_TZ, STD_NUM_SHORT_TZ, STD_NUM_COLON_TZ,
	STD_NUM_COLON_SECONDS_TZ, STD_FRAC_SECOND0, STD_FRAC_SECOND9,
};

static const int std0x[] = { STD_ZERO_MONTH, STD_ZERO_DAY, STD_ZERO_HOUR12, STD_ZERO_MINUTE, STD_ZERO_SECOND, STD_YEAR };

static const char *const long_months[] = { "January", "February", "March", "April", "May", "June", "July",
					   "August", "September", "October", "November", "December" };
static const char *const long_days[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
					 "Saturday" };
static const char *const short_months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const short_days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static bool lower_at(const char *s, size_t i, size_t n) { return i < n && s[i] >= 'a' && s[i] <= 'z'; }
static bool digit_at(const char *s, size_t i, size_t n) { return i < n && s[i] >= '0' && s[i] <= '9'; }

/* nextStdChunk: *pre is the length of the literal prefix, *end where the
 * element ends; returns the std code (0: none, all of l is prefix) */
static int next_std_chunk(const char *l, size_t n, size_t *pre, size_t *end)
{
	size_t i;
#define AT(k, s) (n >= i + (k) && !memcmp(l + i, s, k))
#define RET(std, len) do { *pre = i; *end = i + (len); return (std); } while (0)
	for (i = 0; i < n; i++) {
		switch (l[i]) {
		case 'J':
			if (AT(3, "Jan")) {
				if (AT(7, "January"))
					RET(STD_LONG_MONTH, 7);
				if (!lower_at(l, i + 3, n))
					RET(STD_MONTH, 3);
			}
			break;
		case 'M':
			if (n >= i + 3) {
				if (AT(3, "Mon")) {
					if (AT(6, "Monday"))
						RET(STD_LONG_WEEKDAY, 6);
					if (!lower_at(l, i + 3, n))
						RET(STD_WEEKDAY, 3);
				}
				if (AT(3, "MST"))
					RET(STD_TZ, 3);
			}
			break;
		case '0':
			if (n >= i + 2 && l[i + 1] >= '1' && l[i + 1] <= '6')
				RET(std0x[l[i + 1] - '1'], 2);
			if (n >= i + 3 && l[i + 1] == '0' && l[i + 2] == '2')
				RET(STD_ZERO_YEARDAY, 3);
			break;
		case '1':
			if (n >= i + 2 && l[i + 1] == '5')
				RET(STD_HOUR, 2);
			RET(STD_NUM_MONTH, 1);
		case '2':
			if (AT(4, "2006"))
				RET(STD_LONG_YEAR, 4);
			RET(STD_DAY, 1);
		case '_':
			if (n >= i + 2 && l[i + 1] == '2') {
				if (n >= i + 5 && !memcmp(l + i + 1, "2006", 4)) {
					*pre = i + 1;
					*end = i + 5;
					return STD_LONG_YEAR;
				}
				RET(STD_UNDER_DAY, 2);
			}
			if (n >= i + 3 && l[i + 1] == '_' && l[i + 2] == '2')
				RET(STD_UNDER_YEARDAY, 3);
			break;
		case '3': RET(STD_HOUR12, 1);
		case '4': RET(STD_MINUTE, 1);
		case '5': RET(STD_SECOND, 1);
		case 'P':
			if (n >= i + 2 && l[i + 1] == 'M')
				RET(STD_PM, 2);
			break;
		case 'p':
			if (n >= i + 2 && l[i + 1] == 'm')
				RET(STD_pm, 2);
			break;
		case '-':
			if (AT(7, "-070000")) RET(STD_NUM_SECONDS_TZ, 7);
			if (AT(9, "-07:00:00")) RET(STD_NUM_COLON_SECONDS_TZ, 9);
			if (AT(5, "-0700")) RET(STD_NUM_TZ, 5);
			if (AT(6, "-07:00")) RET(STD_NUM_COLON_TZ, 6);
			if (AT(3, "-07")) RET(STD_NUM_SHORT_TZ, 3);
			break;
		case 'Z':
			if (AT(7, "Z070000")) RET(STD_ISO8601_SECONDS_TZ, 7);
			if (AT(9, "Z07:00:00")) RET(STD_ISO8601_COLON_SECONDS_TZ, 9);
			if (AT(5, "Z0700")) RET(STD_ISO8601_TZ, 5);
			if (AT(6, "Z07:00")) RET(STD_ISO8601_COLON_TZ, 6);
			if (AT(3, "Z07")) RET(STD_ISO8601_SHORT_TZ, 3);
			break;
		case '.':
		case ',':
			if (i + 1 < n && (l[i + 1] == '0' || l[i + 1] == '9')) {
				char ch = l[i + 1];
				size_t j = i + 1;
				while (j < n && l[j] == ch)
					j++;
				if (!digit_at(l, j, n)) {
					int std = (ch == '9' ? STD_FRAC_SECOND9 : STD_FRAC_SECOND0) |
						  (int)(((j - (i + 1)) & 0xfff) << STD_ARG_SHIFT);
					if (l[i] == ',')
						std |= 1 << STD_SEP_SHIFT;
					RET(std, j - i);
				}
			}
			break;
		}
	}
#undef AT
#undef RET
	*pre = *end = n;
	return 0;
}

/* appendInt */
static void append_int(kbuf *b, int64_t x, int width)
{
	char d[24];
	uint64_t u = (uint64_t)x;
	int n = 0;
	if (x < 0) {
		kbuf_putc(b, '-');
		u = 0 - u;
	}
	do {
		d[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	for (; width > n; width--)
		kbuf_putc(b, '0');
	while (n)
		kbuf_putc(b, d[--n]);
}

static void append_nano(kbuf *b, long nsec, int std)
{
	bool trim = (std & STD_MASK) == STD_FRAC_SECOND9;
	int n = (std >> STD_ARG_SHIFT) & 0xfff;
	char dot = (std >> STD_SEP_SHIFT) ? ',' : '.';
	char d[10];
	size_t k;
	if (trim && (n == 0 || nsec == 0))
		return;
	snprintf(d, sizeof(d), "%09ld", nsec);
	k = n < 9 ? (size_t)n : 9;
	if (trim)
		while (k > 0 && d[k - 1] == '0')
			k--;
	if (trim && k == 0)
		return;
	kbuf_putc(b, dot);
	kbuf_put(b, d, k);
}

void gt_format(kbuf *b, const char *layout, size_t ll, int64_t sec, long nsec, const gt_loc *loc)
{
	zone_at z = { "UTC", 3, 0, 0, 0 };
	gt_civil c;
	size_t pre, end;
	if (loc != &utc_loc)
		loc_lookup(loc, sec, &z);
	civil_of_abs(&c, (uint64_t)sec + (uint64_t)z.offset + UNIX_TO_ABSOLUTE);
	while (ll) {
		int std = next_std_chunk(layout, ll, &pre, &end);
		long off = z.offset, zone, hr;
		kbuf_put(b, layout, pre);
		if (!std)
			break;
		layout += end;
		ll -= end;
		switch (std & STD_MASK) {
		case STD_YEAR: append_int(b, (c.year < 0 ? -c.year : c.year) % 100, 2); break;
		case STD_LONG_YEAR: append_int(b, c.year, 4); break;
		case STD_MONTH: kbuf_put(b, long_months[c.month - 1], 3); break;
		case STD_LONG_MONTH: kbuf_puts(b, long_months[c.month - 1]); break;
		case STD_NUM_MONTH: append_int(b, c.month, 0); break;
		case STD_ZERO_MONTH: append_int(b, c.month, 2); break;
		case STD_WEEKDAY: kbuf_put(b, long_days[c.wday], 3); break;
		case STD_LONG_WEEKDAY: kbuf_puts(b, long_days[c.wday]); break;
		case STD_DAY: append_int(b, c.day, 0); break;
		case STD_UNDER_DAY:
			if (c.day < 10)
				kbuf_putc(b, ' ');
			append_int(b, c.day, 0);
			break;
		case STD_ZERO_DAY: append_int(b, c.day, 2); break;
		case STD_UNDER_YEARDAY:
			if (c.yday < 100)
				kbuf_puts(b, c.yday < 10 ? "  " : " ");
			append_int(b, c.yday, 0);
			break;
		case STD_ZERO_YEARDAY: append_int(b, c.yday, 3); break;
		case STD_HOUR: append_int(b, c.hour, 2); break;
		case STD_HOUR12:
		case STD_ZERO_HOUR12:
			hr = c.hour % 12 ? c.hour % 12 : 12;
			append_int(b, hr, (std & STD_MASK) == STD_ZERO_HOUR12 ? 2 : 0);
			break;
		case STD_MINUTE: append_int(b, c.min, 0); break;
		case STD_ZERO_MINUTE: append_int(b, c.min, 2); break;
		case STD_SECOND: append_int(b, c.sec, 0); break;
		case STD_ZERO_SECOND: append_int(b, c.sec, 2); break;
		case STD_PM: kbuf_puts(b, c.hour >= 12 ? "PM" : "AM"); break;
		case STD_pm: kbuf_puts(b, c.hour >= 12 ? "pm" : "am"); break;
		case STD_ISO8601_TZ: case STD_ISO8601_COLON_TZ: case STD_ISO8601_SECONDS_TZ: case STD_ISO8601_SHORT_TZ:
		case STD_ISO8601_COLON_SECONDS_TZ: case STD_NUM_TZ: case STD_NUM_COLON_TZ: case STD_NUM_SECONDS_TZ:
		case STD_NUM_SHORT_TZ: case STD_NUM_COLON_SECONDS_TZ: {
			bool iso = std >= STD_ISO8601_TZ && std <= STD_ISO8601_COLON_SECONDS_TZ;
			long absoff = off;
			if (off == 0 && iso) {
				kbuf_putc(b, 'Z');
				break;
			}
			zone = off / 60;
			if (zone < 0) {
				kbuf_putc(b, '-');
				zone = -zone;
				absoff = -absoff;
			} else {
				kbuf_putc(b, '+');
			}
			append_int(b, zone / 60, 2);
			if (std == STD_ISO8601_COLON_TZ || std == STD_NUM_COLON_TZ || std == STD_ISO8601_COLON_SECONDS_TZ ||
			    std == STD_NUM_COLON_SECONDS_TZ)
				kbuf_putc(b, ':');
			if (std != STD_NUM_SHORT_TZ && std != STD_ISO8601_SHORT_TZ)
				append_int(b, zone % 60, 2);
			if (std == STD_ISO8601_SECONDS_TZ || std == STD_NUM_SECONDS_TZ || std == STD_NUM_COLON_SECONDS_TZ ||
			    std == STD_ISO8601_COLON_SECONDS_TZ) {
				if (std == STD_NUM_COLON_SECONDS_TZ || std == STD_ISO8601_COLON_SECONDS_TZ)
					kbuf_putc(b, ':');
				append_int(b, absoff % 60, 2);
			}
			break;
		}
		case STD_TZ:
			if (z.nl) {
				kbuf_put(b, z.name, z.nl);
				break;
			}
			zone = off / 60;
			if (zone < 0) {
				kbuf_putc(b, '-');
				zone = -zone;
			} else {
				kbuf_putc(b, '+');
			}
			append_int(b, zone / 60, 2);
			append_int(b, zone % 60, 2);
			break;
		case STD_FRAC_SECOND0:
		case STD_FRAC_SECOND9:
			append_nano(b, nsec, std);
			break;
		}
	}
}

/* ---- parsing (format.go) ---- */

void gt_quote(kbuf *b, const char *s, size_t n)
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

typedef struct span {
	const char *p;
	size_t n;
} span;

static void drop(span *s, size_t k)
{
	s->p += k;
	s->n -= k;
}

/* getnum, getnum3 */
static bool getnum(span *s, bool fixed, int *out)
{
	if (!digit_at(s->p, 0, s->n))
		return false;
	if (!digit_at(s->p, 1, s->n)) {
		if (fixed)
			return false;
		*out = s->p[0] - '0';
		drop(s, 1);
		return true;
	}
	*out = (s->p[0] - '0') * 10 + s->p[1] - '0';
	drop(s, 2);
	return true;
}

static bool getnum3(span *s, bool fixed, int *out)
{
	int n = 0;
	size_t i;
	for (i = 0; i < 3 && digit_at(s->p, i, s->n); i++)
		n = n * 10 + s->p[i] - '0';
	if (i == 0 || (fixed && i != 3))
		return false;
	*out = n;
	drop(s, i);
	return true;
}

/* leadingInt: digits into *x (false on overflow), *len consumed */
static bool leading_int(const char *s, size_t n, uint64_t *x, size_t *len)
{
	size_t i;
	*x = 0;
	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (*x > (1ULL << 63) / 10)
			return false;
		*x = *x * 10 + (uint64_t)(s[i] - '0');
		if (*x > 1ULL << 63)
			return false;
	}
	*len = i;
	return true;
}

/* atoi: optional sign, digits, nothing after */
static bool go_atoi(const char *s, size_t n, int64_t *out)
{
	bool neg = false;
	uint64_t x;
	size_t k;
	if (n && (*s == '-' || *s == '+')) {
		neg = *s == '-';
		s++;
		n--;
	}
	if (!leading_int(s, n, &x, &k) || k != n)
		return false;
	*out = neg ? (int64_t)(0 - x) : (int64_t)x;
	return true;
}

/* skip: the layout's literal prefix, runs of blanks matching runs */
static bool skip(span *v, const char *p, size_t n)
{
	while (n) {
		if (*p == ' ') {
			if (v->n && v->p[0] != ' ')
				return false;
			while (n && *p == ' ') {
				p++;
				n--;
			}
			while (v->n && v->p[0] == ' ')
				drop(v, 1);
			continue;
		}
		if (!v->n || v->p[0] != *p)
			return false;
		p++;
		n--;
		drop(v, 1);
	}
	return true;
}

static bool match_fold(const char *a, const char *b, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		unsigned char c1 = (unsigned char)a[i], c2 = (unsigned char)b[i];
		if (c1 != c2) {
			c1 |= 'a' - 'A';
			c2 |= 'a' - 'A';
			if (c1 != c2 || c1 < 'a' || c1 > 'z')
				return false;
		}
	}
	return true;
}

static bool lookup_name(const char *const *tab, size_t ntab, span *v, int *out)
{
	size_t i;
	for (i = 0; i < ntab; i++) {
		size_t l = strlen(tab[i]);
		if (v->n >= l && match_fold(v->p, tab[i], l)) {
			*out = (int)i;
			drop(v, l);
			return true;
		}
	}
	return false;
}

static size_t parse_signed_offset(const char *s, size_t n)
{
	uint64_t x;
	size_t k;
	if (!n || (s[0] != '-' && s[0] != '+'))
		return 0;
	if (!leading_int(s + 1, n - 1, &x, &k) || k == 0 || x > 23)
		return 0;
	return k + 1;
}

/* parseTimeZone */
static bool parse_time_zone(const char *s, size_t n, size_t *len)
{
	size_t up;
	if (n < 3)
		return false;
	if (n >= 4 && (!memcmp(s, "ChST", 4) || !memcmp(s, "MeST", 4))) {
		*len = 4;
		return true;
	}
	if (!memcmp(s, "GMT", 3)) {
		*len = n == 3 ? 3 : 3 + parse_signed_offset(s + 3, n - 3);
		return true;
	}
	if (s[0] == '+' || s[0] == '-') {
		*len = parse_signed_offset(s, n);
		return *len > 0;
	}
	for (up = 0; up < 6 && up < n && s[up] >= 'A' && s[up] <= 'Z'; up++)
		;
	switch (up) {
	case 5:
		if (s[4] == 'T') {
			*len = 5;
			return true;
		}
		break;
	case 4:
		if (s[3] == 'T' || !memcmp(s, "WITA", 4)) {
			*len = 4;
			return true;
		}
		break;
	case 3:
		*len = 3;
		return true;
	}
	return false;
}

/* parseNanoseconds: value starts with the separator, nbytes with it */
static bool parse_nanoseconds(const char *v, size_t nbytes, long *ns, const char **range)
{
	int64_t x;
	size_t i;
	if (v[0] != '.' && v[0] != ',')
		return false;
	if (nbytes > 10)
		nbytes = 10;
	if (!go_atoi(v + 1, nbytes - 1, &x))
		return false;
	if (x < 0) {
		*range = "fractional second";
		return true;
	}
	for (i = nbytes; i < 10; i++)
		x *= 10;
	*ns = (long)x;
	return true;
}

/* Date(year, month, day, hour, min, sec, nsec, loc) for in-range fields */
static int64_t go_date(int64_t year, int month, int day, int hour, int min, int sec, const gt_loc *loc)
{
	uint64_t abs = abs_days_of(year, month, day) * SECS_PER_DAY + (uint64_t)(hour * 3600 + min * 60 + sec);
	int64_t unix = (int64_t)(abs - UNIX_TO_ABSOLUTE);
	zone_at z;
	if (loc == &utc_loc)
		return unix;
	loc_lookup(loc, unix, &z);
	if (z.offset) {
		int64_t utc = unix - z.offset;
		if (utc < z.start || utc >= z.end)
			loc_lookup(loc, utc, &z);
		unix -= z.offset;
	}
	return unix;
}

static int parse_error(kbuf *err, const char *layout, size_t ll, const char *value, size_t vl, const char *lelem,
		       size_t lel, span velem, const char *msg)
{
	kbuf_puts(err, "parsing time ");
	gt_quote(err, value, vl);
	if (msg) {
		kbuf_puts(err, msg);
		return -1;
	}
	kbuf_puts(err, " as ");
	gt_quote(err, layout, ll);
	kbuf_puts(err, ": cannot parse ");
	gt_quote(err, velem.p, velem.n);
	kbuf_puts(err, " as ");
	gt_quote(err, lelem, lel);
	return -1;
}

int gt_parse(karena *a, const char *layout, size_t ll, const char *value, size_t vl, const gt_loc *loc,
	     int64_t *sec, long *nsec, const gt_loc **out, kbuf *err)
{
	const char *const alayout = layout, *const avalue = value;
	const size_t all = ll, avl = vl;
	span v = { value, vl };
	const char *range = NULL;
	bool am = false, pm = false;
	int64_t year = 0;
	int month = -1, day = -1, yday = -1, hour = 0, min = 0, s = 0;
	long ns = 0, zone_offset = -1;
	const gt_loc *z = NULL;
	span zone_name = { "", 0 };
#define FAIL_ELEM(le, lel, ve) return parse_error(err, alayout, all, avalue, avl, le, lel, ve, NULL)
#define FAIL_MSG(m) return parse_error(err, alayout, all, avalue, avl, NULL, 0, v, m)
	for (;;) {
		size_t pre, end;
		int std = next_std_chunk(layout, ll, &pre, &end);
		const char *stdstr = layout + pre;
		size_t stdlen = end - pre;
		span hold;
		bool ok = true;
		if (!skip(&v, layout, pre))
			FAIL_ELEM(layout, pre, v);
		if (!std) {
			if (v.n) {
				kbuf m = KBUF_INIT;
				kbuf_puts(&m, ": extra text: ");
				gt_quote(&m, v.p, v.n);
				parse_error(err, alayout, all, avalue, avl, NULL, 0, v, m.ptr);
				kbuf_release(&m);
				return -1;
			}
			break;
		}
		layout += end;
		ll -= end;
		hold = v;
		switch (std & STD_MASK) {
		case STD_YEAR:
			if (v.n < 2 || !go_atoi(v.p, 2, &year)) {
				ok = false;
				break;
			}
			drop(&v, 2);
			year += year >= 69 ? 1900 : 2000;
			break;
		case STD_LONG_YEAR:
			if (v.n < 4 || !digit_at(v.p, 0, v.n) || !go_atoi(v.p, 4, &year)) {
				ok = false;
				break;
			}
			drop(&v, 4);
			break;
		case STD_MONTH:
			ok = lookup_name(short_months, 12, &v, &month);
			month++;
			break;
		case STD_LONG_MONTH:
			ok = lookup_name(long_months, 12, &v, &month);
			month++;
			break;
		case STD_NUM_MONTH:
		case STD_ZERO_MONTH:
			ok = getnum(&v, std == STD_ZERO_MONTH, &month);
			if (ok && (month <= 0 || month > 12))
				range = "month";
			break;
		case STD_WEEKDAY: {
			int wd;
			ok = lookup_name(short_days, 7, &v, &wd);
			break;
		}
		case STD_LONG_WEEKDAY: {
			int wd;
			ok = lookup_name(long_days, 7, &v, &wd);
			break;
		}
		case STD_DAY:
		case STD_UNDER_DAY:
		case STD_ZERO_DAY:
			if (std == STD_UNDER_DAY && v.n && v.p[0] == ' ')
				drop(&v, 1);
			ok = getnum(&v, std == STD_ZERO_DAY, &day);
			if (!ok)
				day = 0;
			break;
		case STD_UNDER_YEARDAY:
		case STD_ZERO_YEARDAY: {
			int i;
			for (i = 0; i < 2; i++)
				if (std == STD_UNDER_YEARDAY && v.n && v.p[0] == ' ')
					drop(&v, 1);
			ok = getnum3(&v, std == STD_ZERO_YEARDAY, &yday);
			if (!ok)
				yday = 0;
			break;
		}
		case STD_HOUR:
			ok = getnum(&v, false, &hour);
			if (!ok)
				hour = 0;
			if (hour < 0 || hour >= 24)
				range = "hour";
			break;
		case STD_HOUR12:
		case STD_ZERO_HOUR12:
			ok = getnum(&v, std == STD_ZERO_HOUR12, &hour);
			if (!ok)
				hour = 0;
			if (hour < 0 || hour > 12)
				range = "hour";
			break;
		case STD_MINUTE:
		case STD_ZERO_MINUTE:
			ok = getnum(&v, std == STD_ZERO_MINUTE, &min);
			if (!ok)
				min = 0;
			if (min < 0 || min >= 60)
				range = "minute";
			break;
		case STD_SECOND:
		case STD_ZERO_SECOND:
			ok = getnum(&v, std == STD_ZERO_SECOND, &s);
			if (!ok) {
				s = 0;
				break;
			}
			if (s < 0 || s >= 60) {
				range = "second";
				break;
			}
			if (v.n >= 2 && (v.p[0] == '.' || v.p[0] == ',') && digit_at(v.p, 1, v.n)) {
				size_t p2, e2, k;
				int next = next_std_chunk(layout, ll, &p2, &e2) & STD_MASK;
				if (next == STD_FRAC_SECOND0 || next == STD_FRAC_SECOND9)
					break;
				for (k = 2; k < v.n && digit_at(v.p, k, v.n); k++)
					;
				ok = parse_nanoseconds(v.p, k, &ns, &range);
				drop(&v, k);
			}
			break;
		case STD_PM:
		case STD_pm: {
			const char *up = std == STD_PM ? "PM" : "pm", *dn = std == STD_PM ? "AM" : "am";
			if (v.n < 2) {
				ok = false;
				break;
			}
			if (!memcmp(v.p, up, 2))
				pm = true;
			else if (!memcmp(v.p, dn, 2))
				am = true;
			else
				ok = false;
			drop(&v, 2);
			break;
		}
		case STD_ISO8601_TZ: case STD_ISO8601_SHORT_TZ: case STD_ISO8601_COLON_TZ: case STD_ISO8601_SECONDS_TZ:
		case STD_ISO8601_COLON_SECONDS_TZ:
			if (v.n >= 1 && v.p[0] == 'Z') {
				drop(&v, 1);
				z = &utc_loc;
				break;
			}
			/* fall through */
		case STD_NUM_TZ: case STD_NUM_SHORT_TZ: case STD_NUM_COLON_TZ: case STD_NUM_SECONDS_TZ:
		case STD_NUM_COLON_SECONDS_TZ: {
			char sign;
			span hh, mm, ss = { "00", 2 };
			int hr = 0, mi = 0, se = 0;
			if (std == STD_ISO8601_COLON_TZ || std == STD_NUM_COLON_TZ) {
				if (v.n < 6 || v.p[3] != ':') {
					ok = false;
					break;
				}
				hh = (span){ v.p + 1, 2 };
				mm = (span){ v.p + 4, 2 };
				sign = v.p[0];
				drop(&v, 6);
			} else if (std == STD_NUM_SHORT_TZ || std == STD_ISO8601_SHORT_TZ) {
				if (v.n < 3) {
					ok = false;
					break;
				}
				hh = (span){ v.p + 1, 2 };
				mm = (span){ "00", 2 };
				sign = v.p[0];
				drop(&v, 3);
			} else if (std == STD_ISO8601_COLON_SECONDS_TZ || std == STD_NUM_COLON_SECONDS_TZ) {
				if (v.n < 9 || v.p[3] != ':' || v.p[6] != ':') {
					ok = false;
					break;
				}
				hh = (span){ v.p + 1, 2 };
				mm = (span){ v.p + 4, 2 };
				ss = (span){ v.p + 7, 2 };
				sign = v.p[0];
				drop(&v, 9);
			} else if (std == STD_ISO8601_SECONDS_TZ || std == STD_NUM_SECONDS_TZ) {
				if (v.n < 7) {
					ok = false;
					break;
				}
				hh = (span){ v.p + 1, 2 };
				mm = (span){ v.p + 3, 2 };
				ss = (span){ v.p + 5, 2 };
				sign = v.p[0];
				drop(&v, 7);
			} else {
				if (v.n < 5) {
					ok = false;
					break;
				}
				hh = (span){ v.p + 1, 2 };
				mm = (span){ v.p + 3, 2 };
				sign = v.p[0];
				drop(&v, 5);
			}
			ok = getnum(&hh, true, &hr) && getnum(&mm, true, &mi) && getnum(&ss, true, &se);
			if (hr > 24)
				range = "time zone offset hour";
			if (mi > 60)
				range = "time zone offset minute";
			if (se > 60)
				range = "time zone offset second";
			zone_offset = (hr * 60L + mi) * 60 + se;
			if (sign == '-')
				zone_offset = -zone_offset;
			else if (sign != '+')
				ok = false;
			break;
		}
		case STD_TZ: {
			size_t n;
			if (v.n >= 3 && !memcmp(v.p, "UTC", 3)) {
				z = &utc_loc;
				drop(&v, 3);
				break;
			}
			if (!parse_time_zone(v.p, v.n, &n)) {
				ok = false;
				break;
			}
			zone_name = (span){ v.p, n };
			drop(&v, n);
			break;
		}
		case STD_FRAC_SECOND0: {
			size_t nd = 1 + (size_t)((std >> STD_ARG_SHIFT) & 0xfff);
			if (v.n < nd) {
				ok = false;
				break;
			}
			ok = parse_nanoseconds(v.p, nd, &ns, &range);
			drop(&v, nd);
			break;
		}
		case STD_FRAC_SECOND9: {
			size_t i = 0;
			if (v.n < 2 || (v.p[0] != '.' && v.p[0] != ',') || v.p[1] < '0' || v.p[1] > '9')
				break;
			while (i + 1 < v.n && v.p[i + 1] >= '0' && v.p[i + 1] <= '9')
				i++;
			ok = parse_nanoseconds(v.p, 1 + i, &ns, &range);
			drop(&v, 1 + i);
			break;
		}
		}
		if (range) {
			kbuf m = KBUF_INIT;
			kbuf_printf(&m, ": %s out of range", range);
			parse_error(err, alayout, all, avalue, avl, NULL, 0, v, m.ptr);
			kbuf_release(&m);
			return -1;
		}
		if (!ok)
			FAIL_ELEM(stdstr, stdlen, hold);
	}
	if (pm && hour < 12)
		hour += 12;
	else if (am && hour == 12)
		hour = 0;
	if (yday >= 0) {
		int d = 0, m = 0;
		if (is_leap(year)) {
			if (yday == 31 + 29) {
				m = 2;
				d = 29;
			} else if (yday > 31 + 29) {
				yday--;
			}
		}
		if (yday < 1 || yday > 365)
			FAIL_MSG(": day-of-year out of range");
		if (m == 0) {
			m = (yday - 1) / 31 + 1;
			if (days_before[m] < yday)
				m++;
			d = yday - days_before[m - 1];
		}
		if (month >= 0 && month != m)
			FAIL_MSG(": day-of-year does not match month");
		month = m;
		if (day >= 0 && day != d)
			FAIL_MSG(": day-of-year does not match day");
		day = d;
	} else {
		if (month < 0)
			month = 1;
		if (day < 0)
			day = 1;
	}
	if (day < 1 || day > days_in(month, year))
		FAIL_MSG(": day out of range");
#undef FAIL_ELEM
#undef FAIL_MSG
	*nsec = ns;
	if (z) {
		*sec = go_date(year, month, day, hour, min, s, z);
		*out = z;
		return 0;
	}
	if (zone_offset != -1) {
		zone_at lz;
		*sec = go_date(year, month, day, hour, min, s, &utc_loc) - zone_offset;
		loc_lookup(loc, *sec, &lz);
		if (lz.offset == zone_offset &&
		    (!zone_name.n || (lz.nl == zone_name.n && !memcmp(lz.name, zone_name.p, lz.nl)))) {
			*out = loc;
			return 0;
		}
		*out = fixed_zone(a, zone_name.p, zone_name.n, zone_offset);
		return 0;
	}
	if (zone_name.n) {
		long off = 0;
		*sec = go_date(year, month, day, hour, min, s, &utc_loc);
		if (loc_lookup_name(loc, zone_name.p, zone_name.n, *sec, &off)) {
			*sec -= off;
			*out = loc;
			return 0;
		}
		if (zone_name.n > 3 && !memcmp(zone_name.p, "GMT", 3)) {
			int64_t h = 0;
			go_atoi(zone_name.p + 3, zone_name.n - 3, &h);
			off = (long)h * 3600;
		}
		*out = fixed_zone(a, zone_name.p, zone_name.n, off);
		return 0;
	}
	*sec = go_date(year, month, day, hour, min, s, loc);
	*out = loc;
	return 0;
}
