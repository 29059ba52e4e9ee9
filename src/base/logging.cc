#include "base/logging.h"

#include <string>

namespace cerulean {

void InitLogging(std::string_view level) {
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ t%t %v");
}

}  // namespace cerulean
