"""The audit log of management-plane actions, assume steps first among them."""

from silo.audit.service import AuditEntry, AuditLog

__all__ = ["AuditEntry", "AuditLog"]
