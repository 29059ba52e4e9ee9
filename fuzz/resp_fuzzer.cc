// libFuzzer target: arbitrary bytes as what a client sends the KV cache: a stream of RESP
// commands (the Redis front end's parser), and KV rpc control messages (the storage nodes'
// decoders). A crash, sanitizer report or read out of bounds is a bug; a clean error, or an
// incomplete command, is the expected outcome.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kv/kv_messages.h"
#include "resp/resp_parser.h"

using namespace cerulean;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const resp::ParseLimits limits{.arguments_max = 1024, .bulk_bytes_max = 1 << 16, .inline_bytes_max = 4096};
  std::vector<std::string_view> arguments;
  // Walk the input as consecutive commands, as a connection does.
  while (!input.empty()) {
    auto parsed = resp::ParseCommand(input, limits, arguments);
    if (parsed.state != resp::ParseState::kComplete) break;
    if (parsed.consumed == 0 || parsed.consumed > input.size()) __builtin_trap();
    for (std::string_view argument : arguments) {
      if (argument.data() < input.data() || argument.data() + argument.size() > input.data() + input.size()) {
        __builtin_trap();  // an argument must view the input
      }
    }
    input.remove_prefix(parsed.consumed);
  }
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  (void)kv::DecodeKvPutRequest(bytes);
  (void)kv::DecodeKvKeysRequest(bytes);
  (void)kv::DecodeKvOutcomesResponse(bytes);
  (void)kv::DecodeKvGetResponse(bytes);
  (void)kv::DecodeKvNamespaceResponse(bytes);
  return 0;
}
