/* core/dynload_crypto.c - OpenSSL's libcrypto, loaded on first use (see
 * dynload.h). Only the certificate, key and AES helpers of templates and
 * `kstage version` need it; linking it costs every run ~0.7 ms of
 * relocation. Digests go through nettle and random bytes through
 * getrandom(2), so an ordinary chart never loads it. */
#include "dynload.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/encoder.h>
#include <openssl/dsa.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#ifndef KSTAGE_LIBCRYPTO_SONAME
#define KSTAGE_LIBCRYPTO_SONAME "libcrypto.so.3"
#endif

/* F(return type, name, parameters, arguments); V(...) for void functions */
#define CRYPTO_FUNCS(F, V) \
	F(long, BIO_ctrl, (BIO *b, int cmd, long l, void *p), (b, cmd, l, p)) \
	F(const BIO_METHOD *, BIO_f_base64, (void), ()) \
	F(int, BIO_free, (BIO *b), (b)) \
	V(BIO_free_all, (BIO *b), (b)) \
	F(BIO *, BIO_new, (const BIO_METHOD *m), (m)) \
	F(BIO *, BIO_new_mem_buf, (const void *p, int n), (p, n)) \
	F(BIO *, BIO_push, (BIO *b, BIO *next), (b, next)) \
	F(int, BIO_read, (BIO *b, void *p, int n), (b, p, n)) \
	F(const BIO_METHOD *, BIO_s_mem, (void), ()) \
	V(BIO_set_flags, (BIO *b, int flags), (b, flags)) \
	F(BIGNUM *, BN_bin2bn, (const unsigned char *s, int n, BIGNUM *r), (s, n, r)) \
	V(BN_free, (BIGNUM *a), (a)) \
	F(BIGNUM *, BN_new, (void), ()) \
	F(ASN1_INTEGER *, BN_to_ASN1_INTEGER, (const BIGNUM *bn, ASN1_INTEGER *ai), (bn, ai)) \
	F(int, ASN1_TIME_set_string_X509, (ASN1_TIME *s, const char *str), (s, str)) \
	V(EVP_CIPHER_CTX_free, (EVP_CIPHER_CTX *c), (c)) \
	F(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_new, (void), ()) \
	F(int, EVP_DecryptFinal_ex, (EVP_CIPHER_CTX *c, unsigned char *o, int *ol), (c, o, ol)) \
	F(int, EVP_DecryptInit_ex, (EVP_CIPHER_CTX *c, const EVP_CIPHER *t, ENGINE *e, const unsigned char *k, \
				    const unsigned char *iv), (c, t, e, k, iv)) \
	F(int, EVP_DecryptUpdate, (EVP_CIPHER_CTX *c, unsigned char *o, int *ol, const unsigned char *in, int il), \
	  (c, o, ol, in, il)) \
	F(int, EVP_EncryptFinal_ex, (EVP_CIPHER_CTX *c, unsigned char *o, int *ol), (c, o, ol)) \
	F(int, EVP_EncryptInit_ex, (EVP_CIPHER_CTX *c, const EVP_CIPHER *t, ENGINE *e, const unsigned char *k, \
				    const unsigned char *iv), (c, t, e, k, iv)) \
	F(int, EVP_EncryptUpdate, (EVP_CIPHER_CTX *c, unsigned char *o, int *ol, const unsigned char *in, int il), \
	  (c, o, ol, in, il)) \
	V(EVP_PKEY_free, (EVP_PKEY *k), (k)) \
	F(int, EVP_PKEY_up_ref, (EVP_PKEY *k), (k)) \
	F(const EVP_CIPHER *, EVP_aes_256_cbc, (void), ()) \
	F(const EVP_MD *, EVP_sha256, (void), ()) \
	V(OSSL_ENCODER_CTX_free, (OSSL_ENCODER_CTX *c), (c)) \
	F(OSSL_ENCODER_CTX *, OSSL_ENCODER_CTX_new_for_pkey, (const EVP_PKEY *k, int sel, const char *type, \
							     const char *st, const char *pq), (k, sel, type, st, pq)) \
	F(int, OSSL_ENCODER_to_bio, (OSSL_ENCODER_CTX *c, BIO *b), (c, b)) \
	F(const char *, OpenSSL_version, (int t), (t)) \
	F(EVP_PKEY *, PEM_read_bio_PrivateKey, (BIO *b, EVP_PKEY **k, pem_password_cb *cb, void *u), (b, k, cb, u)) \
	F(X509 *, PEM_read_bio_X509, (BIO *b, X509 **x, pem_password_cb *cb, void *u), (b, x, cb, u)) \
	F(int, PEM_write_bio_X509, (BIO *b, const X509 *x), (b, x)) \
	F(X509_EXTENSION *, X509V3_EXT_conf_nid, (LHASH_OF(CONF_VALUE) *conf, X509V3_CTX *c, int nid, \
						  const char *v), (conf, c, nid, v)) \
	V(X509V3_set_ctx, (X509V3_CTX *c, X509 *iss, X509 *sub, X509_REQ *req, X509_CRL *crl, int fl), \
	  (c, iss, sub, req, crl, fl)) \
	V(X509_EXTENSION_free, (X509_EXTENSION *e), (e)) \
	F(int, X509_NAME_add_entry_by_txt, (X509_NAME *nm, const char *f, int t, const unsigned char *v, int l, \
					    int loc, int set), (nm, f, t, v, l, loc, set)) \
	F(int, X509_add_ext, (X509 *x, X509_EXTENSION *e, int loc), (x, e, loc)) \
	F(int, X509_NAME_cmp, (const X509_NAME *a, const X509_NAME *b), (a, b)) \
	F(ASN1_BIT_STRING *, X509_get0_pubkey_bitstr, (const X509 *x), (x)) \
	F(int, X509_get_ext_by_NID, (const X509 *x, int nid, int last), (x, nid, last)) \
	V(X509_free, (X509 *x), (x)) \
	F(ASN1_INTEGER *, X509_get_serialNumber, (X509 *x), (x)) \
	F(X509_NAME *, X509_get_subject_name, (const X509 *x), (x)) \
	F(ASN1_TIME *, X509_getm_notAfter, (const X509 *x), (x)) \
	F(ASN1_TIME *, X509_getm_notBefore, (const X509 *x), (x)) \
	F(ASN1_TIME *, X509_gmtime_adj, (ASN1_TIME *s, long adj), (s, adj)) \
	F(X509 *, X509_new, (void), ()) \
	F(int, X509_set_issuer_name, (X509 *x, const X509_NAME *nm), (x, nm)) \
	F(int, X509_set_pubkey, (X509 *x, EVP_PKEY *k), (x, k)) \
	F(int, X509_set_version, (X509 *x, long v), (x, v)) \
	F(int, X509_sign, (X509 *x, EVP_PKEY *k, const EVP_MD *md), (x, k, md)) \
	F(int, EVP_PBE_scrypt, (const char *pass, size_t passlen, const unsigned char *salt, size_t saltlen, \
				uint64_t N, uint64_t r, uint64_t p, uint64_t maxmem, unsigned char *key, \
				size_t keylen), (pass, passlen, salt, saltlen, N, r, p, maxmem, key, keylen)) \
	F(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_name, (OSSL_LIB_CTX *l, const char *name, const char *pq), \
	  (l, name, pq)) \
	F(EVP_PKEY_CTX *, EVP_PKEY_CTX_new_from_pkey, (OSSL_LIB_CTX *l, EVP_PKEY *k, const char *pq), (l, k, pq)) \
	V(EVP_PKEY_CTX_free, (EVP_PKEY_CTX *c), (c)) \
	F(int, EVP_PKEY_paramgen_init, (EVP_PKEY_CTX *c), (c)) \
	F(int, EVP_PKEY_paramgen, (EVP_PKEY_CTX *c, EVP_PKEY **k), (c, k)) \
	F(int, EVP_PKEY_keygen_init, (EVP_PKEY_CTX *c), (c)) \
	F(int, EVP_PKEY_keygen, (EVP_PKEY_CTX *c, EVP_PKEY **k), (c, k)) \
	F(int, EVP_PKEY_CTX_set_dsa_paramgen_bits, (EVP_PKEY_CTX *c, int bits), (c, bits)) \
	F(int, EVP_PKEY_CTX_set_dsa_paramgen_q_bits, (EVP_PKEY_CTX *c, int bits), (c, bits)) \
	V(BN_clear_free, (BIGNUM *a), (a)) \
	F(OSSL_PARAM_BLD *, OSSL_PARAM_BLD_new, (void), ()) \
	V(OSSL_PARAM_BLD_free, (OSSL_PARAM_BLD *b), (b)) \
	F(int, OSSL_PARAM_BLD_push_BN, (OSSL_PARAM_BLD *b, const char *key, const BIGNUM *bn), (b, key, bn)) \
	F(OSSL_PARAM *, OSSL_PARAM_BLD_to_param, (OSSL_PARAM_BLD *b), (b)) \
	V(OSSL_PARAM_free, (OSSL_PARAM *p), (p)) \
	F(int, EVP_PKEY_fromdata_init, (EVP_PKEY_CTX *c), (c)) \
	F(int, EVP_PKEY_fromdata, (EVP_PKEY_CTX *c, EVP_PKEY **k, int sel, OSSL_PARAM *p), (c, k, sel, p))

#define SLOT(ret, name, params, args) ret(*name) params;
#define VSLOT(name, params, args) void(*name) params;
static struct {
	CRYPTO_FUNCS(SLOT, VSLOT)
	EVP_PKEY *(*EVP_PKEY_Q_keygen)(OSSL_LIB_CTX *, const char *, const char *, ...);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
#define SYM(ret, name, params, args) { #name, (void **)&fn.name },
#define VSYM(name, params, args) { #name, (void **)&fn.name },
	static const dynload_sym syms[] = {
		CRYPTO_FUNCS(SYM, VSYM)
		{ "EVP_PKEY_Q_keygen", (void **)&fn.EVP_PKEY_Q_keygen },
	};
	dynload_open(KSTAGE_LIBCRYPTO_SONAME, syms, sizeof(syms) / sizeof(syms[0]));
}

#define LOAD() pthread_once(&once, load)
#define WRAP(ret, name, params, args) ret name params { LOAD(); return fn.name args; }
#define VWRAP(name, params, args) void name params { LOAD(); fn.name args; }
CRYPTO_FUNCS(WRAP, VWRAP)

/* Variadic: the extra argument depends on the key type, as in OpenSSL's
 * own EVP_PKEY_Q_keygen (RSA: size_t bits; EC: curve name; others none). */
EVP_PKEY *EVP_PKEY_Q_keygen(OSSL_LIB_CTX *libctx, const char *propq, const char *type, ...)
{
	EVP_PKEY *k;
	va_list ap;
	LOAD();
	va_start(ap, type);
	if (strcmp(type, "RSA") == 0)
		k = fn.EVP_PKEY_Q_keygen(libctx, propq, type, va_arg(ap, size_t));
	else if (strcmp(type, "EC") == 0)
		k = fn.EVP_PKEY_Q_keygen(libctx, propq, type, va_arg(ap, char *));
	else
		k = fn.EVP_PKEY_Q_keygen(libctx, propq, type);
	va_end(ap);
	return k;
}
