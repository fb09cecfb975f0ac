/*
 * fetch/tar.c - writing archives: ustar (POSIX.1-1988) entries with owner 0
 * and time 0, so the same files always give the same bytes, and gzip
 * through zlib. (libarchive's writer, linked statically, would bring every
 * format and filter it knows.)
 */
#include "fetch.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

int fetch_tar_add(kbuf *tar, const char *path, fetch_tar_type type, unsigned mode, const void *data, size_t len,
		  const char *link)
{
	static const char zero[512];
	unsigned char h[512];
	size_t n = strlen(path), split = 0, i;
	unsigned sum = 0;
	memset(h, 0, sizeof(h));
	if (n > 100) {
		for (i = n - 1; i > 0 && !split; i--)
			if (path[i] == '/' && n - i - 1 <= 100 && i <= 155)
				split = i;
		if (!split)
			return -1;
		memcpy(h + 345, path, split);
		memcpy(h, path + split + 1, n - split - 1);
	} else {
		memcpy(h, path, n);
	}
	if (link && strlen(link) > 100)
		return -1;
	if (type != FETCH_TAR_FILE)
		len = 0;
	snprintf((char *)h + 100, 8, "%07o", mode & 07777);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)len);
	snprintf((char *)h + 136, 12, "%011o", 0);
	memset(h + 148, ' ', 8);
	h[156] = type == FETCH_TAR_SYMLINK ? '2' : type == FETCH_TAR_DIR ? '5' : '0';
	if (link)
		memcpy(h + 157, link, strlen(link));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	for (i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	if (kbuf_put(tar, h, sizeof(h)) < 0 || (len && kbuf_put(tar, data, len) < 0))
		return -1;
	return len % 512 ? kbuf_put(tar, zero, 512 - len % 512) : 0;
}

int fetch_tar_end(kbuf *tar)
{
	static const char end[1024];
	return kbuf_put(tar, end, sizeof(end));
}

int fetch_gzip(kbuf *out, const void *data, size_t len, kerr *err)
{
	z_stream z;
	unsigned char buf[1 << 16];
	int zr;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return kerr_set(err, KE_INTERNAL, "gzip: cannot start");
	z.next_in = (unsigned char *)(uintptr_t)data;
	do {
		size_t step = len > (1u << 30) ? (1u << 30) : len;
		z.avail_in = (uInt)step;
		len -= step;
		do {
			z.next_out = buf;
			z.avail_out = sizeof(buf);
			zr = deflate(&z, len ? Z_NO_FLUSH : Z_FINISH);
			if (zr == Z_STREAM_ERROR || kbuf_put(out, buf, sizeof(buf) - z.avail_out) < 0) {
				deflateEnd(&z);
				return kerr_set(err, KE_LIMIT, "gzip: out of room");
			}
		} while (z.avail_out == 0);
	} while (len);
	deflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : kerr_set(err, KE_INTERNAL, "gzip: did not finish");
}
