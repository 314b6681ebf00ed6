# Build: Go with the netCDF-C and HDF5 development libraries (cgo).
FROM golang:1.26-bookworm AS build
ARG GOPROXY
ARG GOSUMDB
ARG GOFLAGS
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libnetcdf-dev libhdf5-dev libdeflate-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Behind a TLS-intercepting proxy, put its CA certificates (*.crt) in
# .ca-certs/ of the build context (git-ignored); they are trusted for the build.
RUN if ls .ca-certs/*.crt >/dev/null 2>&1; then \
      apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null && \
      cp .ca-certs/*.crt /usr/local/share/ca-certificates/ && update-ca-certificates >/dev/null; \
    fi
RUN go mod download
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/subsetd ./cmd/subsetd

# Run: Debian with the shared libraries only.
FROM debian:bookworm
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libnetcdf19 libhdf5-103-1 libdeflate0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /var/lib/subsetd --create-home subsetd
COPY --from=build /out/subsetd /usr/local/bin/subsetd
USER subsetd
WORKDIR /var/lib/subsetd
EXPOSE 8080
ENTRYPOINT ["subsetd"]
CMD ["--help"]
