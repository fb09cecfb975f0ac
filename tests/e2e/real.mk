# Make fragment: the e2e suites against the REAL KServe controller manager
# (tests/e2e/real). One cluster per KServe version, one after the other: each
# starts in $(B)/test-cluster-real-PRESET with that preset and
# KSTAGE_CONTROLLERS=real, runs its suite, and stops.
#
#   test-e2e-real          every preset below
#   test-e2e-real-PRESET   one of them (PRESET: kserve-v0.15.2, kserve-v0.20.0)

UNIT_LIKE_TESTS += test-e2e-real

REAL_SUITE_kserve-v0.15.2 := test_kserve_real.py
REAL_SUITE_kserve-v0.20.0 := test_kserve_v0200_real.py
REAL_PRESETS := kserve-v0.15.2 kserve-v0.20.0

.PHONY: test-e2e-real $(REAL_PRESETS:%=test-e2e-real-%)

test-e2e-real: $(B)/asan/kstage
	@rc=0; for p in $(REAL_PRESETS); do $(MAKE) --no-print-directory test-e2e-real-$$p || rc=1; done; exit $$rc

$(REAL_PRESETS:%=test-e2e-real-%): test-e2e-real-%: $(B)/asan/kstage
	@$(MAKE) --no-print-directory CLUSTER_DIR=$(abspath $(B))/test-cluster-real-$* KSTAGE_PRELOAD=$* KSTAGE_CONTROLLERS=real cluster-up
	@KSTAGE_ASAN_BIN=$(abspath $(B)/asan/kstage) KSTAGE_E2E_CLUSTER_DIR=$(abspath $(B))/test-cluster-real-$* KSTAGE_E2E_REAL=1 \
	  KSTAGE_E2E_REQUIRE=1 python3 -m pytest -q -p no:cacheprovider tests/e2e/real/$(REAL_SUITE_$*); \
	rc=$$?; echo "e2e-real $*: pytest exit $$rc"; \
	$(MAKE) --no-print-directory CLUSTER_DIR=$(abspath $(B))/test-cluster-real-$* cluster-down; exit $$rc
