#include "meta/meta_keys.h"

#include "base/check.h"

namespace cerulean::meta::keys {

std::string Container(std::string_view container) {
  std::string key(1, kContainer);
  key.append(container);
  return key;
}

std::string ContainerPrefixEnd(std::string_view prefix) {
  // Container names are [a-z0-9-]: their last byte is never 0xFF, so adding one to it is enough.
  std::string end = Container(prefix);
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

std::string Object(std::string_view container, std::string_view object) {
  std::string key(1, kObject);
  key.reserve(2 + container.size() + object.size());
  key.append(container);
  key.push_back('\0');
  key.append(object);
  return key;
}

std::string ObjectPrefixEnd(std::string_view container, std::string_view prefix) {
  // The smallest key greater than every key that starts with the prefix: drop trailing 0xFF
  // bytes, then add one to the last byte. With no such byte, the end of the container.
  std::string end = Object(container, prefix);
  const size_t floor = 2 + container.size();  // never cut into the container part
  while (end.size() > floor && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
  if (end.size() == floor) {
    end.resize(floor - 1);
    end.push_back('\x01');  // past "<container>\0..."
    return end;
  }
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

std::string_view ObjectName(std::string_view key, std::string_view container) {
  CHECK(key.size() >= 2 + container.size() && key[0] == kObject) << "not an object key";
  return key.substr(2 + container.size());
}

std::string Extent(uint64_t extent_id) {
  std::string key(1, kExtent);
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((extent_id >> shift) & 0xFF));
  return key;
}

std::string StagedBlocksOf(std::string_view container, std::string_view object, std::string_view upload_id) {
  std::string key(1, kStagedBlock);
  key.append(container).push_back('\0');
  key.append(object).push_back('\0');
  key.append(upload_id).push_back('\0');
  return key;
}

std::string StagedBlock(std::string_view container, std::string_view object, std::string_view upload_id,
                        std::string_view block_id) {
  return StagedBlocksOf(container, object, upload_id).append(block_id);
}

std::string Upload(std::string_view container, std::string_view object, std::string_view upload_id) {
  std::string key(1, kUpload);
  key.append(container).push_back('\0');
  key.append(object).push_back('\0');
  key.append(upload_id);
  return key;
}

std::string UploadsOf(std::string_view container, std::string_view prefix) {
  std::string key(1, kUpload);
  key.append(container).push_back('\0');
  key.append(prefix);
  return key;
}

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xFF) end.pop_back();
  if (end.empty()) return end;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

std::string Node(std::string_view node_id) {
  std::string key(1, kNode);
  key.append(node_id);
  return key;
}

std::string KvNamespace(std::string_view name) {
  std::string key(1, kKvNamespace);
  key += name;
  return key;
}

std::string Counter(std::string_view name) {
  std::string key(1, kCounter);
  key.append(name);
  return key;
}

}  // namespace cerulean::meta::keys
