// cerulean._native.KvClient: the KV-cache client (include/cerulean/kv_client.h) for Python, and
// the prefix-hash helper. Values are read from and written into caller memory: buffers, or
// (address, length) pairs such as torch tensors' (data_ptr(), nbytes); python/cerulean/kv.py
// checks addresses against registered buffers before they get here.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "buffers.h"
#include "cerulean/kv_client.h"
#include "errors.h"
#include "process_owned.h"

namespace cerulean::python {

namespace py = pybind11;

namespace {

// A key given as 32 raw bytes or 64 hex digits.
KvKey KeyOf(py::handle object) {
  if (py::isinstance<py::str>(object)) return Take(KvKey::FromHex(object.cast<std::string>()));
  BufferView view = ViewOf(object, false);
  if (view.bytes().size() != 32) throw py::value_error("a KV key is 32 bytes (or 64 hex digits)");
  return KvKey::FromBytes(std::span<const std::byte, 32>(view.bytes().data(), 32));
}

std::vector<KvKey> KeysOf(const py::sequence& keys) {
  std::vector<KvKey> out;
  out.reserve(keys.size());
  for (py::handle key : keys) out.push_back(KeyOf(key));
  return out;
}

std::vector<bool> TakeAll(std::vector<Result<bool>> results) {
  std::vector<bool> out;
  out.reserve(results.size());
  for (auto& result : results) out.push_back(Take(std::move(result)));
  return out;
}

using PyKvClient = ProcessOwned<KvClient>;

// The pieces of each value of a batch: a sequence (one per key) of sequences of buffers. The
// views pin the memory for the call.
class ValuePieces {
 public:
  ValuePieces(const py::sequence& values, bool writable) {
    for (py::handle value : values) {
      starts_.push_back(views_.size());
      for (py::handle piece : py::reinterpret_borrow<py::sequence>(value)) views_.push_back(ViewOf(piece, writable));
    }
    starts_.push_back(views_.size());
  }
  // Value i's pieces, taken once every view exists (the vector no longer moves).
  template <typename Byte>
  std::vector<std::span<Byte>> of(size_t i) const {
    std::vector<std::span<Byte>> pieces;
    for (size_t j = starts_[i]; j < starts_[i + 1]; ++j) pieces.push_back(views_[j].bytes());
    return pieces;
  }

 private:
  std::vector<BufferView> views_;
  std::vector<size_t> starts_;
};

// Memory shared with the storage nodes on this host; it keeps its client open.
struct SharedMemory {
  std::shared_ptr<PyKvClient> client;
  std::span<std::byte> bytes;
};

}  // namespace

void BindKv(py::module_& m) {
  py::class_<KvNamespace>(m, "KvNamespace")
      .def_readonly("id", &KvNamespace::id)
      .def_readonly("name", &KvNamespace::name)
      .def_readonly("replicas", &KvNamespace::replicas)
      .def_readonly("quota_bytes", &KvNamespace::quota_bytes)
      .def_readonly("value_bytes_max", &KvNamespace::value_bytes_max)
      .def_readonly("default_ttl_s", &KvNamespace::default_ttl_s)
      .def("__repr__", [](const KvNamespace& ns) { return "KvNamespace(" + ns.name + ")"; });

  py::class_<SharedMemory>(m, "SharedMemory", py::buffer_protocol())
      .def_buffer([](SharedMemory& shared) {
        return py::buffer_info(shared.bytes.data(), 1, py::format_descriptor<uint8_t>::format(), 1,
                               {static_cast<py::ssize_t>(shared.bytes.size())}, {1});
      })
      .def_property_readonly("address", [](const SharedMemory& shared) {
        return reinterpret_cast<uintptr_t>(shared.bytes.data());
      })
      .def("__len__", [](const SharedMemory& shared) { return shared.bytes.size(); });

  py::class_<PyKvClient, std::shared_ptr<PyKvClient>>(m, "KvClient")
      .def(py::init([](const std::string& meta_address, double timeout_s) {
             KvClientOptions options;
             if (!meta_address.empty()) options.meta_address = meta_address;
             options.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
             return std::make_shared<PyKvClient>(std::move(options));
           }),
           py::arg("meta_address") = "", py::arg("timeout_s") = 10.0)
      .def("open_namespace",
           [](PyKvClient& self, std::string model, std::string dtype, std::string layout, uint32_t tp_rank,
              uint32_t pp_rank, std::string tenant, uint8_t replicas, uint64_t quota_bytes, uint32_t value_bytes_max,
              uint32_t pieces_max, uint32_t default_ttl_s) {
             KvNamespaceOptions options{.model = std::move(model), .dtype = std::move(dtype),
                                        .layout = std::move(layout), .tp_rank = tp_rank, .pp_rank = pp_rank,
                                        .tenant = std::move(tenant), .replicas = replicas,
                                        .quota_bytes = quota_bytes, .value_bytes_max = value_bytes_max,
                                        .pieces_max = pieces_max, .default_ttl_s = default_ttl_s};
             return Take(WithoutGil([&] { return self.get().OpenNamespace(options); }));
           },
           py::arg("model"), py::arg("dtype") = "", py::arg("layout") = "", py::arg("tp_rank") = 0,
           py::arg("pp_rank") = 0, py::arg("tenant") = "", py::arg("replicas") = 1, py::arg("quota_bytes") = 0,
           py::arg("value_bytes_max") = 64u << 20, py::arg("pieces_max") = 4096, py::arg("default_ttl_s") = 0)
      .def("batch_put",
           [](PyKvClient& self, const KvNamespace& ns, const py::sequence& keys, const py::sequence& values,
              uint32_t ttl_s, bool pin) {
             if (keys.size() != values.size()) throw py::value_error("batch_put: as many values as keys");
             ValuePieces pieces(values, false);
             std::vector<KvPutItem> items(keys.size());
             for (size_t i = 0; i < items.size(); ++i) {
               items[i] = {.key = KeyOf(keys[i]), .pieces = pieces.of<const std::byte>(i), .ttl_s = ttl_s, .pin = pin};
             }
             auto results = WithoutGil([&] { return self.get().BatchPut(ns, items); });
             std::vector<bool> stored;
             for (auto& result : results) stored.push_back(Take(std::move(result)) == KvPutResult::kStored);
             return stored;
           },
           py::arg("ns"), py::arg("keys"), py::arg("values"), py::arg("ttl_s") = 0, py::arg("pin") = false)
      .def("batch_get",
           [](PyKvClient& self, const KvNamespace& ns, const py::sequence& keys, const py::sequence& dests) {
             if (keys.size() != dests.size()) throw py::value_error("batch_get: as many destinations as keys");
             ValuePieces pieces(dests, true);
             std::vector<KvGetItem> items(keys.size());
             for (size_t i = 0; i < items.size(); ++i) items[i] = {.key = KeyOf(keys[i]), .pieces = pieces.of<std::byte>(i)};
             return TakeAll(WithoutGil([&] { return self.get().BatchGet(ns, items); }));
           },
           py::arg("ns"), py::arg("keys"), py::arg("dests"))
      .def("batch_exists",
           [](PyKvClient& self, const KvNamespace& ns, const py::sequence& keys, bool lease) {
             std::vector<KvKey> parsed = KeysOf(keys);
             return Take(WithoutGil([&] { return self.get().BatchExists(ns, parsed, lease); }));
           },
           py::arg("ns"), py::arg("keys"), py::arg("lease") = false)
      .def("lookup_prefix",
           [](PyKvClient& self, const KvNamespace& ns, const py::sequence& keys, bool lease) {
             std::vector<KvKey> parsed = KeysOf(keys);
             return Take(WithoutGil([&] { return self.get().LookupPrefix(ns, parsed, lease); }));
           },
           py::arg("ns"), py::arg("keys"), py::arg("lease") = false)
      .def("remove",
           [](PyKvClient& self, const KvNamespace& ns, const py::sequence& keys) {
             std::vector<KvKey> parsed = KeysOf(keys);
             return TakeAll(WithoutGil([&] { return self.get().Remove(ns, parsed); }));
           })
      .def("pin",
           [](PyKvClient& self, const KvNamespace& ns, const py::sequence& keys) {
             std::vector<KvKey> parsed = KeysOf(keys);
             return TakeAll(WithoutGil([&] { return self.get().Pin(ns, parsed); }));
           })
      .def("unpin",
           [](PyKvClient& self, const KvNamespace& ns, const py::sequence& keys) {
             std::vector<KvKey> parsed = KeysOf(keys);
             return TakeAll(WithoutGil([&] { return self.get().Unpin(ns, parsed); }));
           })
      .def("stats",
           [](PyKvClient& self) {
             KvStats s = Take(WithoutGil([&] { return self.get().Stats(); }));
             py::dict d;
             d["nodes"] = s.nodes; d["entries"] = s.entries;
             d["dram_capacity_bytes"] = s.dram_capacity_bytes; d["dram_used_bytes"] = s.dram_used_bytes;
             d["live_value_bytes"] = s.live_value_bytes; d["index_bytes"] = s.index_bytes;
             d["gets"] = s.gets; d["hits"] = s.hits; d["puts"] = s.puts; d["stored"] = s.stored;
             d["evicted"] = s.evicted; d["expired"] = s.expired;
             d["ssd_capacity_bytes"] = s.ssd_capacity_bytes; d["ssd_used_bytes"] = s.ssd_used_bytes;
             d["ssd_hits"] = s.ssd_hits; d["demoted"] = s.demoted; d["promoted"] = s.promoted;
             d["ssd_evicted"] = s.ssd_evicted; d["shm_regions"] = s.shm_regions; d["shm_bytes"] = s.shm_bytes;
             return d;
           })
      .def("allocate_shared",
           [](std::shared_ptr<PyKvClient> self, size_t bytes) {
             std::span<std::byte> region = Take(WithoutGil([&] { return self->get().AllocateShared(bytes); }));
             return SharedMemory{std::move(self), region};
           },
           py::arg("bytes"));

  m.def("prefix_keys",
        [](const std::vector<uint32_t>& tokens, size_t block_tokens, const std::string& seed) {
          if (block_tokens == 0) throw py::value_error("block_tokens must be at least 1");
          std::vector<KvKey> keys = KvPrefixHasher(seed).Keys(tokens, block_tokens);
          py::list out;
          for (const KvKey& key : keys) out.append(py::bytes(reinterpret_cast<const char*>(key.bytes.data()), 32));
          return out;
        },
        py::arg("tokens"), py::arg("block_tokens"), py::arg("seed") = "",
        "Keys of the full blocks of `tokens` (docs/protocols/kv_cache.md, \"Keys\"): 32-byte digests.");
}

}  // namespace cerulean::python
