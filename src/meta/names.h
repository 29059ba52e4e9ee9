// Validation of container and object names. Containers follow the rules S3 buckets and Azure
// containers share, so one name works through both gateways; objects are any UTF-8 up to 1024
// bytes. A violation is InvalidArgument whose message names the rule. Pure; thread-safe.
#pragma once

#include <string_view>

#include "base/status.h"

namespace cerulean::meta {

inline constexpr size_t kContainerNameBytesMin = 3;
inline constexpr size_t kContainerNameBytesMax = 63;
inline constexpr size_t kObjectNameBytesMax = 1024;

// 3-63 characters of lowercase letters, digits and hyphens; starting and ending with a letter
// or digit; no two hyphens in a row (Azure's rule, which S3 names also meet).
Status ValidateContainerName(std::string_view name);
// 1-1024 bytes of valid UTF-8 (no overlong forms, no surrogates), without NUL.
Status ValidateObjectName(std::string_view name);

}  // namespace cerulean::meta
