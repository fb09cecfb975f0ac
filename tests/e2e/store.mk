# Make fragment: the test entry point into release records and the Lease
# (tests/e2e/tools/store_tool.c) that tests/e2e/test_store.py runs, built
# with the sanitizers before the e2e suite.

$(B)/asan/store_tool: $(B)/asan/obj/tests/e2e/tools/store_tool.o $(ASAN_LIB)
	$(call SAY,LINK)$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LIBS)

test-e2e-apply: $(B)/asan/store_tool

-include $(B)/asan/obj/tests/e2e/tools/store_tool.d
