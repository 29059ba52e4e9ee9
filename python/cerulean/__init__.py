"""Cerulean: distributed storage for AI workloads, from Python (docs/PYTHON.md).

    import cerulean
    client = cerulean.Client("127.0.0.1:7400")          # or cerulean.Client(embedded="./data")
    client.create_container("datasets", exist_ok=True)
    client.put("datasets", "a/0.bin", b"...")
    client.get_into("datasets", "a/0.bin", tensor)      # no copy in Python

Modules: cerulean.checkpoint (save/load of state dicts), cerulean.datasets (PyTorch
datasets), cerulean.kv (the KV-cache client), cerulean.filesystem (fsspec, "cerulean://").
"""

from . import errors
from .client import Client, default_endpoint
from .errors import (AlreadyExists, CeruleanError, DataLoss, InvalidArgument, NotFound, OutOfRange,
                     PermissionDenied, PreconditionFailed, ResourceExhausted, Unavailable)
from .uri import parse_uri

__all__ = [
    "Client", "default_endpoint", "parse_uri", "errors", "CeruleanError", "NotFound", "AlreadyExists",
    "PreconditionFailed", "InvalidArgument", "OutOfRange", "Unavailable", "DataLoss", "ResourceExhausted",
    "PermissionDenied",
]


def _register_fsspec():
    # By name only: fsspec imports cerulean.filesystem when a cerulean:// path is first used.
    try:
        import fsspec
    except ImportError:
        return
    fsspec.register_implementation("cerulean", "cerulean.filesystem.CeruleanFileSystem", clobber=True)


_register_fsspec()
