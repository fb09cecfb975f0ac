# Make fragment: the e2e suites against the REAL KServe controller manager
# (tests/e2e/real), and the real Envoy Gateway beside it. One cluster per
# suite, one after the other: each starts in $(B)/test-cluster-real-NAME with
# its preset and KSTAGE_CONTROLLERS=real (and KSTAGE_EG=real or bundle), runs its
# suite, and stops.
#
#   test-e2e-real              every suite below
#   test-e2e-real-PRESET       KServe alone (PRESET: kserve-v0.15.2, kserve-v0.20.0; Envoy Gateway simulated)
#   test-e2e-real-eg-VERSION   KServe and Envoy Gateway VERSION (v1.3.3: the kserve-v0.15.2 preset;
#                              v1.8.3: the kserve-v0.20.0 preset, first on the Gateway API v1.2.1 CRDs)
#   test-e2e-real-eg-bundle    KServe v0.20.0 and the Envoy Gateway v1.8.3 the shipped bundle installs
#                              (KSTAGE_EG=bundle: the harness installs none, runs the real binary for its pods)

UNIT_LIKE_TESTS += test-e2e-real

REAL_SUITE_kserve-v0.15.2 := test_kserve_real.py
REAL_SUITE_kserve-v0.20.0 := test_kserve_v0200_real.py
REAL_PRESETS := kserve-v0.15.2 kserve-v0.20.0
REAL_EG_PRESET_v1.3.3 := kserve-v0.15.2
REAL_EG_SUITE_v1.3.3 := test_envoy_gateway_real.py
REAL_EG_PRESET_v1.8.3 := kserve-v0.20.0
REAL_EG_SUITE_v1.8.3 := test_envoy_gateway_v183_real.py
REAL_EG_VERSIONS := v1.3.3 v1.8.3

.PHONY: test-e2e-real $(REAL_PRESETS:%=test-e2e-real-%) $(REAL_EG_VERSIONS:%=test-e2e-real-eg-%) test-e2e-real-eg-bundle

test-e2e-real: $(B)/asan/kstage
	@rc=0; for t in $(REAL_PRESETS) $(REAL_EG_VERSIONS:%=eg-%) eg-bundle; do $(MAKE) --no-print-directory test-e2e-real-$$t || rc=1; done; exit $$rc

# $(call real-run,NAME,PRESET,MAKE VARS,PYTEST ENV,SUITE)
define real-run
@$(MAKE) --no-print-directory CLUSTER_DIR=$(abspath $(B))/test-cluster-real-$(1) KSTAGE_PRELOAD=$(2) KSTAGE_CONTROLLERS=real $(3) cluster-up
@KSTAGE_ASAN_BIN=$(abspath $(B)/asan/kstage) KSTAGE_E2E_CLUSTER_DIR=$(abspath $(B))/test-cluster-real-$(1) KSTAGE_E2E_REAL=1 $(4) \
  KSTAGE_E2E_REQUIRE=1 python3 -m pytest -q -p no:cacheprovider tests/e2e/real/$(5); \
rc=$$?; echo "e2e-real $(1): pytest exit $$rc"; \
$(MAKE) --no-print-directory CLUSTER_DIR=$(abspath $(B))/test-cluster-real-$(1) cluster-down; exit $$rc
endef

$(REAL_PRESETS:%=test-e2e-real-%): test-e2e-real-%: $(B)/asan/kstage
	$(call real-run,$*,$*,,,$(REAL_SUITE_$*))

$(REAL_EG_VERSIONS:%=test-e2e-real-eg-%): test-e2e-real-eg-%: $(B)/asan/kstage
	$(call real-run,eg-$*,$(REAL_EG_PRESET_$*),KSTAGE_EG=real,KSTAGE_E2E_EG=real,$(REAL_EG_SUITE_$*))

test-e2e-real-eg-bundle: $(B)/asan/kstage
	$(call real-run,eg-bundle,kserve-v0.20.0,KSTAGE_EG=bundle,KSTAGE_E2E_EG=bundle,test_envoy_gateway_bundle_real.py)
