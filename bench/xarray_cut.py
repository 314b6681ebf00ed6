#!/usr/bin/python3
"""Cuts the regions of a regions file out of a file with xarray, as a
notebook would: ds.sel(lat=..., lon=...).to_netcdf(...), NetCDF-4, zlib
level 1 with shuffle on the data variables.

Usage: xarray_cut.py REGIONS.json IN.nc OUTDIR"""
import json, os, sys

import xarray as xr

regions, path, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
with xr.open_dataset(path, mask_and_scale=False, decode_times=False) as ds:
    for r in json.load(open(regions))["regions"]:
        w, s, e, n = r["bbox"]
        cut = ds.sel(lat=slice(s, n), lon=slice(w, e))
        enc = {v: {"zlib": True, "complevel": 1, "shuffle": True} for v in cut.data_vars}
        cut.to_netcdf(os.path.join(out, r["name"] + ".nc"), format="NETCDF4", encoding=enc)
