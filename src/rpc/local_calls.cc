#include "rpc/local_calls.h"

#include <map>
#include <string>
#include <utility>

namespace cerulean::rpc::local_calls {
namespace {

using Key = std::pair<const Env*, std::string>;

std::map<Key, RpcServer*>& Table() {
  thread_local std::map<Key, RpcServer*> table;
  return table;
}

thread_local uint64_t generation = 1;

}  // namespace

void Offer(Env& env, const NetAddress& address, RpcServer& server) {
  Table()[{&env, address.ToString()}] = &server;
  generation++;
}

void Withdraw(Env& env, const NetAddress& address, const RpcServer& server) {
  auto found = Table().find({&env, address.ToString()});
  if (found != Table().end() && found->second == &server) {
    Table().erase(found);
    generation++;
  }
}

RpcServer* Find(Env& env, const NetAddress& address) {
  auto& table = Table();
  if (table.empty()) return nullptr;
  auto found = table.find({&env, address.ToString()});
  return found == table.end() ? nullptr : found->second;
}

uint64_t Generation() { return generation; }

}  // namespace cerulean::rpc::local_calls
