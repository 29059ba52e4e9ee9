// Commands that talk to a running server over rpc: `cerulean health` and `cerulean version
// --target`. Each prints a human line and returns the process exit code.
#pragma once

#include "runtime/net_address.h"

namespace cerulean::cli {

int RunHealth(const NetAddress& target);
int RunRemoteVersion(const NetAddress& target);

}  // namespace cerulean::cli
