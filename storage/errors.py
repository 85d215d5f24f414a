"""Errors of the storage package.

StorageError                  root: the database cannot do what was asked
├── DatabaseOpenError         the file cannot be opened or migrated (path, reason)
└── NotFoundError(KeyError)   a feed, match or delivery that does not exist
"""

from __future__ import annotations


class StorageError(Exception):
    """Root of the storage package's errors."""


class DatabaseOpenError(StorageError):
    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot open database {path}: {reason}")


class NotFoundError(StorageError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"
