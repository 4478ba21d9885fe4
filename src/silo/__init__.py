"""Silo: a self-hosted serverless platform with one isolated account per tenant."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("silo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
