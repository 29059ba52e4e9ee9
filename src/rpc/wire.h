// WireWriter and WireReader: the explicit little-endian encoding of control messages. Every
// message type writes its fields in a fixed order with these; no struct is ever memcpy'd.
// Readers are bounds-checked: a truncated or malformed message yields InvalidArgument, never a
// read past the end. Value types; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/little_endian.h"
#include "base/result.h"

namespace cerulean::rpc {

// A growable byte buffer that keeps small messages inline (no allocation for the common case).
class MessageBuffer {
 public:
  static constexpr size_t kInlineBytes = 192;
  MessageBuffer() = default;
  MessageBuffer(const MessageBuffer&) = delete;
  MessageBuffer& operator=(const MessageBuffer&) = delete;
  MessageBuffer(MessageBuffer&& other) noexcept { *this = std::move(other); }
  MessageBuffer& operator=(MessageBuffer&& other) noexcept {
    if (this == &other) return *this;
    heap_ = std::move(other.heap_);
    size_ = other.size_;
    capacity_ = other.capacity_;
    if (heap_ == nullptr) {
      data_ = inline_;
      std::memcpy(inline_, other.inline_, size_);
    } else {
      data_ = heap_.get();
    }
    other.data_ = other.inline_;
    other.size_ = 0;
    other.capacity_ = kInlineBytes;
    return *this;
  }

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const std::byte> span() const { return {data_, size_}; }
  void Clear() { size_ = 0; }
  void Assign(std::span<const std::byte> bytes) {
    Clear();
    Append(bytes.data(), bytes.size());
  }
  void Append(const void* bytes, size_t count) {
    std::byte* destination = Grow(count);
    if (count > 0) std::memcpy(destination, bytes, count);
  }
  // Makes room for `count` more bytes and returns where they go.
  std::byte* Grow(size_t count) {
    const size_t needed = size_ + count;
    if (needed > capacity_) Reallocate(std::max(needed, 2 * capacity_));
    std::byte* destination = data_ + size_;
    size_ = needed;
    return destination;
  }
  // Room for `bytes` in all without another allocation: for a message whose size is known.
  void Reserve(size_t bytes) {
    if (bytes > capacity_) Reallocate(bytes);
  }

 private:
  void Reallocate(size_t capacity) {
    // Not value-initialized: only the bytes in use are copied, none is zeroed.
    std::unique_ptr<std::byte[]> bigger(new std::byte[capacity]);
    std::memcpy(bigger.get(), data_, size_);
    heap_ = std::move(bigger);
    data_ = heap_.get();
    capacity_ = capacity;
  }

  std::byte inline_[kInlineBytes];
  std::unique_ptr<std::byte[]> heap_;
  std::byte* data_ = inline_;  // inline_ or heap_.get()
  size_t size_ = 0;
  size_t capacity_ = kInlineBytes;
};

class WireWriter {
 public:
  explicit WireWriter(MessageBuffer& out) : out_(out) {}
  void U8(uint8_t v) { Put(v); }
  void U16(uint16_t v) { Put(v); }
  void U32(uint32_t v) { Put(v); }
  void U64(uint64_t v) { Put(v); }
  void I64(int64_t v) { Put(static_cast<uint64_t>(v)); }
  void Bool(bool v) { Put(static_cast<uint8_t>(v ? 1 : 0)); }
  // A u32 length, then the bytes.
  void Bytes(std::span<const std::byte> bytes) {
    U32(static_cast<uint32_t>(bytes.size()));
    out_.Append(bytes.data(), bytes.size());
  }
  void String(std::string_view text) {
    U32(static_cast<uint32_t>(text.size()));
    out_.Append(text.data(), text.size());
  }

 private:
  template <typename T>
  void Put(T value) {
    StoreLittleEndian<T>(out_.Grow(sizeof(T)), value);
  }
  MessageBuffer& out_;
};

class WireReader {
 public:
  explicit WireReader(std::span<const std::byte> in) : in_(in) {}

  Result<uint8_t> U8() { return Get<uint8_t>(); }
  Result<uint16_t> U16() { return Get<uint16_t>(); }
  Result<uint32_t> U32() { return Get<uint32_t>(); }
  Result<uint64_t> U64() { return Get<uint64_t>(); }
  Result<int64_t> I64() {
    auto v = Get<uint64_t>();
    if (!v.ok()) return v.status();
    return static_cast<int64_t>(*v);
  }
  Result<bool> Bool() {
    auto v = Get<uint8_t>();
    if (!v.ok()) return v.status();
    if (*v > 1) return Status::InvalidArgument("boolean field is neither 0 nor 1");
    return *v == 1;
  }
  // Returns a view into the message; valid while the message buffer is.
  Result<std::span<const std::byte>> Bytes(uint32_t length_max = UINT32_MAX) {
    auto length = Get<uint32_t>();
    if (!length.ok()) return length.status();
    if (*length > length_max) return Status::InvalidArgument("field longer than its limit");
    if (*length > in_.size() - offset_) return Truncated();
    auto bytes = in_.subspan(offset_, *length);
    offset_ += *length;
    return bytes;
  }
  Result<std::string> String(uint32_t length_max = UINT32_MAX) {
    auto bytes = Bytes(length_max);
    if (!bytes.ok()) return bytes.status();
    return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  }
  size_t remaining() const { return in_.size() - offset_; }
  // A message must be consumed exactly: trailing bytes mean sender and receiver disagree.
  Status ExpectEnd() const {
    if (remaining() != 0) return Status::InvalidArgument("trailing bytes after message");
    return Status::Ok();
  }

 private:
  static Status Truncated() { return Status::InvalidArgument("message truncated"); }
  template <typename T>
  Result<T> Get() {
    if (in_.size() - offset_ < sizeof(T)) return Truncated();
    T value = LoadLittleEndian<T>(in_.data() + offset_);
    offset_ += sizeof(T);
    return value;
  }
  std::span<const std::byte> in_;
  size_t offset_ = 0;
};

// The control message of `message`, for any type with an `Encode(const T&, WireWriter&)`.
template <typename Message>
MessageBuffer EncodeMessage(const Message& message) {
  MessageBuffer buffer;
  WireWriter writer(buffer);
  Encode(message, writer);
  return buffer;
}

}  // namespace cerulean::rpc
