#include "gateway/object_stream.h"

#include <algorithm>

#include "base/buffer_pool.h"
#include "base/logging.h"

namespace cerulean::gateway {

Task<void> StreamObjectBody(client::ClientCore& objects, http::HttpExchange& exchange, const client::Layout& layout,
                            uint64_t first, uint64_t length, uint64_t buffer_bytes, std::string_view what) {
  if (length == 0) co_return;
  PooledBuffer buffer = PooledBuffer::Allocate(std::min(length, buffer_bytes));
  for (uint64_t at = first; at < first + length;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), first + length - at));
    auto read = co_await objects.ReadWithLayout(layout, at, buffer.span().first(want));
    if (!read.ok() || *read != want) {
      LOG_WARN("{} failed after {} bytes: {}", what, at - first, read.ok() ? "short read" : read.status().ToString());
      exchange.CloseAfter();
      co_return;
    }
    if (!(co_await exchange.Write(buffer.span().first(want))).ok()) co_return;
    at += want;
  }
}

}  // namespace cerulean::gateway
