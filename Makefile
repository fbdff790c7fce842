# The two commands of the README: `make run` and `make test`.
# One target directory for every build, outside the checkout, so rebuilds are incremental.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/switchboard-target
# The PostgreSQL server the integration tests create their databases on.
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run run-release test tools test-tools lint unit integration-sqlite integration-postgres e2e screenshots bench scale

## Build and start Switchboard on SQLite (./data/switchboard.db); prints the URL and, on the
## first start, the one-time setup link. A quick debug build.
run: tools
	cargo leptos serve --split

## The same as production serves it: optimized builds, the wasm split into lazily loaded
## chunks, every file named by its content and precompressed (brotli, gzip).
run-release: tools
	cargo leptos build --release --split
	$(CARGO_TARGET_DIR)/release/switchboard precompress
	$(CARGO_TARGET_DIR)/release/switchboard serve

## Everything CI runs: formatting, lints, unit tests, integration tests on SQLite and on
## PostgreSQL, and the Playwright end-to-end suite.
test: test-tools lint unit integration-sqlite integration-postgres e2e

tools:
	.ci/install-tools

test-tools:
	.ci/install-tools --test

lint:
	cargo fmt --all --check
	cargo clippy -p app -p server --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo test -p app --features ssr
	cargo test -p server --lib --bins

integration-sqlite:
	cargo test -p server --test '*'

integration-postgres:
	SWITCHBOARD_TEST_POSTGRES=$(PG_TEST_URL) cargo test -p server --test '*'

e2e:
	end2end/run.sh

## The README's pictures (docs/screenshots/), from the production build with real data: the
## channel list, the wizard, Channel Integration after a Test connection, the Activity
## timeline, the Overview and an import's dry run.
screenshots: test-tools
	SCREENSHOTS=$(CURDIR)/docs/screenshots SKIP_PERF= end2end/run.sh --project=screenshots

## Benchmarks (not tests): channel-list latency at 1,000, 100,000 and 1,000,000 channels and in
## 1,000 tenant spaces, on SQLite and PostgreSQL; export and import time/memory with 100,000
## channels on SQLite; webhook throughput under wrk beside /healthz, and the same on PostgreSQL
## through HAProxy with one and with three instances; webhook throughput while the retention
## purge deletes 1,000,000 old deliveries, beside it without.
bench: test-tools
	command -v wrk >/dev/null || apt-get install -y wrk
	PG_TEST_URL=$(PG_TEST_URL) cargo bench -p server --bench channel_list
	cargo bench -p server --bench export
	cargo bench -p server --bench import
	cargo bench -p server --bench webhooks
	cargo bench -p server --bench retention
	PG_TEST_URL=$(PG_TEST_URL) cargo bench -p server --bench cluster_ingest

## Several instances (README: "Running several instances"): PostgreSQL, three `switchboard
## serve` and HAProxy with deploy/haproxy.cfg; the shared throttle and device cookie, rolling
## restarts with no failed request, kill -9 losing and duplicating nothing, tasks taken over
## and claimed across instances (a shorter run is part of `make test`); then a second server
## on one SQLite file, refused.
scale: test-tools
	SWITCHBOARD_SCALE=full SWITCHBOARD_TEST_POSTGRES=$(PG_TEST_URL) cargo test -p server --test scale -- --nocapture
	cargo test -p server --test cli a_second_server_on_one_sqlite_file_is_refused
