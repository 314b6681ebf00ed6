# Sourced by the benchmarks: builds the binaries and makes the input they
# share, a 16 x 1800 x 3600 NetCDF-4 file (float32 sst + packed int16 sla,
# deflate 4, chunks 1 x 512 x 512; 165 MB), under $BENCH_DIR (default
# bench/data). Sets dir and in.
dir=${BENCH_DIR:-bench/data}
mkdir -p "$dir" bin
go build -o bin/subsetd ./cmd/subsetd
go build -o bin/gensample ./testdata/gensample
in=$dir/sst_16x1800x3600.nc
if [ ! -s "$in" ]; then
  echo "generating $in ..."
  bin/gensample -out "$in" -nt 16 -nlat 1800 -nlon 3600 -deflate 4 -chunks 1,512,512
fi

# median of the arguments
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
