# tests/tools: the differential test of the template functions' regular
# expressions (installer/tmpl/re_*.c) against Go's regexp: generated
# patterns, inputs and replacements through both, 0 differences.
# Ends with "regex-oracle: N passed, M failed". Go standard library only,
# so it builds offline. First checks that the committed Unicode tables are
# what tests/tools/regextables generates from this Go.
$(B)/asan/regexdriver: $(B)/asan/obj/tests/tools/regexdriver/driver.o $(ASAN_LIB)
	$(call SAY,LINK)$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS)

.PHONY: test-regex-oracle
test-regex-oracle: $(B)/asan/regexdriver
	@cd tests && GOPROXY=off go run ./tools/regextables | cmp -s - ../installer/tmpl/re_tables.c || \
	  { echo "installer/tmpl/re_tables.c is not what tests/tools/regextables writes (Go's Unicode tables changed?)"; exit 1; }
	@cd tests && GOPROXY=off go run ./tools/regexoracle -driver $(abspath $(B)/asan/regexdriver)

UNIT_LIKE_TESTS += test-regex-oracle
