# syntax=docker/dockerfile:1
# A small image for CI: runnerguard as one static binary (musl, the `dist` profile: stripped,
# thin LTO), git for `runnerguard diff --base-ref`, a shell for CI scripts. No entrypoint:
# GitLab CI runs its `script` in the image's shell (templates/runnerguard.yml uses it).
#
#   docker build -t runnerguard .
#   docker run --rm -v "$PWD:/work" -w /work runnerguard runnerguard audit -f deploy/
#
# Values files are rendered with the built-in model of the chart unless helm is added
# (RUNNERGUARD_HELM, or helm on PATH): the report's "Inputs" says which was used.

FROM rust:1.95-alpine AS build
# On Alpine the Rust target is musl, which links statically by default; ring (rustls, for
# `--live`) needs a C compiler.
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN cargo build --locked --profile dist -p runnerguard-cli \
    && cp target/dist/runnerguard /runnerguard \
    && /runnerguard --version

FROM alpine:3.22
RUN apk add --no-cache git ca-certificates \
    && adduser -D -u 10001 runnerguard \
    # CI clones are owned by another user: let git read them.
    && git config --system --add safe.directory '*'
COPY --from=build /runnerguard /usr/local/bin/runnerguard
# Also a kubectl plugin: `kubectl runnerguard audit --live`.
RUN ln -s runnerguard /usr/local/bin/kubectl-runnerguard
USER 10001
CMD ["runnerguard", "--help"]
