/* tmpl/funcs_crypto.c - Sprig's crypto and random helpers through OpenSSL:
 * genPrivateKey, genCA, genSelfSignedCert, genSignedCert (certificates are
 * a struct with Cert and Key, PEM, as Sprig's), encryptAES/decryptAES,
 * uuidv4, randAlphaNum/randAlpha/randNumeric/randAscii/randBytes, shuffle,
 * and the path helpers (base, dir, ext, clean, isAbs). Not provided:
 * bcrypt/htpasswd/derivePassword/getHostByName (see the report). */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <crypt.h>
#include <errno.h>
#include <nettle/hmac.h>
#include <openssl/kdf.h>
#include <string.h>
#include <sys/random.h>

#include "tmpl_int.h"

#define S(i) (a[i]->u.s.ptr)
#define SL(i) (a[i]->u.s.len)

static int rand_fill(tctx *x, void *p, size_t n);

static doc_node *bio_str(tctx *x, BIO *b)
{
	char *p = NULL;
	long l = BIO_get_mem_data(b, &p);
	return tv_str(x->a, p ? p : "", l > 0 ? (size_t)l : 0);
}

static int key_pem(tctx *x, EVP_PKEY *k, bool pkcs8, doc_node **out)
{
	BIO *b = BIO_new(BIO_s_mem());
	OSSL_ENCODER_CTX *ec = OSSL_ENCODER_CTX_new_for_pkey(k, OSSL_KEYMGMT_SELECT_KEYPAIR, "PEM",
							     pkcs8 ? "PrivateKeyInfo" : "type-specific", NULL);
	int ok = b && ec && OSSL_ENCODER_to_bio(ec, b);
	if (ok)
		*out = bio_str(x, b);
	OSSL_ENCODER_CTX_free(ec);
	BIO_free(b);
	return ok ? 0 : tctx_fail(x, "error encoding private key");
}

/* DSA as Sprig's: L2048N256 parameters, then a key ("DSA PRIVATE KEY",
 * the same ASN.1 sequence OpenSSL writes as the type-specific form) */
static EVP_PKEY *dsa_gen(tctx *x)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "DSA", NULL), *kc = NULL;
	EVP_PKEY *params = NULL, *k = NULL;
	(void)x;
	if (pc && EVP_PKEY_paramgen_init(pc) > 0 && EVP_PKEY_CTX_set_dsa_paramgen_bits(pc, 2048) > 0 &&
	    EVP_PKEY_CTX_set_dsa_paramgen_q_bits(pc, 256) > 0 && EVP_PKEY_paramgen(pc, &params) > 0 &&
	    (kc = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL)) && EVP_PKEY_keygen_init(kc) > 0)
		EVP_PKEY_keygen(kc, &k);
	EVP_PKEY_CTX_free(kc);
	EVP_PKEY_free(params);
	EVP_PKEY_CTX_free(pc);
	return k;
}

static int f_genprivatekey(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	EVP_PKEY *k = NULL;
	int r;
	bool pkcs8 = false;
	(void)n;
	if (!strcmp(S(0), "rsa") || !SL(0))
		k = EVP_RSA_gen(4096);
	else if (!strcmp(S(0), "dsa"))
		k = dsa_gen(x);
	else if (!strcmp(S(0), "ecdsa"))
		k = EVP_EC_gen("P-256");
	else if (!strcmp(S(0), "ed25519")) {
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		pkcs8 = true;
	} else {
		*out = tv_str(x->a, "Unknown type ", 13);
		*out = tv_strz(x->a, karena_printf(x->a, "Unknown type %s", S(0)));
		return 0;
	}
	if (!k)
		return tctx_fail(x, "error generating %s key", S(0));
	r = key_pem(x, k, pkcs8, out);
	EVP_PKEY_free(k);
	return r;
}

typedef struct certin {
	EVP_PKEY *key;      /* the key to certify, or NULL to make one */
	const char *cn;
	doc_node *ips, *dns;
	int64_t days;
	bool is_ca;
	X509 *ca_cert;
	EVP_PKEY *ca_key;
} certin;

static void add_ext(X509 *c, X509 *issuer, int nid, const char *val)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, val);
	if (e) {
		X509_add_ext(c, e, -1);
		X509_EXTENSION_free(e);
	}
}

static int make_cert(tctx *x, const certin *in, doc_node **out)
{
	EVP_PKEY *k = in->key ? (EVP_PKEY_up_ref(in->key), in->key) : EVP_RSA_gen(2048);
	X509 *c = X509_new();
	BIO *b = NULL;
	BIGNUM *bn = BN_new();
	unsigned char serial[16];
	kbuf san = KBUF_INIT;
	doc_node *key = NULL, *cert = NULL;
	tobj *o;
	size_t i;
	int rc = 0;
	if (!k || !c || !bn) {
		rc = tctx_fail(x, "error generating certificate key");
		goto done;
	}
	X509_set_version(c, 2);
	if ((rc = rand_fill(x, serial, sizeof(serial))))
		goto done;
	serial[0] &= 0x7F;
	BN_bin2bn(serial, sizeof(serial), bn);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
	X509_gmtime_adj(X509_getm_notBefore(c), 0);
	X509_gmtime_adj(X509_getm_notAfter(c), (long)(in->days * 86400));
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_UTF8, (const unsigned char *)in->cn, -1, -1, 0);
	X509_set_issuer_name(c, in->ca_cert ? X509_get_subject_name(in->ca_cert) : X509_get_subject_name(c));
	X509_set_pubkey(c, k);
	if (in->is_ca) {
		add_ext(c, c, NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign");
		add_ext(c, c, NID_ext_key_usage, "serverAuth,clientAuth");
		add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
	} else {
		add_ext(c, in->ca_cert ? in->ca_cert : c, NID_key_usage, "critical,digitalSignature,keyEncipherment");
		add_ext(c, in->ca_cert ? in->ca_cert : c, NID_ext_key_usage, "serverAuth,clientAuth");
		add_ext(c, c, NID_basic_constraints, "critical,CA:FALSE");
	}
	for (i = 0; in->dns && i < in->dns->u.seq.len; i++) {
		size_t l;
		const char *s = tv_strval(x, in->dns->u.seq.v[i], &l);
		kbuf_printf(&san, "%sDNS:%.*s", san.len ? "," : "", (int)l, s);
	}
	for (i = 0; in->ips && i < in->ips->u.seq.len; i++) {
		size_t l;
		const char *s = tv_strval(x, in->ips->u.seq.v[i], &l);
		kbuf_printf(&san, "%sIP:%.*s", san.len ? "," : "", (int)l, s);
	}
	if (san.len)
		add_ext(c, c, NID_subject_alt_name, san.ptr);
	if (!X509_sign(c, in->ca_key ? in->ca_key : k, EVP_sha256())) {
		rc = tctx_fail(x, "error signing certificate");
		goto done;
	}
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, c);
	cert = bio_str(x, b);
	if ((rc = key_pem(x, k, false, &key)))
		goto done;
	o = tobj_new(x->a, TOBJ_NAMED, "sprig.certificate", DOC_MAP);
	o->n.flags |= TV_STRUCT;
	doc_map_set(x->a, &o->n, "Cert", cert);
	doc_map_set(x->a, &o->n, "Key", key);
	*out = &o->n;
done:
	kbuf_release(&san);
	BIO_free(b);
	BN_free(bn);
	X509_free(c);
	EVP_PKEY_free(k);
	return rc;
}

static int f_genca(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	certin in = { 0 };
	(void)n;
	in.cn = S(0);
	in.days = a[1]->u.i;
	in.is_ca = true;
	return make_cert(x, &in, out);
}

static int f_genselfsigned(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	certin in = { 0 };
	(void)n;
	in.cn = S(0);
	in.ips = a[1];
	in.dns = a[2];
	in.days = a[3]->u.i;
	return make_cert(x, &in, out);
}

static int f_gensigned(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	certin in = { 0 };
	doc_node *cc = doc_map_get(a[4], "Cert"), *ck = doc_map_get(a[4], "Key");
	BIO *b1, *b2;
	int rc;
	(void)n;
	if (!cc || cc->type != DOC_STR || !ck || ck->type != DOC_STR)
		return tctx_fail(x, "wrong type for value; expected sprig.certificate; got %s", tv_type_name(a[4]));
	b1 = BIO_new_mem_buf(cc->u.s.ptr, (int)cc->u.s.len);
	b2 = BIO_new_mem_buf(ck->u.s.ptr, (int)ck->u.s.len);
	in.ca_cert = PEM_read_bio_X509(b1, NULL, NULL, NULL);
	in.ca_key = PEM_read_bio_PrivateKey(b2, NULL, NULL, NULL);
	BIO_free(b1);
	BIO_free(b2);
	if (!in.ca_cert || !in.ca_key) {
		X509_free(in.ca_cert);
		EVP_PKEY_free(in.ca_key);
		return tctx_fail(x, "error parsing CA certificate or key");
	}
	in.cn = S(0);
	in.ips = a[1];
	in.dns = a[2];
	in.days = a[3]->u.i;
	in.key = x->signed_key;
	rc = make_cert(x, &in, out);
	X509_free(in.ca_cert);
	EVP_PKEY_free(in.ca_key);
	return rc;
}

/* ---- AES (Sprig: key = password bytes zero-padded to 32, AES-256-CBC,
 * PKCS#7, random IV prepended, base64) ---- */

static int f_encryptaes(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	unsigned char key[32] = { 0 }, iv[16];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char *buf = karena_alloc(x->a, SL(1) + 48);
	int l1 = 0, l2 = 0;
	kbuf b = KBUF_INIT;
	(void)n;
	if (!SL(1)) {  /* Sprig: nothing to encrypt gives "" */
		EVP_CIPHER_CTX_free(c);
		*out = tv_str(x->a, "", 0);
		return 0;
	}
	memcpy(key, S(0), SL(0) < 32 ? SL(0) : 32);
	if (rand_fill(x, iv, 16)) {
		EVP_CIPHER_CTX_free(c);
		return -1;
	}
	memcpy(buf, iv, 16);
	if (!c || !EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, key, iv) ||
	    !EVP_EncryptUpdate(c, buf + 16, &l1, (const unsigned char *)S(1), (int)SL(1)) ||
	    !EVP_EncryptFinal_ex(c, buf + 16 + l1, &l2)) {
		EVP_CIPHER_CTX_free(c);
		return tctx_fail(x, "encryption failed");
	}
	EVP_CIPHER_CTX_free(c);
	tv_b64enc(&b, buf, (size_t)(16 + l1 + l2));
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_decryptaes(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	unsigned char key[32] = { 0 };
	EVP_CIPHER_CTX *c;
	BIO *b64, *mem;
	unsigned char *raw = karena_alloc(x->a, SL(1) + 1), *plain;
	int rl, l1 = 0, l2 = 0;
	(void)n;
	if (!SL(1)) {
		*out = tv_str(x->a, "", 0);
		return 0;
	}
	memcpy(key, S(0), SL(0) < 32 ? SL(0) : 32);
	b64 = BIO_new(BIO_f_base64());
	mem = BIO_new_mem_buf(S(1), (int)SL(1));
	BIO_set_flags(b64, BIO_FLAGS_BASE64_NO_NL);
	BIO_push(b64, mem);
	rl = BIO_read(b64, raw, (int)SL(1));
	BIO_free_all(b64);
	if (rl < 16 || rl % 16)
		return tctx_fail(x, "crypto/cipher: input not full blocks");
	plain = karena_alloc(x->a, (size_t)rl + 16);
	c = EVP_CIPHER_CTX_new();
	if (!c || !EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, key, raw) ||
	    !EVP_DecryptUpdate(c, plain, &l1, raw + 16, rl - 16) || !EVP_DecryptFinal_ex(c, plain + l1, &l2)) {
		EVP_CIPHER_CTX_free(c);
		return tctx_fail(x, "decryption failed");
	}
	EVP_CIPHER_CTX_free(c);
	*out = tv_str(x->a, (const char *)plain, (size_t)(l1 + l2));
	return 0;
}

/* ---- random ---- */

/* The kernel's CSPRNG (as Go's crypto/rand): no OpenSSL to load for the
 * random helpers charts call on every render (randAlphaNum in Secrets). */
static int rand_fill(tctx *x, void *p, size_t n)
{
	unsigned char *b = p;
	while (n) {
		ssize_t r = getrandom(b, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return tctx_fail(x, "cannot read random bytes: %s", strerror(errno));
		}
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* *v uniform in [0, n): the biased tail is drawn again */
static int rand_below(tctx *x, unsigned n, unsigned *v)
{
	unsigned r, lim = UINT32_MAX - UINT32_MAX % n;
	do
		if (rand_fill(x, &r, sizeof(r)))
			return -1;
	while (r >= lim);
	*v = r % n;
	return 0;
}

static int rand_chars(tctx *x, doc_node **out, int64_t count, const char *set)
{
	kbuf b = KBUF_INIT;
	size_t sl = strlen(set);
	int64_t i;
	if (count < 0)
		return tctx_fail(x, "randomString: count must be >= 0");
	if (count > 1 << 20)
		return tctx_fail(x, "randomString: count too large");
	for (i = 0; i < count; i++) {
		unsigned r;
		if (rand_below(x, (unsigned)sl, &r)) {
			kbuf_release(&b);
			return -1;
		}
		kbuf_putc(&b, set[r]);
	}
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

#define ALPHA "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define DIGITS "0123456789"

static int f_randalphanum(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return rand_chars(x, out, a[0]->u.i, ALPHA DIGITS); }
static int f_randalpha(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return rand_chars(x, out, a[0]->u.i, ALPHA); }
static int f_randnumeric(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return rand_chars(x, out, a[0]->u.i, DIGITS); }
static int f_randascii(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	char set[96];
	int i;
	(void)n;
	for (i = 0; i < 94; i++)
		set[i] = (char)(33 + i);
	set[94] = 0;
	return rand_chars(x, out, a[0]->u.i, set);
}

static int f_randbytes(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	unsigned char *buf;
	kbuf b = KBUF_INIT;
	(void)n;
	if (a[0]->u.i < 0 || a[0]->u.i > 1 << 20)
		return tctx_fail(x, "randBytes: bad count");
	buf = karena_alloc(x->a, (size_t)a[0]->u.i + 1);
	if (rand_fill(x, buf, (size_t)a[0]->u.i))
		return -1;
	tv_b64enc(&b, buf, (size_t)a[0]->u.i);
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_uuidv4(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	unsigned char u[16];
	char buf[40];
	(void)a; (void)n;
	if (rand_fill(x, u, 16))
		return -1;
	u[6] = (unsigned char)((u[6] & 0x0F) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3F) | 0x80);
	snprintf(buf, sizeof(buf), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
	*out = tv_strz(x->a, buf);
	return 0;
}

static int f_shuffle(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	char *s = karena_strndup(x->a, S(0), SL(0));
	size_t i;
	(void)n;
	for (i = SL(0); i > 1; i--) {
		unsigned r;
		char t;
		if (rand_below(x, (unsigned)i, &r))
			return -1;
		t = s[i - 1];
		s[i - 1] = s[r];
		s[r] = t;
	}
	*out = tv_str(x->a, s, SL(0));
	return 0;
}

/* ---- paths (path package, '/'-separated) ---- */

static void clean_path(kbuf *b, const char *p, size_t n)
{
	bool rooted = n && p[0] == '/';
	size_t i = 0, dotdot;
	if (!n) {
		kbuf_putc(b, '.');
		return;
	}
	if (rooted) {
		kbuf_putc(b, '/');
		i = 1;
	}
	dotdot = b->len;
	while (i < n) {
		size_t j = i;
		while (j < n && p[j] != '/')
			j++;
		if (j == i || (j - i == 1 && p[i] == '.')) {
			/* skip */
		} else if (j - i == 2 && p[i] == '.' && p[i + 1] == '.') {
			if (b->len > dotdot) {
				size_t k = b->len;
				while (k > dotdot && b->ptr[k - 1] != '/')
					k--;
				kbuf_truncate(b, k > dotdot ? k - 1 : dotdot);
			} else if (!rooted) {
				if (b->len > 0)
					kbuf_putc(b, '/');
				kbuf_puts(b, "..");
				dotdot = b->len;
			}
		} else {
			if ((rooted && b->len != 1) || (!rooted && b->len != 0))
				kbuf_putc(b, '/');
			kbuf_put(b, p + i, j - i);
		}
		i = j + 1;
	}
	if (b->len == 0)
		kbuf_putc(b, '.');
}

static int f_base(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const char *s = S(0);
	size_t l = SL(0);
	const char *p;
	(void)n;
	if (!l) {
		*out = tv_strz(x->a, ".");
		return 0;
	}
	while (l > 0 && s[l - 1] == '/')
		l--;
	if (!l) {
		*out = tv_strz(x->a, "/");
		return 0;
	}
	p = s + l;
	while (p > s && p[-1] != '/')
		p--;
	*out = tv_str(x->a, p, (size_t)(s + l - p));
	return 0;
}

static int f_dir(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const char *s = S(0), *p = s + SL(0);
	kbuf b = KBUF_INIT;
	(void)n;
	while (p > s && p[-1] != '/')
		p--;
	clean_path(&b, s, (size_t)(p - s));
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_clean(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	(void)n;
	clean_path(&b, S(0), SL(0));
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_ext(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const char *s = S(0), *p = s + SL(0);
	(void)n;
	while (p > s && p[-1] != '/') {
		p--;
		if (*p == '.') {
			*out = tv_str(x->a, p, (size_t)(s + SL(0) - p));
			return 0;
		}
	}
	*out = tv_strz(x->a, "");
	return 0;
}

static int f_isabs(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)x; (void)n; *out = tv_bool(SL(0) && S(0)[0] == '/'); return 0; }

static EVP_PKEY *read_key(const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	return k;
}

static int f_gencawithkey(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	certin in = { 0 };
	int rc;
	(void)n;
	if (!(in.key = read_key(S(2), SL(2))))
		return tctx_fail(x, "error parsing private key");
	in.cn = S(0);
	in.days = a[1]->u.i;
	in.is_ca = true;
	rc = make_cert(x, &in, out);
	EVP_PKEY_free(in.key);
	return rc;
}

static int f_genselfsignedwithkey(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	certin in = { 0 };
	int rc;
	(void)n;
	if (!(in.key = read_key(S(4), SL(4))))
		return tctx_fail(x, "error parsing private key");
	in.cn = S(0);
	in.ips = a[1];
	in.dns = a[2];
	in.days = a[3]->u.i;
	rc = make_cert(x, &in, out);
	EVP_PKEY_free(in.key);
	return rc;
}

static int f_gensignedwithkey(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *args[5];
	int rc;
	EVP_PKEY *k = read_key(S(5), SL(5));
	(void)n;
	if (!k)
		return tctx_fail(x, "error parsing private key");
	memcpy(args, a, sizeof(args));
	x->signed_key = k;
	rc = f_gensigned(x, out, args, 5);
	x->signed_key = NULL;
	EVP_PKEY_free(k);
	return rc;
}

/* buildCustomCert base64(cert PEM) base64(key PEM) */
static int f_buildcustomcert(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	BIO *b64, *mem;
	char *cert = karena_alloc(x->a, SL(0) + 1), *key = karena_alloc(x->a, SL(1) + 1);
	int cl, kl;
	tobj *o;
	(void)n;
	b64 = BIO_new(BIO_f_base64());
	mem = BIO_new_mem_buf(S(0), (int)SL(0));
	BIO_set_flags(b64, BIO_FLAGS_BASE64_NO_NL);
	BIO_push(b64, mem);
	cl = BIO_read(b64, cert, (int)SL(0));
	BIO_free_all(b64);
	b64 = BIO_new(BIO_f_base64());
	mem = BIO_new_mem_buf(S(1), (int)SL(1));
	BIO_set_flags(b64, BIO_FLAGS_BASE64_NO_NL);
	BIO_push(b64, mem);
	kl = BIO_read(b64, key, (int)SL(1));
	BIO_free_all(b64);
	if (cl <= 0 || kl <= 0)
		return tctx_fail(x, "unable to decode base64 certificate or key");
	o = tobj_new(x->a, TOBJ_NAMED, "sprig.certificate", DOC_MAP);
	o->n.flags |= TV_STRUCT;
	doc_map_set(x->a, &o->n, "Cert", tv_str(x->a, cert, (size_t)cl));
	doc_map_set(x->a, &o->n, "Key", tv_str(x->a, key, (size_t)kl));
	*out = &o->n;
	return 0;
}

/* ---- passwords ---- */

/* bcrypt of Go's x/crypto/bcrypt at its default cost (10, "$2a$"), through
 * libxcrypt; Go refuses passwords over 72 bytes, which bcrypt cannot see */
static int bcrypt_hash(tctx *x, const char *pw, size_t len, kbuf *out)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE], *pwz;
	struct crypt_data *cd;
	const char *h;
	if (len > 72) {
		kbuf_puts(out, "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes");
		return 0;
	}
	if (!crypt_gensalt_rn("$2a$", 10, NULL, 0, setting, sizeof(setting)))
		return tctx_fail(x, "bcrypt: cannot make a salt: %s", strerror(errno));
	cd = karena_alloc(x->a, sizeof(*cd));
	pwz = karena_strndup(x->a, pw, len);
	h = crypt_rn(pwz, setting, cd, (int)sizeof(*cd));
	memset(pwz, 0, len);
	if (!h || h[0] == '*')
		return tctx_fail(x, "bcrypt: hashing failed");
	kbuf_puts(out, h);
	memset(cd, 0, sizeof(*cd));
	return 0;
}

static int f_bcrypt(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	int r = bcrypt_hash(x, S(0), SL(0), &b);
	(void)n;
	if (!r)
		*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return r;
}

static int f_htpasswd(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	int r = 0;
	(void)n;
	if (memchr(S(0), ':', SL(0))) {
		kbuf_printf(&b, "invalid username: %.*s", (int)SL(0), S(0));
	} else {
		kbuf_printf(&b, "%.*s:", (int)SL(0), S(0));
		r = bcrypt_hash(x, S(1), SL(1), &b);
	}
	if (!r)
		*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return r;
}

/* Sprig's derivePassword: the Master Password algorithm (scrypt N=32768,
 * r=8, p=2 of the password salted with the user, then HMAC-SHA256 of the
 * site and counter picks a template and its characters) */
static const char *const mpw_maximum[] = { "anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno", NULL };
static const char *const mpw_long[] = {
	"CvcvnoCvcvCvcv", "CvcvCvcvnoCvcv", "CvcvCvcvCvcvno", "CvccnoCvcvCvcv", "CvccCvcvnoCvcv",
	"CvccCvcvCvcvno", "CvcvnoCvccCvcv", "CvcvCvccnoCvcv", "CvcvCvccCvcvno", "CvcvnoCvcvCvcc",
	"CvcvCvcvnoCvcc", "CvcvCvcvCvccno", "CvccnoCvccCvcv", "CvccCvccnoCvcv", "CvccCvccCvcvno",
	"CvcvnoCvccCvcc", "CvcvCvccnoCvcc", "CvcvCvccCvccno", "CvccnoCvcvCvcc", "CvccCvcvnoCvcc",
	"CvccCvcvCvccno", NULL,
};
static const char *const mpw_medium[] = { "CvcnoCvc", "CvcCvcno", NULL };
static const char *const mpw_short[] = { "Cvcn", NULL };
static const char *const mpw_basic[] = { "aaanaaan", "aannaaan", "aaannaaa", NULL };
static const char *const mpw_pin[] = { "nnnn", NULL };

static const char *mpw_chars(char c)
{
	switch (c) {
	case 'V': return "AEIOU";
	case 'C': return "BCDFGHJKLMNPQRSTVWXYZ";
	case 'v': return "aeiou";
	case 'c': return "bcdfghjklmnpqrstvwxyz";
	case 'A': return "AEIOUBCDFGHJKLMNPQRSTVWXYZ";
	case 'a': return "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
	case 'n': return "0123456789";
	case 'o': return "@&%?,=[]_:-+*$#!'^~;()/.";
	default: return "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()";
	}
}

static void put_be32(kbuf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			       (unsigned char)v };
	kbuf_put(b, c, 4);
}

static int f_derivepassword(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	static const struct { const char *name; const char *const *t; } types[] = {
		{ "maximum", mpw_maximum }, { "long", mpw_long }, { "medium", mpw_medium },
		{ "short", mpw_short }, { "basic", mpw_basic }, { "pin", mpw_pin },
	};
	static const char seed_prefix[] = "com.lyndir.masterpassword";
	const char *const *tpl = NULL;
	unsigned char key[64], seed[SHA256_DIGEST_SIZE];
	struct hmac_sha256_ctx h;
	kbuf salt = KBUF_INIT, msg = KBUF_INIT;
	char res[32];
	const char *t;
	size_t i, nt = 0;
	(void)n;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == SL(1) && !memcmp(types[i].name, S(1), SL(1)))
			tpl = types[i].t;
	if (!tpl) {
		*out = tv_strz(x->a, karena_printf(x->a, "cannot find password template %.*s", (int)SL(1), S(1)));
		return 0;
	}
	while (tpl[nt])
		nt++;
	kbuf_puts(&salt, seed_prefix);
	put_be32(&salt, (uint32_t)SL(3));
	kbuf_put(&salt, S(3), SL(3));
	if (EVP_PBE_scrypt(S(2), SL(2), (const unsigned char *)salt.ptr, salt.len, 32768, 8, 2,
			   (uint64_t)128 << 20, key, sizeof(key)) != 1) {
		kbuf_release(&salt);
		return tctx_fail(x, "failed to derive password: scrypt failed");
	}
	kbuf_puts(&msg, seed_prefix);
	put_be32(&msg, (uint32_t)SL(4));
	kbuf_put(&msg, S(4), SL(4));
	put_be32(&msg, (uint32_t)a[0]->u.i);
	hmac_sha256_set_key(&h, sizeof(key), key);
	hmac_sha256_update(&h, msg.len, (const uint8_t *)msg.ptr);
	hmac_sha256_digest(&h, sizeof(seed), seed);
	t = tpl[seed[0] % nt];
	for (i = 0; t[i]; i++) {
		const char *cs = mpw_chars(t[i]);
		res[i] = cs[seed[i + 1] % strlen(cs)];
	}
	memset(key, 0, sizeof(key));
	kbuf_release(&salt);
	kbuf_release(&msg);
	*out = tv_str(x->a, res, i);
	return 0;
}

/* Helm answers "" unless --enable-dns: kstage renders offline, the same */
static int f_gethostbyname(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)a; (void)n;
	*out = tv_str(x->a, "", 0);
	return 0;
}

/* Sprig functions kstage does not provide: they parse, and fail if called */
static int f_unsupported(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const tnode *nd = x->node;
	(void)out; (void)a; (void)n;
	return tctx_fail(x, "%s is not supported by kstage",
			 nd && nd->k == TN_CMD && nd->v[0]->k == TN_IDENT ? nd->v[0]->s : "this function");
}

const tfunc tmpl_funcs_crypto[] = {
	{ "genCAWithKey", f_gencawithkey, "sis" },
	{ "genSelfSignedCertWithKey", f_genselfsignedwithkey, "sllis" },
	{ "genSignedCertWithKey", f_gensignedwithkey, "sllias" },
	{ "buildCustomCert", f_buildcustomcert, "ss" },
	{ "bcrypt", f_bcrypt, "s" },
	{ "htpasswd", f_htpasswd, "ss" },
	{ "derivePassword", f_derivepassword, "issss" },
	{ "fromToml", f_unsupported, "s" },
	{ "getHostByName", f_gethostbyname, "s" },
	{ "genPrivateKey", f_genprivatekey, "s" },
	{ "genCA", f_genca, "si" },
	{ "genSelfSignedCert", f_genselfsigned, "slli" },
	{ "genSignedCert", f_gensigned, "sllia" },
	{ "encryptAES", f_encryptaes, "ss" },
	{ "decryptAES", f_decryptaes, "ss" },
	{ "randAlphaNum", f_randalphanum, "i" },
	{ "randAlpha", f_randalpha, "i" },
	{ "randNumeric", f_randnumeric, "i" },
	{ "randAscii", f_randascii, "i" },
	{ "randBytes", f_randbytes, "i" },
	{ "uuidv4", f_uuidv4, "" },
	{ "shuffle", f_shuffle, "s" },
	{ "base", f_base, "s" },
	{ "dir", f_dir, "s" },
	{ "clean", f_clean, "s" },
	{ "ext", f_ext, "s" },
	{ "isAbs", f_isabs, "s" },
	{ "osBase", f_base, "s" },
	{ "osDir", f_dir, "s" },
	{ "osClean", f_clean, "s" },
	{ "osExt", f_ext, "s" },
	{ "osIsAbs", f_isabs, "s" },
	{ NULL, NULL, NULL },
};
