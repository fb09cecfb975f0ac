/* tmpl/funcs_math.c - Sprig's math (numeric.go): integer math through
 * cast.ToInt64 (int64 results), float math (addf... through shopspring
 * decimal in Sprig: we compute in double and round to 15 significant
 * digits, which gives the same results for the decimal inputs charts use),
 * min/max, floor/ceil/round, randInt. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tmpl_int.h"

#define L(i) tv_to_int64(a[i])
#define F(i) tv_to_float64(a[i])

static int ret_i(tctx *x, doc_node **out, int64_t v) { *out = tv_int64(x->a, v); return 0; }

static double dec_round(double v)
{
	char buf[64];
	if (!isfinite(v) || v == 0)
		return v;
	snprintf(buf, sizeof(buf), "%.15g", v);
	return strtod(buf, NULL);
}

static int ret_f(tctx *x, doc_node **out, double v) { *out = tv_float(x->a, dec_round(v)); return 0; }

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
static int f_add1f(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return ret_f(x, out, F(0) + 1); }
static int f_addf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	double s = 0;
	size_t i;
	for (i = 0; i < n; i++)
		s += F(i);
	return ret_f(x, out, s);
}
static int f_subf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	double s = F(0);
	size_t i;
	for (i = 1; i < n; i++)
		s -= F(i);
	return ret_f(x, out, s);
}
static int f_mulf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	double s = F(0);
	size_t i;
	for (i = 1; i < n; i++)
		s *= F(i);
	return ret_f(x, out, s);
}
static int f_divf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	double s = F(0);
	size_t i;
	for (i = 1; i < n; i++) {
		if (F(i) == 0)
			return tctx_fail(x, "decimal division by 0");
		s /= F(i);
	}
	return ret_f(x, out, s);
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
	int64_t lo = a[0]->u.i, hi = a[1]->u.i;
	(void)n;
	if (hi <= lo)
		return tctx_fail(x, "invalid argument to Intn");
	*out = tv_int(x->a, lo + (int64_t)((uint64_t)random() % (uint64_t)(hi - lo)));
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
