#include "rpc/frame_reader.h"

#include <cstring>

#include <fmt/format.h>

#include "base/crc32c.h"

namespace cerulean::rpc {

FrameReader::FrameReader(Stream& stream, FrameLimits limits)
    : stream_(stream), limits_(limits), buffer_(new std::byte[kReceiveBufferBytes]) {}

Task<Status> FrameReader::ReadLargeMessage(size_t bytes, CancelToken cancel) {
  // Grown as the bytes arrive, never ahead of them by more than a step: a header alone cannot
  // make the reader hold its message's full size.
  constexpr size_t kGrowthStep = 1 << 20;
  const size_t from_buffer = std::min(buffered(), bytes);
  large_message_.resize(std::min(bytes, from_buffer + kGrowthStep));
  std::memcpy(large_message_.data(), buffer_.get() + begin_, from_buffer);
  begin_ += from_buffer;
  if (buffered() == 0) begin_ = end_ = 0;
  // The rest straight into the message's buffer, never past its end: the next frame's bytes
  // stay in the socket for the receive buffer.
  for (size_t done = from_buffer; done < bytes;) {
    if (done == large_message_.size()) large_message_.resize(std::min(bytes, done + kGrowthStep));
    iovec rest{large_message_.data() + done, large_message_.size() - done};
    auto received = co_await stream_.Read({&rest, 1}, cancel);
    if (!received.ok()) co_return received.status();
    if (*received == 0) co_return Status::Unavailable("peer closed the connection mid-frame");
    done += *received;
  }
  co_return Status::Ok();
}

Task<Status> FrameReader::Fill(size_t count, CancelToken cancel, bool at_boundary) {
  CHECK(count <= kReceiveBufferBytes);
  if (kReceiveBufferBytes - begin_ < count) {  // not enough room after begin_: compact
    std::memmove(buffer_.get(), buffer_.get() + begin_, buffered());
    end_ -= begin_;
    begin_ = 0;
  }
  while (buffered() < count) {
    iovec free_space{buffer_.get() + end_, kReceiveBufferBytes - end_};
    auto received = co_await stream_.Read({&free_space, 1}, cancel);
    if (!received.ok()) co_return received.status();
    if (*received == 0) {
      closed_between_frames_ = at_boundary && buffered() == 0;
      co_return Status::Unavailable(closed_between_frames_ ? "peer closed the connection"
                                                           : "peer closed the connection mid-frame");
    }
    end_ += *received;
  }
  co_return Status::Ok();
}

Task<Result<IncomingFrame>> FrameReader::ReadFrame(CancelToken cancel) {
  CHECK(payload_remaining_ == 0) << "previous frame's payload not consumed";
  CO_RETURN_IF_ERROR(co_await Fill(kFrameHeaderBytes, cancel, /*at_boundary=*/true));
  auto header = DecodeFrameHeader(
      std::span<const std::byte, kFrameHeaderBytes>(buffer_.get() + begin_, kFrameHeaderBytes), limits_);
  if (!header.ok()) co_return header.status();
  begin_ += kFrameHeaderBytes;
  if (large_message_.capacity() > kReceiveBufferBytes) large_message_ = {};  // the last frame's is done with
  std::span<const std::byte> message;
  if (header->message_bytes <= kReceiveBufferBytes) {
    CO_RETURN_IF_ERROR(co_await Fill(header->message_bytes, cancel));
    message = {buffer_.get() + begin_, header->message_bytes};
    begin_ += header->message_bytes;
  } else {
    CO_RETURN_IF_ERROR(co_await ReadLargeMessage(header->message_bytes, cancel));
    message = large_message_;
  }
  const uint32_t message_crc = Crc32c(message);
  if (message_crc != header->message_crc) {
    co_return Status::DataLoss(fmt::format("control message checksum {:#010x}, computed {:#010x}",
                                           header->message_crc, message_crc));
  }
  payload_remaining_ = header->payload_bytes;
  payload_crc_ = header->payload_crc;
  co_return IncomingFrame{*header, message};
}

Task<Status> FrameReader::ReadPayload(std::span<std::byte> destination, CancelToken cancel, bool check_crc) {
  CHECK_EQ(destination.size(), payload_remaining_);
  // First what came in with the header, then straight into the destination; anything beyond
  // the payload (the next frames) spills into the receive buffer through the second iovec.
  // The CRC runs over each chunk as it lands, while it is still in the cache, rather than in a
  // second pass over the whole payload from memory.
  const size_t from_buffer = std::min<size_t>(buffered(), destination.size());
  if (from_buffer > 0) std::memcpy(destination.data(), buffer_.get() + begin_, from_buffer);
  begin_ += from_buffer;
  size_t done = from_buffer;
  uint32_t crc = check_crc ? Crc32c(destination.first(from_buffer)) : 0;
  if (buffered() == 0) begin_ = end_ = 0;
  while (done < destination.size()) {
    iovec parts[2] = {{destination.data() + done, destination.size() - done},
                      {buffer_.get() + end_, kReceiveBufferBytes - end_}};
    auto received = co_await stream_.Read({parts, end_ < kReceiveBufferBytes ? 2u : 1u}, cancel);
    if (!received.ok()) co_return received.status();
    if (*received == 0) co_return Status::Unavailable("peer closed the connection mid-payload");
    const size_t into_destination = std::min(*received, destination.size() - done);
    if (check_crc) crc = Crc32c(destination.subspan(done, into_destination), crc);
    done += into_destination;
    end_ += *received - into_destination;
  }
  payload_remaining_ = 0;
  if (!check_crc) co_return Status::Ok();
  if (crc != payload_crc_) {
    co_return Status::DataLoss(
        fmt::format("payload checksum {:#010x}, computed {:#010x}", payload_crc_, crc));
  }
  co_return Status::Ok();
}

Task<Status> FrameReader::ReadPayload(std::span<const iovec> parts, CancelToken cancel, bool check_crc) {
  uint64_t total = 0;
  for (const iovec& part : parts) total += part.iov_len;
  CHECK_EQ(total, payload_remaining_);
  // A cursor over the parts: `part` and `offset` in it. Each chunk that lands is checksummed
  // while it is still in the cache.
  size_t part = 0, offset = 0;
  uint32_t crc = 0;
  const auto advance = [&](size_t bytes) {
    while (bytes > 0) {
      const size_t n = std::min(bytes, parts[part].iov_len - offset);
      if (check_crc) crc = Crc32c(static_cast<const std::byte*>(parts[part].iov_base) + offset, n, crc);
      offset += n;
      bytes -= n;
      if (offset == parts[part].iov_len) {
        part++;
        offset = 0;
      }
    }
  };
  while (part < parts.size() && parts[part].iov_len == 0) part++;
  uint64_t done = 0;
  constexpr size_t kPartsPerRead = 64;
  iovec scatter[kPartsPerRead + 1];
  while (true) {
    // First what is already in the receive buffer (what came in with the header, or spilled
    // past the parts one read could take).
    while (done < total && buffered() > 0) {
      const size_t n = std::min<size_t>(buffered(), parts[part].iov_len - offset);
      std::memcpy(static_cast<std::byte*>(parts[part].iov_base) + offset, buffer_.get() + begin_, n);
      begin_ += n;
      done += n;
      advance(n);
      while (part < parts.size() && offset == 0 && parts[part].iov_len == 0) part++;
    }
    if (buffered() == 0) begin_ = end_ = 0;
    if (done == total) break;
    // Then straight into the parts, many at a time; bytes past them (the next frames, or parts
    // beyond this read's) spill into the receive buffer through the last iovec.
    size_t count = 0;
    uint64_t into_scatter = 0;
    for (size_t i = part; i < parts.size() && count < kPartsPerRead; i++) {
      const size_t skip = i == part ? offset : 0;
      if (parts[i].iov_len == skip) continue;
      scatter[count++] = {static_cast<std::byte*>(parts[i].iov_base) + skip, parts[i].iov_len - skip};
      into_scatter += parts[i].iov_len - skip;
    }
    scatter[count++] = {buffer_.get() + end_, kReceiveBufferBytes - end_};
    auto received = co_await stream_.Read({scatter, count}, cancel);
    if (!received.ok()) co_return received.status();
    if (*received == 0) co_return Status::Unavailable("peer closed the connection mid-payload");
    const size_t into_parts = std::min<uint64_t>(*received, into_scatter);
    advance(into_parts);
    while (part < parts.size() && offset == 0 && parts[part].iov_len == 0) part++;
    done += into_parts;
    end_ += *received - into_parts;
  }
  payload_remaining_ = 0;
  if (!check_crc) co_return Status::Ok();
  if (crc != payload_crc_) {
    co_return Status::DataLoss(
        fmt::format("payload checksum {:#010x}, computed {:#010x}", payload_crc_, crc));
  }
  co_return Status::Ok();
}

Task<Status> FrameReader::SkipPayload(CancelToken cancel) {
  while (payload_remaining_ > 0) {
    if (buffered() == 0) CO_RETURN_IF_ERROR(co_await Fill(1, cancel));
    const size_t skipped = std::min<uint64_t>(buffered(), payload_remaining_);
    begin_ += skipped;
    payload_remaining_ -= skipped;
  }
  co_return Status::Ok();
}

}  // namespace cerulean::rpc
