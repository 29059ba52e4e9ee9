// Local calls: an rpc to a server of this process on the caller's own loop runs its handler
// directly, without a socket. The all-in-one server's gateways and front ends call meta and the
// storage node this way, which takes the loopback TCP stack (two kernel copies and a wake-up
// per message) off every request. The call keeps an rpc's contract: the handler sees the
// request as a server would (message, payload and its CRC32C), the caller gets the response
// message, the payload in its buffers or in CallResult::payload, and the payload's CRC32C. Only
// a server on the same Env takes local calls, so a simulated network between nodes is never
// bypassed. Single loop: the table is per thread.
#pragma once

#include <span>

#include "rpc/call.h"
#include "runtime/env.h"
#include "runtime/net_address.h"

namespace cerulean::rpc {

class RpcServer;

namespace local_calls {

// A listening server offers local calls on its address; withdrawn when it shuts down.
void Offer(Env& env, const NetAddress& address, RpcServer& server);
void Withdraw(Env& env, const NetAddress& address, const RpcServer& server);
// The server of this Env at `address`, if it takes local calls.
RpcServer* Find(Env& env, const NetAddress& address);
// Moves on every Offer and Withdraw: a caller that cached a Find may keep it while this stays.
uint64_t Generation();

}  // namespace local_calls
}  // namespace cerulean::rpc
