"""Python client of subsetd, the server that cuts regions out of NetCDF/HDF5
datasets and returns one CF NetCDF file per region.

    from subsetd import Client
    job = Client("http://127.0.0.1:8080").submit(dataset="sst", regions="africa", variables=["sst"])
    ds = job.wait().open("benguela_current")
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("subsetd")
except _metadata.PackageNotFoundError:  # used from a source tree (PYTHONPATH)
    __version__ = "0+unknown"

from .client import Client  # noqa: E402
from .errors import APIError, ChecksumError, JobError, SubsetdError  # noqa: E402
from .job import Job  # noqa: E402
from .stats import Stats  # noqa: E402

__all__ = ["Client", "Job", "Stats", "SubsetdError", "APIError", "ChecksumError", "JobError", "__version__"]
