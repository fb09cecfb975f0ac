/*
 * values/schema_format.c - the "format" keyword: date-time, date, time,
 * email, hostname, ipv4, ipv6, uri, uri-reference, uuid, json-pointer,
 * relative-json-pointer, duration, regex. Unknown formats pass.
 */
#include "schema_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool fmt_date(const char *s, size_t n)
{
	int y, m, d, dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (n != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s, 4) || !all_digits(s + 5, 2) ||
	    !all_digits(s + 8, 2))
		return false;
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1)
		return false;
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return d <= 29;
	return d <= dim[m - 1];
}

static bool fmt_time(const char *s, size_t n)
{
	int h, mi, se, oh = 0, om = 0, sign = 0;
	size_t i = 8;
	if (n < 9 || s[2] != ':' || s[5] != ':' || !all_digits(s, 2) || !all_digits(s + 3, 2) ||
	    !all_digits(s + 6, 2))
		return false;
	h = (s[0] - '0') * 10 + s[1] - '0';
	mi = (s[3] - '0') * 10 + s[4] - '0';
	se = (s[6] - '0') * 10 + s[7] - '0';
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !isdigit((unsigned char)s[i]))
			return false;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i >= n)
		return false;
	if (s[i] == 'Z' || s[i] == 'z') {
		if (i + 1 != n)
			return false;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '+' ? 1 : -1;
		if (n - i != 6 || s[i + 3] != ':' || !all_digits(s + i + 1, 2) || !all_digits(s + i + 4, 2))
			return false;
		oh = (s[i + 1] - '0') * 10 + s[i + 2] - '0';
		om = (s[i + 4] - '0') * 10 + s[i + 5] - '0';
		if (oh > 23 || om > 59)
			return false;
	} else {
		return false;
	}
	if (h > 23 || mi > 59 || se > 60)
		return false;
	if (se == 60) {   /* leap second: 23:59:60 UTC only */
		int utc = h * 60 + mi - sign * (oh * 60 + om);
		utc = ((utc % 1440) + 1440) % 1440;
		if (utc != 23 * 60 + 59)
			return false;
	}
	return true;
}

static bool fmt_hostname(const char *s, size_t n)
{
	size_t i, lab = 0;
	if (!n || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (!lab || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-'))
			return false;
		if (c == '-' && lab == 0)
			return false;
		if (++lab > 63)
			return false;
	}
	return lab > 0 && s[n - 1] != '-';
}

static bool fmt_ipv4(const char *s, size_t n)
{
	size_t i = 0;
	int parts = 0;
	while (i < n) {
		size_t st = i;
		int val = 0;
		while (i < n && isdigit((unsigned char)s[i])) {
			val = val * 10 + (s[i] - '0');
			i++;
			if (i - st > 3)
				return false;
		}
		if (i == st || val > 255 || (i - st > 1 && s[st] == '0'))
			return false;
		parts++;
		if (i < n) {
			if (s[i] != '.' || parts == 4)
				return false;
			i++;
			if (i == n)
				return false;
		}
	}
	return parts == 4;
}

static bool fmt_ipv6(const char *s, size_t n)
{
	size_t i = 0;
	int groups = 0;
	bool dbl = false;
	if (n < 2)
		return false;
	if (s[0] == ':') {
		if (s[1] != ':')
			return false;
		dbl = true;
		i = 2;
		if (i == n)
			return true;
	}
	while (i < n) {
		size_t st = i;
		while (i < n && isxdigit((unsigned char)s[i]))
			i++;
		if (i < n && s[i] == '.') {   /* trailing IPv4 */
			if (!fmt_ipv4(s + st, n - st))
				return false;
			groups += 2;
			i = n;
			break;
		}
		if (i == st || i - st > 4)
			return false;
		groups++;
		if (i == n)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < n && s[i] == ':') {
			if (dbl)
				return false;
			dbl = true;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return false;
		}
	}
	return dbl ? groups < 8 : groups == 8;
}

static bool fmt_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t l;
	if (!at)
		return false;
	l = (size_t)(at - s);
	if (!l || s[0] == '.' || s[l - 1] == '.' || memchr(at + 1, '@', n - l - 1))
		return false;
	{
		size_t i;
		for (i = 1; i < l; i++)
			if (s[i] == '.' && s[i - 1] == '.')
				return false;
	}
	if (n - l - 1 > 2 && at[1] == '[' && s[n - 1] == ']')
		return fmt_ipv4(at + 2, n - l - 3) ||
		       (n - l - 3 > 5 && !strncmp(at + 2, "IPv6:", 5) && fmt_ipv6(at + 7, n - l - 8));
	return fmt_hostname(at + 1, n - l - 1);
}

static bool fmt_uri(const char *s, size_t n, bool need_scheme)
{
	size_t i;
	size_t sl = vs_scheme_len(s);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
		    c == '{' || c == '|' || c == '}' || c >= 0x80)
			return false;
		if (c == '%' && (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2])))
			return false;
	}
	if (need_scheme && !sl)
		return false;
	if (sl && !strncmp(s + sl, "://", 3)) {
		const char *auth = s + sl + 3, *end = auth + strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', (size_t)(end - auth));
		const char *h = at ? at + 1 : auth;
		if (*h == '[')
			return memchr(h, ']', (size_t)(end - h)) != NULL;
		{
			const char *colon = memchr(h, ':', (size_t)(end - h));
			if (colon && !all_digits(colon + 1, (size_t)(end - colon - 1)))
				return false;
		}
	}
	return true;
}

static bool fmt_uuid(const char *s, size_t n)
{
	size_t i;
	if (n != 36)
		return false;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static bool fmt_json_pointer(const char *s, size_t n)
{
	size_t i;
	if (n && s[0] != '/')
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '~' && (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1')))
			return false;
	return true;
}

static bool fmt_rel_json_pointer(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && isdigit((unsigned char)s[i]))
		i++;
	if (!i || (i > 1 && s[0] == '0'))
		return false;
	if (i == n)
		return true;
	if (s[i] == '#')
		return i + 1 == n;
	return fmt_json_pointer(s + i, n - i);
}

static bool fmt_duration(const char *s, size_t n)
{
	size_t i = 1;
	bool t = false, any = false, weeks = false, other = false;
	const char *order_d = "YMWD", *order_t = "HMS";
	const char *pos_d = order_d, *pos_t = order_t;
	if (n < 2 || s[0] != 'P')
		return false;
	while (i < n) {
		size_t st = i;
		const char *f;
		if (s[i] == 'T') {
			if (t)
				return false;
			t = true;
			i++;
			if (i == n)
				return false;
			continue;
		}
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == st || i == n)
			return false;
		if (!t) {
			f = strchr(pos_d, s[i]);
			if (!f)
				return false;
			pos_d = f + 1;
			if (s[i] == 'W')
				weeks = true;
			else
				other = true;
		} else {
			f = strchr(pos_t, s[i]);
			if (!f)
				return false;
			pos_t = f + 1;
			other = true;
		}
		any = true;
		i++;
	}
	return any && !(weeks && other);
}

bool vs_format_ok(const char *fmt, const char *s, size_t n)
{
	if (!strcmp(fmt, "date-time")) {
		size_t tpos = 10;
		return n > 11 && (s[tpos] == 'T' || s[tpos] == 't' || s[tpos] == ' ') && fmt_date(s, 10) &&
		       fmt_time(s + 11, n - 11);
	}
	if (!strcmp(fmt, "date"))
		return fmt_date(s, n);
	if (!strcmp(fmt, "time"))
		return fmt_time(s, n);
	if (!strcmp(fmt, "email"))
		return fmt_email(s, n);
	if (!strcmp(fmt, "hostname"))
		return fmt_hostname(s, n);
	if (!strcmp(fmt, "ipv4"))
		return fmt_ipv4(s, n);
	if (!strcmp(fmt, "ipv6"))
		return fmt_ipv6(s, n);
	if (!strcmp(fmt, "uri"))
		return fmt_uri(s, n, true);
	if (!strcmp(fmt, "uri-reference"))
		return fmt_uri(s, n, false);
	if (!strcmp(fmt, "uuid"))
		return fmt_uuid(s, n);
	if (!strcmp(fmt, "json-pointer"))
		return fmt_json_pointer(s, n);
	if (!strcmp(fmt, "relative-json-pointer"))
		return fmt_rel_json_pointer(s, n);
	if (!strcmp(fmt, "duration"))
		return fmt_duration(s, n);
	if (!strcmp(fmt, "regex"))
		return vs_regex_compiles(s, n);
	return true;
}
