# tests/tmpl: `kstage template` against real `helm template` (helm v4) on the
# corpus charts in tests/tmpl/charts and the KServe charts in
# $(KSTAGE_FIXTURES), compared as parsed documents and kind order.
# Ends with "tmpl-oracle: N passed, M failed".
.PHONY: test-tmpl-oracle
test-tmpl-oracle: oracles $(B)/kstage
	@HELM_BIN=$(abspath build/tools/bin/helm) python3 tests/tmpl/diff_helm.py

UNIT_LIKE_TESTS += test-tmpl-oracle
