// FrameReader: reads frames from a Stream. Headers and control messages are parsed out of a
// small receive buffer (a control message too large for it, such as a long listing, is read
// into a buffer of its own); payloads are read straight into the buffer the caller names (only the
// few bytes that arrived together with a header are copied). Every CRC is checked here: a
// frame that fails one is an error and the connection must be closed. One reader per stream;
// not thread-safe.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "base/result.h"
#include "rpc/frame.h"
#include "runtime/env.h"

namespace cerulean::rpc {

struct IncomingFrame {
  FrameHeader header;
  // The control message, inside the reader's buffer: valid only until the next call on the
  // reader (ReadPayload and SkipPayload reuse that buffer). Copy it before reading on.
  std::span<const std::byte> message;
};

class FrameReader {
 public:
  static constexpr size_t kReceiveBufferBytes = 128 * 1024;

  FrameReader(Stream& stream, FrameLimits limits);

  // The next frame's header and message. Unavailable when the peer closes (cleanly between
  // frames, or "mid-frame"); InvalidArgument, ResourceExhausted or DataLoss for a bad frame.
  Task<Result<IncomingFrame>> ReadFrame(CancelToken cancel);
  // Reads the current frame's payload into `destination` (exactly its size) and checks its CRC,
  // unless `check_crc` is false (the receiver checks it in a pass of its own).
  Task<Status> ReadPayload(std::span<std::byte> destination, CancelToken cancel, bool check_crc = true);
  // The same, scattered over `parts` in order (they add up to the payload's size).
  Task<Status> ReadPayload(std::span<const iovec> parts, CancelToken cancel, bool check_crc = true);
  // Consumes the current frame's payload without keeping it (a late response, say).
  Task<Status> SkipPayload(CancelToken cancel);
  // True once the peer has closed its side between two frames (an orderly end, not an error).
  bool closed_between_frames() const { return closed_between_frames_; }

 private:
  // Reads until at least `count` bytes are buffered. `at_boundary`: nothing of a frame has been
  // consumed yet, so an end of stream with nothing buffered is an orderly close.
  Task<Status> Fill(size_t count, CancelToken cancel, bool at_boundary = false);
  size_t buffered() const { return end_ - begin_; }
  // Reads a control message too large for the receive buffer into large_message_.
  Task<Status> ReadLargeMessage(size_t bytes, CancelToken cancel);

  Stream& stream_;
  FrameLimits limits_;
  std::unique_ptr<std::byte[]> buffer_;
  std::vector<std::byte> large_message_;
  size_t begin_ = 0;
  size_t end_ = 0;
  uint64_t payload_remaining_ = 0;
  uint32_t payload_crc_ = 0;
  bool closed_between_frames_ = false;
};

}  // namespace cerulean::rpc
