# syntax=docker/dockerfile:1
# The app as a container image: `cargo leptos build --release` in a Rust image, then the server
# binary and the site (wasm, JS, CSS) in a small Debian image (the last stage, `runtime`).
# Used by docker-compose.yml; on its own:
#   docker build -t leptos-fusionauth .
#   docker run --env-file .env -p 5001:5001 leptos-fusionauth
# ISSUER must be reachable from inside the container at the very URL the browser uses (on Linux,
# `--network host` does that for http://localhost:9011; docker-compose.yml solves it portably).
# Needs BuildKit (the default of Docker Engine 23+, Docker Desktop and Compose v2).

############################ build ############################
FROM rust:1.95-bookworm AS builder

# Versions pinned by this repository (keep in step with scripts/setup-toolchain.sh).
ARG CARGO_LEPTOS_VERSION=0.3.10
ARG BINARYEN_VERSION=132

# wasm-opt for release builds comes from npm's binaryen (Debian's binaryen is too old: its
# output never hydrates). Node from Debian is enough to run it.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/* \
    && npm install --global --no-fund --no-audit "binaryen@${BINARYEN_VERSION}" \
    && wasm-opt --version

RUN rustup target add wasm32-unknown-unknown

# The slow part (~13 min cold); cached as long as the version does not change.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    cargo install cargo-leptos --locked --version "${CARGO_LEPTOS_VERSION}"

WORKDIR /src

# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock exactly. (`--locked`
# fails for this release: one of its locked dependencies is not on the registry.)
COPY Cargo.lock ./
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)" \
    && test -n "$version" \
    && cargo install wasm-bindgen-cli --version "$version" \
    && wasm-bindgen --version

# Only what the build reads (docs, scripts and end-to-end tests do not invalidate this layer).
COPY Cargo.toml Leptos.toml ./
COPY crates ./crates
COPY examples ./examples
COPY src ./src
COPY style ./style
COPY public ./public
COPY tests ./tests

# target/ lives in a cache mount (kept between builds), so copy the results out of it.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo leptos build --release --project leptos-fusionauth-demo \
    && mkdir -p /out \
    && cp target/release/leptos-fusionauth /out/ \
    && cp -r target/site /out/site

############################ app-pod ############################
# Only for docker-compose.yml: the network namespace the app container joins. socat forwards
# localhost:9011 there to FusionAuth, so that the issuer URL works inside as well as outside.
FROM debian:bookworm-slim AS app-pod
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends socat \
    && rm -rf /var/lib/apt/lists/*
USER nobody
# docker-compose.yml gives the command (listen on localhost:9011, connect to fusionauth:9011).

############################ runtime ############################
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/data \
    && chown app:app /app/data

WORKDIR /app
COPY --from=builder /out/leptos-fusionauth /app/leptos-fusionauth
COPY --from=builder /out/site /app/site
# Leptos settings for a binary started without cargo-leptos; the LEPTOS_* variables below win.
COPY Leptos.toml /app/Leptos.toml

ENV LEPTOS_SITE_ADDR=0.0.0.0:5001 \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_ENV=PROD \
    SESSION_DATABASE_URL=sqlite:///app/data/sessions.sqlite?mode=rwc \
    RUST_LOG=info

# Sessions (SQLite) survive container restarts when this is a volume.
VOLUME ["/app/data"]
USER app
EXPOSE 5001

# GET /healthz answers 200 once the server is up. The slim image has no curl: bash's /dev/tcp.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5001 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

CMD ["/app/leptos-fusionauth"]
