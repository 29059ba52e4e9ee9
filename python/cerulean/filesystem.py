"""fsspec filesystem for "cerulean://container/path" (Debian's python3-fsspec), so that pandas,
dask, xarray and other fsspec users open objects unchanged:

    pandas.read_csv("cerulean://data/table.csv", storage_options={"endpoint": "host:7400"})

Containers are the top-level directories; "/" in object names makes the directories below.
Files open for reading ("rb") one version of an object, and for writing ("wb") as a stream
that appears when closed. fsspec's OpenFile (and so pandas) closes a file on the way out of a
`with` block even after an exception, which publishes what was written, as a local file would
keep it; call abort() on the file to publish nothing.
"""

from fsspec.spec import AbstractFileSystem

from .client import Client
from .errors import NotFound


class CeruleanFileSystem(AbstractFileSystem):
    protocol = "cerulean"
    root_marker = ""

    def __init__(self, endpoint=None, *, embedded=None, client=None, **kwargs):
        super().__init__(**kwargs)
        self.client = client if client is not None else Client(endpoint, embedded=embedded)

    @classmethod
    def _strip_protocol(cls, path):
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = path[len("cerulean://"):] if path.startswith("cerulean://") else path
        return path.strip("/")

    @staticmethod
    def _split(path):
        container, _, name = path.partition("/")
        return container, name

    def _object_entry(self, container, info):
        return {"name": f"{container}/{info.name}", "size": info.size, "type": "file", "etag": info.etag,
                "content_type": info.content_type, "mtime": info.modified_unix_ns / 1e9}

    def ls(self, path, detail=True, **kwargs):
        path = self._strip_protocol(path)
        if not path:
            entries = [{"name": c.name, "size": 0, "type": "directory"} for c in self.client.list_containers()]
        else:
            container, name = self._split(path)
            prefix = name + "/" if name else ""
            objects, prefixes = self.client.list_dir(container, prefix)
            entries = [{"name": f"{container}/{p.rstrip('/')}", "size": 0, "type": "directory"} for p in prefixes]
            entries += [self._object_entry(container, o) for o in objects]
            if not entries and name:
                entries = [self.info(path)]  # a file lists as itself
        return entries if detail else [e["name"] for e in entries]

    def info(self, path, **kwargs):
        path = self._strip_protocol(path)
        if not path:
            return {"name": "", "size": 0, "type": "directory"}
        container, name = self._split(path)
        if not name:
            self.client.get_container(container)  # NotFound when missing
            return {"name": container, "size": 0, "type": "directory"}
        try:
            return self._object_entry(container, self.client.head(container, name))
        except NotFound:
            # A directory exists through what is under it: one entry of one page says so.
            objects, prefixes, _, _ = self.client._core().list_page(container, name + "/", "/", "", 1)
            if objects or prefixes:
                return {"name": path, "size": 0, "type": "directory"}
            raise FileNotFoundError(path) from None

    def cat_file(self, path, start=None, end=None, **kwargs):
        container, name = self._split(self._strip_protocol(path))
        if start is None and end is None:
            return self.client.get(container, name)
        # Clipped to the object's size first: fsspec callers pass ends far past it, and a range
        # is read into a buffer of its length.
        size = self.client.head(container, name).size
        start = 0 if start is None else (max(0, start + size) if start < 0 else start)
        end = size if end is None else (max(0, end + size) if end < 0 else min(end, size))
        if end <= start:
            return b""
        return self.client.get_range(container, name, start, end - start)

    def pipe_file(self, path, value, **kwargs):
        container, name = self._split(self._strip_protocol(path))
        self.client.put(container, name, value)

    def _open(self, path, mode="rb", block_size=None, autocommit=True, cache_options=None, **kwargs):
        container, name = self._split(self._strip_protocol(path))
        if not name:
            raise IsADirectoryError(path)
        if "r" in mode:
            return self.client.open(container, name, "rb", buffer_size=block_size or (1 << 20))
        if "w" in mode:
            return self.client.open(container, name, "wb")
        raise ValueError(f"mode {mode!r}: cerulean files open for reading or writing, not appending")

    def rm_file(self, path):
        container, name = self._split(self._strip_protocol(path))
        self.client.delete(container, name)

    def _rm(self, path):
        self.rm_file(path)

    def mkdir(self, path, create_parents=True, **kwargs):
        container, name = self._split(self._strip_protocol(path))
        if not name:
            self.client.create_container(container, exist_ok=True)
        # Directories below a container exist through the objects in them.

    def makedirs(self, path, exist_ok=False):
        self.mkdir(path)

    def rmdir(self, path):
        container, name = self._split(self._strip_protocol(path))
        if not name:
            self.client.delete_container(container)

    def created(self, path):
        import datetime
        info = self.client.head(*self._split(self._strip_protocol(path)))
        return datetime.datetime.fromtimestamp(info.created_unix_ns / 1e9, tz=datetime.timezone.utc)

    def modified(self, path):
        import datetime
        info = self.client.head(*self._split(self._strip_protocol(path)))
        return datetime.datetime.fromtimestamp(info.modified_unix_ns / 1e9, tz=datetime.timezone.utc)
