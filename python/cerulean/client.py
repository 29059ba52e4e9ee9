"""The object client: containers and objects, moved by the native core without the GIL."""

import concurrent.futures
import os
import threading
import weakref

from . import _native
from ._memory import memory_of
from .errors import AlreadyExists, NotFound

DEFAULT_ENDPOINT = "127.0.0.1:7400"

# A lock that another thread held at fork() stays held forever in the child: every client gets
# a fresh one there.
_clients = weakref.WeakSet()


def _fresh_locks_after_fork():
    for client in list(_clients):
        client._lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_locks_after_fork)


def default_endpoint():
    """$CERULEAN_META (as for the CLI), or meta's default address on this host."""
    return os.environ.get("CERULEAN_META", DEFAULT_ENDPOINT)


class Client:
    """A connection to a Cerulean cluster (its meta service's host:port), or an embedded
    all-in-one server running inside this process on a data directory.

    Safe to share between threads. A client survives fork(): a child process (a DataLoader
    worker, say) opens its own connection on first use, to the same server. It also pickles,
    as its endpoint and options, for workers that are spawned rather than forked.
    """

    def __init__(self, endpoint=None, *, embedded=None, piece_bytes=8 << 20, parallel_pieces=8, replicas=0,
                 timeout=30.0, layout_cache_ttl=0.0):
        if endpoint is not None and embedded is not None:
            raise ValueError("give an endpoint or an embedded data directory, not both")
        self._options = dict(piece_bytes=piece_bytes, parallel_pieces=parallel_pieces, replicas=replicas,
                             timeout_s=timeout, layout_cache_ttl_s=layout_cache_ttl)
        self._lock = threading.Lock()
        self._executor = None
        if embedded is not None:
            self._native = _native.Client(embedded_directory=os.fspath(embedded), **self._options)
        else:
            self._native = _native.Client(meta_address=endpoint or default_endpoint(), **self._options)
        # Where children and unpickled copies connect: for an embedded server, its loopback port.
        self._endpoint = self._native.meta_address
        self._pid = os.getpid()
        _clients.add(self)

    @property
    def endpoint(self):
        return self._endpoint

    @property
    def piece_bytes(self):
        return self._options["piece_bytes"]

    def _core(self):
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    # Forked: the inherited native client belongs to the parent's thread.
                    self._native = _native.Client(meta_address=self._endpoint, **self._options)
                    self._executor = None
                    self._pid = os.getpid()
        return self._native

    def __getstate__(self):
        return {"endpoint": self._endpoint, "options": self._options}

    def __setstate__(self, state):
        self._options = state["options"]
        self._endpoint = state["endpoint"]
        self._lock = threading.Lock()
        self._executor = None
        self._native = None
        self._pid = -1  # opened on first use
        _clients.add(self)

    def __repr__(self):
        return f"cerulean.Client({self._endpoint!r})"

    # Containers.
    def create_container(self, name, *, public_read=False, metadata=None, exist_ok=False):
        try:
            self._core().create_container(name, public_read, metadata)
        except AlreadyExists:
            if not exist_ok:
                raise

    def delete_container(self, name):
        self._core().delete_container(name)

    def get_container(self, name):
        return self._core().get_container(name)

    def list_containers(self, prefix=""):
        return self._core().list_containers(prefix)

    # Objects.
    def put(self, container, name, data, *, content_type=None, metadata=None, if_match=None, if_none_match=None,
            md5_etag=False):
        """Stores `data` (bytes-like, numpy array or CPU tensor) as one object, atomically."""
        return self._core().put(container, name, memory_of(data), content_type, metadata, if_match,
                                if_none_match, md5_etag)

    def get(self, container, name, *, if_match=None, if_none_match=None):
        return self._core().get(container, name, if_match, if_none_match)

    def get_range(self, container, name, offset, length):
        """Bytes [offset, offset + length), clipped to the object's end."""
        return self._core().get_range(container, name, offset, length)

    def get_into(self, container, name, buffer, offset=0):
        """Reads into `buffer` (bytearray, numpy array, CPU tensor, memoryview) with no copy
        in Python; returns the number of bytes read (fewer at the object's end)."""
        return self._core().get_into(container, name, memory_of(buffer), offset)

    def batch_get(self, items):
        """Many ranges at once: items of (container, name, offset, length); a list of bytes."""
        return self._core().batch_get(list(items))

    def batch_get_into(self, items):
        """Many ranges at once into caller buffers: items of (container, name, offset, buffer);
        the byte counts read."""
        items = list(items)  # keeps every buffer (a tensor, say) alive until the call returns
        return self._core().batch_get_into([(c, n, offset, memory_of(buffer)) for c, n, offset, buffer in items])

    def batch_get_async(self, items):
        """batch_get on a background thread: a concurrent.futures.Future of the list of bytes."""
        return self._pool().submit(self.batch_get, list(items))

    def batch_get_into_async(self, items):
        items = list(items)
        return self._pool().submit(self.batch_get_into, items)

    def head(self, container, name):
        return self._core().head(container, name)

    def exists(self, container, name):
        try:
            self._core().head(container, name)
            return True
        except NotFound:
            return False

    def delete(self, container, name, *, if_match=None):
        self._core().delete(container, name, if_match)

    def list(self, container, prefix="", *, start_after="", page_size=1000):
        """Every object under `prefix`, in name order, fetched a page at a time."""
        core = self._core()
        while True:
            objects, _, truncated, next_start_after = core.list_page(container, prefix, "", start_after, page_size)
            yield from objects
            if not truncated:
                return
            start_after = next_start_after

    def list_dir(self, container, prefix="", delimiter="/"):
        """One level under `prefix`: (objects, common prefixes), all pages of them."""
        core = self._core()
        objects, prefixes, start_after = [], [], ""
        while True:
            page, page_prefixes, truncated, start_after = core.list_page(container, prefix, delimiter, start_after,
                                                                        1000)
            objects.extend(page)
            prefixes.extend(page_prefixes)
            if not truncated:
                return objects, prefixes

    def open(self, container, name, mode="rb", **kwargs):
        """A file object: "rb" reads one version of the object (buffered, seekable); "wb"
        streams into a new version that appears, whole, when the file is closed."""
        from .objectio import open_object
        return open_object(self, container, name, mode, **kwargs)

    def _pool(self):
        self._core()
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=4,
                                                                       thread_name_prefix="cerulean")
            return self._executor
