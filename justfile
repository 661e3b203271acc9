# Conveniences over plain cargo; `just` is optional (`cargo install just`).

default: test

# Format the workspace.
fmt:
    cargo fmt --all

# Lints as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# The README's test command (PostgreSQL suites run when CHAT_TEST_DATABASE_URL is set).
test:
    cargo test --workspace

# Everything CI runs, services included.
ci:
    bash .ci/run

# Run the gateway on the embedded default (SQLite, in-process, dev secret on loopback).
run:
    cargo run --release -p chat-gateway

# Apply migrations to CHAT_DATABASE_URL and exit.
migrate:
    cargo run --release -p chat-gateway -- migrate
