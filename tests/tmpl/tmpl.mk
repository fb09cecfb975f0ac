# tests/tmpl: `kstage template` against real `helm template` (helm v4) on the
# corpus charts in tests/tmpl/charts and the KServe charts in
# $(KSTAGE_FIXTURES), compared as parsed documents and kind order.
# Ends with "tmpl-oracle: N passed, M failed".
.PHONY: test-tmpl-oracle
test-tmpl-oracle: oracles $(B)/kstage
	@HELM_BIN=$(abspath build/tools/bin/helm) python3 tests/tmpl/diff_helm.py

UNIT_LIKE_TESTS += test-tmpl-oracle

# The certificates and keys templates make must work in a real TLS
# handshake (Python's ssl module as the independent client and server).
.PHONY: test-tmpl-certs
test-tmpl-certs: $(B)/asan/kstage
	@KSTAGE_BIN=$(abspath $(B)/asan/kstage) python3 tests/tmpl/check_certs.py

UNIT_LIKE_TESTS += test-tmpl-certs
