"""fsspec: "cerulean://" paths through fsspec.open, ls/info/cat/rm, and pandas reading and
writing CSV and Parquet-free formats through storage_options."""

import fsspec
import pandas as pd


def test_fsspec_open_ls_cat_rm(server, client, container):
    fs = fsspec.filesystem("cerulean", endpoint=server.endpoint)
    with fsspec.open(f"cerulean://{container}/dir/a.txt", "wb", endpoint=server.endpoint) as f:
        f.write(b"hello fsspec")
    fs.pipe_file(f"{container}/dir/sub/b.bin", b"0123456789")
    assert fs.cat_file(f"cerulean://{container}/dir/a.txt") == b"hello fsspec"
    assert fs.cat_file(f"{container}/dir/sub/b.bin", start=2, end=5) == b"234"
    assert fs.cat_file(f"{container}/dir/sub/b.bin", start=-3) == b"789"
    assert sorted(fs.ls(f"{container}/dir", detail=False)) == [f"{container}/dir/a.txt", f"{container}/dir/sub"]
    assert fs.info(f"{container}/dir/sub")["type"] == "directory"
    assert fs.info(f"{container}/dir/a.txt")["size"] == 12
    assert fs.exists(f"{container}/dir/a.txt") and not fs.exists(f"{container}/dir/none")
    assert sorted(fs.find(f"{container}/dir")) == [f"{container}/dir/a.txt", f"{container}/dir/sub/b.bin"]
    with fsspec.open(f"cerulean://{container}/dir/a.txt", "r", endpoint=server.endpoint) as f:
        assert f.read() == "hello fsspec"
    fs.rm(f"{container}/dir/a.txt")
    assert not fs.exists(f"{container}/dir/a.txt")


def test_pandas_reads_and_writes_csv(server, container):
    frame = pd.DataFrame({"a": range(1000), "b": [f"row{i}" for i in range(1000)]})
    uri = f"cerulean://{container}/tables/t.csv"
    frame.to_csv(uri, index=False, storage_options={"endpoint": server.endpoint})
    back = pd.read_csv(uri, storage_options={"endpoint": server.endpoint})
    assert back.equals(frame)
