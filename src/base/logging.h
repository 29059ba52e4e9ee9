// Structured logging over spdlog. Messages are "event key=value key=value" so they grep and parse:
//   LOG_WARN("rpc frame rejected peer={} reason={}", peer, reason);
// spdlog's default logger is thread-safe.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

namespace cerulean {

// Sets the level ("trace", "debug", "info", "warn", "error", "off") and the line format, with the
// thread name so that shard threads are told apart.
void InitLogging(std::string_view level);

}  // namespace cerulean

#define LOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define LOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
