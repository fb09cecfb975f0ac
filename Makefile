# kstage - build, test, demo.  `make` builds build/kstage; `make test` runs
# everything under ASan/UBSan; `make demo` runs the migration on a local cluster.
.DEFAULT_GOAL := all
.SUFFIXES:
# keep object files that pattern rules chain through (fuzz objects)
.SECONDARY:

CC      ?= gcc
CLANG   ?= clang
PREFIX  ?= /usr/local
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
# All build output goes under $(B); work trees building in parallel use B=build-NAME.
B       ?= build
PKGS    := yaml-0.1 libcurl libarchive libgit2 libcrypto jansson libpcre2-8 zlib hogweed gmp nettle libxcrypt

# libcurl, libgit2 and libcrypto are loaded on first use (core/dynload.h):
# compiled against, not linked, so their ~50 dependencies cost nothing at
# start-up. Their SONAMEs are read from the development libraries here.
# The small libraries every run needs are linked statically (STATIC_DEPS=1,
# the default): mapping and binding five shared objects costs ~0.3 ms a
# run, a sixth of `kstage template` on an ordinary chart. libarchive is
# always static: kstage reads only tar, gzip and zip, and the static
# library brings just those readers (on zlib; zip's compression methods on
# libbz2, liblzma and libzstd, its decryption on nettle), where the shared
# one drags libxml2, ICU and libstdc++ in (~3 ms per .tgz chart). STATIC_DEPS=0 links the
# small ones as shared libraries (for distributions).
STATIC_DEPS ?= 1
LINKED_PKGS := yaml-0.1 jansson libpcre2-8 hogweed gmp nettle zlib libxcrypt
ARCHIVE_LIBS := -larchive -lbz2 -llzma -lzstd
ifeq ($(STATIC_DEPS),1)
STATIC_LIBS := -Wl,-Bstatic $(ARCHIVE_LIBS) $(shell pkg-config --libs-only-l $(LINKED_PKGS) 2>/dev/null) -Wl,-Bdynamic
DYN_PKGS    :=
else
STATIC_LIBS := -Wl,-Bstatic $(ARCHIVE_LIBS) -Wl,-Bdynamic
DYN_PKGS    := $(LINKED_PKGS)
endif
soname = $(shell readelf -d $$($(CC) -print-file-name=$(1)) 2>/dev/null | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
SONAMES := -DKSTAGE_LIBCURL_SONAME='"$(call soname,libcurl.so)"' \
           -DKSTAGE_LIBGIT2_SONAME='"$(call soname,libgit2.so)"' \
           -DKSTAGE_LIBCRYPTO_SONAME='"$(call soname,libcrypto.so)"'
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(if $(DYN_PKGS),$(shell pkg-config --libs $(DYN_PKGS) 2>/dev/null)) -ldl
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 -Wvla
DEFS    := -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DKSTAGE_VERSION='"$(VERSION)"' $(SONAMES)
BASE_CFLAGS := -std=c11 $(WARN) $(DEFS) -Iinstaller $(PKG_CFLAGS)
LIBS    := $(STATIC_LIBS) $(PKG_LIBS) -lm -lpthread

REL_CFLAGS  := $(BASE_CFLAGS) -O2 -g -MMD -MP
SAN         := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 -g $(SAN) -MMD -MP
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all -DKSTAGE_FUZZ -MMD -MP

SRC      := $(sort $(wildcard installer/*/*.c))
MAIN_SRC := installer/cli/main.c
LIB_SRC  := $(filter-out $(MAIN_SRC),$(SRC))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS  := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))

REL_OBJ  := $(patsubst %.c,$(B)/obj/%.o,$(SRC))
ASAN_OBJ := $(patsubst %.c,$(B)/asan/obj/%.o,$(SRC))
ASAN_LIB := $(patsubst %.c,$(B)/asan/obj/%.o,$(LIB_SRC))
UNIT_OBJ := $(patsubst %.c,$(B)/asan/obj/%.o,$(UNIT_SRC))
FUZZ_LIB := $(patsubst %.c,$(B)/fuzz/obj/%.o,$(LIB_SRC))

export ASAN_OPTIONS  ?= detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
export KSTAGE_FIXTURES ?= $(abspath ../shared/fixtures)
FUZZ_SECONDS ?= 15
export KSTAGE_BIN ?= $(abspath $(B)/kstage)
export KSTAGE_ASAN_BIN ?= $(abspath $(B)/asan/kstage)

# Test suites add themselves to these lists from tests/*/*.mk:
#   UNIT_LIKE_TESTS  run after unit and fuzz tests, no cluster needed
#   CLUSTER_TESTS    run between cluster-up and cluster-down
UNIT_LIKE_TESTS :=
CLUSTER_TESTS   :=

.PHONY: all test test-all deps install clean lint unit fuzz fuzz-build demo \
        test-unit test-fuzz test-cluster-suites bench oracles asan

all: $(B)/kstage

$(B)/kstage: $(REL_OBJ)
	$(call SAY,LINK)$(CC) $(REL_CFLAGS) -o $@ $^ $(LIBS)

$(B)/asan/kstage: $(ASAN_OBJ)
	$(call SAY,LINK)$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS)

asan: $(B)/asan/kstage

V ?= 0
ifeq ($(V),0)
Q = @
SAY = @echo "  $(1)	$@";
endif

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call SAY,CC)$(CC) $(REL_CFLAGS) -c -o $@ $<

$(B)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call SAY,CC-SAN)$(CC) $(ASAN_CFLAGS) -Itests/unit -c -o $@ $<

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call SAY,CC-FUZZ)$(CLANG) $(FUZZ_CFLAGS) -c -o $@ $<

$(B)/asan/unit: $(UNIT_OBJ) $(ASAN_LIB)
	$(call SAY,LINK)$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS)

$(B)/fuzz/fuzz_%: $(B)/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	$(call SAY,LINK)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

fuzz-build: $(FUZZERS)

deps:
	@bash tools/deps.sh

oracles:
	@bash tests/tools/oracles.sh >/dev/null

lint:
	@bash tools/lint.sh

test-unit: $(B)/asan/unit
	./$(B)/asan/unit

# Each fuzzer replays its committed seeds, then fuzzes briefly.
test-fuzz: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do \
	  n=$${f##*/fuzz_}; dir=tests/fuzz/corpus/$$n; mkdir -p $(B)/fuzz/corpus/$$n; \
	  echo "fuzz $$n: seeds from $$dir, $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=262144 \
	      -print_final_stats=0 -close_fd_mask=3 $(B)/fuzz/corpus/$$n $$dir >$(B)/fuzz/$$n.log 2>&1 \
	    || { tail -n 60 $(B)/fuzz/$$n.log; exit 1; }; \
	  grep -E '^(#[0-9]+.*DONE|Done)' $(B)/fuzz/$$n.log | tail -n 1; \
	done

-include $(sort $(wildcard tests/*/*.mk))

test-cluster-suites:
	@if [ -n "$(strip $(CLUSTER_TESTS))" ]; then \
	  $(MAKE) --no-print-directory cluster-up || exit 1; \
	  rc=0; for t in $(CLUSTER_TESTS); do \
	    $(MAKE) --no-print-directory $$t || rc=1; done; \
	  $(MAKE) --no-print-directory cluster-down; exit $$rc; \
	fi

# The README's test command. deps first, then a fresh make so pkg-config sees
# what deps installed.
test: deps
	@$(MAKE) --no-print-directory test-all

test-all: lint $(B)/kstage $(B)/asan/kstage
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-fuzz
	@for t in $(UNIT_LIKE_TESTS); do $(MAKE) --no-print-directory $$t || exit 1; done
	@$(MAKE) --no-print-directory test-cluster-suites
	@echo "make test: all suites passed"

demo:
	@bash tools/deps.sh demo
	@$(MAKE) --no-print-directory -j$$(nproc) $(B)/kstage
	@bash tools/demo.sh

bench: deps $(B)/kstage oracles
	@bash bench/run.sh

install: $(B)/kstage
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/kstage $(DESTDIR)$(PREFIX)/bin/kstage

clean:
	rm -rf $(B)/obj $(B)/asan $(B)/fuzz $(B)/kstage

-include $(REL_OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(FUZZ_LIB:.o=.d) \
         $(patsubst %.c,$(B)/fuzz/obj/%.d,$(FUZZ_SRC))
