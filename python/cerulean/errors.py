"""Exceptions raised by the cerulean package, one per kind of failure.

Every error carries the server's message and ``code``, the name of the native status code
("NotFound", "DataLoss", ...). The classes also derive from the matching built-in exception,
so that code written for files (``except FileNotFoundError``) works unchanged.
"""


class CeruleanError(Exception):
    """Base of every error the package raises."""

    def __init__(self, message="", code="Unknown"):
        super().__init__(message)
        self.code = code


class NotFound(CeruleanError, FileNotFoundError):
    """No such container, object, upload or KV namespace."""


class AlreadyExists(CeruleanError, FileExistsError):
    """The container or object exists (a put with if_none_match="*", say)."""


class PreconditionFailed(CeruleanError):
    """An ETag condition failed, or a container is not empty."""


class InvalidArgument(CeruleanError, ValueError):
    """The request is wrong: a bad name, a buffer of the wrong size, a value over a limit."""


class OutOfRange(CeruleanError, ValueError):
    """An offset past the end of an object."""


class Unavailable(CeruleanError, ConnectionError):
    """Still failing after retries: the server or a storage node does not answer."""


class DataLoss(CeruleanError, IOError):
    """Stored bytes failed their checksum on every replica; none of them are returned."""


class ResourceExhausted(CeruleanError, OSError):
    """Out of space or over a quota."""


class PermissionDenied(CeruleanError, PermissionError):
    """Refused: no access to this container or namespace."""
