// `cerulean server`: runs the server until SIGINT or SIGTERM, then drains and exits.
#pragma once

#include "cli/server_config.h"

namespace cerulean::cli {

int RunServer(const ServerConfig& config);

}  // namespace cerulean::cli
