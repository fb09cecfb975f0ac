# Make fragment for the kstage apply/plan e2e scenarios (tests/e2e, pytest).
# Runs against the running test cluster (CLUSTER_TESTS run between
# cluster-up and cluster-down); uses the ASan build of kstage.
#
#   test-e2e-apply   pytest tests/e2e against build/test-cluster

CLUSTER_TESTS += test-e2e-apply

.PHONY: test-e2e-apply

test-e2e-apply: $(B)/asan/kstage
	@KSTAGE_ASAN_BIN=$(abspath $(B)/asan/kstage) KSTAGE_E2E_CLUSTER_DIR=$(abspath $(B)/test-cluster) \
	  KSTAGE_E2E_REQUIRE=1 python3 -m pytest -q -p no:cacheprovider --ignore=tests/e2e/real tests/e2e; \
	rc=$$?; echo "e2e-apply: pytest exit $$rc"; exit $$rc
