# tests/tools: the differential test of the template engine's date
# functions (installer/tmpl/funcs_dates.c, gotime.c) against Go's time
# package with Sprig's definitions: generated templates under several $TZ
# values through both, 0 differences. Go standard library only, so it
# builds offline; zones come from the system's tzdata.
$(B)/asan/datedriver: $(B)/asan/obj/tests/tools/datedriver/driver.o $(ASAN_LIB)
	$(call SAY,LINK)$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS)

.PHONY: test-date-oracle
test-date-oracle: $(B)/asan/datedriver
	@cd tests && GOPROXY=off go run ./tools/dateoracle -driver $(abspath $(B)/asan/datedriver)

UNIT_LIKE_TESTS += test-date-oracle
