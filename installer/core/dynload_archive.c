/* core/dynload_archive.c - libarchive, loaded on first use (see dynload.h). */
#include "dynload.h"

#include <archive.h>
#include <archive_entry.h>
#include <pthread.h>

#ifndef KSTAGE_LIBARCHIVE_SONAME
#define KSTAGE_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

static struct {
	struct archive *(*read_new)(void);
	int (*support_filter_gzip)(struct archive *);
	int (*support_format_tar)(struct archive *);
	int (*open_memory)(struct archive *, const void *, size_t);
	int (*next_header)(struct archive *, struct archive_entry **);
	la_ssize_t (*read_data)(struct archive *, void *, size_t);
	int (*read_free)(struct archive *);
	const char *(*error_string)(struct archive *);
	const char *(*entry_pathname)(struct archive_entry *);
	__LA_MODE_T (*entry_filetype)(struct archive_entry *);
	la_int64_t (*entry_size)(struct archive_entry *);
	const char *(*version_string)(void);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	static const dynload_sym syms[] = {
		{ "archive_read_new", (void **)&fn.read_new },
		{ "archive_read_support_filter_gzip", (void **)&fn.support_filter_gzip },
		{ "archive_read_support_format_tar", (void **)&fn.support_format_tar },
		{ "archive_read_open_memory", (void **)&fn.open_memory },
		{ "archive_read_next_header", (void **)&fn.next_header },
		{ "archive_read_data", (void **)&fn.read_data },
		{ "archive_read_free", (void **)&fn.read_free },
		{ "archive_error_string", (void **)&fn.error_string },
		{ "archive_entry_pathname", (void **)&fn.entry_pathname },
		{ "archive_entry_filetype", (void **)&fn.entry_filetype },
		{ "archive_entry_size", (void **)&fn.entry_size },
		{ "archive_version_string", (void **)&fn.version_string },
	};
	dynload_open(KSTAGE_LIBARCHIVE_SONAME, syms, sizeof(syms) / sizeof(syms[0]));
}

#define LOAD() pthread_once(&once, load)

struct archive *archive_read_new(void) { LOAD(); return fn.read_new(); }
int archive_read_support_filter_gzip(struct archive *a) { LOAD(); return fn.support_filter_gzip(a); }
int archive_read_support_format_tar(struct archive *a) { LOAD(); return fn.support_format_tar(a); }
int archive_read_open_memory(struct archive *a, const void *p, size_t n) { LOAD(); return fn.open_memory(a, p, n); }
int archive_read_next_header(struct archive *a, struct archive_entry **e) { LOAD(); return fn.next_header(a, e); }
la_ssize_t archive_read_data(struct archive *a, void *p, size_t n) { LOAD(); return fn.read_data(a, p, n); }
int archive_read_free(struct archive *a) { LOAD(); return fn.read_free(a); }
const char *archive_error_string(struct archive *a) { LOAD(); return fn.error_string(a); }
const char *archive_entry_pathname(struct archive_entry *e) { LOAD(); return fn.entry_pathname(e); }
__LA_MODE_T archive_entry_filetype(struct archive_entry *e) { LOAD(); return fn.entry_filetype(e); }
la_int64_t archive_entry_size(struct archive_entry *e) { LOAD(); return fn.entry_size(e); }
const char *archive_version_string(void) { LOAD(); return fn.version_string(); }
