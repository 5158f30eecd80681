"""Helpers the tests import as a package (pytest puts the repository root on sys.path: pyproject.toml)."""
