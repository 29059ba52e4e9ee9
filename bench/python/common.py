"""What the Python benchmarks share: a real all-in-one server on free ports, pinned to a core,
and medians."""

import os
import re
import signal
import statistics
import subprocess
import tempfile
import time


class Server:
    """`cerulean server` on core `core`, data in a fresh directory under `parent`."""

    def __init__(self, binary, core=0, parent=None, shards=1):
        self.directory = tempfile.mkdtemp(prefix="cerulean-bench-", dir=parent)
        self.log = os.path.join(self.directory, "server.log")
        command = [binary, "server", "--rpc-port", "0", "--resp-port", "-1", "--s3-port", "-1", "--azure-port",
                   "-1", "--shards", str(shards), "--data", os.path.join(self.directory, "data")]
        if core is not None and os.cpu_count() > 1:
            command = ["taskset", "-c", str(core)] + command
        self.process = subprocess.Popen(command, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.findall(r"rpc=([0-9.]+:[0-9]+)", open(self.log).read())
            if found:
                self.endpoint = found[-1]
                return
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + open(self.log).read())
            time.sleep(0.05)
        raise RuntimeError("server did not report its address")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        subprocess.run(["rm", "-rf", self.directory], check=False)


def pin_to(core):
    if core is not None and os.cpu_count() > 1:
        os.sched_setaffinity(0, {core})


def median(values):
    return statistics.median(values)


def machine():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}"
