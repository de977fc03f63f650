"""The DuckDB file: schema, atomic builds, demo data and validated imports."""

from store.files import DatabaseMissing, current_file, db_path, new_build, open_readonly
from store.schema import SURVEYS, TABLES, read_metadata

__all__ = [
    "DatabaseMissing", "SURVEYS", "TABLES", "current_file", "db_path", "new_build",
    "open_readonly", "read_metadata",
]
