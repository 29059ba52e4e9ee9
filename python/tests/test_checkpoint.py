"""Checkpoints: save and load of a model with >= 100 tensors and >= 1 GiB; nested state with
non-tensor values; a crash (SIGKILL) during a save leaves the previous checkpoint loadable;
torch.save / torch.load through file objects; refusal of untrusted pickled classes."""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

import cerulean
from cerulean import checkpoint


def big_state(seed, tensors=128, elements=2 << 20):
    """`tensors` float32 tensors of `elements` each: 128 x 8 MiB = 1 GiB by default."""
    generator = torch.Generator().manual_seed(seed)
    state = {f"layer{i}.weight": torch.empty(elements).uniform_(generator=generator) for i in range(tensors)}
    state["step"] = seed
    return state


def test_save_and_load_a_1gib_model_of_128_tensors(client, container):
    state = big_state(1)
    assert sum(t.numel() * t.element_size() for t in state.values() if isinstance(t, torch.Tensor)) >= 1 << 30
    info = checkpoint.save(state, f"cerulean://{container}/model.ckpt", client=client)
    assert info.size >= 1 << 30
    loaded = checkpoint.load(f"cerulean://{container}/model.ckpt", client=client)
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        if isinstance(value, torch.Tensor):
            assert loaded[key].dtype == value.dtype and torch.equal(loaded[key], value), key
        else:
            assert loaded[key] == value


def test_nested_state_dtypes_and_shapes(client, container):
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(8, 16)).sum().backward()
    optimizer.step()
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "extra": {"bf16": torch.randn(3, 5).to(torch.bfloat16), "int": torch.arange(10, dtype=torch.int64),
                  "bool": torch.tensor([True, False]), "scalar": torch.tensor(3.5), "empty": torch.empty(0, 4),
                  "strided": torch.randn(6, 4).t(), "names": ["a", "b"], "tuple": (1, 2.5, None)},
    }
    uri = f"cerulean://{container}/nested.ckpt"
    checkpoint.save(state, uri, client=client)
    loaded = checkpoint.load(uri, client=client)
    for key, value in state["model"].items():
        assert torch.equal(loaded["model"][key], value)
    assert loaded["optimizer"]["param_groups"] == state["optimizer"]["param_groups"]
    for index, slot in state["optimizer"]["state"].items():
        for name, value in slot.items():
            assert torch.equal(loaded["optimizer"]["state"][index][name], value)
    for key, value in state["extra"].items():
        if isinstance(value, torch.Tensor):
            assert loaded["extra"][key].dtype == value.dtype and loaded["extra"][key].shape == value.shape
            assert torch.equal(loaded["extra"][key], value), key
        else:
            assert loaded["extra"][key] == value
    model2 = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    model2.load_state_dict(loaded["model"])


CRASHING_SAVE = textwrap.dedent("""
    import os, signal, sys, torch
    import cerulean
    from cerulean import checkpoint, objectio
    client = cerulean.Client(sys.argv[1], piece_bytes=1 << 20)
    staged = 0
    original = objectio.ObjectWriter._stage
    def stage_then_die(self, data):
        global staged
        original(self, data)
        staged += 1
        if staged == 20:  # mid-save: 20 of ~64 blocks staged, nothing committed
            while self._pending:
                self._pending.popleft().result()
            os.kill(os.getpid(), signal.SIGKILL)
    objectio.ObjectWriter._stage = stage_then_die
    state = {f"w{i}": torch.full((1 << 18,), float(i)) for i in range(64)}
    checkpoint.save(state, sys.argv[2], client=client)
""")


def test_a_crash_during_save_leaves_the_previous_checkpoint(server, client, container):
    uri = f"cerulean://{container}/crash.ckpt"
    previous = {f"w{i}": torch.full((1 << 18,), -float(i)) for i in range(64)}
    checkpoint.save(previous, uri, client=client)
    result = subprocess.run([sys.executable, "-c", CRASHING_SAVE, server.endpoint, uri], env=os.environ,
                            capture_output=True, timeout=120)
    assert result.returncode == -9, result.stderr.decode()
    loaded = checkpoint.load(uri, client=client)
    assert loaded.keys() == previous.keys()
    for key in previous:
        assert torch.equal(loaded[key], previous[key])


def test_torch_save_and_load_through_file_objects(client, container):
    model = torch.nn.Linear(64, 64)
    with client.open(container, "torch.pt", "wb") as f:
        torch.save(model.state_dict(), f)
    with client.open(container, "torch.pt", "rb") as f:
        loaded = torch.load(f)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded[key], value)


def test_untrusted_classes_and_garbage_are_refused(client, container):
    import argparse
    uri = f"cerulean://{container}/untrusted.ckpt"
    checkpoint.save({"args": argparse.Namespace(lr=0.1), "w": torch.ones(3)}, uri, client=client)
    with pytest.raises(Exception, match="trusted=True"):
        checkpoint.load(uri, client=client)
    assert checkpoint.load(uri, client=client, trusted=True)["args"].lr == 0.1
    client.put(container, "garbage.ckpt", b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a cerulean checkpoint"):
        checkpoint.load(f"cerulean://{container}/garbage.ckpt", client=client)
    with pytest.raises(cerulean.NotFound):
        checkpoint.load(f"cerulean://{container}/missing.ckpt", client=client)


def test_tied_weights_and_requires_grad(client, container):
    shared = torch.randn(4, 4)
    trainable = torch.randn(3, requires_grad=True)
    nonleaf = trainable * 2  # not a leaf, but requires grad
    state = {"encoder.weight": shared, "decoder.weight": shared, "p": trainable, "q": nonleaf}
    uri = f"cerulean://{container}/tied.ckpt"
    info = checkpoint.save(state, uri, client=client)
    loaded = checkpoint.load(uri, client=client)
    assert loaded["encoder.weight"] is loaded["decoder.weight"]
    assert torch.equal(loaded["encoder.weight"], shared)
    assert loaded["p"].requires_grad and loaded["q"].requires_grad
    assert torch.equal(loaded["q"].detach(), nonleaf.detach())
    assert info.size < 4096 + 4 * 4 * 4 + 2 * 64 + 64  # the tied tensor's bytes once


def test_a_corrupt_shape_allocates_nothing(client, container):
    import io
    import pickle
    import struct
    marker = object()

    class Hostile(pickle.Pickler):
        # A reference claiming a 2**40-element tensor held in 64 bytes.
        def persistent_id(self, obj):
            return ("tensor", "float32", (1 << 20, 1 << 20), 0, 64, False, 0) if obj is marker else None

    buffer = io.BytesIO()
    Hostile(buffer, protocol=4).dump({"w": marker})
    head = struct.pack("<8sQ", b"CRLNCKP1", len(buffer.getvalue())) + buffer.getvalue()
    client.put(container, "hostile.ckpt", head + bytes(4096 - len(head)) + bytes(64))
    with pytest.raises(ValueError, match="corrupt checkpoint"):  # refused before torch.empty
        checkpoint.load(f"cerulean://{container}/hostile.ckpt", client=client)
