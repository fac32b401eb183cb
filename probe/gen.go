package probe

// The probe is compiled ahead of time and the object plus its bindings are
// committed, so `go build` needs no clang. Regenerate (Debian: clang-19,
// llvm-19, libbpf-dev) with `make generate` or `go generate ./probe`.
// vmlinux.h comes from `bpftool btf dump file /sys/kernel/btf/vmlinux format c`;
// CO-RE relocations adapt field offsets to the running kernel at load.
// -mcpu=v3 (kernel 5.1+): 32-bit jumps and ALU and atomics; bpf2go defaults to v1.
//go:generate go tool bpf2go -cc clang-19 -strip llvm-strip-19 -target bpfel -cflags "-O2 -mcpu=v3 -g -Wall -Werror -Wno-unused-function" probe bpf/probe.c -- -I./bpf
