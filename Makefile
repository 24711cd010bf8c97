# The README's two commands: `make demo` (the main job) and `make test`.
SWIFT ?= swift

.PHONY: bootstrap build demo test bench clean

bootstrap:
	@bash scripts/bootstrap.sh

build: bootstrap
	$(SWIFT) build

# The main job: validate every shipped plan and print its graph (an offline run once the engine lands).
demo: build
	$(SWIFT) run sluice validate plans/*.json
	@for plan in plans/*.json; do $(SWIFT) run sluice graph "$$plan"; done

test: bootstrap
	$(SWIFT) test

bench: bootstrap
	$(SWIFT) run -c release SluiceBenchmarks

# Embed schemas/plan.schema.json in SluicePlan (run after editing the schema).
.PHONY: schema
schema:
	@bash scripts/embed-schema.sh

clean:
	rm -rf .build
