# coffer's two commands: `make run` serves on http://127.0.0.1:8080 (SQLite under ./data/ unless
# DATABASE_URL is set) and `make test` proves everything against a throwaway PostgreSQL.
GO ?= go
ADMIN_PASSWORD ?= coffer-admin-password
GENERATED := ent graph/generated graph/model graph/schema.resolvers.go

.PHONY: run test generate check-generated lint bench

run:
	mkdir -p data
	DEV=$${DEV:-1} OUTBOX_FILE=$${OUTBOX_FILE:-data/outbox.jsonl} ADMIN_PASSWORD="$(ADMIN_PASSWORD)" $(GO) run ./server

# The Go tests start their own PostgreSQL cluster (graph/pgtest) unless TEST_DATABASE_URL is set;
# a missing PostgreSQL fails them, it never skips them.
test: lint check-generated
	$(GO) test -race -count=1 -timeout 12m ./...

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

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "not gofmt-ed:"; echo "$$out"; exit 1; }
	$(GO) vet ./...

# Starts its own PostgreSQL and the built server as a separate process; prints a table and, as its
# last line, a JSON summary; writes bench-results/bench.json (README: Performance).
bench:
	mkdir -p bench-results
	$(GO) build -o bench-results/coffer ./server
	$(GO) run ./server/bench -server bench-results/coffer
