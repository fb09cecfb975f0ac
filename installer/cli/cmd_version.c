#include "cli.h"
#include "cmds.h"
#include "core/buf.h"
#include "doc/doc.h"

#include <archive.h>
#include <curl/curl.h>
#include <git2.h>
#include <jansson.h>
#include <nettle/version.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>
#include <zlib.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

static const cli_flag flags[] = {
	{ "short", 0, FLAG_BOOL, NULL, "print only kstage's version" },
	{ NULL, 0, 0, NULL, NULL },
};

static int run(cli_ctx *ctx, cli_args *args)
{
	const curl_version_info_data *cv;
	int gmaj = 0, gmin = 0, grev = 0;
	char pcre[64] = "";
	const char *names[] = { "kstage", "libyaml", "libcurl", "libarchive", "libgit2", "openssl",
				"jansson", "pcre2", "zlib", "nettle" };
	const char *vals[10];
	char gitv[32], nettlev[32];
	const char *arch;
	size_t i;

	if (cli_flag_bool(args, "short")) {
		printf("%s\n", KSTAGE_VERSION);
		return EXIT_OK;
	}
	/* asking a library its version loads it (core/dynload.h) */
	cv = curl_version_info(CURLVERSION_NOW);
	arch = archive_version_string();
	git_libgit2_version(&gmaj, &gmin, &grev);
	snprintf(gitv, sizeof(gitv), "%d.%d.%d", gmaj, gmin, grev);
	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	if (!strncmp(arch, "libarchive ", 11))
		arch += 11;
	vals[0] = KSTAGE_VERSION;
	vals[1] = yaml_get_version_string();
	vals[2] = cv->version;
	vals[3] = arch;
	vals[4] = gitv;
	vals[5] = OpenSSL_version(OPENSSL_VERSION);
	vals[6] = jansson_version_str();
	vals[7] = pcre;
	vals[8] = zlibVersion();
	snprintf(nettlev, sizeof(nettlev), "%d.%d", nettle_version_major(), nettle_version_minor());
	vals[9] = nettlev;
	if (ctx->json) {
		kbuf b = KBUF_INIT;
		kbuf_putc(&b, '{');
		for (i = 0; i < 10; i++) {
			if (i)
				kbuf_putc(&b, ',');
			doc_json_quote(&b, names[i], strlen(names[i]), 0);
			kbuf_putc(&b, ':');
			doc_json_quote(&b, vals[i], strlen(vals[i]), 0);
		}
		kbuf_puts(&b, "}\n");
		fputs(b.ptr, stdout);
		kbuf_release(&b);
		return EXIT_OK;
	}
	printf("kstage %s\n", vals[0]);
	for (i = 1; i < 10; i++)
		printf("  %-11s %s\n", names[i], vals[i]);
	return EXIT_OK;
}

const cli_cmd cli_cmd_version = {
	"version", run, "print the versions of kstage and its libraries", "[--short]", flags, NULL,
};
