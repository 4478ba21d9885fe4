"""Telemetry: per-account metrics and logs, buffered and written behind."""

from silo.telemetry.logs import LogEvent, Logs
from silo.telemetry.metrics import Datapoint, Metrics

__all__ = ["Datapoint", "LogEvent", "Logs", "Metrics"]
