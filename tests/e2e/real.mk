# Make fragment: the e2e suite against the REAL KServe controller manager
# (tests/e2e/real). It starts its own cluster in $(B)/test-cluster-real with the
# KServe v0.15.2 preset and KSTAGE_CONTROLLERS=real, runs, and stops it.
#
#   test-e2e-real   pytest tests/e2e/real against that cluster

UNIT_LIKE_TESTS += test-e2e-real

.PHONY: test-e2e-real

REAL_CLUSTER_DIR = $(abspath $(B))/test-cluster-real

test-e2e-real: $(B)/asan/kstage
	@$(MAKE) --no-print-directory CLUSTER_DIR=$(REAL_CLUSTER_DIR) KSTAGE_PRELOAD=kserve-v0.15.2 KSTAGE_CONTROLLERS=real cluster-up
	@KSTAGE_ASAN_BIN=$(abspath $(B)/asan/kstage) KSTAGE_E2E_CLUSTER_DIR=$(REAL_CLUSTER_DIR) KSTAGE_E2E_REAL=1 \
	  KSTAGE_E2E_REQUIRE=1 python3 -m pytest -q -p no:cacheprovider tests/e2e/real; \
	rc=$$?; echo "e2e-real: pytest exit $$rc"; \
	$(MAKE) --no-print-directory CLUSTER_DIR=$(REAL_CLUSTER_DIR) cluster-down; exit $$rc
