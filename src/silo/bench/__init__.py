"""Self-contained benchmarks behind ``silo bench ...``: each makes its own temporary platform."""
