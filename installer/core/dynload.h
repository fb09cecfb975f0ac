/*
 * core/dynload.h - load the network and crypto libraries on first use.
 *
 * Why: libcurl and libgit2 bring about fifty shared libraries with them
 * (gnutls, krb5, ldap, ssh2...), and libcrypto alone costs ~0.7 ms of
 * relocation plus ~1 ms of provider set-up on its first use. Paid at
 * every start, that is most of the time of `kstage template` on a chart.
 * So kstage is not linked against them: it
 * compiles against their headers and calls thin wrappers (dynload_*.c,
 * one per library, with the libraries' own prototypes) that dlopen the
 * library by the SONAME found at build time and resolve every function
 * the first time any of them is called.
 *
 * A library that cannot be loaded is a broken installation, like a missing
 * shared library at start-up: dynload_open() says which and exits 70, the
 * one other place besides core/alloc.c allowed to end the process.
 * A new function from one of these libraries needs one line in its
 * dynload_*.c file; the link fails until it has it.
 */
#ifndef KSTAGE_CORE_DYNLOAD_H
#define KSTAGE_CORE_DYNLOAD_H

#include <stddef.h>

typedef struct dynload_sym {
	const char *name;
	void **slot;
} dynload_sym;

/* dlopen soname (once per process, thread-safe through the caller's
 * pthread_once) and fill every slot; exits 70 with a message on failure. */
void dynload_open(const char *soname, const dynload_sym *syms, size_t n);

#endif
