#include "gateway/object_stream.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "base/buffer_pool.h"
#include "base/logging.h"
#include "runtime/when_all.h"

namespace cerulean::gateway {
namespace {

// One chunk of the range into `into`; a short read is an error.
Task<Status> ReadChunk(client::ClientCore& objects, const client::Layout& layout, uint64_t at, std::span<std::byte> into) {
  auto read = co_await objects.ReadWithLayout(layout, at, into);
  if (!read.ok()) co_return read.status();
  if (*read != into.size()) co_return Status::Internal(fmt::format("short read: {} of {} bytes", *read, into.size()));
  co_return Status::Ok();
}

}  // namespace

Task<void> StreamObjectBody(client::ClientCore& objects, http::HttpExchange& exchange, const client::Layout& layout,
                            uint64_t first, uint64_t length, uint64_t buffer_bytes, std::string_view what) {
  if (length == 0) co_return;
  const uint64_t end = first + length;
  const size_t chunk_bytes = static_cast<size_t>(std::min(length, buffer_bytes));
  // Two buffers: the next chunk is read while the one before goes to the client, so that the
  // disk (or the storage node) and the socket work at the same time.
  PooledBuffer buffers[2] = {PooledBuffer::Allocate(chunk_bytes),
                             length > chunk_bytes ? PooledBuffer::Allocate(chunk_bytes) : PooledBuffer()};
  const auto chunk_at = [&](uint64_t at) { return static_cast<size_t>(std::min<uint64_t>(chunk_bytes, end - at)); };
  Status read = co_await ReadChunk(objects, layout, first, buffers[0].span().first(chunk_at(first)));
  size_t current = 0;
  uint64_t reading = first;  // where the last read began
  for (uint64_t at = first; read.ok();) {
    const std::span<const std::byte> ready = buffers[current].span().first(chunk_at(at));
    const uint64_t next = at + ready.size();
    if (next == end) {
      (void)co_await exchange.Write(ready);
      co_return;
    }
    std::vector<Task<Status>> both;
    both.push_back(exchange.Write(ready));
    both.push_back(ReadChunk(objects, layout, next, buffers[1 - current].span().first(chunk_at(next))));
    reading = next;
    std::vector<Status> done = co_await WhenAll(std::move(both));
    if (!done[0].ok()) co_return;  // the client went away
    read = std::move(done[1]);
    at = next;
    current = 1 - current;
  }
  LOG_WARN("{} failed after {} bytes: {}", what, reading - first, read.ToString());
  exchange.CloseAfter();
}

}  // namespace cerulean::gateway
