// The version of this build, from CMake (project version and git describe).
#pragma once

namespace cerulean::cli {

extern const char* const kVersion;
extern const char* const kBuild;

}  // namespace cerulean::cli
