/*
 * core/archive.h - archives read from memory (tar, tar.gz, zip), every
 * entry checked before the caller sees it. The one libarchive wrapper:
 * sources and bundle imports (fetch/archive.c writes them to disk) and
 * chart .tgz files (tmpl/chart.c) all go through karchive_walk, so every
 * archive kstage reads meets the same checks and limits.
 *
 * Refused (KE_INPUT): an absolute path, a ".." step, a device, FIFO or
 * socket, a symlink whose target is absolute or climbs above the root, a
 * hard link to such a path, an encrypted zip entry, data that is no tar,
 * tar.gz or zip (a zip is known by its first bytes), or not of the formats
 * the caller takes. Past a limit
 * (KE_LIMIT): entry count, path depth, one entry's size (from its header,
 * before any byte is inflated, and as bytes come out), the total unpacked
 * size and the expansion ratio (judged past 1 MiB of output, so a bomb
 * stops at the limit).
 */
#ifndef KSTAGE_CORE_ARCHIVE_H
#define KSTAGE_CORE_ARCHIVE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define KARCHIVE_MAX_BYTES ((size_t)256 << 20)

typedef struct karchive_limits {
	size_t max_entries;      /* 0: 10000 */
	size_t max_bytes;        /* unpacked, all entries; 0: KARCHIVE_MAX_BYTES */
	size_t max_ratio;        /* unpacked / packed, judged past 1 MiB; 0: 100 */
	size_t max_depth;        /* directories in a path; 0: 32 */
	size_t max_entry_bytes;  /* one entry; 0: max_bytes */
	unsigned formats;        /* KARCHIVE_TAR | KARCHIVE_ZIP; 0: both */
} karchive_limits;

enum { KARCHIVE_TAR = 1u << 0, KARCHIVE_ZIP = 1u << 1 };   /* tar covers tar.gz */

typedef enum karchive_type { KARCHIVE_FILE, KARCHIVE_DIR, KARCHIVE_SYMLINK, KARCHIVE_HARDLINK } karchive_type;

typedef struct karchive_entry {
	karchive_type type;
	const char *path;        /* relative, without "." or empty steps */
	const char *link;        /* symlink target as written; hard link target path (clean) */
	const char *data;        /* FILE: the bytes (valid during the call) */
	size_t len;
} karchive_entry;

typedef int (*karchive_fn)(void *ctx, const karchive_entry *e, kerr *err);

/* Read an archive in memory (name is for messages), calling fn (may be
 * NULL) for each entry in order after checking it as above. fn's error
 * stops the walk and is returned. */
int karchive_walk(const void *data, size_t len, const char *name, const karchive_limits *lim, karchive_fn fn,
		  void *ctx, kerr *err);
/* As karchive_walk, but a file whose header gives its size n is inflated
 * straight into alloc(ctx, n + 1) (memory the caller owns, NUL-terminated
 * after the bytes; e->data is it), not copied through a buffer of the
 * walk's: one copy of a big chart in memory, not two. (Every file's data
 * is alloc's memory: one without a size is copied there once read.) An entry with more
 * bytes than its header says is refused. */
typedef void *(*karchive_alloc_fn)(void *ctx, size_t n);
int karchive_walk_into(const void *data, size_t len, const char *name, const karchive_limits *lim,
		       karchive_alloc_fn alloc, karchive_fn fn, void *ctx, kerr *err);

#endif
