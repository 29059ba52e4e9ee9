"""Fixtures: a real all-in-one `cerulean server` (the binary the build made) on free loopback
ports and a temporary data directory, shared by the whole session, and a client of it."""

import os
import re
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

import cerulean


def _binary():
    binary = os.environ.get("CERULEAN_BINARY")
    if not binary:
        pytest.exit("CERULEAN_BINARY is not set: run the tests through ctest, or set it to build/<preset>/cerulean")
    return binary


class Server:
    def __init__(self, directory):
        self.directory = directory
        self.log_path = os.path.join(directory, "server.log")
        self.process = None
        self.endpoint = None

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [_binary(), "server", "--rpc-port", "0", "--resp-port", "-1", "--s3-port", "-1", "--azure-port", "-1",
             "--kv-dram-mib", "256", "--kv-ssd-mib", "0", "--data", os.path.join(self.directory, "data")],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                match = re.findall(rb"rpc=([0-9.]+:[0-9]+)", f.read())
            if match:
                self.endpoint = match[-1].decode()
                return
            if self.process.poll() is not None:
                raise RuntimeError("cerulean server exited at start:\n" + open(self.log_path).read())
            time.sleep(0.05)
        raise RuntimeError("cerulean server did not report its address")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


@pytest.fixture(scope="session")
def server():
    with tempfile.TemporaryDirectory(prefix="cerulean-pytest-") as directory:
        s = Server(directory)
        s.start()
        yield s
        s.stop()


@pytest.fixture(scope="session")
def client(server):
    return cerulean.Client(server.endpoint)


@pytest.fixture
def container(client):
    """A fresh container per test."""
    name = "t-" + uuid.uuid4().hex[:12]
    client.create_container(name)
    return name
