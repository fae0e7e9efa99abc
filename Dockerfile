# kubecis image: one static binary with the built-in cfg, nothing else.
#
#   docker build -t ghcr.io/kubecis/kubecis:0.1.0 .
#
# The build stage runs .ci/build-static, the same script CI runs to prove
# that the binary is static and works with no file beside it (see
# docs/deploy.md). The toolchain matches the project's Rust 1.95.

FROM rust:1.95.0-bookworm AS build
WORKDIR /src
# Dependencies first, so that a source change reuses the fetched crates.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && touch src/lib.rs src/main.rs && cargo fetch --locked
COPY src ./src
COPY cfg ./cfg
COPY .ci/build-static ./.ci/build-static
RUN ./.ci/build-static /out/kubecis

# scratch: no shell, no package manager, no libc. kubecis needs none of them:
# its checks are typed data and it never starts a shell.
FROM scratch
# checkov:skip=CKV_DOCKER_2: kubecis runs once and exits; there is no service to probe, and Kubernetes ignores HEALTHCHECK
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="kubecis" \
      org.opencontainers.image.description="Audits a Kubernetes node against the CIS Kubernetes Benchmark" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/kubecis/kubecis" \
      org.opencontainers.image.documentation="https://github.com/kubecis/kubecis/blob/main/docs/deploy.md"
COPY --from=build /out/kubecis /kubecis
# Unprivileged by default: snapshots, --help and cfg checks need nothing
# more. Auditing a live node needs UID 0 and CAP_SYS_PTRACE, which the
# manifests (job.yaml, deploy/) ask for explicitly; docs/deploy.md says why.
USER 65532:65532
ENTRYPOINT ["/kubecis"]
