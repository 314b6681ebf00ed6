#!/usr/bin/env bash
# Installs what subsetd needs on Debian 12 when it is missing: the netCDF-C
# and HDF5 development libraries (cgo), the NetCDF command-line tools and NCO
# (test oracle), CDO, python3-netcdf4 (calendar reference values), the Python
# client's packages (clients/python), PostgreSQL with PostGIS (the tests
# start throwaway clusters of their own: internal/testutil/pgtest; the
# cluster the package creates is not used), and small tools the scripts use. Safe
# to run again: it installs only what is absent.
set -euo pipefail
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in pkg-config gcc libnetcdf-dev libhdf5-dev libdeflate-dev netcdf-bin hdf5-tools nco cdo python3-netcdf4 bc time curl bzip2 \
    python3-requests python3-tqdm python3-xarray python3-fsspec python3-aiohttp python3-h5netcdf \
    python3-pytest python3-setuptools python3-setuptools-scm python3-pip python3-venv \
    postgresql postgresql-15-postgis-3; do
  have_pkg "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if ! command -v go >/dev/null; then
  echo "setup: Go is required (https://go.dev/dl/); /usr/local/go/bin must be on PATH" >&2
  exit 1
fi
