# The project's entry points. Each target prints what it does and how long it took.
.PHONY: up down test lint bench soak storm fmt check-infra check-deploy fuzz

## up: install what is missing, build, start the whole stack, print where it is
up:
	@scripts/up.sh

## down: stop everything `make up` started
down:
	@scripts/down.sh

## test: every test against real Postgres, Redis and Kafka
test:
	@scripts/test.sh

## lint: rustfmt (the fuzz targets too), clippy with warnings as errors, shellcheck
lint:
	cargo fmt --all -- --check
	cargo fmt --manifest-path fuzz/Cargo.toml -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	shellcheck scripts/*.sh .ci/run

## check-infra: offline checks of infra/ and .github/workflows (checkov, actionlint, zizmor, shellcheck); also part of `make test`
check-infra:
	@scripts/check-infra.sh

## check-deploy: docker-compose.yml, Dockerfiles, nginx/prod, monitoring, checked offline; also part of `make test`
check-deploy:
	@scripts/check-compose.sh

## fuzz: the long fuzz run of the wire decoders, FUZZ_SECONDS per target (default 600; `make test` runs 10 s each). See docs/fuzzing.md
FUZZ_SECONDS ?= 600
fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS)

## bench: writer throughput against raw COPY and row-by-row INSERT, chat latency with a stalled bot, the cost of Kafka's fsync before the ack, Redis memory per message, search latency over 1,000,000 messages, memory per idle WebSocket connection, fan-out latency and throughput against a bare broadcast server and a bare producer, up to saturation (see BENCHMARKS.md); not part of `make test`
bench:
	@scripts/bench.sh

## soak: steady load over both gateways for SOAK_SECONDS (1800) while Postgres, Redis, Kafka, the writer and the gateways are killed at random, then the checks (docs/guarantees.md, "Soak"); not part of `make test`
soak:
	@scripts/soak.sh

## storm: a reconnect storm: 10,000 idle connections through nginx, one gateway killed and restarted; times their resume and checks nothing was missed (BENCHMARKS.md, "Reconnect storm"); not part of `make test`
storm:
	@scripts/storm.sh

fmt:
	cargo fmt --all
