/* core/dynload_curl.c - libcurl, loaded on first use (see dynload.h). */
#define CURL_DISABLE_TYPECHECK 1
#include "dynload.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>

#ifndef KSTAGE_LIBCURL_SONAME
#define KSTAGE_LIBCURL_SONAME "libcurl.so.4"
#endif

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLSH *(*share_init)(void);
	CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
	CURLSHcode (*share_cleanup)(CURLSH *);
	curl_version_info_data *(*version_info)(CURLversion);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const dynload_sym syms[] = {
		{ "curl_global_init", (void **)&fn.global_init },
		{ "curl_easy_init", (void **)&fn.easy_init },
		{ "curl_easy_setopt", (void **)&fn.easy_setopt },
		{ "curl_easy_perform", (void **)&fn.easy_perform },
		{ "curl_easy_cleanup", (void **)&fn.easy_cleanup },
		{ "curl_easy_getinfo", (void **)&fn.easy_getinfo },
		{ "curl_easy_strerror", (void **)&fn.easy_strerror },
		{ "curl_slist_append", (void **)&fn.slist_append },
		{ "curl_slist_free_all", (void **)&fn.slist_free_all },
		{ "curl_share_init", (void **)&fn.share_init },
		{ "curl_share_setopt", (void **)&fn.share_setopt },
		{ "curl_share_cleanup", (void **)&fn.share_cleanup },
		{ "curl_version_info", (void **)&fn.version_info },
	};
	dynload_open(KSTAGE_LIBCURL_SONAME, syms, sizeof(syms) / sizeof(syms[0]));
}

#define LOAD() pthread_once(&once, load)

CURLcode curl_global_init(long flags) { LOAD(); return fn.global_init(flags); }
CURL *curl_easy_init(void) { LOAD(); return fn.easy_init(); }
CURLcode curl_easy_perform(CURL *c) { LOAD(); return fn.easy_perform(c); }
void curl_easy_cleanup(CURL *c) { LOAD(); fn.easy_cleanup(c); }
const char *curl_easy_strerror(CURLcode code) { LOAD(); return fn.easy_strerror(code); }
struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s) { LOAD(); return fn.slist_append(l, s); }
void curl_slist_free_all(struct curl_slist *l) { LOAD(); fn.slist_free_all(l); }
CURLSH *curl_share_init(void) { LOAD(); return fn.share_init(); }
CURLSHcode curl_share_cleanup(CURLSH *s) { LOAD(); return fn.share_cleanup(s); }
curl_version_info_data *curl_version_info(CURLversion v) { LOAD(); return fn.version_info(v); }

/* The variadic ones take exactly one argument whose type libcurl itself
 * derives from the option number's range, so we do the same. */
CURLcode curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	va_list ap;
	CURLcode r;
	LOAD();
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		r = fn.easy_setopt(c, opt, va_arg(ap, long));
	else if (opt < CURLOPTTYPE_OFF_T)
		r = fn.easy_setopt(c, opt, va_arg(ap, void *));
	else if (opt < CURLOPTTYPE_BLOB)
		r = fn.easy_setopt(c, opt, va_arg(ap, curl_off_t));
	else
		r = fn.easy_setopt(c, opt, va_arg(ap, void *));
	va_end(ap);
	return r;
}

CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	va_list ap;
	CURLcode r;
	LOAD();
	va_start(ap, info);
	r = fn.easy_getinfo(c, info, va_arg(ap, void *));   /* always a pointer to the result */
	va_end(ap);
	return r;
}

CURLSHcode curl_share_setopt(CURLSH *s, CURLSHoption opt, ...)
{
	va_list ap;
	CURLSHcode r;
	LOAD();
	va_start(ap, opt);
	switch (opt) {
	case CURLSHOPT_SHARE:
	case CURLSHOPT_UNSHARE:
		r = fn.share_setopt(s, opt, va_arg(ap, int));
		break;
	default:   /* lock/unlock callbacks and user data */
		r = fn.share_setopt(s, opt, va_arg(ap, void *));
		break;
	}
	va_end(ap);
	return r;
}
