// cerulean._native.Client: the native C++ client (include/cerulean/client.h) for Python. Every
// call that waits on the network runs without the GIL; reads go straight into the caller's
// buffer when one is given. python/cerulean/client.py wraps it with fork handling and pickling.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "buffers.h"
#include "cerulean/client.h"
#include "errors.h"
#include "process_owned.h"

namespace cerulean::python {

namespace py = pybind11;

namespace {

// Metadata came from any client (S3, Azure): text that is not UTF-8 is decoded leniently.
py::str Text(const std::string& text) {
  return py::reinterpret_steal<py::str>(
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace"));
}

py::dict DictOf(const UserMetadata& metadata) {
  py::dict dict;
  for (const auto& [key, value] : metadata) dict[Text(key)] = Text(value);
  return dict;
}

UserMetadata MetadataOf(const std::optional<py::dict>& dict) {
  UserMetadata metadata;
  if (!dict) return metadata;
  for (auto [key, value] : *dict) metadata.emplace_back(py::str(key), py::str(value));
  return metadata;
}

ReadConditions ConditionsOf(std::optional<std::string> if_match, std::optional<std::string> if_none_match) {
  return {.if_match = std::move(if_match), .if_none_match = std::move(if_none_match)};
}

// A Python bytes object of `length` bytes to read into, shrunk afterwards to what was read.
struct BytesTarget {
  explicit BytesTarget(size_t length) {
    object = py::reinterpret_steal<py::object>(PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(length)));
    if (!object) throw py::error_already_set();
  }
  std::span<std::byte> span() const {
    return {reinterpret_cast<std::byte*>(PyBytes_AS_STRING(object.ptr())),
            static_cast<size_t>(PyBytes_GET_SIZE(object.ptr()))};
  }
  py::bytes Finish(size_t read) {
    PyObject* raw = object.release().ptr();
    if (read != static_cast<size_t>(PyBytes_GET_SIZE(raw)) && _PyBytes_Resize(&raw, static_cast<Py_ssize_t>(read)) != 0) {
      throw py::error_already_set();
    }
    return py::reinterpret_steal<py::bytes>(raw);
  }
  py::object object;
};

using PyClient = ProcessOwned<Client>;

void BindTypes(py::module_& m) {
  py::class_<ObjectInfo>(m, "ObjectInfo")
      .def_readonly("container", &ObjectInfo::container)
      .def_readonly("name", &ObjectInfo::name)
      .def_readonly("size", &ObjectInfo::size)
      .def_readonly("etag", &ObjectInfo::etag)
      .def_readonly("content_type", &ObjectInfo::content_type)
      .def_property_readonly("metadata", [](const ObjectInfo& info) { return DictOf(info.metadata); })
      .def_readonly("created_unix_ns", &ObjectInfo::created_unix_ns)
      .def_readonly("modified_unix_ns", &ObjectInfo::modified_unix_ns)
      .def_readonly("crc32c", &ObjectInfo::crc32c)
      .def("__repr__", [](const ObjectInfo& info) {
        return "ObjectInfo(" + info.container + "/" + info.name + ", size=" + std::to_string(info.size) +
               ", etag=" + info.etag + ")";
      });
  py::class_<ContainerInfo>(m, "ContainerInfo")
      .def_readonly("name", &ContainerInfo::name)
      .def_readonly("created_unix_ns", &ContainerInfo::created_unix_ns)
      .def_readonly("public_read", &ContainerInfo::public_read)
      .def_property_readonly("metadata", [](const ContainerInfo& info) { return DictOf(info.metadata); })
      .def("__repr__", [](const ContainerInfo& info) { return "ContainerInfo(" + info.name + ")"; });
}

}  // namespace

void BindClient(py::module_& m) {
  BindTypes(m);
  py::class_<PyClient>(m, "Client")
      .def(py::init([](std::string meta_address, std::string embedded_directory, uint32_t piece_bytes,
                       uint32_t parallel_pieces, uint8_t replicas, double timeout_s, double layout_cache_ttl_s) {
             ClientOptions options;
             if (!meta_address.empty()) options.meta_address = std::move(meta_address);
             options.embedded_directory = std::move(embedded_directory);
             options.piece_bytes = piece_bytes;
             options.parallel_pieces = parallel_pieces;
             options.replicas = replicas;
             options.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
             options.layout_cache_ttl = std::chrono::milliseconds(static_cast<int64_t>(layout_cache_ttl_s * 1000));
             return std::make_unique<PyClient>(std::move(options));
           }),
           py::arg("meta_address") = "", py::arg("embedded_directory") = "", py::arg("piece_bytes") = 8u << 20,
           py::arg("parallel_pieces") = 8, py::arg("replicas") = 0, py::arg("timeout_s") = 30.0,
           py::arg("layout_cache_ttl_s") = 0.0)
      .def_property_readonly("meta_address", [](PyClient& self) { return self.get().meta_address(); })

      // Containers.
      .def("create_container",
           [](PyClient& self, const std::string& name, bool public_read, std::optional<py::dict> metadata) {
             ContainerOptions options{.public_read = public_read, .metadata = MetadataOf(metadata)};
             Check(WithoutGil([&] { return self.get().CreateContainer(name, options); }));
           },
           py::arg("name"), py::arg("public_read") = false, py::arg("metadata") = py::none())
      .def("delete_container",
           [](PyClient& self, const std::string& name) {
             Check(WithoutGil([&] { return self.get().DeleteContainer(name); }));
           })
      .def("get_container",
           [](PyClient& self, const std::string& name) {
             return Take(WithoutGil([&] { return self.get().GetContainer(name); }));
           })
      .def("list_containers",
           [](PyClient& self, const std::string& prefix) {
             return Take(WithoutGil([&] { return self.get().ListContainers(prefix); }));
           },
           py::arg("prefix") = "")

      // Objects.
      .def("put",
           [](PyClient& self, const std::string& container, const std::string& name, py::handle data,
              std::optional<std::string> content_type, std::optional<py::dict> metadata,
              std::optional<std::string> if_match, std::optional<std::string> if_none_match, bool md5_etag) {
             BufferView view = ViewOf(data, false);
             PutOptions options{.metadata = MetadataOf(metadata), .if_match = std::move(if_match),
                                .if_none_match = std::move(if_none_match), .md5_etag = md5_etag};
             if (content_type) options.content_type = *content_type;
             std::span<const std::byte> bytes = view.bytes();
             return Take(WithoutGil([&] { return self.get().Put(container, name, bytes, options); }));
           },
           py::arg("container"), py::arg("name"), py::arg("data"), py::arg("content_type") = py::none(),
           py::arg("metadata") = py::none(), py::arg("if_match") = py::none(), py::arg("if_none_match") = py::none(),
           py::arg("md5_etag") = false)
      .def("get",
           [](PyClient& self, const std::string& container, const std::string& name,
              std::optional<std::string> if_match, std::optional<std::string> if_none_match) {
             ReadConditions conditions = ConditionsOf(std::move(if_match), std::move(if_none_match));
             std::string data = Take(WithoutGil([&] { return self.get().Get(container, name, conditions); }));
             return py::bytes(data);
           },
           py::arg("container"), py::arg("name"), py::arg("if_match") = py::none(),
           py::arg("if_none_match") = py::none())
      .def("get_range",
           [](PyClient& self, const std::string& container, const std::string& name, uint64_t offset,
              uint64_t length) {
             BytesTarget target(length);
             std::span<std::byte> into = target.span();
             size_t read = Take(WithoutGil([&] { return self.get().GetRange(container, name, offset, into); }));
             return target.Finish(read);
           },
           py::arg("container"), py::arg("name"), py::arg("offset"), py::arg("length"))
      .def("get_into",
           [](PyClient& self, const std::string& container, const std::string& name, py::handle buffer,
              uint64_t offset, std::optional<std::string> if_match) {
             BufferView view = ViewOf(buffer, true);
             std::span<std::byte> into = view.bytes();
             ReadConditions conditions = ConditionsOf(std::move(if_match), std::nullopt);
             return Take(
                 WithoutGil([&] { return self.get().GetRange(container, name, offset, into, conditions); }));
           },
           py::arg("container"), py::arg("name"), py::arg("buffer"), py::arg("offset") = 0,
           py::arg("if_match") = py::none())
      .def("batch_get",
           [](PyClient& self, const std::vector<std::tuple<std::string, std::string, uint64_t, uint64_t>>& items) {
             std::vector<BytesTarget> targets;
             std::vector<RangeRead> reads;
             targets.reserve(items.size());
             reads.reserve(items.size());
             for (const auto& [container, name, offset, length] : items) {
               targets.emplace_back(length);
               reads.push_back({container, name, offset, length, targets.back().span()});
             }
             auto results = WithoutGil([&] { return self.get().BatchGet(std::move(reads)); });
             py::list out;
             for (size_t i = 0; i < results.size(); ++i) out.append(targets[i].Finish(Take(std::move(results[i]))));
             return out;
           },
           py::arg("items"))
      .def("batch_get_into",
           [](PyClient& self, const std::vector<std::tuple<std::string, std::string, uint64_t, py::object>>& items) {
             std::vector<BufferView> views;
             std::vector<RangeRead> reads;
             views.reserve(items.size());
             reads.reserve(items.size());
             for (const auto& [container, name, offset, buffer] : items) {
               views.push_back(ViewOf(buffer, true));
               reads.push_back({container, name, offset, views.back().bytes().size(), views.back().bytes()});
             }
             auto results = WithoutGil([&] { return self.get().BatchGet(std::move(reads)); });
             std::vector<size_t> read;
             for (auto& result : results) read.push_back(Take(std::move(result)));
             return read;
           },
           py::arg("items"))
      .def("head",
           [](PyClient& self, const std::string& container, const std::string& name) {
             return Take(WithoutGil([&] { return self.get().Head(container, name); }));
           })
      .def("delete",
           [](PyClient& self, const std::string& container, const std::string& name, std::optional<std::string> if_match) {
             ReadConditions conditions = ConditionsOf(std::move(if_match), std::nullopt);
             Check(WithoutGil([&] { return self.get().Delete(container, name, conditions); }));
           },
           py::arg("container"), py::arg("name"), py::arg("if_match") = py::none())
      .def("list_page",
           [](PyClient& self, const std::string& container, std::string prefix, std::string delimiter,
              std::string start_after, uint32_t page_size) {
             ListOptions options{.prefix = std::move(prefix), .delimiter = std::move(delimiter),
                                 .start_after = std::move(start_after), .page_size = page_size};
             ObjectPage page = Take(WithoutGil([&] { return self.get().ListPage(container, options); }));
             return py::make_tuple(std::move(page.objects), std::move(page.common_prefixes), page.truncated,
                                   std::move(page.next_start_after));
           },
           py::arg("container"), py::arg("prefix") = "", py::arg("delimiter") = "", py::arg("start_after") = "",
           py::arg("page_size") = 1000)

      // Staged uploads: what streamed writers and checkpoints are built on.
      .def("create_upload",
           [](PyClient& self, const std::string& container, const std::string& name) {
             return Take(WithoutGil([&] { return self.get().CreateUpload(container, name); }));
           })
      .def("stage_block",
           [](PyClient& self, const std::string& container, const std::string& name, const std::string& upload_id,
              const std::string& block_id, py::handle data, bool md5_etag) {
             BufferView view = ViewOf(data, false);
             std::span<const std::byte> bytes = view.bytes();
             StageOptions options{.md5_etag = md5_etag};
             StagedBlockInfo block = Take(WithoutGil(
                 [&] { return self.get().StageBlock(container, name, upload_id, block_id, bytes, options); }));
             return py::make_tuple(block.id, block.size, block.etag);
           },
           py::arg("container"), py::arg("name"), py::arg("upload_id"), py::arg("block_id"), py::arg("data"),
           py::arg("md5_etag") = true)
      .def("commit_blocks",
           [](PyClient& self, const std::string& container, const std::string& name, const std::string& upload_id,
              const std::vector<std::string>& block_ids, std::optional<std::string> content_type,
              std::optional<py::dict> metadata, std::optional<std::string> if_none_match) {
             std::vector<BlockToCommit> blocks;
             blocks.reserve(block_ids.size());
             for (const auto& id : block_ids) blocks.push_back({id, BlockSource::kUncommitted});
             PutOptions options{.metadata = MetadataOf(metadata), .if_none_match = std::move(if_none_match)};
             if (content_type) options.content_type = *content_type;
             return Take(
                 WithoutGil([&] { return self.get().CommitBlocks(container, name, upload_id, blocks, options); }));
           },
           py::arg("container"), py::arg("name"), py::arg("upload_id"), py::arg("block_ids"),
           py::arg("content_type") = py::none(), py::arg("metadata") = py::none(),
           py::arg("if_none_match") = py::none())
      .def("abort_upload",
           [](PyClient& self, const std::string& container, const std::string& name, const std::string& upload_id) {
             Check(WithoutGil([&] { return self.get().AbortUpload(container, name, upload_id); }));
           });
}

}  // namespace cerulean::python
