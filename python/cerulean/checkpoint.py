"""Checkpoints: save(state_dict, uri) and load(uri) stream tensors straight between their
memory and the storage nodes, in parallel blocks, with no serialized copy of the whole
checkpoint in memory. The format is docs/formats/checkpoint.md.

A checkpoint is written as a staged upload and committed as one object at the end, so it
appears whole or not at all: a crash mid-save leaves the previous checkpoint of that name
intact and loadable.
"""

import io
import pickle
import struct
import threading

from . import _native
from .client import Client
from .errors import PreconditionFailed
from .uri import parse_uri

MAGIC = b"CRLNCKP1"
PREFIX = struct.Struct("<8sQ")  # magic, length of the skeleton pickle
DATA_ALIGN = 4096               # where tensor data starts
TENSOR_ALIGN = 64               # each tensor's bytes start on this boundary
RANGES_PER_BATCH = 1024         # ranges of a load handed to the native client at once


def _torch():
    import torch
    return torch


def _dtype_name(dtype):
    return str(dtype).replace("torch.", "")


def _populate(views):
    for view in views:
        if not _native.populate_pages(view):
            return  # not supported here (MADV_POPULATE_WRITE needs Linux 5.14): the reads fault


def _align(value, alignment):
    return (value + alignment - 1) // alignment * alignment


class _SkeletonPickler(pickle.Pickler):
    """Pickles everything but tensors, which become references to their place in the data.
    Nothing is copied here: a tensor is moved to the CPU and made contiguous only when its
    bytes are written. The same tensor object met twice (tied weights) is stored once and loads
    as one tensor."""

    def __init__(self, file, tensors):
        super().__init__(file, protocol=4)
        self._tensors = tensors
        self._offset = 0
        self._seen = {}  # id(tensor) -> its reference

    def persistent_id(self, obj):
        torch = _torch()
        if not isinstance(obj, torch.Tensor):
            return None
        if id(obj) in self._seen:
            return self._seen[id(obj)][0]
        nbytes = obj.numel() * obj.element_size()
        offset = _align(self._offset, TENSOR_ALIGN)
        self._offset = offset + nbytes
        self._tensors.append((obj, offset, nbytes))
        index = len(self._tensors) - 1
        reference = ("tensor", _dtype_name(obj.dtype), tuple(obj.shape), offset, nbytes, bool(obj.requires_grad),
                     index)
        self._seen[id(obj)] = (reference, obj)  # the tensor too: its id stays unique while pickling
        return reference


def _tensor_bytes(tensor):
    """The tensor's bytes as a flat uint8 memoryview, without copying them."""
    if tensor.numel() == 0:
        return memoryview(b"")
    return memoryview(tensor.reshape(-1).view(_torch().uint8).numpy())


def save(state_dict, uri, *, client=None, block_bytes=None, parallel=8):
    """Writes `state_dict` (any picklable structure of tensors, dicts, lists, numbers and
    strings) to `uri` ("cerulean://container/name"). Returns the stored object's info."""
    client = client if client is not None else Client()
    container, name = parse_uri(uri)
    tensors = []
    skeleton = io.BytesIO()
    _SkeletonPickler(skeleton, tensors).dump(state_dict)
    skeleton = skeleton.getvalue()

    head = PREFIX.pack(MAGIC, len(skeleton)) + skeleton
    data_start = _align(len(head), DATA_ALIGN)
    writer = client.open(container, name, "wb", block_bytes=block_bytes, parallel=parallel,
                         content_type="application/x-cerulean-checkpoint")
    try:
        writer.write(head + bytes(data_start - len(head)))
        position = 0
        for tensor, offset, nbytes in tensors:
            if offset > position:
                writer.write(bytes(offset - position))
            # One tensor at a time on the host: a GPU or strided tensor is copied here, and the
            # copy is released once its blocks are staged (write_borrowed keeps it until then).
            host = tensor.detach().cpu().contiguous()
            writer.write_borrowed(_tensor_bytes(host))
            position = offset + nbytes
        writer.close()  # the commit: the checkpoint appears here, whole
    except BaseException:
        writer.abort()
        raise
    return writer.info


# What a checkpoint's skeleton may contain unless the caller trusts its source: plain data.
_SAFE_GLOBALS = {
    ("collections", "OrderedDict"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"), ("builtins", "complex"),
    ("builtins", "range"), ("torch", "Size"),
}


class _SkeletonUnpickler(pickle.Unpickler):
    def __init__(self, file, make_tensor, trusted):
        super().__init__(file)
        self._make_tensor = make_tensor
        self._trusted = trusted

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid or pid[0] != "tensor":
            raise pickle.UnpicklingError(f"unknown persistent reference {pid!r}")
        return self._make_tensor(*pid[1:])

    def find_class(self, module, name):
        if self._trusted or (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"the checkpoint refers to {module}.{name}; load(..., trusted=True) if you trust its source")


def load(uri, *, client=None, trusted=False, range_bytes=8 << 20):
    """Reads the checkpoint at `uri` back: tensors are allocated and filled in place, many
    ranges at once. With trusted=False (the default) only plain data (dicts, lists, tuples,
    numbers, strings, tensors) is rebuilt around the tensors."""
    torch = _torch()
    client = client if client is not None else Client()
    container, name = parse_uri(uri)
    info = client.head(container, name)
    first = client._core().get_range(container, name, 0, min(info.size, 64 << 10))
    if len(first) < PREFIX.size:
        raise ValueError(f"{uri}: not a cerulean checkpoint (too short)")
    magic, skeleton_length = PREFIX.unpack_from(first)
    if magic != MAGIC:
        raise ValueError(f"{uri}: not a cerulean checkpoint (magic {magic!r})")
    end = PREFIX.size + skeleton_length
    if end > info.size:
        raise ValueError(f"{uri}: truncated checkpoint")
    skeleton = first[PREFIX.size:end] if end <= len(first) else \
        client._core().get_range(container, name, PREFIX.size, skeleton_length)
    data_start = _align(end, DATA_ALIGN)

    reads = []
    made = {}  # index -> tensor: a reference met twice (tied weights) is one tensor

    def make_tensor(dtype, shape, offset, nbytes, requires_grad, index):
        if index in made:
            return made[index]
        dtype = getattr(torch, dtype, None)
        if not isinstance(dtype, torch.dtype):
            raise ValueError(f"{uri}: unknown dtype in checkpoint")
        numel = 1
        for dimension in shape:
            numel *= dimension
        # Checked before allocating: a corrupt or hostile shape must not allocate anything.
        if min(shape, default=0) < 0 or numel * torch.empty((), dtype=dtype).element_size() != nbytes \
                or data_start + offset + nbytes > info.size:
            raise ValueError(f"{uri}: corrupt checkpoint (a tensor's extent does not match its shape)")
        tensor = torch.empty(shape, dtype=dtype)
        if nbytes:
            reads.append((tensor, data_start + offset, nbytes))
        if requires_grad:
            tensor.requires_grad_(True)
        made[index] = tensor
        return tensor

    state = _SkeletonUnpickler(io.BytesIO(skeleton), make_tensor, trusted).load()

    core = client._core()
    views = [(_tensor_bytes(tensor.detach()), offset, nbytes) for tensor, offset, nbytes in reads]
    # The fresh tensors' pages are faulted in on a helper thread, ahead of the reads that fill
    # them in the same order (docs/BENCHMARKS.md, "python": ~15% faster loads here).
    populating = threading.Thread(target=_populate, args=([view for view, _, _ in views],), daemon=True)
    populating.start()
    try:
        batch = []
        for view, offset, nbytes in views:
            # Ranges end at multiples of range_bytes in the object, where save's blocks (and so
            # the object's pieces) end: no range reads parts of two pieces.
            start = 0
            while start < nbytes:
                end = min(nbytes, (offset + start) // range_bytes * range_bytes + range_bytes - offset)
                batch.append((offset + start, view[start:end]))
                start = end
        # Large batches: the native client keeps its reads in flight across a whole batch, and
        # each batch's end drains them (64 ranges a batch: loads at 0.85× torch.load's speed; 1024: 1.18×).
        for i in range(0, len(batch), RANGES_PER_BATCH):
            chunk = batch[i:i + RANGES_PER_BATCH]
            counts = core.batch_get_into([(container, name, offset, view) for offset, view in chunk])
            if counts != [len(view) for _, view in chunk]:
                raise ValueError(f"{uri}: truncated checkpoint")
    finally:
        populating.join()
    # A checkpoint replaced while it was read could have mixed two versions: refuse that.
    if client.head(container, name).etag != info.etag:
        raise PreconditionFailed(f"{uri} was replaced while it was loaded; load it again")
    return state
