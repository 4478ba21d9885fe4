"""Functions: deploy Python handlers, version and alias them, invoke them sync and async."""

from silo.functions.artifacts import ArtifactStore
from silo.functions.async_queue import AsyncQueue
from silo.functions.engine import AsyncPolicy, FunctionsEngine
from silo.functions.invocation import RecursiveInvocation, RequestTooLarge
from silo.functions.invoker import InvokeOutcome, Invoker, Target
from silo.functions.models import LATEST, Alias, AsyncConfig, Function, FunctionConfig, FunctionSettings
from silo.functions.packaging import check_archive, zip_directory
from silo.functions.quotas import ConcurrencyQuotas
from silo.functions.service import Accepted, DryRunOk, Functions

__all__ = [
    "LATEST",
    "Accepted",
    "Alias",
    "ArtifactStore",
    "AsyncConfig",
    "AsyncPolicy",
    "AsyncQueue",
    "ConcurrencyQuotas",
    "DryRunOk",
    "Function",
    "FunctionConfig",
    "FunctionSettings",
    "Functions",
    "FunctionsEngine",
    "InvokeOutcome",
    "Invoker",
    "RecursiveInvocation",
    "RequestTooLarge",
    "Target",
    "check_archive",
    "zip_directory",
]
