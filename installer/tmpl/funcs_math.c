/* tmpl/funcs_math.c - Sprig's math (numeric.go): integer math through
 * cast.ToInt64 (int64 results), float math (addf... through shopspring
 * decimal in Sprig: we compute in double and round to 15 significant
 * digits, which gives the same results for the decimal inputs charts use),
 * min/max, floor/ceil/round, randInt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl_int.h"

#define L(i) tv_to_int64(a[i])
#define F(i) tv_to_float64(a[i])

static int ret_i(tctx *x, doc_node **out, int64_t v) { *out = tv_int64(x->a, v); return 0; }

/* shopspring/decimal as Sprig uses it: NewFromFloat takes the shortest
 * decimal form of each float64, arithmetic is exact in decimal, Div
 * rounds to 16 decimal places, and Float64() reads the decimal back. */
typedef struct dec {
	__int128 m;
	int e;      /* value = m * 10^e */
	bool ok;
} dec;

static dec dec_from(double f)
{
	char buf[64], *p;
	dec d = { 0, 0, true };
	int exp = 0;
	bool neg = false, frac = false;
	if (!isfinite(f)) {
		d.ok = false;
		return d;
	}
	snprintf(buf, sizeof(buf), "%.17g", f);
	{
		/* shortest round-trip form */
		int prec;
		for (prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*e", prec - 1, f);
			if (strtod(buf, NULL) == f)
				break;
		}
	}
	p = buf;
	if (*p == '-') {
		neg = true;
		p++;
	}
	for (; *p && *p != 'e'; p++) {
		if (*p == '.') {
			frac = true;
			continue;
		}
		d.m = d.m * 10 + (*p - '0');
		if (frac)
			exp--;
	}
	if (*p == 'e')
		exp += atoi(p + 1);
	d.e = exp;
	if (neg)
		d.m = -d.m;
	return d;
}

static const __int128 DEC_MAX = (__int128)1 << 120;

static bool dec_scale(dec *d, int e)
{
	/* bring d to exponent e (< d->e) */
	while (d->e > e) {
		if (d->m > DEC_MAX / 10 || d->m < -DEC_MAX / 10)
			return false;
		d->m *= 10;
		d->e--;
	}
	return true;
}

static double dec_to(dec d)
{
	char buf[80], tmp[64];
	int i = 0, n;
	__int128 m = d.m;
	bool neg = m < 0;
	if (!d.ok)
		return NAN;
	if (neg)
		m = -m;
	do {
		tmp[i++] = (char)('0' + (int)(m % 10));
		m /= 10;
	} while (m && i < 60);
	n = 0;
	if (neg)
		buf[n++] = '-';
	while (i > 0)
		buf[n++] = tmp[--i];
	snprintf(buf + n, sizeof(buf) - (size_t)n, "e%d", d.e);
	return strtod(buf, NULL);
}

static dec dec_add(dec a, dec b, int sign)
{
	int e = a.e < b.e ? a.e : b.e;
	if (!a.ok || !b.ok || !dec_scale(&a, e) || !dec_scale(&b, e)) {
		a.ok = false;
		return a;
	}
	a.m = sign > 0 ? a.m + b.m : a.m - b.m;
	return a;
}

static dec dec_mul(dec a, dec b)
{
	if (!a.ok || !b.ok || (a.m && (b.m > DEC_MAX / (a.m < 0 ? -a.m : a.m) || b.m < -DEC_MAX / (a.m < 0 ? -a.m : a.m)))) {
		a.ok = false;
		return a;
	}
	a.m *= b.m;
	a.e += b.e;
	return a;
}

/* a / b rounded half away from zero to 16 decimal places */
static dec dec_div(dec a, dec b)
{
	dec r = { 0, -16, true };
	__int128 q, rem, num = a.m, den = b.m;
	int shift = a.e - b.e + 16 + 1; /* one extra digit for rounding */
	bool neg;
	if (!a.ok || !b.ok || !b.m) {
		r.ok = false;
		return r;
	}
	neg = (num < 0) != (den < 0);
	if (num < 0)
		num = -num;
	if (den < 0)
		den = -den;
	while (shift > 0) {
		if (num > DEC_MAX / 10) {
			r.ok = false;
			return r;
		}
		num *= 10;
		shift--;
	}
	while (shift < 0) {
		if (den > DEC_MAX / 10) {
			r.ok = false;
			return r;
		}
		den *= 10;
		shift++;
	}
	q = num / den;
	rem = q % 10;
	q /= 10;
	if (rem >= 5)
		q++;
	r.m = neg ? -q : q;
	return r;
}

static double dec_result(dec d, double fallback)
{
	return d.ok ? dec_to(d) : fallback;
}

static int ret_f(tctx *x, doc_node **out, double v) { *out = tv_float(x->a, v); return 0; }

static int f_add1(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return ret_i(x, out, (int64_t)((uint64_t)L(0) + 1)); }
static int f_add(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	uint64_t s = 0;
	size_t i;
	for (i = 0; i < n; i++)
		s += (uint64_t)L(i);
	return ret_i(x, out, (int64_t)s);
}
static int f_sub(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return ret_i(x, out, (int64_t)((uint64_t)L(0) - (uint64_t)L(1))); }
static int f_mul(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	uint64_t s = 1;
	size_t i;
	for (i = 0; i < n; i++)
		s *= (uint64_t)L(i);
	return ret_i(x, out, (int64_t)s);
}
static int f_div(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t d = L(1);
	(void)n;
	if (d == 0)
		return tctx_fail(x, "runtime error: integer divide by zero");
	if (d == -1)
		return ret_i(x, out, (int64_t)(0 - (uint64_t)L(0)));
	return ret_i(x, out, L(0) / d);
}
static int f_mod(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t d = L(1);
	(void)n;
	if (d == 0)
		return tctx_fail(x, "runtime error: integer divide by zero");
	if (d == -1)
		return ret_i(x, out, 0);
	return ret_i(x, out, L(0) % d);
}
static int f_max(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t m = L(0);
	size_t i;
	for (i = 1; i < n; i++)
		if (L(i) > m)
			m = L(i);
	return ret_i(x, out, m);
}
static int f_min(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t m = L(0);
	size_t i;
	for (i = 1; i < n; i++)
		if (L(i) < m)
			m = L(i);
	return ret_i(x, out, m);
}
static int f_maxf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	double m = F(0);
	size_t i;
	for (i = 1; i < n; i++)
		m = fmax(m, F(i));
	*out = tv_float(x->a, m);
	return 0;
}
static int f_minf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	double m = F(0);
	size_t i;
	for (i = 1; i < n; i++)
		m = fmin(m, F(i));
	*out = tv_float(x->a, m);
	return 0;
}
static int f_add1f(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return ret_f(x, out, dec_result(dec_add(dec_from(F(0)), dec_from(1), 1), F(0) + 1));
}
static int f_addf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	dec d = dec_from(0);
	double s = 0;
	size_t i;
	for (i = 0; i < n; i++) {
		d = dec_add(d, dec_from(F(i)), 1);
		s += F(i);
	}
	return ret_f(x, out, dec_result(d, s));
}
static int f_subf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	dec d = dec_from(F(0));
	double s = F(0);
	size_t i;
	for (i = 1; i < n; i++) {
		d = dec_add(d, dec_from(F(i)), -1);
		s -= F(i);
	}
	return ret_f(x, out, dec_result(d, s));
}
static int f_mulf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	dec d = dec_from(F(0));
	double s = F(0);
	size_t i;
	for (i = 1; i < n; i++) {
		d = dec_mul(d, dec_from(F(i)));
		s *= F(i);
	}
	return ret_f(x, out, dec_result(d, s));
}
static int f_divf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	dec d = dec_from(F(0));
	double s = F(0);
	size_t i;
	for (i = 1; i < n; i++) {
		if (F(i) == 0)
			return tctx_fail(x, "decimal division by 0");
		d = dec_div(d, dec_from(F(i)));
		s /= F(i);
	}
	return ret_f(x, out, dec_result(d, s));
}
static int f_floor(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; *out = tv_float(x->a, floor(F(0))); return 0; }
static int f_ceil(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; *out = tv_float(x->a, ceil(F(0))); return 0; }
static int f_round(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	double on = n > 2 ? a[2]->u.f : 0.5, val = F(0), pw = pow(10, (double)a[1]->u.i), digit = pw * val, ip;
	double frac = modf(digit, &ip);
	*out = tv_float(x->a, (frac >= on ? ceil(digit) : floor(digit)) / pw);
	return 0;
}
static int f_randint(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	/* Sprig: rand.Intn(max-min) + min, the difference wrapping as Go's int */
	int64_t lo = a[0]->u.i, span = (int64_t)((uint64_t)a[1]->u.i - (uint64_t)lo);
	(void)n;
	if (span <= 0)
		return tctx_fail(x, "invalid argument to Intn");
	*out = tv_int(x->a, lo + (int64_t)((uint64_t)random() % (uint64_t)span));
	return 0;
}

const tfunc tmpl_funcs_math[] = {
	{ "add1", f_add1, "a" },
	{ "add", f_add, "*a" },
	{ "sub", f_sub, "aa" },
	{ "mul", f_mul, "a*a" },
	{ "div", f_div, "aa" },
	{ "mod", f_mod, "aa" },
	{ "max", f_max, "a*a" },
	{ "biggest", f_max, "a*a" },
	{ "min", f_min, "a*a" },
	{ "maxf", f_maxf, "a*a" },
	{ "minf", f_minf, "a*a" },
	{ "add1f", f_add1f, "a" },
	{ "addf", f_addf, "*a" },
	{ "subf", f_subf, "a*a" },
	{ "mulf", f_mulf, "a*a" },
	{ "divf", f_divf, "a*a" },
	{ "floor", f_floor, "a" },
	{ "ceil", f_ceil, "a" },
	{ "round", f_round, "ai*f" },
	{ "randInt", f_randint, "ii" },
	{ NULL, NULL, NULL },
};
