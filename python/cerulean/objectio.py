"""File objects over objects: a seekable reader of one version, and a streaming writer whose
object appears only when it is closed (so torch.save, pandas and fsspec users can write
through it without a half-written object ever being visible)."""

import collections
import concurrent.futures
import io
import os



class ObjectReader(io.RawIOBase):
    """Reads one version of an object: every read carries the ETag seen at open, so an object
    replaced meanwhile fails with PreconditionFailed instead of mixing two versions."""

    def __init__(self, client, container, name):
        super().__init__()
        self._client, self._container, self._name = client, container, name
        info = client.head(container, name)
        self.size, self.etag, self.info = info.size, info.etag, info
        self._position = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._position

    def seek(self, offset, whence=io.SEEK_SET):
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if position < 0:
            raise ValueError("negative seek position")
        self._position = position
        return position

    def readinto(self, buffer):
        view = memoryview(buffer).cast("B")
        want = min(len(view), max(0, self.size - self._position))
        if want == 0:
            return 0
        got = self._client._core().get_into(self._container, self._name, view[:want], self._position, self.etag)
        self._position += got
        return got

    def readall(self):
        rest = max(0, self.size - self._position)
        data = bytearray(rest)
        got = self.readinto(data) if rest else 0
        del data[got:]
        return bytes(data)


class ObjectWriter(io.RawIOBase):
    """Streams bytes into a staged upload, a block of `block_bytes` at a time with up to
    `parallel` blocks in flight; close() commits them as one object, atomically. Leaving a
    `with` block by an exception, or calling abort(), drops the upload instead: the previous
    object of that name, if any, stays as it was."""

    def __init__(self, client, container, name, *, content_type=None, metadata=None, block_bytes=None,
                 parallel=4):
        super().__init__()
        self._client, self._container, self._name = client, container, name
        self._content_type, self._metadata = content_type, metadata
        self._block_bytes = block_bytes or client.piece_bytes
        self._parallel = max(1, parallel)
        self._upload = client._core().create_upload(container, name)
        self._buffer = bytearray()
        self._blocks = []
        self._pending = collections.deque()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=self._parallel,
                                                           thread_name_prefix="cerulean-writer")
        self._written = 0
        self._done = False
        self._pid = os.getpid()
        self.info = None

    def writable(self):
        return True

    def tell(self):
        return self._written

    def write(self, data):
        """Copies `data` (the caller may reuse it at once)."""
        view = self._begin_write(data)
        count = len(view)
        while len(view):
            view = self._fill_buffer(view)
        return count

    def write_borrowed(self, data):
        """Like write, but whole blocks are staged straight from `data`, which the caller must
        leave unchanged until close() returns (checkpoints write tensors this way)."""
        view = self._begin_write(data)
        if self._buffer:
            view = self._fill_buffer(view)
        while len(view) >= self._block_bytes:
            self._stage(view[:self._block_bytes])
            view = view[self._block_bytes:]
        self._buffer += view

    def _begin_write(self, data):
        if self._done:
            raise ValueError("write to a closed object writer")
        view = memoryview(data).cast("B")
        self._written += len(view)
        return view

    def _fill_buffer(self, view):
        """Copies what fits of `view` into the block being filled, staging it when full; returns
        the rest."""
        take = min(len(view), self._block_bytes - len(self._buffer))
        self._buffer += view[:take]
        if len(self._buffer) == self._block_bytes:
            self._stage(self._buffer)
            self._buffer = bytearray()
        return view[take:]

    def _stage(self, data):
        block_id = f"{len(self._blocks):08d}"
        self._blocks.append(block_id)
        core = self._client._core()
        # Blocks get cheap CRC-composite ETags: nobody asks for per-block MD5s here, and MD5
        # would be the slowest step of the write.
        self._pending.append(self._pool.submit(core.stage_block, self._container, self._name, self._upload,
                                               block_id, data, False))
        # Bounded memory: at most `parallel` blocks waiting; a failure surfaces here.
        while len(self._pending) > self._parallel:
            self._pending.popleft().result()

    def close(self):
        if self._done:
            return
        self._done = True
        try:
            if self._buffer:
                self._stage(self._buffer)
                self._buffer = bytearray()
            while self._pending:
                self._pending.popleft().result()
            self.info = self._client._core().commit_blocks(self._container, self._name, self._upload, self._blocks,
                                                           self._content_type, self._metadata)
        except BaseException:
            self._drop()
            raise
        finally:
            self._pool.shutdown(wait=True)
            super().close()

    def abort(self):
        """Drops everything written; the object is not created or changed."""
        if self._done:
            return
        self._done = True
        try:
            self._drop()
        finally:
            super().close()

    def _drop(self):
        # Blocks still in flight finish (or fail) before the upload goes, so that none is staged
        # after the abort. An error here must not hide the one that brought us here.
        for future in self._pending:
            future.cancel()
        self._pending.clear()
        self._pool.shutdown(wait=True)
        try:
            self._client._core().abort_upload(self._container, self._name, self._upload)
        except Exception:  # noqa: BLE001 - the upload is left to expire; nothing was published
            pass

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            self.abort()
            return False
        self.close()
        return False

    def __del__(self):
        # A writer dropped without close() publishes nothing. A forked child's copy leaves the
        # parent's upload alone.
        if not getattr(self, "_done", True) and self._pid == os.getpid():
            try:
                self.abort()
            except Exception:  # noqa: BLE001 - interpreter shutdown; the server expires it
                pass


def open_object(client, container, name, mode="rb", *, buffer_size=1 << 20, **kwargs):
    if mode in ("rb", "r"):
        reader = ObjectReader(client, container, name)
        if mode == "r":
            return io.TextIOWrapper(io.BufferedReader(reader, buffer_size), encoding=kwargs.get("encoding", "utf-8"))
        return io.BufferedReader(reader, buffer_size)
    if mode in ("wb", "w"):
        writer = ObjectWriter(client, container, name, **{k: v for k, v in kwargs.items() if k != "encoding"})
        if mode == "w":
            return io.TextIOWrapper(writer, encoding=kwargs.get("encoding", "utf-8"))
        return writer
    raise ValueError(f"mode {mode!r}: cerulean objects open as 'rb', 'r', 'wb' or 'w'")
