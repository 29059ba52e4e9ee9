// Commands that talk to a running server over rpc: `cerulean health` and `cerulean version
// --target`. Each prints a human line and returns the process exit code.
#pragma once

#include "rpc/call.h"
#include "runtime/net_address.h"

namespace cerulean::cli {

// One call with an empty request to `target`, with short timeouts: these commands are for
// people and scripts.
Result<rpc::CallResult> CallOnce(const NetAddress& target, uint32_t method);

int RunHealth(const NetAddress& target);
int RunRemoteVersion(const NetAddress& target);

}  // namespace cerulean::cli
