# rpaflow — see README.md. Everything here needs only Go.
GO          ?= go
GOBIN       := $(shell $(GO) env GOPATH)/bin
TEMPORAL_CLI_VERSION := v1.5.1
TEMPORAL    := $(GOBIN)/temporal
TEST_FLAGS  ?= -race -count=1 -timeout 15m

.PHONY: test-deps all build test vet fmt-check unit run bench test-reliability test-cluster cluster-tools fuzz temporal-cli clean alert-rules

all: build

build:
	$(GO) build -o bin/ ./worker ./starter ./simulator

# The Temporal dev server and CLI, built from source once (newer tags cannot be go-installed).
temporal-cli: $(TEMPORAL)
$(TEMPORAL):
	$(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

# The Temporal server and its SQL tool at the version the CLI embeds, for
# `make test-cluster` (the harness installs them too when missing).
TEMPORAL_SERVER_VERSION := v1.29.1
cluster-tools: $(GOBIN)/server $(GOBIN)/sql
$(GOBIN)/server:
	$(GO) install go.temporal.io/server/cmd/server@$(TEMPORAL_SERVER_VERSION)
$(GOBIN)/sql:
	$(GO) install go.temporal.io/server/cmd/tools/sql@$(TEMPORAL_SERVER_VERSION)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# Unit tests only (no Temporal server needed).
unit:
	$(GO) test $(TEST_FLAGS) -short ./...

# vet + unit tests + integration tests against a real dev server started by the tests.
# Packages that start their own dev server run one at a time (-p 1): on a
# 2-core machine two servers plus workers would skew the timing they check.
SERVER_PKGS := ./test/integration/... ./test/reliability/...
test: fmt-check vet temporal-cli test-deps alert-rules
	$(GO) test $(TEST_FLAGS) $$($(GO) list ./... | grep -v -e /test/integration -e /test/reliability)
	RPAFLOW_TEMPORAL_CLI=$(TEMPORAL) RPAFLOW_REQUIRE_INTEGRATION=1 $(GO) test $(TEST_FLAGS) -p 1 $(SERVER_PKGS)

# The alert rules: syntax, then one unit test file per alert (promtool from
# Debian's prometheus package; .ci/run installs it).
# Debian packages the tests use (prometheus, chromium, nodejs and npm, postgresql), installed when missing.
test-deps:
	./scripts/test-deps.sh

alert-rules:
	@command -v promtool >/dev/null || { echo "promtool not found: apt-get install prometheus (make test-deps does)"; exit 1; }
	promtool check rules deploy/prometheus/rpaflow-alerts.yml
	cd deploy/prometheus/tests && promtool test rules *.test.yml

# The local stack: dev server, simulators, worker, a demo deployment; Ctrl-C stops it.
run: temporal-cli build
	TEMPORAL=$(TEMPORAL) ./scripts/localstack.sh

bench: temporal-cli
	RPAFLOW_TEMPORAL_CLI=$(TEMPORAL) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./test/bench/...

# The reliability suite in its long form (worker SIGKILLs, platform outage,
# Temporal restart, bad input, secrets scan), then every fuzz target.
# `make test` runs the same suite in its short form.
test-reliability: temporal-cli
	RPAFLOW_RELIABILITY=long RPAFLOW_TEMPORAL_CLI=$(TEMPORAL) RPAFLOW_REQUIRE_INTEGRATION=1 \
		$(GO) test -race -count=1 -timeout 30m -v -run TestReliability ./test/reliability
	$(MAKE) fuzz

# The production topology under faults: PostgreSQL (installed from Debian's
# packages when missing), Temporal's services as five processes, three
# worker processes; each case prints `cluster: <case>: tried N, lost 0`.
# RPAFLOW_CLUSTER_KEEP=1 keeps the logs and data directory.
test-cluster: temporal-cli cluster-tools test-deps
	RPAFLOW_CLUSTER=1 RPAFLOW_TEMPORAL_CLI=$(TEMPORAL) $(GO) test -count=1 -v -timeout 15m -run TestCluster ./test/cluster

# Each fuzz target for a number of executions, not a duration: with a
# duration, Go's fuzz coordinator (before Go 1.27) can fail a target with a
# bare "context deadline exceeded" as its own deadline passes, having found
# nothing (golang/go#75804); a count sets no deadline, so the step fails only
# on a finding (which writes its input to testdata/fuzz). A target runs
# FUZZ_EXECS inputs unless its entry ends with a budget of its own
# (pkg:Target:50000x). A loaded machine only makes a count take longer
# (-timeout bounds it; an input that hangs is a finding of its own). FUZZTIME
# (a duration or Nx) overrides every budget, e.g. `make fuzz FUZZTIME=10m`
# to explore by hand.
FUZZ_EXECS  ?= 20000
FUZZTIME    ?=
FUZZ_TARGETS := \
	./contract/botvalue:FuzzUnmarshalJSON \
	./contract/botvalue:FuzzFromPlain \
	./providers/automationanywhere:FuzzParseError \
	./providers/automationanywhere:FuzzWorkItemJSON \
	./contract:FuzzParseWorkQueue \
	./providers/uipath/orchestrator:FuzzQueueItemState \
	./providers/internal/jwt:FuzzParse \
	./providers/uipath/orchestrator:FuzzParseError \
	./providers/uipath/automationhub:FuzzParseError \
	./internal/config:FuzzLoadFrom \
	./internal/codec:FuzzDecode \
	./internal/codec:FuzzHandler \
	./internal/logging:FuzzRedact \
	./providers/internal/httpx:FuzzRetryAfter \
	./providers/internal/httpx:FuzzHostChecks \
	./contract:FuzzDuration \
	./providers/uipath/orchestrator:FuzzODataTime \
	./providers/uipath/orchestrator:FuzzArguments \
	./providers/automationanywhere:FuzzFlexID \
	./providers/automationanywhere:FuzzParseTime \
	./providers/automationanywhere:FuzzCheckExecutionURL \
	./internal/events:FuzzParseUiPath \
	./internal/events:FuzzParseAACallback \
	./internal/events:FuzzVerifyUiPathSignature
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${rest#"$$name"}; budget=$${budget#:}; \
		budget=$${budget:-$(FUZZ_EXECS)x}; if [ -n "$(FUZZTIME)" ]; then budget=$(FUZZTIME); fi; \
		echo "fuzz: $$name in $$pkg for $$budget"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $$budget -timeout 20m "$$pkg"; \
	done

clean:
	rm -rf bin .local
