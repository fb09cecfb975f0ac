# tests/values: `kstage values` against real helm (differential), exit codes
# and carets for bad --set input. Needs the helm oracle (make oracles).
.PHONY: test-values-oracle
test-values-oracle: oracles $(B)/kstage
	@HELM=$(abspath build/tools/bin/helm) python3 tests/values/diff_helm.py

UNIT_LIKE_TESTS += test-values-oracle
