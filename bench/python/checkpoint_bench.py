"""Checkpoint benchmark (docs/BENCHMARKS.md, "python"): save and load of a 2 GiB state_dict
(64 float32 tensors of 32 MiB) through cerulean.checkpoint, against, in the same run and on the
same disk: fio's sequential write and read bandwidth (8 MiB blocks, O_DIRECT, io_uring, depth
8, fsync at the end), and torch.save / torch.load to a local file (the save followed by fsync,
since a checkpoint save is durable on return; page cache dropped before loads when the machine
lets us). Medians of --repeats runs.

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python/checkpoint_bench.py --binary build/release/cerulean
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch

import cerulean
from cerulean import checkpoint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Server, machine, median, pin_to  # noqa: E402


def fio(directory, mode, size_mib):
    result = subprocess.run(
        ["fio", "--name=ckpt", f"--filename={directory}/fio.dat", f"--rw={mode}", "--bs=8m", f"--size={size_mib}m",
         "--direct=1", "--ioengine=io_uring", "--iodepth=8", "--end_fsync=1", "--output-format=json"],
        check=True, capture_output=True, text=True)
    job = json.loads(result.stdout)["jobs"][0]
    return job["write" if mode == "write" else "read"]["bw_bytes"] / (1 << 20)


def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("1\n")
        return True
    except OSError:
        return False


def timed(call):
    start = time.monotonic()
    call()
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="build/release/cerulean")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tensors", type=int, default=64)
    parser.add_argument("--tensor-mib", type=int, default=32)
    parser.add_argument("--out", default="bench-python-checkpoint.jsonl")
    # Unpinned by default: a checkpoint keeps the server, the client's event loop and the disk
    # busy at once, and pinning each to one core measured slower here (docs/BENCHMARKS.md).
    parser.add_argument("--pinned", action="store_true", help="server on core 0 (one shard), client on core 1")
    parser.add_argument("--shards", type=int, default=2, help="the server's event-loop shards when unpinned")
    args = parser.parse_args()

    size_mib = args.tensors * args.tensor_mib
    state = {f"layer{i}.weight": torch.rand(args.tensor_mib << 18) for i in range(args.tensors)}
    server = Server(args.binary, core=0 if args.pinned else None, parent=os.getcwd(),
                    shards=1 if args.pinned else args.shards)
    pin_to(1 if args.pinned else None)
    client = cerulean.Client(server.endpoint)
    client.create_container("ckpt")
    local = tempfile.mkdtemp(prefix="cerulean-bench-local-", dir=os.getcwd())
    path = os.path.join(local, "state.pt")

    def torch_save():
        with open(path, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())

    runs = {k: [] for k in ("fio_write", "fio_read", "torch_save", "torch_load", "save", "load")}
    cache_dropped = True
    try:
        checkpoint.save(state, "cerulean://ckpt/warm", client=client)  # warm-up: extents, connections
        checkpoint.load("cerulean://ckpt/warm", client=client)
        for i in range(args.repeats):
            runs["fio_write"].append(fio(local, "write", size_mib))
            runs["fio_read"].append(fio(local, "read", size_mib))
            os.remove(os.path.join(local, "fio.dat"))
            runs["torch_save"].append(size_mib / timed(torch_save))
            cache_dropped &= drop_caches()
            runs["torch_load"].append(size_mib / timed(lambda: torch.load(path)))
            os.remove(path)
            uri = f"cerulean://ckpt/run{i}"
            runs["save"].append(size_mib / timed(lambda: checkpoint.save(state, uri, client=client)))
            cache_dropped &= drop_caches()
            loaded = {}
            runs["load"].append(size_mib / timed(lambda: loaded.update(checkpoint.load(uri, client=client))))
            assert all(torch.equal(loaded[k], v) for k, v in state.items())
            client.delete("ckpt", f"run{i}")
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", local], check=False)
    m = {k: median(v) for k, v in runs.items()}
    row = {"bench": "python_checkpoint", "state_mib": size_mib, "tensors": args.tensors, "repeats": args.repeats,
           "machine": machine(), "pinned": args.pinned, "page_cache_dropped_before_loads": cache_dropped}
    row.update({f"{k}_mib_s": round(v, 1) for k, v in m.items()})
    row["save_vs_fio_write"] = round(m["save"] / m["fio_write"], 3)
    row["load_vs_fio_read"] = round(m["load"] / m["fio_read"], 3)
    row["save_vs_torch_save"] = round(m["save"] / m["torch_save"], 3)
    row["load_vs_torch_load"] = round(m["load"] / m["torch_load"], 3)
    print(json.dumps(row))
    with open(args.out, "a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
