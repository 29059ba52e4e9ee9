"""PyTorch datasets: a DataLoader with worker processes over 10,000 small samples, map-style and
iterable, each sample exactly once and intact; sharding by rank."""

import torch
import torch.utils.data

from cerulean.datasets import ObjectDataset, ObjectIterableDataset

SAMPLES = 10_000


def sample(i):
    return i.to_bytes(4, "little") * (8 + i % 50)


def decode(data, name):
    return int.from_bytes(data[:4], "little"), len(data), name


def fill(client, container):
    for i in range(SAMPLES):
        client.put(container, f"train/{i:05d}.bin", sample(i))


def test_dataloader_with_workers_over_10000_samples(client, container):
    fill(client, container)

    dataset = ObjectDataset(client, container, "train/", decode=decode)
    assert len(dataset) == SAMPLES
    assert dataset[123][0] == 123
    loader = torch.utils.data.DataLoader(dataset, batch_size=100, shuffle=True, num_workers=2,
                                         collate_fn=lambda batch: batch)
    seen = [item for batch in loader for item in batch]
    assert sorted(index for index, _, _ in seen) == list(range(SAMPLES))
    assert all(size == len(sample(index)) for index, size, _ in seen)

    iterable = ObjectIterableDataset(client, container, "train/", decode=decode, shuffle=True, prefetch=64)
    loader = torch.utils.data.DataLoader(iterable, batch_size=50, num_workers=2, collate_fn=lambda batch: batch)
    seen = [item for batch in loader for item in batch]
    assert sorted(index for index, _, _ in seen) == list(range(SAMPLES))
    assert all(size == len(sample(index)) for index, size, _ in seen)

    # Two ranks of a world of two share the data with no overlap.
    shards = [sorted(decode(d, "")[0] for d in ObjectIterableDataset(client, container, "train/", rank=r,
                                                                       world_size=2, batch=16))
              for r in range(2)]
    assert not set(shards[0]) & set(shards[1])
    assert sorted(shards[0] + shards[1]) == list(range(SAMPLES))


def test_spawned_workers_get_a_pickled_client(client, container):
    for i in range(200):
        client.put(container, f"spawn/{i:03d}", sample(i))
    for dataset in (ObjectDataset(client, container, "spawn/", decode=decode),
                    ObjectIterableDataset(client, container, "spawn/", decode=decode)):
        loader = torch.utils.data.DataLoader(dataset, batch_size=None, num_workers=2,
                                             multiprocessing_context="spawn")
        assert sorted(index for index, _, _ in loader) == list(range(200))
