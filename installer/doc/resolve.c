/* doc/resolve.c - go-yaml v2's resolve(), with timestamps kept as strings. */
#include "resolve.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool eq(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && !memcmp(s, w, len);
}

static bool in_list(const char *s, size_t len, const char *const *list)
{
	for (; *list; list++)
		if (eq(s, len, *list))
			return true;
	return false;
}

static const char *const true_words[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE",
					  "on", "On", "ON", NULL };
static const char *const false_words[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE",
					   "off", "Off", "OFF", NULL };
static const char *const null_words[] = { "", "~", "null", "Null", "NULL", NULL };

/* strconv.ParseUint digits in base; false on bad digit or empty. */
static bool parse_digits(const char *s, size_t len, int base, uint64_t *out, bool *ovf)
{
	uint64_t v = 0;
	size_t i;
	*ovf = false;
	if (!len)
		return false;
	for (i = 0; i < len; i++) {
		int d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'z')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'Z')
			d = c - 'A' + 10;
		else
			return false;
		if (d >= base)
			return false;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			*ovf = true;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return true;
}

bool doc_parse_int(const char *in, size_t inlen, int64_t *out, bool *overflow_u64)
{
	char buf[80];
	size_t len = 0, i;
	const char *s = buf;
	bool neg = false, ovf;
	uint64_t v;
	int base = 10;
	*overflow_u64 = false;
	for (i = 0; i < inlen; i++) {
		if (in[i] == '_')
			continue;
		if (len >= sizeof(buf) - 1)
			return false;
		buf[len++] = in[i];
	}
	buf[len] = '\0';
	if (len && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		s++;
		len--;
	}
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16; s += 2; len -= 2;
	} else if (len >= 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8; s += 2; len -= 2;
	} else if (len >= 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2; s += 2; len -= 2;
	} else if (len >= 2 && s[0] == '0') {
		base = 8; s += 1; len -= 1;
	}
	if (!parse_digits(s, len, base, &v, &ovf))
		return false;
	if (ovf)
		return false;
	if (!neg && v > (uint64_t)INT64_MAX) {
		*overflow_u64 = true;   /* go-yaml gives uint64 */
		return false;
	}
	if (neg && v > (uint64_t)INT64_MAX + 1)
		return false;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s, size_t len)
{
	size_t i = 0, d;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i < len && s[i] == '.') {
		i++;
		d = i;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == d)
			return false;
	} else {
		d = i;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == d)
			return false;
		if (i < len && s[i] == '.') {
			i++;
			while (i < len && isdigit((unsigned char)s[i]))
				i++;
		}
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		d = i;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == d)
			return false;
	}
	return i == len;
}

bool doc_parse_float(const char *in, size_t inlen, double *out)
{
	char buf[400];
	size_t len = 0, i;
	char *end;
	for (i = 0; i < inlen; i++) {
		if (in[i] == '_')
			continue;
		if (len >= sizeof(buf) - 1)
			return false;
		buf[len++] = in[i];
	}
	buf[len] = '\0';
	if (!yaml_style_float(buf, len))
		return false;
	errno = 0;
	*out = strtod(buf, &end);
	if (*end)
		return false;
	/* Go's ParseFloat fails on overflow to infinity */
	if (errno == ERANGE && isinf(*out))
		return false;
	return true;
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
bool doc_is_base60_float(const char *s, size_t len)
{
	size_t i = 0;
	int colons = 0;
	if (!len)
		return false;
	if (s[i] == '-' || s[i] == '+')
		i++;
	if (i >= len || !isdigit((unsigned char)s[i]))
		return false;
	while (i < len && (isdigit((unsigned char)s[i]) || s[i] == '_'))
		i++;
	while (i < len && s[i] == ':') {
		size_t st;
		i++;
		st = i;
		if (i < len && s[i] >= '0' && s[i] <= '5' && i + 1 < len && isdigit((unsigned char)s[i + 1]))
			i += 2;
		else if (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == st)
			return false;
		colons++;
	}
	if (!colons)
		return false;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && (isdigit((unsigned char)s[i]) || s[i] == '_'))
			i++;
	}
	return i == len;
}

static size_t digits(const char *s, size_t len, size_t i, size_t min, size_t max, int *val)
{
	size_t st = i;
	int v = 0;
	while (i < len && i - st < max && isdigit((unsigned char)s[i]))
		v = v * 10 + (s[i++] - '0');
	if (i - st < min)
		return 0;
	*val = v;
	return i - st;
}

/* A number of 1..max digits in [lo, hi] at *i, then (if sep) that separator. */
static bool field(const char *s, size_t len, size_t *i, size_t max, int hi, char sep)
{
	int v;
	size_t n = digits(s, len, *i, 1, max, &v);
	if (!n || v > hi)
		return false;
	*i += n;
	if (!sep)
		return true;
	if (*i >= len || s[*i] != sep)
		return false;
	(*i)++;
	return true;
}

/* go-yaml v2 parseTimestamp with its four layouts. */
static bool is_timestamp(const char *s, size_t len)
{
	size_t i = 0;
	int y, mo, d;
	bool space;
	if (!digits(s, len, 0, 4, 4, &y) || len == 4 || s[4] != '-')
		return false;
	i = 5;
	if (!field(s, len, &i, 2, 12, '-') || !digits(s, len, 5, 1, 2, &mo) || mo < 1)
		return false;
	if (!digits(s, len, i, 1, 2, &d) || d < 1 || !field(s, len, &i, 2, 31, 0))
		return false;
	if (i == len)
		return true;
	if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
		return false;
	space = s[i++] == ' ';
	if (!field(s, len, &i, 2, 23, ':') || !field(s, len, &i, 2, 59, ':') || !field(s, len, &i, 2, 59, 0))
		return false;
	if (i < len && s[i] == '.') {
		size_t st = ++i;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == st)
			return false;
	}
	if (space)
		return i == len;
	if (i < len && s[i] == 'Z')
		return i + 1 == len;
	if (i < len && (s[i] == '+' || s[i] == '-')) {
		int zh, zm;
		i++;
		if (digits(s, len, i, 2, 2, &zh) != 2 || i + 2 >= len || s[i + 2] != ':' ||
		    digits(s, len, i + 3, 2, 2, &zm) != 2)
			return false;
		return i + 5 == len;
	}
	return false;
}

void doc_resolve_plain(const char *s, size_t len, doc_scalar *out)
{
	memset(out, 0, sizeof(*out));
	out->type = DOC_STR;
	/* every word below is at most 5 bytes long, and every number starts
	 * with a digit, a sign or a dot: most strings are none of these */
	if (len > 5 && !isdigit((unsigned char)s[0]) && s[0] != '-' && s[0] != '+' && s[0] != '.')
		return;
	/* and each word starts with one of these */
	if (len && (!s[0] || !strchr("yYtToOnNfF~+-.0123456789", s[0])))
		return;
	if (in_list(s, len, null_words)) {
		out->type = DOC_NULL;
		return;
	}
	if (in_list(s, len, true_words)) {
		out->type = DOC_BOOL;
		out->b = true;
		return;
	}
	if (in_list(s, len, false_words)) {
		out->type = DOC_BOOL;
		return;
	}
	if (eq(s, len, ".nan") || eq(s, len, ".NaN") || eq(s, len, ".NAN")) {
		out->type = DOC_FLOAT;
		out->f = NAN;
		return;
	}
	if (eq(s, len, ".inf") || eq(s, len, ".Inf") || eq(s, len, ".INF") ||
	    eq(s, len, "+.inf") || eq(s, len, "+.Inf") || eq(s, len, "+.INF")) {
		out->type = DOC_FLOAT;
		out->f = INFINITY;
		return;
	}
	if (eq(s, len, "-.inf") || eq(s, len, "-.Inf") || eq(s, len, "-.INF")) {
		out->type = DOC_FLOAT;
		out->f = -INFINITY;
		return;
	}
	if (len && (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.')) {
		bool u64;
		if (is_timestamp(s, len)) {
			out->is_timestamp = true;
			return;
		}
		if (doc_parse_int(s, len, &out->i, &u64)) {
			out->type = DOC_INT;
			return;
		}
		if (u64) {
			/* beyond int64: go-yaml's uint64; we keep the value as a float */
			char *end;
			out->type = DOC_FLOAT;
			out->f = strtod(s, &end);
			return;
		}
		if (doc_parse_float(s, len, &out->f)) {
			out->type = DOC_FLOAT;
			return;
		}
	}
}
