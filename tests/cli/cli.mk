# CLI cases (tests/cli/cases/*.case) against the sanitized binary.
.PHONY: test-cli
test-cli: $(B)/asan/kstage
	@python3 tests/cli/run_cases.py
UNIT_LIKE_TESTS += test-cli
