# Make fragment for the Go test cluster (tests/cluster). Included by the
# top-level Makefile; usable alone: make -f tests/cluster/cluster.mk cluster-up
#
#   cluster-build         go build build/test-cluster/bin/kstage-testcluster (cached; warm rebuild is a relink at most)
#   controllers-build     go build the real KServe controller managers and Envoy Gateways into $(B)/controllers (cached)
#   cluster-up            start everything detached; returns when ready (KSTAGE_PRELOAD=kserve-v0.15.2 to preload;
#                         KSTAGE_CONTROLLERS=sim for the KServe stand-in instead of the real controller)
#   cluster-down          stop what cluster-up started, by PID
#   test-cluster-harness  go tests of the harness (each starts its own cluster; no running cluster needed)
#   test-cluster-smoke    tests/cluster/smoke.sh against the running cluster
#   gwapi-assets          rebuild the Gateway API release assets the fixtures lack into $(B)/gateway-api-assets (cached)

# $(B) is the top-level Makefile's build directory (default build), so work trees
# building in parallel (B=build-NAME) each get their own cluster.
CLUSTER_DIR   ?= $(CURDIR)/$(if $(B),$(B),build)/test-cluster
CLUSTER_BIN   := $(CLUSTER_DIR)/bin/kstage-testcluster
CLUSTER_TOOLS := $(CURDIR)/build/tools/bin
CLUSTER_GO    ?= go
KSTAGE_PRELOAD ?=
# The KServe controller manager of the controller pods' image version runs for
# real (each version built from its own Go module under tests/controllers/, once
# per build dir: every cluster of $(B) shares them). KSTAGE_CONTROLLERS=sim runs the
# KServe stand-in (tests/cluster/sim/kserve.go) instead, for fast unit-like runs.
KSTAGE_CONTROLLERS ?= real
ifeq ($(filter real sim,$(KSTAGE_CONTROLLERS)),)
$(error KSTAGE_CONTROLLERS must be real or sim, not "$(KSTAGE_CONTROLLERS)")
endif
CONTROLLERS_DIR := $(CURDIR)/$(if $(B),$(B),build)/controllers
KSERVE_VERSIONS := v0.15.2 v0.20.0
KSERVE_BINS     := $(KSERVE_VERSIONS:%=$(CONTROLLERS_DIR)/kserve-%/manager)
# A cluster preloaded with a KServe preset needs that version's manager only
# (make demo builds one controller, not every version).
KSERVE_PRESET   := $(patsubst kserve-%,%,$(filter kserve-%,$(KSTAGE_PRELOAD)))
REAL_KSERVE     := $(if $(filter real,$(KSTAGE_CONTROLLERS)),$(if $(KSERVE_PRESET),$(CONTROLLERS_DIR)/kserve-$(KSERVE_PRESET)/manager,$(KSERVE_BINS)))
# Envoy Gateway: KSTAGE_EG=sim (the default) simulates it; KSTAGE_EG=real
# installs the preset's line after the preset, as its Helm chart does, over the
# Gateway API v1.2.1 CRDs (its own CRDs from its chart: v1.3.3's in the Go module
# cache, v1.8.3's in the chart fixture); KSTAGE_EG=bundle installs none (the
# bundle under test does). With real and bundle, the real Envoy Gateway of each
# pod's image tag runs (built from tests/controllers/envoy-gateway-VERSION).
KSTAGE_EG ?= sim
ifeq ($(filter real sim bundle,$(KSTAGE_EG)),)
$(error KSTAGE_EG must be sim, real or bundle, not "$(KSTAGE_EG)")
endif
EG_VERSIONS := v1.3.3 v1.8.3
EG_VERSION_kserve-v0.15.2 := v1.3.3
EG_VERSION_kserve-v0.20.0 := v1.8.3
EG_VERSION := $(EG_VERSION_$(KSTAGE_PRELOAD))
REAL_EG := $(if $(and $(filter real bundle,$(KSTAGE_EG)),$(EG_VERSION)),$(CONTROLLERS_DIR)/envoy-gateway-$(EG_VERSION)/envoy-gateway)
EG_CHART_v1.3.3 = $$(cd $(CURDIR)/tests/controllers/envoy-gateway-v1.3.3 && $(CLUSTER_GO) list -m -f '{{.Dir}}' github.com/envoyproxy/gateway)/charts/gateway-helm
EG_CHART_v1.8.3 = $(KSTAGE_FIXTURES)/envoy-gateway/v1.8.3/gateway-helm-v1.8.3.tgz
EG_FLAGS = $(if $(REAL_EG),--envoy-gateway-bin-dir $(CONTROLLERS_DIR)) \
  $(if $(and $(filter real,$(KSTAGE_EG)),$(EG_VERSION)),--envoy-gateway $(EG_VERSION) --envoy-gateway-chart $(EG_CHART_$(EG_VERSION)))
# The Gateway API release assets the fixtures lack (v1.5.1's experimental-install.yaml),
# rebuilt from the Go module with the project's release script by
# tests/tools/gwapi_install_yaml.py, which first proves the method on the standard
# assets (byte for byte the fixtures and kstage.lock's pins); cached in $(B).
GWAPI_VERSIONS := v1.2.1 v1.5.1
GWAPI_ASSETS   := $(CURDIR)/$(if $(B),$(B),build)/gateway-api-assets

UNIT_LIKE_TESTS += test-cluster-harness
CLUSTER_TESTS += test-cluster-smoke

.PHONY: controllers-build gwapi-assets cluster-build cluster-up cluster-down test-cluster-harness test-cluster-smoke

# The Kubernetes version is stamped in like the release build does (else /version says v0.0.0-master).
cluster-build:
	@mkdir -p $(CLUSTER_DIR)/bin
	cd $(CURDIR)/tests && v=$$($(CLUSTER_GO) list -m -f '{{.Version}}' k8s.io/kubernetes) && \
	mm=$${v#v} && major=$${mm%%.*} && rest=$${mm#*.} && minor=$${rest%%.*} && \
	ld="" && for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do \
	  ld="$$ld -X $$p.gitVersion=$$v -X $$p.gitMajor=$$major -X $$p.gitMinor=$$minor -X $$p.gitTreeState=clean"; done && \
	$(CLUSTER_GO) build -ldflags "$$ld" -o $(CLUSTER_BIN) ./cluster/cmd/kstage-testcluster

$(CLUSTER_TOOLS)/kubectl:
	bash $(CURDIR)/tests/tools/oracles.sh

# Each controller is its own module (its Kubernetes libraries differ from the API server's);
# `tool` in its go.mod names the main package. Cached by the Go build cache.
# The binary is named `manager` as in KServe's image: it is the field manager name its writes carry.
$(CONTROLLERS_DIR)/kserve-%/manager: $(CURDIR)/tests/controllers/kserve-%/go.mod $(CURDIR)/tests/controllers/kserve-%/go.sum
	@mkdir -p $(@D)
	cd $(CURDIR)/tests/controllers/kserve-$* && $(CLUSTER_GO) build -o $@ github.com/kserve/kserve/cmd/manager

# Envoy Gateway's binary keeps its image's name: the field manager of its writes.
$(CONTROLLERS_DIR)/envoy-gateway-%/envoy-gateway: $(CURDIR)/tests/controllers/envoy-gateway-%/go.mod $(CURDIR)/tests/controllers/envoy-gateway-%/go.sum
	@mkdir -p $(@D)
	cd $(CURDIR)/tests/controllers/envoy-gateway-$* && $(CLUSTER_GO) build -o $@ github.com/envoyproxy/gateway/cmd/envoy-gateway

controllers-build: $(KSERVE_BINS) $(EG_VERSIONS:%=$(CONTROLLERS_DIR)/envoy-gateway-%/envoy-gateway)

$(GWAPI_ASSETS)/stamp: $(CURDIR)/tests/tools/gwapi_install_yaml.py $(CURDIR)/kstage.lock
	python3 $(CURDIR)/tests/tools/gwapi_install_yaml.py --go $(CLUSTER_GO) --fixtures $(KSTAGE_FIXTURES) \
	  --lock $(CURDIR)/kstage.lock --out $(GWAPI_ASSETS) $(GWAPI_VERSIONS)
	@touch $@

gwapi-assets: $(GWAPI_ASSETS)/stamp

cluster-up: cluster-build $(CLUSTER_TOOLS)/kubectl $(REAL_KSERVE) $(REAL_EG) $(GWAPI_ASSETS)/stamp
	$(CLUSTER_BIN) up --dir $(CLUSTER_DIR) --assets $(GWAPI_ASSETS) $(if $(KSTAGE_PRELOAD),--preload $(KSTAGE_PRELOAD)) $(if $(REAL_KSERVE),--kserve-bin-dir $(CONTROLLERS_DIR)) \
	  $(EG_FLAGS)

cluster-down:
	@if [ -x $(CLUSTER_BIN) ]; then $(CLUSTER_BIN) down --dir $(CLUSTER_DIR); \
	else echo "test cluster: no binary, nothing to stop"; fi

test-cluster-harness: cluster-build $(CLUSTER_TOOLS)/kubectl
	cd $(CURDIR)/tests && KSTAGE_TESTCLUSTER_BIN=$(CLUSTER_BIN) KSTAGE_KUBECTL=$(CLUSTER_TOOLS)/kubectl \
		$(CLUSTER_GO) test -count=1 -timeout 20m ./cluster/...

test-cluster-smoke: $(CLUSTER_TOOLS)/kubectl
	KUBECTL=$(CLUSTER_TOOLS)/kubectl bash $(CURDIR)/tests/cluster/smoke.sh $(CLUSTER_DIR)
