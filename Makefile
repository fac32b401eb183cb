# gosysdig: build, test, benchmark.
GO ?= go

.PHONY: all build test vet fuzz difffuzz bench bench-live generate check-generate man release image corpus corpus-golden

# The version `gosysdig version` prints in release builds and the image's tag: the sysdig release
# gosysdig follows, then this tree's commit.
VERSION ?= 0.29.3-gosysdig+$(shell git describe --always --dirty 2>/dev/null || echo unknown)
DIST ?= dist
IMAGE ?= localhost/gosysdig

all: build

build:
	CGO_ENABLED=0 $(GO) build -o gosysdig ./cmd/gosysdig

# Static release binaries with the version stamped, and their checksums: linux/amd64 (live
# capture, replay, rules, chisels) and linux/arm64 (everything but live capture: the probe reads
# x86-64 system-call registers).
release:
	mkdir -p $(DIST)
	for arch in amd64 arm64; do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" \
			-o $(DIST)/gosysdig-linux-$$arch ./cmd/gosysdig || exit 1; \
	done
	cd $(DIST) && sha256sum gosysdig-linux-amd64 gosysdig-linux-arm64 > SHA256SUMS

# The OCI image (Containerfile: the static amd64 binary on an empty base), built with podman from
# $(DIST) as the context and tagged with the version (+ replaced by _, which tags do not allow)
# and latest.
image:
	mkdir -p $(DIST)
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" \
		-o $(DIST)/gosysdig-linux-amd64 ./cmd/gosysdig
	cp LICENSE $(DIST)/LICENSE
	podman build -f Containerfile -t $(IMAGE):$(subst +,_,$(VERSION)) -t $(IMAGE):latest $(DIST)

# Man pages (section 8) generated from the command tree, into man/.
man:
	$(GO) run ./cmd/gosysdig man man

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# The README's test command: vet, format check and every test. The comparisons run over
# ../shared/traces when it is beside the clone and over testdata/corpus otherwise; tests that
# need root, sysdig, tmux or ../shared/falco-rules skip with a message outside CI.
# deploy/test, a module of its own (Helm and the Kubernetes API types), checks the chart and runs
# the DaemonSet's pod with podman kube play.
# Packages run one at a time (-p 1): the live tests attach probes and measure rates, CPU shares
# and what a capture holds, which another package's live tests running beside them would skew.
# Both runs go through internal/testsummary, which prints what plain go test prints and then
# "N run, M passed, K skipped, F failed" with each skip's reason; the exit status is go test's.
test: vet
	@$(GO) build -o .testsummary ./internal/testsummary && rm -f .teststatus
	@{ $(GO) test -p 1 -timeout 60m -json ./... || echo fail > .teststatus; \
		(cd deploy/test && $(GO) vet ./... && $(GO) test -timeout 20m -json ./...) || echo fail >> .teststatus; \
		} | ./.testsummary; st=0; test ! -s .teststatus || st=1; rm -f .teststatus .testsummary; exit $$st

# Short fuzzing (longer runs: FUZZTIME=5m): the capture reader, the filter parser, rules files,
# JSON string escaping, and the whole replay pipeline (reader, state, filter, every output form;
# its findings are minimised briefly: a capture takes a while to run many times over).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzReader -fuzztime $(FUZZTIME) ./capture/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./filter/
	$(GO) test -run '^$$' -fuzz FuzzRulesLoad -fuzztime $(FUZZTIME) -fuzzminimizetime 5s ./rules/
	$(GO) test -run '^$$' -fuzz FuzzJSONString -fuzztime $(FUZZTIME) ./output/
	$(GO) test -run '^$$' -fuzz FuzzPipeline -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./cmd/gosysdig/

# Differential fuzzing against sysdig 0.29.3 (internal/difffuzz): random valid captures from the
# event table, replayed by both with the default format, -j and a field list covering every class;
# the first seed of each kind of difference is minimised into testdata/difffuzz (replayed by
# TestDiffFuzzCases without sysdig). Run for DIFFFUZZ_TIME from seeds off the clock; make test
# replays the fixed seeds 1-400 (a difference there is a regression; its case goes to a temporary
# directory the log names).
DIFFFUZZ_TIME ?= 10m
difffuzz:
	DIFFFUZZ_TIME=$(DIFFFUZZ_TIME) $(GO) test -count=1 -run '^TestDiffFuzz$$' -v -timeout 0 ./internal/difffuzz/ | grep -E '^(difffuzz:|---|FAIL|ok|PASS)|differs'

# gosysdig against sysdig 0.29.3 replaying the same ~1M-event capture: the default format, a
# filter and every stock table chisel, CPU time beside sysdig's as a ratio from the same run.
# CI=true: a missing sysdig or ../shared fails the run instead of skipping it.
bench:
	CI=true $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 20m ./bench/

# dd under the live probe against dd alone, sustained -w and text runs, the ceiling (root).
bench-live:
	$(GO) test -run '^$$' -bench Live -benchtime 1x -timeout 20m ./cmd/gosysdig/

# Regenerate the event table and the probe's tables from ../shared/reference, and the probe's
# object and bindings with Debian's clang-19 (the outputs are committed).
REF ?= ../shared/reference
generate:
	@test -f $(REF)/syscall-map.tsv || { echo "make generate needs sysdig's reference tables in $(REF) (../shared/reference beside the clone; REF=DIR points elsewhere)" >&2; exit 1; }
	cd event && $(GO) generate ./...
	sh probe/bpf/gen_tables.sh $(REF) > probe/bpf/tables.h.new && mv probe/bpf/tables.h.new probe/bpf/tables.h
	cd probe && $(GO) generate ./...

# CI: a rebuild of every generated file must change nothing.
check-generate: generate
	git diff --exit-code -- event/table_gen.go probe/

# Re-record the project's own capture corpus (testdata/corpus/*.scap) with gosysdig's live probe
# from the workloads in internal/corpus/workload (root; sysdig 0.29.3 must read each back; the
# podman capture also needs podman, runc and busybox-static, and is skipped without), then
# write sysdig 0.29.3's goldens for every capture x case of testdata/corpus/cases.tsv.
# TestCompatCorpus (cmd/gosysdig) compares gosysdig with them and needs neither.
corpus:
	scripts/corpus-record.sh
	$(MAKE) corpus-golden

corpus-golden:
	scripts/corpus-golden.sh
	@du -sh testdata
