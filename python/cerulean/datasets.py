"""PyTorch datasets over the objects under a prefix (Debian's python3-torch).

    dataset = ObjectDataset(client, "imagenet", "train/", decode=decode_jpeg)
    loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=8)

Both datasets carry the client, which reconnects in forked DataLoader workers and pickles for
spawned ones.
"""

import collections
import random

import torch.utils.data


def _listing(client, container, prefix):
    return [(info.name, info.size) for info in client.list(container, prefix)]


class ObjectDataset(torch.utils.data.Dataset):
    """Map-style: item i is the i-th object under `prefix` in name order, as bytes or as
    decode(bytes, name). The names are listed once, when the dataset is made."""

    def __init__(self, client, container, prefix="", *, decode=None, names=None):
        self.client, self.container, self.prefix = client, container, prefix
        self.decode = decode
        self.names = list(names) if names is not None else [name for name, _ in _listing(client, container, prefix)]

    def __len__(self):
        return len(self.names)

    def __getitem__(self, index):
        name = self.names[index]
        data = self.client.get(self.container, name)
        return self.decode(data, name) if self.decode else data


class ObjectIterableDataset(torch.utils.data.IterableDataset):
    """Streams the objects under `prefix`, sharded so that each (rank, worker) pair reads a
    disjoint share: rank and world size come from the arguments, or from torch.distributed when
    it is initialised where the dataset is made; workers from the DataLoader. len() is the
    whole dataset's length, not one rank's share. Up to `prefetch` objects are in flight,
    read in batches by the native core while the consumer works on earlier ones.

    With shuffle, each epoch (set_epoch) visits the names in a different order, the same on
    every rank, before sharding."""

    def __init__(self, client, container, prefix="", *, decode=None, shuffle=False, seed=0, prefetch=32,
                 batch=8, rank=None, world_size=None, names=None):
        self.client, self.container, self.prefix = client, container, prefix
        self.decode = decode
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0
        self.prefetch, self.batch = max(1, prefetch), max(1, batch)
        # Resolved now, in the process that made the dataset: spawned DataLoader workers have no
        # torch.distributed of their own.
        if rank is None or world_size is None:
            distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
            rank = torch.distributed.get_rank() if distributed else 0
            world_size = torch.distributed.get_world_size() if distributed else 1
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in a world of {world_size}")
        self.rank, self.world_size = rank, world_size
        # (name, size) pairs: the sizes let a batch read whole objects in one call.
        self.objects = _listing(client, container, prefix) if names is None else \
            [(info.name, info.size) for info in (client.head(container, name) for name in names)]

    def set_epoch(self, epoch):
        self.epoch = epoch

    def _shard(self):
        rank, world = self.rank, self.world_size
        worker = torch.utils.data.get_worker_info()
        worker_id, workers = (worker.id, worker.num_workers) if worker else (0, 1)
        objects = list(self.objects)
        if self.shuffle:
            random.Random(self.seed + self.epoch).shuffle(objects)
        return objects[rank * workers + worker_id::world * workers]

    def __len__(self):
        return len(self.objects)

    def __iter__(self):
        objects = self._shard()
        batches = [objects[i:i + self.batch] for i in range(0, len(objects), self.batch)]
        window = max(1, self.prefetch // self.batch)
        pending = collections.deque()
        next_batch = 0
        while next_batch < len(batches) or pending:
            while next_batch < len(batches) and len(pending) < window:
                group = batches[next_batch]
                # One byte past the listed size: an object that grew since is read again whole.
                items = [(self.container, name, 0, size + 1) for name, size in group]
                pending.append((group, self.client.batch_get_async(items)))
                next_batch += 1
            group, future = pending.popleft()
            for (name, size), data in zip(group, future.result()):
                if len(data) > size:
                    data = self.client.get(self.container, name)
                yield self.decode(data, name) if self.decode else data
