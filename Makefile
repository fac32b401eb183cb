# gosysdig: build, test, benchmark.
GO ?= go

.PHONY: all build test vet fuzz bench bench-live generate check-generate man corpus corpus-golden

all: build

build:
	CGO_ENABLED=0 $(GO) build -o gosysdig ./cmd/gosysdig

# Man pages (section 8) generated from the command tree, into man/.
man:
	$(GO) run ./cmd/gosysdig man man

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# The README's test command: vet, format check and every test (the live-probe tests need root;
# the compatibility tests need ../shared; both skip with a message outside CI).
# Packages run one at a time (-p 1): the live tests attach probes and measure rates, CPU shares
# and what a capture holds, which another package's live tests running beside them would skew.
test: vet
	$(GO) test -p 1 -timeout 60m ./...

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

# gosysdig against sysdig 0.29.3 replaying the same ~1M-event capture: the default format, a
# filter and every stock table chisel, CPU time beside sysdig's as a ratio from the same run.
# CI=true: a missing sysdig or ../shared fails the run instead of skipping it.
bench:
	CI=true $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 20m ./bench/

# dd under the live probe against dd alone, and a sustained-rate run (root).
bench-live:
	$(GO) test -run '^$$' -bench Live -benchtime 1x -timeout 20m ./cmd/gosysdig/

# Regenerate the event table and the probe's tables from ../shared/reference, and the probe's
# object and bindings with Debian's clang-19 (the outputs are committed).
REF ?= ../shared/reference
generate:
	cd event && $(GO) generate ./...
	sh probe/bpf/gen_tables.sh $(REF) > probe/bpf/tables.h
	cd probe && $(GO) generate ./...

# CI: a rebuild of every generated file must change nothing.
check-generate: generate
	git diff --exit-code -- event/table_gen.go probe/

# Re-record the project's own capture corpus (testdata/corpus/*.scap) with gosysdig's live probe
# from the workloads in internal/corpus/workload (root; sysdig 0.29.3 must read each back), then
# write sysdig 0.29.3's goldens for every capture x case of testdata/corpus/cases.tsv.
# TestCompatCorpus (cmd/gosysdig) compares gosysdig with them and needs neither.
corpus:
	scripts/corpus-record.sh
	$(MAKE) corpus-golden

corpus-golden:
	scripts/corpus-golden.sh
	@du -sh testdata
