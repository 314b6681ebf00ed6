#!/usr/bin/env bash
# Engine benchmark: the 14 African coastal regions of bench/africa14.json cut
# from a 16 x 1800 x 3600 NetCDF-4 file (float32 + packed int16, deflate 4,
# chunks 1x512x512) by one `subsetd subset` call, versus 14 sequential
# `ncks -4 -L 1` calls, versus xarray's .sel().to_netcdf() (when python3-xarray
# is installed), and versus subsetd as it was before the direct chunk paths
# (built from BENCH_BASE, default the commit before them), all in turn in the
# same run. Then a CPU profile (perf, top functions) of both subsetd builds.
# Usage: bench/engine.sh [ROUNDS]   (env BENCH_DIR for the data, default bench/data)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
. bench/common.sh
base=$(bench/base.sh "$dir")
regions=bench/africa14.json
cat "$in" >/dev/null   # the page cache warm for every side

ncks14="bench/ncks14.sh $regions $in $dir/out_ncks"
cmds=("subsetd=rm -rf $dir/out_subsetd && bin/subsetd subset --regions $regions --out $dir/out_subsetd $in >/dev/null")
[ -n "$base" ] && cmds+=("subsetd-before=rm -rf $dir/out_before && $base subset --regions $regions --out $dir/out_before $in >/dev/null")
if /usr/bin/python3 -c 'import xarray, netCDF4' 2>/dev/null; then
  cmds+=("xarray=/usr/bin/python3 bench/xarray_cut.py $regions $in $dir/out_xarray")
else
  echo "(python3-xarray not installed: no xarray comparison)"
fi
cmds+=("ncks=$ncks14")
echo "== 14 regions on $in ($(du -h "$in" | cut -f1)), $rounds rounds"
bench/compare.py "$rounds" "${cmds[@]}"
echo "output bytes: subsetd $(du -cb "$dir"/out_subsetd/*.nc | tail -1 | cut -f1), ncks $(du -cb "$dir"/out_ncks/*.nc | tail -1 | cut -f1)"
echo
bench/profile.sh "$dir" "subsetd subset --regions $regions --out $dir/out_prof $in" bin/subsetd ${base:+"$base"}
