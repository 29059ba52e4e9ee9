"""The KV-cache client with torch tensors: round trips of per-layer pieces, put-if-absent,
exists and longest-prefix lookups, pointer lists inside registered buffers (and refused
outside them), shared memory, clear errors; the prefix-hash helper against the repository's
test vectors, shared with the C++ tests."""

import json
import os

import pytest
import torch

import cerulean
from cerulean.kv import KVClient, prefix_hashes

LAYERS = 8
PIECE = 32 << 10  # bytes per layer piece


def test_prefix_hashes_match_the_shared_test_vectors():
    path = os.path.join(os.environ["CERULEAN_SOURCE_DIR"], "tests/data/kv_prefix_vectors.json")
    with open(path) as f:
        vectors = json.load(f)["vectors"]
    assert len(vectors) >= 4
    for vector in vectors:
        keys = prefix_hashes(vector["tokens"], vector["block_tokens"], vector["seed"])
        assert [k.hex() for k in keys] == vector["keys"]
    assert prefix_hashes(torch.tensor(vectors[0]["tokens"]), vectors[0]["block_tokens"], vectors[0]["seed"]) == \
        [bytes.fromhex(k) for k in vectors[0]["keys"]]


def layers(seed):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(PIECE // 2, generator=generator).to(torch.bfloat16) for _ in range(LAYERS)]


def test_tensor_round_trips_and_prefix_lookup(server):
    kv = KVClient(server.endpoint, model="test-model", dtype="bf16", tenant="pytest")
    tokens = list(range(16 * 6))
    keys = prefix_hashes(tokens, 16, seed="test-model")
    assert len(keys) == 6
    values = [layers(i) for i in range(4)]
    assert kv.batch_put_from(keys[:4], values) == [True] * 4
    assert kv.batch_put_from(keys[:1], values[:1]) == [False]  # put-if-absent
    assert kv.lookup_prefix(keys) == 4
    assert kv.batch_exists(keys) == [True, True, True, True, False, False]

    into = [[torch.empty(PIECE // 2, dtype=torch.bfloat16) for _ in range(LAYERS)] for _ in range(6)]
    assert kv.batch_get_into(keys, into) == [True, True, True, True, False, False]
    for got, want in zip(into[:4], values):
        assert all(torch.equal(a, b) for a, b in zip(got, want))

    with pytest.raises(cerulean.InvalidArgument):  # wrong piece count
        kv.batch_get_into(keys[:1], [[torch.empty(PIECE // 2, dtype=torch.bfloat16)]])
    assert kv.remove(keys[:1]) == [True]
    assert kv.lookup_prefix(keys) == 0
    assert kv.stats()["entries"] >= 3

    other_tenant = KVClient(server.endpoint, model="test-model", dtype="bf16", tenant="someone-else")
    assert other_tenant.batch_exists(keys[1:4]) == [False] * 3  # namespaces are isolated


def test_pointer_lists_need_registered_memory(server):
    kv = KVClient(server.endpoint, model="ptr-model", dtype="u8", tenant="pytest")
    pool = torch.zeros(4 * PIECE, dtype=torch.uint8)
    kv.register_buffer(pool)
    base = pool.data_ptr()
    pool[:PIECE] = 7
    key = prefix_hashes(list(range(16)), 16, seed="ptr")[0]
    assert kv.batch_put_from([key], ptrs=[[base]], sizes=[[PIECE]]) == [True]
    assert kv.batch_get_into([key], ptrs=[[base + PIECE]], sizes=[[PIECE]]) == [True]
    assert torch.equal(pool[PIECE:2 * PIECE], pool[:PIECE])

    with pytest.raises(ValueError, match="registered"):
        kv.batch_get_into([key], ptrs=[[base + 4 * PIECE - 10]], sizes=[[PIECE]])  # runs past the end
    stranger = torch.zeros(PIECE, dtype=torch.uint8)
    with pytest.raises(ValueError, match="registered"):
        kv.batch_get_into([key], ptrs=[[stranger.data_ptr()]], sizes=[[PIECE]])
    with pytest.raises(ValueError):
        kv.batch_put_from([key, key], [pool[:PIECE]])  # two keys, one value

    # Read-only memory can be put from, never written into.
    frozen = bytes(PIECE)
    frozen_at = kv.register_buffer(frozen)
    with pytest.raises(ValueError, match="read-only"):
        kv.batch_get_into([key], ptrs=[[frozen_at]], sizes=[[PIECE]])
    # A registered tensor that moved is refused until registered again.
    moving = torch.zeros(PIECE, dtype=torch.uint8)
    moving_at = kv.register_buffer(moving)
    moving.resize_(16 * PIECE)
    with pytest.raises(ValueError, match="moved"):
        kv.batch_get_into([key], ptrs=[[moving_at]], sizes=[[PIECE]])
    kv.unregister_buffer(moving)
    with pytest.raises(ValueError, match="registered"):
        kv.batch_get_into([key], ptrs=[[moving_at]], sizes=[[PIECE]])


def test_shared_memory_round_trip(server):
    kv = KVClient(server.endpoint, model="shm-model", dtype="u8", tenant="pytest")
    memory = kv.allocate_shared(2 * PIECE)
    region = torch.frombuffer(memory, dtype=torch.uint8)
    region[:PIECE] = torch.arange(PIECE, dtype=torch.int64).remainder(251).to(torch.uint8)
    key = prefix_hashes(list(range(32)), 32, seed="shm")[0]
    assert kv.batch_put_from([key], [region[:PIECE]]) == [True]
    assert kv.batch_get_into([key], [region[PIECE:]]) == [True]
    assert torch.equal(region[PIECE:], region[:PIECE])
    assert kv.stats()["shm_bytes"] >= 2 * PIECE


def test_bad_keys_and_namespaces_are_clear_errors(server):
    with pytest.raises(cerulean.InvalidArgument):
        KVClient(server.endpoint, model="bad/model", dtype="bf16")
    kv = KVClient(server.endpoint, model="ok-model", dtype="u8", tenant="pytest", value_bytes_max=1 << 20)
    with pytest.raises(ValueError):
        kv.batch_exists([b"short"])
    with pytest.raises(cerulean.OutOfRange, match="limit"):
        kv.batch_put_from([os.urandom(32)], [torch.zeros(2 << 20, dtype=torch.uint8)])  # over the value limit
