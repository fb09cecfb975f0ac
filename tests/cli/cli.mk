# CLI cases (tests/cli/cases/*.case) against the sanitized binary.
.PHONY: test-cli
test-cli: $(B)/asan/kstage
	@python3 tests/cli/run_cases.py
UNIT_LIKE_TESTS += test-cli

# Hostile API server replies (tests/cli/hostile_api.py: a scripted HTTPS
# server) against plan, apply, status and history, on the sanitized binary.
.PHONY: test-cli-hostile-api
test-cli-hostile-api: $(B)/asan/kstage
	@python3 tests/cli/hostile_api.py
UNIT_LIKE_TESTS += test-cli-hostile-api
