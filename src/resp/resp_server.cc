#include "resp/resp_server.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "base/logging.h"
#include "kv/kv_messages.h"

namespace cerulean::resp {
namespace {

constexpr size_t kReadChunk = 64 << 10;
constexpr size_t kFlushBytes = 1 << 20;

std::string Upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

bool ParseInt(std::string_view text, int64_t& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

// Redis's error prefixes: OOM for a full cache, ERR for the rest.
void AppendStatus(std::string& out, const Status& status) {
  if (status.code() == StatusCode::kResourceExhausted) {
    AppendError(out, fmt::format("OOM {}", status.message()));
  } else {
    AppendError(out, fmt::format("ERR {}", status.message()));
  }
}

void AppendWrongArity(std::string& out, std::string_view command) {
  std::string lower(command);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  AppendError(out, fmt::format("ERR wrong number of arguments for '{}' command", lower));
}

}  // namespace

KvKey KeyOfName(std::string_view name) { return kv::KeyOfName("cerulean.resp.v1", name); }

// One client connection: reads commands, runs them in order, writes the replies of everything
// that arrived together in one write (pipelining).
class RespServer::Connection {
 public:
  Connection(RespServer& server, Stream& stream, uint64_t id) : server_(server), stream_(stream), id_(id) {}

  Task<void> Run() {
    std::vector<std::string_view> arguments;
    while (true) {
      // Run every whole command already here.
      bool close = false;
      while (!close) {
        const std::string_view pending(buffer_.data() + begin_, filled_ - begin_);
        ParseResult parsed = ParseCommand(pending, server_.options_.limits, arguments);
        if (parsed.state == ParseState::kError) {
          AppendError(out_, fmt::format("ERR Protocol error: {}", parsed.error));
          close = true;
          break;
        }
        if (parsed.state == ParseState::kIncomplete) {
          needed_ = parsed.needed;
          break;
        }
        needed_ = 0;
        if (!arguments.empty()) close = !co_await Execute(arguments);
        begin_ += parsed.consumed;  // after Execute: the arguments view the buffer
        if (out_.size() >= kFlushBytes && !(co_await Flush())) co_return;
      }
      if (!(co_await Flush()) || close) co_return;
      if (!(co_await Fill())) co_return;
    }
  }

 private:
  // Reads more bytes, making room for the command being received.
  Task<bool> Fill() {
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, filled_ - begin_);
      filled_ -= begin_;
      begin_ = 0;
    }
    // A connection done with a large command gives its memory back.
    if (filled_ == 0 && buffer_.size() > (4u << 20)) buffer_ = std::vector<char>(kReadChunk);
    const size_t want = std::max(filled_ + kReadChunk, needed_);
    if (buffer_.size() < want) buffer_.resize(std::max(want, buffer_.size() * 2));
    iovec space{buffer_.data() + filled_, buffer_.size() - filled_};
    auto read = co_await stream_.Read({&space, 1}, {});
    if (!read.ok() || *read == 0) co_return false;
    filled_ += *read;
    co_return true;
  }

  Task<bool> Flush() {
    if (out_.empty()) co_return true;
    iovec reply{out_.data(), out_.size()};
    Status written = co_await stream_.Write({&reply, 1}, {});
    out_.clear();
    if (out_.capacity() > (4u << 20)) out_.shrink_to_fit();
    co_return written.ok();
  }

  // Runs one command, appending its reply; false to close the connection after the reply.
  Task<bool> Execute(const std::vector<std::string_view>& args) {
    const std::string name = Upper(args[0]);
    const size_t argc = args.size();
    client::KvClientCore& kv = server_.kv_;
    const KvNamespace& ns = server_.ns_;
    if (name == "PING") {
      if (argc == 1) AppendSimple(out_, "PONG");
      else if (argc == 2) AppendBulk(out_, args[1]);
      else AppendWrongArity(out_, args[0]);
    } else if (name == "ECHO") {
      if (argc != 2) AppendWrongArity(out_, args[0]);
      else AppendBulk(out_, args[1]);
    } else if (name == "QUIT") {
      AppendSimple(out_, "OK");
      co_return false;
    } else if (name == "SELECT") {
      if (argc != 2) AppendWrongArity(out_, args[0]);
      else if (args[1] == "0") AppendSimple(out_, "OK");
      else AppendError(out_, "ERR DB index is out of range (this server has database 0 only)");
    } else if (name == "GET") {
      if (argc != 2) {
        AppendWrongArity(out_, args[0]);
      } else {
        const KvKey key = KeyOfName(args[1]);
        auto got = co_await kv.GetOwned(ns, std::span(&key, 1));
        if (!got[0].ok()) AppendStatus(out_, got[0].status());
        else if (!got[0]->has_value()) AppendNull(out_);
        else AppendBulk(out_, **got[0]);
      }
    } else if (name == "MGET") {
      if (argc < 2) {
        AppendWrongArity(out_, args[0]);
      } else {
        std::vector<KvKey> keys;
        for (size_t i = 1; i < argc; i++) keys.push_back(KeyOfName(args[i]));
        auto got = co_await kv.GetOwned(ns, keys);
        AppendArrayHeader(out_, got.size());
        for (auto& value : got) {
          if (value.ok() && value->has_value()) AppendBulk(out_, **value);
          else AppendNull(out_);  // Redis answers nil for what it cannot give
        }
      }
    } else if (name == "SET") {
      co_await Set(args);
    } else if (name == "SETNX" || name == "SETEX" || name == "PSETEX") {
      co_await SetVariant(name, args);
    } else if (name == "MSET") {
      if (argc < 3 || argc % 2 != 1) {
        AppendWrongArity(out_, args[0]);
      } else {
        std::vector<std::pair<std::string_view, std::string_view>> pairs;
        for (size_t i = 1; i + 1 < argc; i += 2) pairs.push_back({args[i], args[i + 1]});
        Status stored = co_await Replace(pairs, 0);
        if (stored.ok()) AppendSimple(out_, "OK");
        else AppendStatus(out_, stored);
      }
    } else if (name == "EXISTS") {
      if (argc < 2) {
        AppendWrongArity(out_, args[0]);
      } else {
        std::vector<KvKey> keys;
        for (size_t i = 1; i < argc; i++) keys.push_back(KeyOfName(args[i]));
        auto present = co_await kv.BatchExists(ns, keys, false);
        if (!present.ok()) AppendStatus(out_, present.status());
        else AppendInteger(out_, std::count(present->begin(), present->end(), true));
      }
    } else if (name == "DEL" || name == "UNLINK") {
      if (argc < 2) {
        AppendWrongArity(out_, args[0]);
      } else {
        std::vector<KvKey> keys;
        for (size_t i = 1; i < argc; i++) keys.push_back(KeyOfName(args[i]));
        auto removed = co_await kv.OnEveryReplica(kv::kKvRemoveMethod, ns, keys);
        int64_t count = 0;
        Status failed;
        for (auto& one : removed) {
          if (!one.ok()) failed = one.status();
          else count += *one ? 1 : 0;
        }
        if (!failed.ok()) AppendStatus(out_, failed);
        else AppendInteger(out_, count);
      }
    } else if (name == "EXPIRE" || name == "PEXPIRE") {
      int64_t amount = 0;
      if (argc != 3) {
        AppendWrongArity(out_, args[0]);
      } else if (!ParseInt(args[2], amount)) {
        AppendError(out_, "ERR value is not an integer or out of range");
      } else {
        const KvKey key = KeyOfName(args[1]);
        const int64_t seconds = name == "PEXPIRE" ? (amount + 999) / 1000 : amount;
        if (seconds <= 0) {  // Redis deletes a key given a TTL in the past
          auto removed = co_await kv.OnEveryReplica(kv::kKvRemoveMethod, ns, std::span(&key, 1));
          if (!removed[0].ok()) AppendStatus(out_, removed[0].status());
          else AppendInteger(out_, *removed[0] ? 1 : 0);
        } else {
          const uint32_t ttl = static_cast<uint32_t>(std::min<int64_t>(seconds, UINT32_MAX / 2));
          auto set = co_await kv.OnEveryReplica(kv::kKvExpireMethod, ns, std::span(&key, 1), ttl);
          if (!set[0].ok()) AppendStatus(out_, set[0].status());
          else AppendInteger(out_, *set[0] ? 1 : 0);
        }
      }
    } else if (name == "TTL" || name == "PTTL") {
      if (argc != 2) {
        AppendWrongArity(out_, args[0]);
      } else {
        const KvKey key = KeyOfName(args[1]);
        auto ttl = co_await kv.TimeToLive(ns, std::span(&key, 1));
        if (!ttl[0].ok()) AppendStatus(out_, ttl[0].status());
        else AppendInteger(out_, name == "PTTL" && *ttl[0] > 0 ? *ttl[0] * 1000 : *ttl[0]);
      }
    } else if (name == "DBSIZE") {
      auto stats = co_await kv.Stats();
      if (!stats.ok()) AppendStatus(out_, stats.status());
      else AppendInteger(out_, static_cast<int64_t>(stats->entries));
    } else if (name == "INFO") {
      co_await Info();
    } else if (name == "COMMAND") {
      if (argc >= 2 && Upper(args[1]) == "COUNT") AppendInteger(out_, 0);
      else AppendArrayHeader(out_, 0);  // no command table: clients fall back to their own
    } else if (name == "CLIENT") {
      const std::string sub = argc >= 2 ? Upper(args[1]) : "";
      if (sub == "ID") AppendInteger(out_, static_cast<int64_t>(id_));
      else if (sub == "GETNAME") AppendNull(out_);
      else AppendSimple(out_, "OK");
    } else if (name == "CONFIG") {
      // redis-benchmark asks for "save" and "appendonly" before it starts.
      if (argc == 3 && Upper(args[1]) == "GET") {
        const std::string parameter = Upper(args[2]);
        if (parameter == "SAVE" || parameter == "APPENDONLY") {
          AppendArrayHeader(out_, 2);
          AppendBulk(out_, parameter == "SAVE" ? "save" : "appendonly");
          AppendBulk(out_, parameter == "SAVE" ? "" : "no");
        } else {
          AppendArrayHeader(out_, 0);
        }
      } else {
        AppendError(out_, "ERR CONFIG supports GET only");
      }
    } else {
      std::string shown(args[0].substr(0, 128));
      AppendError(out_, fmt::format("ERR unknown command '{}', with args beginning with: {}", shown,
                                    argc > 1 ? "'" + std::string(args[1].substr(0, 64)) + "'" : ""));
    }
    co_return true;
  }

  // SET key value [NX|XX] [EX s|PX ms|EXAT|PXAT|KEEPTTL]: entries are immutable, so a SET of a
  // present key removes it and stores the new value (two steps: concurrent SETs of one key keep
  // one of the values).
  Task<void> Set(const std::vector<std::string_view>& args) {
    if (args.size() < 3) {
      AppendWrongArity(out_, args[0]);
      co_return;
    }
    bool nx = false, xx = false;
    int64_t ttl_s = 0;
    for (size_t i = 3; i < args.size(); i++) {
      const std::string option = Upper(args[i]);
      int64_t amount = 0;
      if (option == "NX") {
        nx = true;
      } else if (option == "XX") {
        xx = true;
      } else if ((option == "EX" || option == "PX") && i + 1 < args.size()) {
        if (!ParseInt(args[++i], amount) || amount <= 0) {
          AppendError(out_, "ERR invalid expire time in 'set' command");
          co_return;
        }
        ttl_s = option == "EX" ? amount : (amount + 999) / 1000;
      } else {
        AppendError(out_, "ERR syntax error");
        co_return;
      }
    }
    if (nx && xx) {
      AppendError(out_, "ERR syntax error");
      co_return;
    }
    const uint32_t ttl = static_cast<uint32_t>(std::min<int64_t>(ttl_s, UINT32_MAX / 2));
    if (nx) {
      auto stored = co_await PutIfAbsent(args[1], args[2], ttl);
      if (!stored.ok()) AppendStatus(out_, stored.status());
      else if (*stored) AppendSimple(out_, "OK");
      else AppendNull(out_);
      co_return;
    }
    if (xx) {
      const KvKey key = KeyOfName(args[1]);
      auto present = co_await server_.kv_.BatchExists(server_.ns_, std::span(&key, 1), false);
      if (!present.ok()) {
        AppendStatus(out_, present.status());
        co_return;
      }
      if (!(*present)[0]) {
        AppendNull(out_);
        co_return;
      }
    }
    const std::pair<std::string_view, std::string_view> pair{args[1], args[2]};
    Status stored = co_await Replace(std::span(&pair, 1), ttl);
    if (stored.ok()) AppendSimple(out_, "OK");
    else AppendStatus(out_, stored);
  }

  Task<void> SetVariant(const std::string& name, const std::vector<std::string_view>& args) {
    if (name == "SETNX") {
      if (args.size() != 3) {
        AppendWrongArity(out_, args[0]);
        co_return;
      }
      auto stored = co_await PutIfAbsent(args[1], args[2], 0);
      if (!stored.ok()) AppendStatus(out_, stored.status());
      else AppendInteger(out_, *stored ? 1 : 0);
      co_return;
    }
    int64_t amount = 0;
    if (args.size() != 4) {
      AppendWrongArity(out_, args[0]);
      co_return;
    }
    if (!ParseInt(args[2], amount) || amount <= 0) {
      AppendError(out_, fmt::format("ERR invalid expire time in '{}' command", name == "SETEX" ? "setex" : "psetex"));
      co_return;
    }
    const int64_t seconds = name == "SETEX" ? amount : (amount + 999) / 1000;
    const std::pair<std::string_view, std::string_view> pair{args[1], args[3]};
    Status stored = co_await Replace(std::span(&pair, 1), static_cast<uint32_t>(std::min<int64_t>(seconds, UINT32_MAX / 2)));
    if (stored.ok()) AppendSimple(out_, "OK");
    else AppendStatus(out_, stored);
  }

  Task<Result<bool>> PutIfAbsent(std::string_view name, std::string_view value, uint32_t ttl_s) {
    KvPutItem item{.key = KeyOfName(name), .ttl_s = ttl_s};
    item.pieces.push_back(std::as_bytes(std::span(value.data(), value.size())));
    auto put = co_await server_.kv_.BatchPut(server_.ns_, std::span(&item, 1));
    if (!put[0].ok()) co_return put[0].status();
    co_return *put[0] == KvPutResult::kStored;
  }

  // Stores each pair's value under its name, replacing what was there.
  Task<Status> Replace(std::span<const std::pair<std::string_view, std::string_view>> pairs, uint32_t ttl_s) {
    std::vector<KvKey> keys;
    std::vector<KvPutItem> items;
    for (const auto& [name, value] : pairs) {
      keys.push_back(KeyOfName(name));
      KvPutItem item{.key = keys.back(), .ttl_s = ttl_s};
      item.pieces.push_back(std::as_bytes(std::span(value.data(), value.size())));
      items.push_back(std::move(item));
    }
    for (auto& removed : co_await server_.kv_.OnEveryReplica(kv::kKvRemoveMethod, server_.ns_, keys)) {
      if (!removed.ok()) co_return removed.status();
    }
    for (auto& put : co_await server_.kv_.BatchPut(server_.ns_, items)) {
      if (!put.ok()) co_return put.status();
    }
    co_return Status::Ok();
  }

  Task<void> Info() {
    auto stats = co_await server_.kv_.Stats();
    std::string text = fmt::format(
        "# Server\r\nredis_version:7.0.0\r\ncerulean_version:{}\r\nredis_mode:standalone\r\n"
        "# Clients\r\nconnected_clients:{}\r\n",
        server_.options_.version, server_.connections_.size());
    if (stats.ok()) {
      fmt::format_to(std::back_inserter(text),
                     "# Memory\r\nused_memory:{}\r\nmaxmemory:{}\r\n# Stats\r\nkeyspace_hits:{}\r\n"
                     "keyspace_misses:{}\r\nevicted_keys:{}\r\nexpired_keys:{}\r\n# Keyspace\r\ndb0:keys={},expires=0\r\n",
                     stats->dram_used_bytes + stats->index_bytes, stats->dram_capacity_bytes, stats->hits,
                     stats->gets - stats->hits, stats->evicted, stats->expired, stats->entries);
    }
    AppendBulk(out_, text);
  }

  RespServer& server_;
  Stream& stream_;
  uint64_t id_;
  std::vector<char> buffer_ = std::vector<char>(kReadChunk);
  size_t begin_ = 0, filled_ = 0, needed_ = 0;
  std::string out_;
};

RespServer::RespServer(Env& env, client::KvClientCore& kv, KvNamespace ns, RespServerOptions options)
    : env_(env), kv_(kv), ns_(std::move(ns)), options_(std::move(options)), connection_tasks_(env),
      serve_finished_(env) {}

RespServer::~RespServer() { CHECK(!serving_) << "Shutdown() the RESP server first"; }

Status RespServer::Listen() {
  ASSIGN_OR_RETURN(listener_, env_.Listen(options_.listen));
  LOG_INFO("resp server listening address={} namespace={}", listener_->address().ToString(), ns_.name);
  return Status::Ok();
}

NetAddress RespServer::address() const { return listener_->address(); }

Task<void> RespServer::Serve() {
  serving_ = true;
  while (!shutting_down_) {
    auto stream = co_await listener_->Accept({});
    if (!stream.ok()) {
      if (shutting_down_) break;
      LOG_WARN("resp accept failed: {}", stream.status().ToString());
      continue;
    }
    if (shutting_down_ || connections_.size() >= options_.connections_max) {
      (*stream)->Shutdown();
      continue;
    }
    const uint64_t id = next_connection_id_++;
    connections_[id] = stream->get();
    connection_tasks_.Spawn(RunConnection(id, std::move(*stream)));
  }
  co_await connection_tasks_.Join();
  serving_ = false;
  serve_finished_.Set();
}

Task<void> RespServer::RunConnection(uint64_t id, std::unique_ptr<Stream> stream) {
  {
    Connection connection(*this, *stream, id);
    co_await connection.Run();
  }
  stream->Shutdown();
  connections_.erase(id);
}

Task<void> RespServer::Shutdown() {
  if (shutting_down_ || listener_ == nullptr) co_return;
  shutting_down_ = true;
  listener_->Close();
  for (auto& [id, stream] : connections_) stream->Shutdown();
  co_await connection_tasks_.Join();
  if (serving_) (void)co_await serve_finished_.Wait();
}

}  // namespace cerulean::resp
