# coffer's two commands: `make run` serves on http://127.0.0.1:8080 (SQLite under ./data/ unless
# DATABASE_URL is set) and `make test` proves everything against a throwaway PostgreSQL.
GO ?= go
ADMIN_PASSWORD ?= coffer-admin-password
# The resolver files follow the schema files (gqlgen's follow-schema layout): one per domain.
GENERATED := ent graph/generated graph/model 'graph/*.resolvers.go'

.PHONY: run test test-deps generate check-generated lint bench image-context

run:
	mkdir -p data
	DEV=$${DEV:-1} OUTBOX_FILE=$${OUTBOX_FILE:-data/outbox.jsonl} ADMIN_PASSWORD="$(ADMIN_PASSWORD)" $(GO) run ./server

# The Go tests start their own PostgreSQL cluster (graph/pgtest) unless TEST_DATABASE_URL is set;
# a missing PostgreSQL fails them, it never skips them. test-deps installs what is missing first
# (PostgreSQL's server binaries, Node, Chromium: .ci/test-deps says what it installs).
test: test-deps lint check-generated
	$(GO) test -race -count=1 -timeout 25m ./...
	$(MAKE) e2e

test-deps:
	@bash .ci/test-deps

generate:
	$(GO) generate ./...

# Regenerates into the work tree and fails when that changes anything: the committed generated code
# must be what `make generate` produces.
check-generated: generate
	@git diff --quiet --exit-code -- $(GENERATED) || { \
	  echo "generated code is stale: run 'make generate' and commit the result"; \
	  git diff --stat -- $(GENERATED); exit 1; }
	@test -z "$$(git status --porcelain -- $(GENERATED))" || { \
	  echo "make generate created files that are not committed:"; git status --porcelain -- $(GENERATED); exit 1; }
	@$(MAKE) --no-print-directory check-migrations

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "not gofmt-ed:"; echo "$$out"; exit 1; }
	$(GO) vet ./...
	$(MAKE) lint-schema

# Starts its own PostgreSQL and the built server as a separate process; prints a table and, as its
# last line, a JSON summary; writes bench-results/bench.json (server/bench/README.md).
bench:
	mkdir -p bench-results
	$(GO) build -o bench-results/coffer ./server
	$(GO) run ./server/bench -server bench-results/coffer

# The simulator (docs/simulator.md): random weighted operations from a seed against two built
# servers on one database, with invariants checked as it goes and at the end; the last line is a
# JSON summary. `make simulate SEED=7 STEPS=3000` replays a seed; STORE=postgres, sqlite or
# postgres,sqlite; FAULTS=kill,pgstop,wsdrop or all; DURATION=30m runs seed after seed;
# WEIGHTS='census=0,regress.*=0' sets operation weights.
SEED ?=
STEPS ?= 2000
STORE ?= postgres
DURATION ?=
FAULTS ?=
WEIGHTS ?=
.PHONY: simulate
simulate:
	mkdir -p sim-results
	$(GO) build -o sim-results/coffer ./server
	$(GO) run ./server/sim -server sim-results/coffer -dir sim-results -store "$(STORE)" -steps $(STEPS) \
	  $(if $(SEED),-seed $(SEED)) $(if $(DURATION),-duration $(DURATION)) $(if $(FAULTS),-faults $(FAULTS)) \
	  $(if $(WEIGHTS),-weights '$(WEIGHTS)')

# End-to-end: real clients (graphql-http's audit, graphql-ws, Apollo, headless Chromium) against the
# built server on a throwaway PostgreSQL; see e2e/run.mjs. Needs Node 20+ and /usr/bin/chromium.
.PHONY: e2e lint-schema playground-assets
E2E_DEPS := e2e/node_modules/.package-lock.json

# npm ci when node_modules is missing or older than the committed lock file.
$(E2E_DEPS): e2e/package-lock.json
	cd e2e && npm ci --no-audit --no-fund

e2e: $(E2E_DEPS)
	cd e2e && node run.mjs

# The schema's conventions (descriptions, enum values in capitals, *Input, Relay connections):
# rules in e2e/package.json, coffer's own in e2e/schema-lint/.
lint-schema: $(E2E_DEPS)
	cd e2e && npx --no-install graphql-schema-linter

# Re-fetches the Playground's vendored React and GraphiQL from npm (versions in the script).
playground-assets:
	server/playground/fetch-assets.sh

# Versioned schema migrations (docs/migrations.md). `make migration name=add_card_limits`
# writes the next migration of both stores from ent/schema into ent/migrate/migrations/; the check
# (part of check-generated) fails when ent/schema has changes that no migration makes.
.PHONY: migration migration-hash check-migrations
migration:
	@test -n "$(name)" || { echo "usage: make migration name=<what_changed, snake_case>"; exit 1; }
	$(GO) run ./ent/migrate/gen -name "$(name)"

# After editing a new (unreleased) migration by hand, e.g. to add a backfill.
migration-hash:
	$(GO) run ./ent/migrate/gen -hash

check-migrations:
	$(GO) run ./ent/migrate/gen -check

# The container image's build context (Dockerfile): a static binary (CGO_ENABLED=0; SQLite and
# lib/pq are pure Go) and the host's CA certificates beside the Dockerfile, so that the image is
# FROM scratch and pulls nothing. Then: docker build -t coffer build/image. deploy/image_test.go
# runs this target and checks that the binary is static.
IMAGE_CONTEXT ?= build/image
image-context:
	mkdir -p $(IMAGE_CONTEXT)
	rm -f $(IMAGE_CONTEXT)/coffer $(IMAGE_CONTEXT)/ca-certificates.crt $(IMAGE_CONTEXT)/Dockerfile
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(IMAGE_CONTEXT)/coffer ./server
	cp /etc/ssl/certs/ca-certificates.crt Dockerfile $(IMAGE_CONTEXT)/
