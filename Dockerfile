# syntax=docker/dockerfile:1
#
# One build, three runnable targets sharing the same static binaries:
#   docker build .                      -> worker (the default: last stage)
#   docker build --target simulator .   -> platform simulators
#   docker build --target starter .     -> the starter CLI
# docker-compose.yml picks the target per service; BuildKit compiles once.

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
# Dependencies first so source edits do not refetch modules.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Static binaries (no libc in the runtime image); -trimpath keeps build paths
# out of stack traces, -s -w drops symbol tables.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w" -o /out/ ./worker ./starter ./simulator

# distroless/static: CA certificates and tzdata, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/worker /out/starter /out/simulator /usr/local/bin/
# Numeric so Kubernetes' runAsNonRoot can verify it (65532 = distroless "nonroot").
USER 65532:65532

FROM runtime AS simulator
EXPOSE 8090
ENTRYPOINT ["/usr/local/bin/simulator"]

FROM runtime AS starter
ENTRYPOINT ["/usr/local/bin/starter"]
CMD ["--help"]

FROM runtime AS worker
# /healthz and /metrics on 8081, /codec on 8082 (in a container set
# RPAFLOW_HTTP_ADDR=0.0.0.0:8081 and RPAFLOW_CODEC_ADDR=0.0.0.0:8082 with
# RPAFLOW_CODEC_AUTH_TOKEN_FILE or RPAFLOW_CODEC_OIDC_ISSUER: off loopback the
# worker refuses to serve the codec without authentication).
EXPOSE 8081 8082
ENTRYPOINT ["/usr/local/bin/worker"]
