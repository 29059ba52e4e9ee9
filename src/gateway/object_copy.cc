#include "gateway/object_copy.h"

#include <algorithm>

namespace cerulean::gateway {
namespace {

// An object's bytes as a body to receive.
class LayoutSource : public BodySource {
 public:
  LayoutSource(client::ClientCore& objects, const client::Layout& layout, uint64_t offset, uint64_t length)
      : objects_(objects), layout_(layout), at_(offset), end_(offset + length) {}

  Task<Result<size_t>> Read(std::span<std::byte> into) override {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(into.size(), end_ - at_));
    if (want == 0) co_return size_t{0};
    CO_ASSIGN_OR_RETURN(size_t n, co_await objects_.ReadWithLayout(layout_, at_, into.first(want)));
    if (n != want) co_return Status::DataLoss("the copy source ended early");
    at_ += n;
    co_return n;
  }

 private:
  client::ClientCore& objects_;
  const client::Layout& layout_;
  uint64_t at_;
  uint64_t end_;
};

}  // namespace

Task<ReceivedBody> CopyIntoPieces(client::ClientCore& objects, const client::Layout& source, uint64_t offset,
                                  uint64_t length, const std::string& container, const std::string& name,
                                  uint64_t piece_bytes) {
  LayoutSource body(objects, source, offset, length);
  BodyUploadOptions options;
  options.piece_bytes = piece_bytes;
  ReceivedBody received = co_await ReceiveIntoPieces(objects, container, name, body, options);
  // A failed read of the source is the server's failure, not a client's cut body.
  received.client_failed = false;
  co_return received;
}

}  // namespace cerulean::gateway
