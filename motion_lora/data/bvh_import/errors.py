"""The one error a BVH import raises: a file that cannot be imported, named in the message."""

from __future__ import annotations


class BvhImportError(ValueError):
    """A BVH file that cannot be imported; the message names the file and the problem."""


def file_error(path, message: str) -> BvhImportError:
    return BvhImportError(f"{path}: {message}")
