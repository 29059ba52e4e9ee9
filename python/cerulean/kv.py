"""The KV-cache client (docs/protocols/kv_cache.md): batched, put-if-absent storage of
immutable KV blocks keyed by prefix-hash digests, read straight into caller tensors.

    kv = KVClient(endpoint, model="llama-3-8b", dtype="bf16", tp_rank=0)
    keys = prefix_hashes(tokens, block_tokens=16, seed="llama-3-8b")
    hit = kv.lookup_prefix(keys)                       # how many leading blocks are cached
    kv.batch_get_into(keys[:hit], [layer_buffers...])  # one list of per-piece tensors per key
    kv.batch_put_from(keys[hit:], [layer_tensors...])

Values are one buffer per key, or a list of pieces (say one tensor per layer). Raw pointer
lists are accepted only inside buffers given to register_buffer (or memory from
allocate_shared), so that a wrong address is an error rather than a crash.
"""

import bisect
import collections
import os
import threading
import weakref

from . import _native
from ._memory import is_tensor, memory_of
from .client import default_endpoint

_clients = weakref.WeakSet()


def _fresh_locks_after_fork():
    for client in list(_clients):
        client._lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_locks_after_fork)


def prefix_hashes(tokens, block_tokens, seed=""):
    """The 32-byte keys of the full blocks of `tokens` (a list, numpy array or tensor of token
    ids): block i's key is SHA-256(key i-1 || u32le(count) || u32le tokens), rooted at
    SHA-256("cerulean.kv.prefix.v1" || 0x00 || seed). The same in C++ and Python; pinned by
    tests/data/kv_prefix_vectors.json."""
    if is_tensor(tokens):
        tokens = tokens.tolist()
    elif hasattr(tokens, "tolist"):
        tokens = tokens.tolist()
    return _native.prefix_keys(list(tokens), block_tokens, seed)


class _Region(collections.namedtuple("_Region", "start end key owner pin writable")):
    """Registered memory [start, end): its owner, a memoryview pinning it (for buffers), and
    whether gets may write into it."""


class KVClient:
    """A KV namespace {model, dtype, layout, tp/pp rank, tenant} of a Cerulean cluster,
    created on first use with the given replicas, quota and limits. Thread-safe; reconnects
    after fork."""

    def __init__(self, endpoint=None, *, model, dtype, layout="", tp_rank=0, pp_rank=0, tenant="", replicas=1,
                 quota_bytes=0, value_bytes_max=64 << 20, pieces_max=4096, default_ttl=0, timeout=10.0):
        self._endpoint = endpoint or default_endpoint()
        self._timeout = timeout
        self._namespace_options = dict(model=model, dtype=dtype, layout=layout, tp_rank=tp_rank, pp_rank=pp_rank,
                                       tenant=tenant, replicas=replicas, quota_bytes=quota_bytes,
                                       value_bytes_max=value_bytes_max, pieces_max=pieces_max,
                                       default_ttl_s=default_ttl)
        self._lock = threading.Lock()
        self._regions = []  # sorted _Region tuples of registered memory
        self._open()
        _clients.add(self)

    def _open(self):
        self._native = _native.KvClient(self._endpoint, self._timeout)
        self.namespace = self._native.open_namespace(**self._namespace_options)
        self._pid = os.getpid()

    def _core(self):
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._open()
        return self._native

    # Registered memory.
    def register_buffer(self, buffer):
        """Makes `buffer` (a tensor, numpy array, bytearray...) a place that pointer lists may
        point into; it is kept alive, and a bytearray kept from resizing, until
        unregister_buffer. Read-only memory (bytes) may only be put from."""
        memory = memory_of(buffer)
        if isinstance(memory, tuple):  # a tensor: checked again at each use (resize_, set_)
            start, length = memory
            pin, writable = None, True
        else:
            pin = memoryview(memory)  # an export: the buffer cannot be resized or freed meanwhile
            start, length = _native.address_of(pin)
            writable = not pin.readonly
        with self._lock:
            if not any(region.owner is buffer for region in self._regions):
                bisect.insort(self._regions, _Region(start, start + length, id(buffer), buffer, pin, writable))
        return start

    def unregister_buffer(self, buffer):
        with self._lock:
            self._regions = [region for region in self._regions if region.owner is not buffer]

    def allocate_shared(self, nbytes):
        """Memory shared with the storage nodes on this host (the same-host fast path): values
        put from it or got into it move by one memcpy on the node, with no socket. Registered
        already; make tensors over it with torch.frombuffer(memory, dtype=...)."""
        memory = self._core().allocate_shared(nbytes)
        with self._lock:
            bisect.insort(self._regions, _Region(memory.address, memory.address + len(memory), id(memory), memory,
                                                 None, True))
        return memory

    def _checked(self, pointer, size, writing, held):
        """(pointer, size) if it lies inside one registered buffer (still where it was, and
        writable when the call writes into it); the buffer goes into `held` for the call."""
        with self._lock:
            index = bisect.bisect_right(self._regions, (pointer, float("inf"))) - 1
            region = self._regions[index] if index >= 0 else None
        if region is None or not (region.start <= pointer and pointer + size <= region.end):
            raise ValueError(f"address {pointer:#x}+{size} is not inside a registered buffer")
        if is_tensor(region.owner) and (region.owner.data_ptr(), region.owner.numel() * region.owner.element_size()) \
                != (region.start, region.end - region.start):
            raise ValueError("a registered tensor moved or changed size (resize_, set_); register it again")
        if writing and not region.writable:
            raise ValueError(f"address {pointer:#x} is inside a read-only registered buffer")
        held.append(region)
        return (pointer, size)

    def _values(self, keys, values, ptrs, sizes, what, writing, held):
        if (values is None) == (ptrs is None):
            raise ValueError(f"{what}: give values (buffers or tensors), or ptrs and sizes")
        if values is not None:
            if len(values) != len(keys):
                raise ValueError(f"{what}: {len(keys)} keys but {len(values)} values")
            held.append(values)
            return [[memory_of(p) for p in (v if isinstance(v, (list, tuple)) else [v])] for v in values]
        if sizes is None or len(ptrs) != len(keys) or len(sizes) != len(keys):
            raise ValueError(f"{what}: one ptr and one size (or lists of them) per key")
        out = []
        for p, s in zip(ptrs, sizes):
            p, s = (p, s) if isinstance(p, (list, tuple)) else ([p], [s])
            if len(p) != len(s):
                raise ValueError(f"{what}: as many sizes as ptrs per key")
            out.append([self._checked(int(a), int(n), writing, held) for a, n in zip(p, s)])
        return out

    # Operations: one round trip per storage node per batch.
    def batch_put_from(self, keys, values=None, *, ptrs=None, sizes=None, ttl=0, pin=False):
        """Put-if-absent: a list of booleans, True where stored, False where already present."""
        held = []  # the buffers the call reads, alive until it returns
        pieces = self._values(keys, values, ptrs, sizes, "batch_put_from", False, held)
        return self._core().batch_put(self.namespace, list(keys), pieces, ttl, pin)

    def batch_get_into(self, keys, values=None, *, ptrs=None, sizes=None):
        """Scatters each found value's pieces into its buffers: True for hits, False for misses.
        InvalidArgument when the buffers do not match the stored pieces."""
        held = []  # the buffers the call writes, alive until it returns
        pieces = self._values(keys, values, ptrs, sizes, "batch_get_into", True, held)
        return self._core().batch_get(self.namespace, list(keys), pieces)

    def batch_exists(self, keys, lease=False):
        return self._core().batch_exists(self.namespace, list(keys), lease)

    def lookup_prefix(self, keys, lease=False):
        return self._core().lookup_prefix(self.namespace, list(keys), lease)

    def remove(self, keys):
        return self._core().remove(self.namespace, list(keys))

    def pin(self, keys):
        return self._core().pin(self.namespace, list(keys))

    def unpin(self, keys):
        return self._core().unpin(self.namespace, list(keys))

    def stats(self):
        return self._core().stats()
