# SPDX-License-Identifier: Apache-2.0
# mplsdp: make help lists the targets.

GO        ?= go
FUZZTIME  ?= 2m
BENCHTIME ?= 1s
PKGS      := ./...

.PHONY: all build bin generate clang test bench fuzz lint demo clean help deps

all: build test ## build everything and run the tests

build: ## compile every package and command
	$(GO) build $(PKGS)

deps: ## fetch the Go modules the build and tests need (Go itself must be installed)
	$(GO) mod download

# clang for BPF needs the multiarch include dir for <asm/types.h>.
BPF_CFLAGS ?= -O2 -g -Wall -Werror -I/usr/include/$(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

generate: clang ## regenerate the bpf2go output (bpf/) and the packet vectors (testdata/)
	BPF2GO_CFLAGS="$(BPF_CFLAGS)" $(GO) generate ./...

clang: ## install clang, llvm and the libbpf headers if missing (Debian)
	@command -v clang >/dev/null && test -f /usr/include/bpf/bpf_helpers.h || \
	  { apt-get update && apt-get install -y clang llvm libbpf-dev linux-libc-dev; }

test: deps ## vet, then run every test (race detector on), then every benchmark once
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)
	$(GO) test -run '^$$' -bench . -benchtime=1x -benchmem $(PKGS)

bench: deps ## the Go benchmarks (BENCHTIME=1s by default), then a quick mplsbench run (as root)
	$(GO) test -run '^$$' -bench . -benchtime=$(BENCHTIME) -benchmem $(PKGS)
	@if [ "$$(id -u)" = 0 ]; then $(GO) run ./cmd/mplsbench --quick; else echo "mplsbench skipped: it needs root"; fi

fuzz: deps ## run every fuzz target for FUZZTIME (default 2m) each
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint: deps ## gofmt, go vet and staticcheck (a pinned Go tool dependency)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

bin: ## build mplsdp and mplsctl into bin/
	$(GO) build -o bin/mplsdp ./cmd/mplsdp
	$(GO) build -o bin/mplsctl ./cmd/mplsctl

demo: deps bin ## as root: two customers over PE1 - P - PE2 in namespaces, three mplsdp daemons, a report
	$(GO) run ./bench/demo -mplsdp bin/mplsdp -mplsctl bin/mplsctl -examples examples $(DEMOFLAGS)

clean: ## remove build and test output
	$(GO) clean -testcache
	rm -rf bin

help: ## this list
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12
