// The object commands of the cerulean binary, over the native client: mb, rb, ls, put, get, rm,
// stat, cp, and `cluster status`. Remote paths are CONTAINER/NAME; `cp` marks them with
// "cerulean://". Each returns the process exit code (docs/CLI.md):
//   0 done; 1 failed (unavailable, data loss, an I/O error); 2 bad usage or a bad name;
//   3 not found; 4 refused by a condition (exists already, not empty, ETag precondition).
#pragma once

#include <string>

namespace cerulean::cli {

struct ObjectCommandOptions {
  std::string meta_address = "127.0.0.1:7400";
  bool json = false;
  bool recursive = false;       // ls: no "/" grouping
  std::string content_type;     // put, cp: empty guesses "application/octet-stream"
  int replicas = 0;             // put, cp: 0 is the cluster's default
  bool progress = true;         // a progress bar on a terminal, for transfers over a second
};

int RunMakeContainer(const ObjectCommandOptions& options, const std::string& container);
int RunRemoveContainer(const ObjectCommandOptions& options, const std::string& container);
int RunList(const ObjectCommandOptions& options, const std::string& path);
int RunPut(const ObjectCommandOptions& options, const std::string& local, const std::string& remote);
int RunGet(const ObjectCommandOptions& options, const std::string& remote, const std::string& local);
int RunRemove(const ObjectCommandOptions& options, const std::string& remote);
int RunStat(const ObjectCommandOptions& options, const std::string& remote);
int RunCopy(const ObjectCommandOptions& options, const std::string& from, const std::string& to);
int RunClusterStatus(const ObjectCommandOptions& options);

// "1.5 MiB": sizes for people.
std::string HumanBytes(uint64_t bytes);

}  // namespace cerulean::cli
