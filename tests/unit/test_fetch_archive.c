/* Unit tests for core/archive.c and fetch/archive.c: hostile archives built by
 * tests/tools/hostile_archives.py are each refused, by extraction (and
 * nothing is left in the target or written outside it) and, where the
 * entry alone is bad, by the in-memory walk that rendering uses; a good
 * archive extracts with its directory, symlink and hard link. */
#include "unit.h"
#include "fetch/fetch.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *file;
	const char *want;      /* in the error */
	int code;
	bool walk_too;         /* the entry alone is bad: the walk refuses it as well */
} hostile[] = {
	{ "01-traversal.tar", "entry \"../outside/evil.yaml\" climbs out with \"..\"", KE_INPUT, true },
	{ "02-traversal-nested.tgz", "climbs out with \"..\"", KE_INPUT, true },
	{ "03-absolute.tar", "has an absolute path", KE_INPUT, true },
	{ "04-symlink-escape.tar", "symlink \"link\" -> \"../outside\" leaves the archive", KE_INPUT, true },
	{ "05-symlink-absolute.tar", "leaves the archive", KE_INPUT, true },
	{ "06-hardlink-escape.tar", "hard link \"h.yaml\": ", KE_INPUT, true },
	{ "07-hardlink-absolute.tar", "has an absolute path", KE_INPUT, true },
	{ "08-char-device.tar", "entry \"null\" is a character device", KE_INPUT, true },
	{ "09-fifo.tar", "entry \"pipe\" is a FIFO", KE_INPUT, true },
	{ "10-gzip-bomb.tgz", "refused as a decompression bomb", KE_LIMIT, true },
	{ "11-deep-nesting.tar", "is nested deeper than 32 directories", KE_LIMIT, true },
	{ "12-many-entries.tgz", "more than 10000 entries", KE_LIMIT, true },
	{ "13-not-an-archive.tgz", "not a tar or tar.gz archive", KE_INPUT, true },
	{ "14-symlink-chain.tar", "symlink \"l\" resolves outside the archive", KE_INPUT, false },
	{ "15-write-through-symlink.tar", "goes through \"s\", which is not a directory", KE_INPUT, false },
	{ "16-zip-traversal.zip", "entry \"a/../../outside/evil.yaml\" climbs out with \"..\"", KE_INPUT, true },
	{ "17-zip-absolute.zip", "has an absolute path", KE_INPUT, true },
	{ "18-zip-symlink-escape.zip", "symlink \"link\" -> \"../outside\" leaves the archive", KE_INPUT, true },
	{ "19-zip-bomb.zip", "refused as a decompression bomb", KE_LIMIT, true },
	{ "20-zip-many-entries.zip", "more than 10000 entries", KE_LIMIT, true },
	{ "21-zip-encrypted.zip", "entry \"secret.yaml\" is encrypted", KE_INPUT, true },
	{ "22-zip-deep-nesting.zip", "is nested deeper than 32 directories", KE_LIMIT, true },
	{ "23-zip-truncated.zip", "23-zip-truncated.zip: not a zip archive", KE_INPUT, true },
};

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	if (d)
		closedir(d);
	return n;
}

TEST(fetch_archive_hostile_refused_nothing_written)
{
	char dir[] = "/tmp/kstage-archive-XXXXXX";
	kbuf cmd = KBUF_INIT, p = KBUF_INIT, t = KBUF_INIT, data = KBUF_INIT, m = KBUF_INIT;
	size_t i, before;
	CHECK(mkdtemp(dir) != NULL);
	kbuf_printf(&cmd, "python3 tests/tools/hostile_archives.py %s", dir);
	CHECK_INT_EQ(system(cmd.ptr), 0);
	before = count_entries(dir);
	CHECK_INT_EQ(before, sizeof(hostile) / sizeof(hostile[0]) + 3);   /* + good.tgz, good.zip, outside/ */
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		kerr e = KERR_INIT;
		struct stat st;
		kbuf_reset(&p);
		kbuf_printf(&p, "%s/%s", dir, hostile[i].file);
		kbuf_reset(&t);
		kbuf_printf(&t, "%s/target", dir);
		kbuf_reset(&data);
		CHECK_INT_EQ(kbuf_read_file(&data, p.ptr, 4 << 20), 0);
		CHECK_MSG(fetch_archive_extract(data.ptr, data.len, hostile[i].file, t.ptr, NULL, &e) == hostile[i].code,
			  "%s: code %d", hostile[i].file, e.code);
		kbuf_reset(&m);
		kerr_format(&e, &m);
		CHECK_MSG(strstr(m.ptr, hostile[i].want) != NULL, "%s: %s", hostile[i].file, m.ptr);
		CHECK_MSG(lstat(t.ptr, &st) != 0, "%s: the target was left behind", hostile[i].file);
		kbuf_reset(&t);
		kbuf_printf(&t, "%s/outside", dir);
		CHECK_MSG(count_entries(t.ptr) == 0, "%s: wrote outside the target", hostile[i].file);
		CHECK_MSG(count_entries(dir) == before, "%s: wrote beside the target", hostile[i].file);
		kerr_clear(&e);
		CHECK_INT_EQ(karchive_walk(data.ptr, data.len, hostile[i].file, NULL, NULL, NULL, &e) != 0,
			     hostile[i].walk_too);
		kerr_clear(&e);
	}
	{
		/* the good one: files, a directory, an inside symlink, a hard link */
		kerr e = KERR_INIT;
		struct stat st;
		kbuf_reset(&p);
		kbuf_printf(&p, "%s/good.tgz", dir);
		kbuf_reset(&t);
		kbuf_printf(&t, "%s/target", dir);
		kbuf_reset(&data);
		CHECK_INT_EQ(kbuf_read_file(&data, p.ptr, 1 << 20), 0);
		CHECK_INT_EQ(fetch_archive_extract(data.ptr, data.len, "good.tgz", t.ptr, NULL, &e), 0);
		kbuf_reset(&p);
		kbuf_printf(&p, "%s/a/link.yaml", t.ptr);
		CHECK_INT_EQ(kbuf_read_file(&m, p.ptr, 4096), 0);
		CHECK_CONTAINS(m.ptr, "kind: ConfigMap");
		kbuf_reset(&p);
		kbuf_printf(&p, "%s/b.yaml", t.ptr);
		CHECK_INT_EQ(stat(p.ptr, &st), 0);
		CHECK_INT_EQ(st.st_nlink, 2);
		CHECK_INT_EQ(st.st_mode & 07777, 0644);
		/* the target must not exist yet */
		CHECK_INT_EQ(fetch_archive_extract(data.ptr, data.len, "good.tgz", t.ptr, NULL, &e), KE_IO);
		kerr_clear(&e);
	}
	{
		/* a good zip: a directory, a file, an inside symlink */
		kerr e = KERR_INIT;
		struct stat st;
		kbuf_reset(&p);
		kbuf_printf(&p, "%s/good.zip", dir);
		kbuf_reset(&t);
		kbuf_printf(&t, "%s/target-zip", dir);
		kbuf_reset(&data);
		CHECK_INT_EQ(kbuf_read_file(&data, p.ptr, 1 << 20), 0);
		CHECK_INT_EQ(fetch_archive_extract(data.ptr, data.len, "good.zip", t.ptr, NULL, &e), 0);
		kbuf_reset(&p);
		kbuf_printf(&p, "%s/a/link.yaml", t.ptr);
		CHECK_INT_EQ(lstat(p.ptr, &st), 0);
		CHECK(S_ISLNK(st.st_mode));
		kbuf_reset(&m);
		CHECK_INT_EQ(kbuf_read_file(&m, p.ptr, 4096), 0);
		CHECK_CONTAINS(m.ptr, "kind: ConfigMap");
		kbuf_reset(&p);
		kbuf_printf(&p, "%s/a/cm.yaml", t.ptr);
		CHECK_INT_EQ(stat(p.ptr, &st), 0);
		CHECK_INT_EQ(st.st_mode & 07777, 0644);
	}
	kbuf_reset(&cmd);
	kbuf_printf(&cmd, "rm -rf %s", dir);
	CHECK_INT_EQ(system(cmd.ptr), 0);
	kbuf_release(&cmd);
	kbuf_release(&p);
	kbuf_release(&t);
	kbuf_release(&data);
	kbuf_release(&m);
}
