"""The ``silo`` command line: a thin Typer front end over the HTTP API (``docs/api.md``).

Modules: ``main`` (the root app), one module per command group (``accounts``, ``ous``, ``keys``,
``guardrails``, ``audit``, ``server``), ``client`` (the HTTP client and its errors), ``options``
(option declarations shared by every command) and ``render`` (tables, panels and ``--json``).
"""
