"""Liveness probe: echoes its input with the deployed version. Cheap on purpose (benchmarks call it)."""

import os


def handler(event, context):
    return {
        "status": "ok",
        "service": os.environ.get("SERVICE_NAME", "scanner-service"),
        "version": os.environ.get("SERVICE_VERSION", "0.0.0"),
        "stage": os.environ.get("STAGE", "dev"),
        "function": getattr(context, "function_name", None),
        "request_id": getattr(context, "aws_request_id", None),
        "echo": event,
    }
