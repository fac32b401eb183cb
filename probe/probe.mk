# Included by the top-level Makefile. Regenerates the eBPF object and its
# Go bindings (needs clang-19 and llvm-19; the outputs are committed).
.PHONY: generate
generate:
	cd probe && go generate ./...
