#include "runtime/sim/sim_disk.h"

#include <fmt/format.h>

#include "runtime/sim/sim_file.h"
#include "runtime/sim/sim_inode.h"
#include "runtime/sim/sim_world.h"

namespace cerulean {
namespace {

// "a//b/" -> "a/b"; the root stays "/". Paths are plain strings: no "." or ".." resolution.
Result<std::string> Normalize(std::string_view path) {
  if (path.empty()) return Status::InvalidArgument("empty path");
  std::string normal;
  normal.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !normal.empty() && normal.back() == '/') continue;
    normal.push_back(c);
  }
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

// "/a/b" -> "/a", "/a" -> "/", "a" -> "" (the relative root).
std::string_view Parent(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string_view BaseName(std::string_view path) { return path.substr(path.rfind('/') + 1); }

// How many pieces a power loss can tear [offset, offset + length) into: its sector-aligned parts.
uint64_t SectorPieces(uint64_t offset, uint64_t length) {
  if (length == 0) return 0;
  const uint64_t first = offset / SimDisk::kSectorBytes;
  const uint64_t last = (offset + length - 1) / SimDisk::kSectorBytes;
  return last - first + 1;
}

// The bytes of the first `pieces` sector-aligned parts of a write at `offset`.
uint64_t PrefixBytes(uint64_t offset, uint64_t length, uint64_t pieces) {
  const uint64_t end = (offset / SimDisk::kSectorBytes + pieces) * SimDisk::kSectorBytes;
  return std::min(end, offset + length) - offset;
}

}  // namespace

SimDisk::SimDisk(SimWorld& world, std::string host) : world_(world), host_(std::move(host)) {}

SimDisk::~SimDisk() = default;

void SimDisk::set_options(const SimDiskOptions& options) {
  CHECK(options.latency_min.count() >= 0 && options.latency_min <= options.latency_max);
  CHECK(options.sync_latency_min.count() >= 0 &&
        options.sync_latency_min <= options.sync_latency_max);
  CHECK(options.failure_probability >= 0 && options.failure_probability <= 1);
  CHECK(options.bit_flip_probability >= 0 && options.bit_flip_probability <= 1);
  options_ = options;
}

void SimDisk::set_capacity_bytes(uint64_t bytes) {
  SimDiskOptions options = options_;
  options.capacity_bytes = bytes;
  set_options(options);
}

void SimDisk::set_failure_probability(double probability) {
  SimDiskOptions options = options_;
  options.failure_probability = probability;
  set_options(options);
}

void SimDisk::set_bit_flip_probability(double probability) {
  SimDiskOptions options = options_;
  options.bit_flip_probability = probability;
  set_options(options);
}

uint64_t SimDisk::used_bytes() const {
  uint64_t used = 0;
  for (const auto& [path, inode] : files_) used += inode->stored_bytes();
  return used;
}

void SimDisk::Trace(std::string_view event) { world_.Trace(host_, fmt::format("disk {}", event)); }

SimWaiter SimDisk::Latency() {
  return SimWaiter::Until(
      world_, world_.Now() + world_.RandomDuration(options_.latency_min, options_.latency_max));
}

SimWaiter SimDisk::SyncLatency() {
  return SimWaiter::Until(world_, world_.Now() + world_.RandomDuration(options_.sync_latency_min,
                                                                       options_.sync_latency_max));
}

Status SimDisk::InjectFailure(std::string_view operation, std::string_view path) {
  if (!world_.RandomChance(options_.failure_probability)) return Status::Ok();
  Trace(fmt::format("injected error: {} {}", operation, path));
  return Status::DataLoss(fmt::format("injected I/O error: {} {} on {}", operation, path, host_));
}

Status SimDisk::Reserve(const SimInode& inode, uint64_t stored_bytes, std::string_view path) const {
  if (stored_bytes <= inode.stored_bytes()) return Status::Ok();
  const uint64_t growth = stored_bytes - inode.stored_bytes();
  const uint64_t used = used_bytes();
  if (used <= options_.capacity_bytes && growth <= options_.capacity_bytes - used) {
    return Status::Ok();
  }
  return Status::ResourceExhausted(
      fmt::format("disk full on {}: {} needs {} more bytes, {} of {} used", host_, path, growth,
                  used, options_.capacity_bytes));
}

void SimDisk::MaybeFlipReadBit(std::span<std::byte> bytes, std::string_view path, uint64_t offset) {
  if (bytes.empty() || !world_.RandomChance(options_.bit_flip_probability)) return;
  const uint64_t index = world_.RandomBelow(bytes.size());
  const int bit = static_cast<int>(world_.RandomBelow(8));
  bytes[index] ^= std::byte{static_cast<unsigned char>(1u << bit)};
  Trace(fmt::format("read bit flip {} offset {} bit {}", path, offset + index, bit));
}

void SimDisk::Crash() {
  Trace("crash: power lost");
  generation_++;
  for (auto& [path, inode] : files_) {
    for (size_t index = 0; index < inode->unsynced().size(); index++) {
      PersistAfterPowerLoss(path, *inode, index);
    }
    inode->DropUnsynced();
  }
}

void SimDisk::PersistAfterPowerLoss(const std::string& path, SimInode& inode, size_t change_index) {
  const SimInode::Change& change = inode.unsynced()[change_index];
  if (change.kind == SimInode::Change::Kind::kTruncate) {
    const bool kept = world_.RandomBelow(2) == 0;
    Trace(fmt::format("crash {} truncate to {} {}", path, change.offset, kept ? "kept" : "lost"));
    if (kept) inode.Persist(change, 0);
    return;
  }
  const uint64_t length = change.bytes.size();
  const uint64_t pieces = SectorPieces(change.offset, length);
  enum Outcome : uint64_t { kKept = 0, kLost = 1, kTorn = 2 };
  // A write within one sector cannot tear: sectors are the disk's atomic unit.
  const uint64_t outcome = world_.RandomBelow(pieces >= 2 ? 3 : 2);
  const std::string where =
      fmt::format("{} write offset {} length {}", path, change.offset, length);
  if (outcome == kKept) {
    Trace(fmt::format("crash {} kept", where));
    inode.Persist(change, length);
  } else if (outcome == kLost) {
    Trace(fmt::format("crash {} lost", where));
  } else {
    const uint64_t kept_pieces = 1 + world_.RandomBelow(pieces - 1);
    Trace(fmt::format("crash {} torn {}/{} sectors", where, kept_pieces, pieces));
    inode.Persist(change, PrefixBytes(change.offset, length, kept_pieces));
  }
}

Status SimDisk::FlipBit(const std::string& path, uint64_t byte_offset, int bit) {
  ASSIGN_OR_RETURN(const std::string normal, Normalize(path));
  auto found = files_.find(normal);
  if (found == files_.end()) return Status::NotFound(fmt::format("{} on {}", normal, host_));
  if (bit < 0 || bit >= 8) return Status::InvalidArgument(fmt::format("bit {} is not 0-7", bit));
  SimInode& inode = *found->second;
  if (byte_offset >= inode.live().size() && byte_offset >= inode.durable().size()) {
    return Status::OutOfRange(fmt::format("offset {} past the end of {}", byte_offset, normal));
  }
  inode.FlipBit(byte_offset, bit);
  Trace(fmt::format("bit flip {} offset {} bit {}", normal, byte_offset, bit));
  return Status::Ok();
}

bool SimDisk::IsDirectory(std::string_view path) const {
  return path.empty() || path == "/" || directories_.contains(path);
}

bool SimDisk::HasChildren(const std::string& directory) const {
  const std::string prefix = directory == "/" ? directory : directory + "/";
  auto file = files_.lower_bound(prefix);
  if (file != files_.end() && file->first.starts_with(prefix)) return true;
  auto subdirectory = directories_.lower_bound(prefix);
  return subdirectory != directories_.end() && subdirectory->starts_with(prefix);
}

Task<Result<std::unique_ptr<File>>> SimDisk::OpenFile(std::string path, FileOptions options) {
  CO_ASSIGN_OR_RETURN(std::string normal, Normalize(path));
  if (options.truncate && options.read_only) {
    co_return Status::InvalidArgument(fmt::format("open {}: truncate and read_only", normal));
  }
  Status waited = co_await Latency();
  CHECK(waited.ok());
  CO_RETURN_IF_ERROR(InjectFailure("open", normal));
  if (IsDirectory(normal))
    co_return Status::InvalidArgument(fmt::format("{} is a directory", normal));
  auto found = files_.find(normal);
  if (found == files_.end()) {
    if (!options.create) co_return Status::NotFound(fmt::format("{} on {}", normal, host_));
    if (!IsDirectory(Parent(normal))) {
      co_return Status::NotFound(fmt::format("no directory {} on {}", Parent(normal), host_));
    }
    found = files_.emplace(normal, std::make_shared<SimInode>()).first;
    Trace(fmt::format("create {}", normal));
  }
  std::shared_ptr<SimInode> inode = found->second;
  if (options.truncate && !inode->live().empty()) {
    inode->Truncate(0);
    Trace(fmt::format("truncate {} to 0", normal));
  }
  co_return std::unique_ptr<File>(
      std::make_unique<SimFile>(*this, std::move(inode), std::move(normal), options));
}

Status SimDisk::CreateDirectories(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string normal, Normalize(path));
  // Every prefix ending before a '/', then the whole path.
  for (size_t end = normal.find('/', 1); true; end = normal.find('/', end + 1)) {
    const std::string prefix = normal.substr(0, end);
    if (files_.contains(prefix)) {
      return Status::InvalidArgument(fmt::format("{} is a file, not a directory", prefix));
    }
    if (!IsDirectory(prefix)) {
      directories_.insert(prefix);
      Trace(fmt::format("mkdir {}", prefix));
    }
    if (end == std::string::npos) return Status::Ok();
  }
}

Status SimDisk::RemoveFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string normal, Normalize(path));
  if (files_.erase(normal) == 1) {
    Trace(fmt::format("remove {}", normal));
    return Status::Ok();
  }
  if (!directories_.contains(normal)) {
    return Status::NotFound(fmt::format("{} on {}", normal, host_));
  }
  if (HasChildren(normal)) {
    return Status::FailedPrecondition(fmt::format("directory {} is not empty", normal));
  }
  directories_.erase(normal);
  Trace(fmt::format("rmdir {}", normal));
  return Status::Ok();
}

Status SimDisk::RenameFile(const std::string& from, const std::string& to) {
  ASSIGN_OR_RETURN(const std::string source, Normalize(from));
  ASSIGN_OR_RETURN(const std::string target, Normalize(to));
  auto found = files_.find(source);
  if (found == files_.end()) {
    if (IsDirectory(source)) {
      return Status::Unimplemented(fmt::format("renaming directory {}: not simulated", source));
    }
    return Status::NotFound(fmt::format("{} on {}", source, host_));
  }
  if (IsDirectory(target)) return Status::InvalidArgument(fmt::format("{} is a directory", target));
  if (!IsDirectory(Parent(target))) {
    return Status::NotFound(fmt::format("no directory {} on {}", Parent(target), host_));
  }
  if (source == target) return Status::Ok();
  std::shared_ptr<SimInode> inode = std::move(found->second);
  files_.erase(found);
  files_.insert_or_assign(target, std::move(inode));
  Trace(fmt::format("rename {} to {}", source, target));
  return Status::Ok();
}

Result<std::vector<std::string>> SimDisk::ListDirectory(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string normal, Normalize(path));
  if (!IsDirectory(normal)) {
    if (files_.contains(normal)) {
      return Status::InvalidArgument(fmt::format("{} is not a directory", normal));
    }
    return Status::NotFound(fmt::format("{} on {}", normal, host_));
  }
  std::set<std::string> names;
  for (const auto& [file, inode] : files_) {
    if (Parent(file) == normal) names.emplace(BaseName(file));
  }
  for (const std::string& directory : directories_) {
    if (Parent(directory) == normal) names.emplace(BaseName(directory));
  }
  return std::vector<std::string>(names.begin(), names.end());
}

}  // namespace cerulean
