# The README's two commands: `make demo` (the main job) and `make test`.
SWIFT ?= swift

.PHONY: bootstrap build release demo test test-release bench bench-wire bench-store clean

bootstrap:
	@bash scripts/bootstrap.sh

build: bootstrap
	$(SWIFT) build

# The binary to ship: optimised, with the Swift runtime and Foundation linked in, so the target
# machine needs no Swift toolchain and each start skips loading ~15 shared libraries (about 6 ms of
# CPU per `sluice` process, measured with `perf stat -e task-clock`).
RELEASE_FLAGS = -c release --static-swift-stdlib

release: bootstrap
	$(SWIFT) build $(RELEASE_FLAGS) --product sluice
	@echo "built .build/release/sluice"

# The main job: an offline run of the news report (simulated model, local corpus, no keys),
# streaming its progress; the report lands in .sluice/demo/news_report.md.
demo: build
	$(SWIFT) run sluice validate plans/*.json
	@mkdir -p .sluice/demo
	$(SWIFT) run sluice run plans/news_report.json --offline \
		--input task="Major events in the AI agent industry this week" \
		--output .sluice/demo/news_report.md

test: bootstrap
	$(SWIFT) test

# The same suite built with optimisations (its own build folder): two crashes so far happened
# only in release builds (a task-local pushed around async work, see ProviderRetryPolicy).
test-release: bootstrap
	$(SWIFT) test -c release -Xswiftc -enable-testing --scratch-path .build-release

# The benchmarks are built like `make release` (same folder, so nothing is rebuilt between them)
# and run as built: `swift run` takes no --static-swift-stdlib.
bench: bootstrap
	$(SWIFT) build $(RELEASE_FLAGS) --product SluiceBenchmarks
	.build/release/SluiceBenchmarks

# The served path measured from outside: the release sluice binary on a socket, loopback fake
# services with model latency, clients that parse every message (MCP, REST + SSE, sluice run).
bench-wire: bootstrap
	$(SWIFT) build $(RELEASE_FLAGS) --product sluice
	$(SWIFT) build $(RELEASE_FLAGS) --product SluiceBenchmarks
	.build/release/SluiceBenchmarks --wire

# The PostgreSQL store: event appends, the run queue's claims, and the cross-replica event
# latency through two release `sluice serve` replicas. Needs PostgreSQL installed (Debian's
# postgresql package); a throwaway cluster is started and stopped.
bench-store: bootstrap
	$(SWIFT) build $(RELEASE_FLAGS) --product sluice
	$(SWIFT) build $(RELEASE_FLAGS) --product SluiceBenchmarks
	.build/release/SluiceBenchmarks --store

# Embed schemas/plan.schema.json in SluicePlan (run after editing the schema).
.PHONY: schema
schema:
	@bash scripts/embed-schema.sh

# Embed the web pages' scripts and styles in SluiceServer (run after editing one).
.PHONY: web
web:
	@bash scripts/embed-web.sh

clean:
	rm -rf .build .build-release
