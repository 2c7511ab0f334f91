# shoal: a Docker Engine that speaks swarm mode. `make help` lists targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.NOTPARALLEL:

GO     ?= go
GOTAGS ?= seccomp netgo osusergo
# shoald is linked statically: it is also the init (/sbin/docker-init) inside containers, where no
# host C library exists.
LDFLAGS ?= -extldflags -static
# libcontainer (seccomp, nsexec) needs cgo.
export CGO_ENABLED := 1

BIN       := bin/shoald
SOCKET    := /run/shoal/docker.sock
DATA_ROOT := /var/lib/shoal
EXEC_ROOT := /run/shoal/exec
LOG       := /var/log/shoald.log
PIDFILE   := /run/shoal/shoald.pid

# Unit tests: every package outside integration/. Integration tests run real
# daemons, one package at a time (-p 1) so they do not fight over 2 cores.
UNIT_PKGS = $(shell $(GO) list -tags '$(GOTAGS)' ./... | grep -Ev '/integration(/|$$)')
UNIT_TIMEOUT        ?= 10m
INTEGRATION_TIMEOUT ?= 20m

.PHONY: help build run stop deps demo-images test test-unit test-integration lint vet fmt-check bench-runtime clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

build: ## compile bin/shoald (cgo, build tags from GOTAGS, default seccomp)
	$(GO) build -tags '$(GOTAGS)' -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/shoald

run: build ## start bin/shoald in the background on /run/shoal/docker.sock, wait for /_ping, print DOCKER_HOST
	@scripts/run.sh $(BIN) $(SOCKET) $(DATA_ROOT) $(EXEC_ROOT) $(LOG) $(PIDFILE)

stop: ## stop the shoald that `make run` started (SIGTERM, then SIGKILL after 30s)
	@scripts/stop.sh $(PIDFILE)

deps: ## apt-get install what builds and tests need (only what is missing)
	@scripts/deps.sh

test: deps lint build test-unit test-integration ## everything CI runs: deps, lint, build, unit tests (-race), integration tests

test-unit: ## go test -race every package outside integration/
	$(GO) test -race -count=1 -tags '$(GOTAGS)' -timeout $(UNIT_TIMEOUT) $(UNIT_PKGS)

test-integration: build ## end-to-end tests: real shoald (bin/shoald), registry, stock docker CLI
	SHOALD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -p 1 -tags '$(GOTAGS)' -timeout $(INTEGRATION_TIMEOUT) ./integration/...

lint: vet fmt-check ## go vet and gofmt check

vet: ## go vet every package
	$(GO) vet -tags '$(GOTAGS)' ./...

fmt-check: ## fail on Go files gofmt would change
	@scripts/check-gofmt.sh

bench-runtime: build ## time service create --replicas 1/10/50 to running, shoald (and dockerd when installed)
	SHOAL_BENCH=1 SHOALD_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -v -tags '$(GOTAGS)' -run TestRuntimeBenchmark -timeout 30m ./integration/bench/

demo-images: ## write bin/demo-images.tar (whoami:1, whoami:2, busybox:1) for `docker load`, no registry needed
	@mkdir -p bin
	$(GO) run ./testimages/mkarchive -o bin/demo-images.tar

clean: ## remove build outputs (bin/ and the harness build of shoald in $TMPDIR)
	rm -rf bin
	rm -rf "$${TMPDIR:-/tmp}/shoal-harness"
