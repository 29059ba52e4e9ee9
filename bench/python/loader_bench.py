"""MLPerf-shaped loader benchmark (docs/BENCHMARKS.md, "python"): resnet50-like samples
(114.7 KB, one per object) and unet3d-like samples (146.6 MB, one per object) read whole, in a
shuffled order, through cerulean.datasets.ObjectIterableDataset, against the native C++ client
doing the same reads (bench/python/native_reads.cc) in the same run with the same batches and
as many batches in flight. Reports samples/s, MiB/s, the ratio, and how many simulated H100s
the rate sustains at >= 90% utilisation (../shared/reference/ai-workloads.md: 176 MiB/s per
H100 for resnet50, 2,727 MiB/s for unet3d). Python reads twice: iterating the dataset in the
process, and through DataLoader(num_workers=2) whose workers hand over batches of `batch`
samples.

    PYTHONPATH=build/release/python /usr/bin/python3 bench/python/loader_bench.py \
        --binary build/release/cerulean --native build/release/bench/python/python_bench_native_reads
"""

import argparse
import json
import os
import subprocess
import sys
import time

import torch.utils.data

import cerulean
from cerulean.datasets import ObjectIterableDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Server, machine, median, pin_to  # noqa: E402

WORKLOADS = {
    # name: (sample bytes, MiB/s one simulated H100 needs at 90% utilisation)
    "resnet50": (114_700, 176.0),
    "unet3d": (146_600_000, 2727.0),
}


def native_pass(args, endpoint, container, batch, inflight, core):
    command = [args.native, "--meta", endpoint, "--container", container, "--threads", str(inflight), "--batch",
               str(batch), "--seed", str(int(time.time()))]
    if os.cpu_count() > 1:
        command = ["taskset", "-c", str(core)] + command
    result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    return result["samples"], result["bytes"], result["seconds"]


def _size_of(data, name):
    return len(data)


def python_pass(client, container, batch, inflight, workers):
    dataset = ObjectIterableDataset(client, container, shuffle=True, seed=int(time.time()), batch=batch,
                                    prefetch=batch * inflight)
    start = time.monotonic()
    samples = total = 0
    if workers == 0:
        for data in dataset:
            samples += 1
            total += len(data)
    else:
        # A decode hook that keeps the sample's size only, and batches of `batch` samples as a
        # training loop takes them: what crosses the worker pipe is a list of sizes per batch,
        # so this measures reading, not DataLoader's inter-process copies of the bytes.
        dataset.decode = _size_of
        loader = torch.utils.data.DataLoader(dataset, batch_size=batch, num_workers=workers, collate_fn=list)
        for sizes in loader:
            samples += len(sizes)
            total += sum(sizes)
    return samples, total, time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="build/release/cerulean")
    parser.add_argument("--native", default="build/release/bench/python/python_bench_native_reads")
    parser.add_argument("--repeats", type=int, default=3)
    # An epoch long enough that starting the DataLoader's workers (a fork and a client each) weighs
    # little in it: at 4,000 samples (~0.45 s a pass here) DataLoader measured 0.73-0.88x of the
    # native reads, at 16,000 0.91-0.93x (docs/BENCHMARKS.md, "python").
    parser.add_argument("--resnet-samples", type=int, default=16000)
    parser.add_argument("--unet-samples", type=int, default=8)
    parser.add_argument("--out", default="bench-python-loader.jsonl")
    args = parser.parse_args()

    server = Server(args.binary, core=0)
    pin_to(1)
    client = cerulean.Client(server.endpoint)
    rows = []
    try:
        for workload, count, batch, inflight in (("resnet50", args.resnet_samples, 16, 4),
                                                 ("unet3d", args.unet_samples, 1, 4)):
            size, need = WORKLOADS[workload]
            client.create_container(workload)
            sample = os.urandom(size)
            for i in range(count):
                client.put(workload, f"{i:06d}", sample[i % 256:] + sample[:i % 256])
            native_pass(args, server.endpoint, workload, batch, inflight, 1)  # warm-up
            python_pass(client, workload, batch, inflight, 0)
            figures = {"native": [], "python": [], "dataloader": []}
            for _ in range(args.repeats):
                figures["native"].append(native_pass(args, server.endpoint, workload, batch, inflight, 1))
                figures["python"].append(python_pass(client, workload, batch, inflight, 0))
                figures["dataloader"].append(python_pass(client, workload, batch, inflight, 2))
            rates = {}
            for way, runs in figures.items():
                assert all(samples == count for samples, _, _ in runs), (way, runs)
                rates[way] = (median([s / t for s, _, t in runs]), median([b / t / (1 << 20) for _, b, t in runs]))
            row = {"bench": "python_loader", "workload": workload, "samples": count, "sample_bytes": size,
                   "batch": batch, "batches_in_flight": inflight, "repeats": args.repeats, "machine": machine()}
            for way, (samples_s, mib_s) in rates.items():
                row[f"{way}_samples_s"] = round(samples_s, 1)
                row[f"{way}_mib_s"] = round(mib_s, 1)
                row[f"{way}_h100s"] = int(mib_s // need)
            row["python_vs_native"] = round(rates["python"][1] / rates["native"][1], 3)
            row["dataloader_vs_native"] = round(rates["dataloader"][1] / rates["native"][1], 3)
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.stop()
    with open(args.out, "a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(f"{'workload':10} {'native MiB/s':>13} {'python MiB/s':>13} {'ratio':>6} {'DataLoader(2)':>14} {'ratio':>6}"
          f" {'sim. H100s (py)':>15}")
    for r in rows:
        print(f"{r['workload']:10} {r['native_mib_s']:13.1f} {r['python_mib_s']:13.1f} {r['python_vs_native']:6.2f}"
              f" {r['dataloader_mib_s']:14.1f} {r['dataloader_vs_native']:6.2f} {r['python_h100s']:15d}")


if __name__ == "__main__":
    main()
