#include "base/check.h"

#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

namespace cerulean::detail {

CheckFailure::CheckFailure(const char* file, int line, const char* condition) {
  stream_ << file << ":" << line << ": CHECK(" << condition << ") failed: ";
}

CheckFailure::~CheckFailure() {
  const std::string message = stream_.str();
  spdlog::critical("{}", message);
  spdlog::default_logger()->flush();
  std::fprintf(stderr, "%s\n", message.c_str());
  std::abort();
}

}  // namespace cerulean::detail
