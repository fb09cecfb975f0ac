#include "numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decimal digits of |f|: value = 0.d[0]d[1]... * 10^dp (Go's decimalSlice). */
typedef struct digits {
	char d[40];
	int nd, dp;
} digits;

/* Parse "%.*e" output ("d.ddde[+-]xx") into digits. */
static void from_e(digits *dg, const char *s)
{
	const char *p = s;
	int exp;
	dg->nd = 0;
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9' && dg->nd < (int)sizeof(dg->d) - 1)
			dg->d[dg->nd++] = *p;
	exp = *p == 'e' ? atoi(p + 1) : 0;
	dg->dp = exp + 1;
	while (dg->nd > 0 && dg->d[dg->nd - 1] == '0')
		dg->nd--;
	if (dg->nd == 0)
		dg->dp = 0;
	dg->d[dg->nd] = '\0';
}

static void shortest(digits *dg, double a)
{
	char tmp[64];
	int p;
	for (p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, a);
		if (strtod(tmp, NULL) == a)
			break;
	}
	from_e(dg, tmp);
}

static void rounded(digits *dg, double a, int nd)
{
	char tmp[400];
	if (nd < 1)
		nd = 1;
	if (nd > 300)
		nd = 300;
	snprintf(tmp, sizeof(tmp), "%.*e", nd - 1, a);
	from_e(dg, tmp);
}

static void fmt_e(kbuf *out, int neg, const digits *dg, int prec, char fmt)
{
	int i, exp;
	char ch = dg->nd ? dg->d[0] : '0';
	if (neg)
		kbuf_putc(out, '-');
	kbuf_putc(out, ch);
	if (prec > 0) {
		kbuf_putc(out, '.');
		for (i = 1; i <= prec; i++)
			kbuf_putc(out, i < dg->nd ? dg->d[i] : '0');
	}
	kbuf_putc(out, fmt);
	exp = dg->dp - 1;
	if (dg->nd == 0)
		exp = 0;
	kbuf_putc(out, exp < 0 ? '-' : '+');
	if (exp < 0)
		exp = -exp;
	if (exp < 10)
		kbuf_printf(out, "0%d", exp);
	else
		kbuf_printf(out, "%d", exp);
}

static void fmt_f(kbuf *out, int neg, const digits *dg, int prec)
{
	int i;
	if (neg)
		kbuf_putc(out, '-');
	if (dg->dp > 0) {
		int m = dg->dp < dg->nd ? dg->dp : dg->nd;
		kbuf_put(out, dg->d, (size_t)m);
		for (; m < dg->dp; m++)
			kbuf_putc(out, '0');
	} else {
		kbuf_putc(out, '0');
	}
	if (prec > 0) {
		kbuf_putc(out, '.');
		for (i = 1; i <= prec; i++) {
			int j = dg->dp + i - 1;
			kbuf_putc(out, (j >= 0 && j < dg->nd) ? dg->d[j] : '0');
		}
	}
}

void numfmt_float(kbuf *out, double f, char fmt, int prec)
{
	digits dg;
	int neg = signbit(f) != 0;
	double a = fabs(f);
	int shortest_mode = prec < 0;

	if (isnan(f)) {
		kbuf_puts(out, "NaN");
		return;
	}
	if (isinf(f)) {
		kbuf_puts(out, neg ? "-Inf" : "+Inf");
		return;
	}
	if (shortest_mode) {
		if (a == 0) {
			dg.nd = 0;
			dg.dp = 0;
			dg.d[0] = '\0';
		} else {
			shortest(&dg, a);
		}
		switch (fmt) {
		case 'e': case 'E': prec = dg.nd > 0 ? dg.nd - 1 : 0; break;
		case 'f': prec = dg.nd - dg.dp > 0 ? dg.nd - dg.dp : 0; break;
		default: prec = dg.nd; break;
		}
	} else {
		switch (fmt) {
		case 'e': case 'E':
			if (a == 0) { dg.nd = 0; dg.dp = 0; } else rounded(&dg, a, prec + 1);
			break;
		case 'f': {
			char *tmp;
			int n = snprintf(NULL, 0, "%.*f", prec, a);
			tmp = malloc((size_t)n + 1);
			if (!tmp)
				return;
			snprintf(tmp, (size_t)n + 1, "%.*f", prec, a);
			if (neg)
				kbuf_putc(out, '-');
			kbuf_puts(out, tmp);
			free(tmp);
			return;
		}
		default:
			if (prec == 0)
				prec = 1;
			if (a == 0) { dg.nd = 0; dg.dp = 0; } else rounded(&dg, a, prec);
			break;
		}
	}

	switch (fmt) {
	case 'e': case 'E':
		fmt_e(out, neg, &dg, prec, fmt);
		return;
	case 'f':
		fmt_f(out, neg, &dg, prec);
		return;
	case 'g': case 'G': {
		int eprec = prec, exp;
		if (eprec > dg.nd && dg.nd >= dg.dp)
			eprec = dg.nd;
		if (shortest_mode)
			eprec = 6;
		exp = dg.dp - 1;
		if (exp < -4 || exp >= eprec) {
			if (prec > dg.nd)
				prec = dg.nd;
			fmt_e(out, neg, &dg, prec - 1 > 0 ? prec - 1 : 0, fmt == 'g' ? 'e' : 'E');
			return;
		}
		if (prec > dg.dp)
			prec = dg.nd;
		fmt_f(out, neg, &dg, prec - dg.dp > 0 ? prec - dg.dp : 0);
		return;
	}
	default:
		kbuf_printf(out, "%%!%c(float64=%g)", fmt, f);
	}
}

int numfmt_float_json(kbuf *out, double f)
{
	double a = fabs(f);
	size_t start = out->len;
	char fmt = 'f';
	if (isnan(f) || isinf(f))
		return -1;
	if (a != 0 && (a < 1e-6 || a >= 1e21))
		fmt = 'e';
	numfmt_float(out, f, fmt, -1);
	if (fmt == 'e') {
		size_t n = out->len - start;
		char *b = out->ptr + start;
		if (n >= 4 && b[n - 4] == 'e' && b[n - 3] == '-' && b[n - 2] == '0') {
			b[n - 2] = b[n - 1];
			kbuf_truncate(out, out->len - 1);
		}
	}
	return 0;
}

void numfmt_float_v(kbuf *out, double f)
{
	numfmt_float(out, f, 'g', -1);
}

void numfmt_int(kbuf *out, int64_t i)
{
	kbuf_printf(out, "%lld", (long long)i);
}
