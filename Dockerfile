# Build: Go with the netCDF-C and HDF5 development libraries (cgo).
FROM golang:1.26-bookworm AS build
ARG GOPROXY
ARG GOSUMDB
ARG GOFLAGS
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libnetcdf-dev libhdf5-dev libdeflate-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Behind a TLS-intercepting proxy, put its CA certificates (*.crt) in
# .ca-certs/ of the build context (git-ignored); they are trusted for the build.
COPY .ca-certs/ /tmp/ca-certs/
RUN if ls /tmp/ca-certs/*.crt >/dev/null 2>&1; then \
      apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null && \
      cp /tmp/ca-certs/*.crt /usr/local/share/ca-certificates/ && update-ca-certificates >/dev/null; \
    fi
# The modules first: a change of the source alone does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/subsetd ./cmd/subsetd

# Run: Debian with the shared libraries only (curl for the health check).
FROM debian:bookworm
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libnetcdf19 libhdf5-103-1 libdeflate0 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/subsetd --create-home subsetd \
 && mkdir -p /data && chown subsetd /data
COPY --from=build /out/subsetd /usr/local/bin/subsetd
USER subsetd
WORKDIR /var/lib/subsetd
# The state (jobs, keys, files, the index, the link secret) and the data.
VOLUME ["/var/lib/subsetd", "/data"]
EXPOSE 8080
# /readyz is 503 until the first index scan ends (and when the disk is
# low): the start period covers the scan of a large data directory.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5m --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8080/readyz || curl -fsSk -o /dev/null https://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["subsetd"]
# Every address, with API keys: make one with
#   docker run --rm -v STATE:/var/lib/subsetd IMAGE keys create --name NAME
CMD ["serve", "--data", "/data", "--state", "/var/lib/subsetd", "--addr", "0.0.0.0:8080", "--auth", "keys"]
