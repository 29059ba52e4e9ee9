// The native C++ client's side of bench/python/loader_bench.py: reads every object under a
// prefix, whole, in batches of --batch objects (one BatchGet each) on --threads threads, in a
// seeded shuffled order, for --epochs passes, the way ObjectIterableDataset reads them; prints
// {"samples":..,"bytes":..,"seconds":..} as JSON. Buffers are allocated once per thread.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cerulean/client.h"

int main(int argc, char** argv) {
  CLI::App app{"Whole-object batch reads through the native client"};
  std::string meta, container, prefix;
  uint32_t threads = 1, batch = 8, epochs = 1, seed = 0;
  app.add_option("--meta", meta)->required();
  app.add_option("--container", container)->required();
  app.add_option("--prefix", prefix);
  app.add_option("--threads", threads)->check(CLI::Range(1, 256));
  app.add_option("--batch", batch)->check(CLI::Range(1, 4096));
  app.add_option("--epochs", epochs)->check(CLI::Range(1, 1000));
  app.add_option("--seed", seed);
  CLI11_PARSE(app, argc, argv);

  auto client = cerulean::Client::Open({.meta_address = meta});
  if (!client.ok()) {
    std::fprintf(stderr, "open: %s\n", client.status().ToString().c_str());
    return 1;
  }
  std::vector<std::pair<std::string, uint64_t>> objects;
  uint64_t largest = 0;
  for (auto it = (*client)->List(container, {.prefix = prefix});;) {
    auto next = it.Next();
    if (!next.ok()) {
      std::fprintf(stderr, "list: %s\n", next.status().ToString().c_str());
      return 1;
    }
    if (!*next) break;
    objects.emplace_back((*next)->name, (*next)->size);
    largest = std::max(largest, (*next)->size);
  }

  std::atomic<uint64_t> samples{0}, bytes{0};
  std::atomic<bool> failed{false};
  const auto start = std::chrono::steady_clock::now();
  for (uint32_t epoch = 0; epoch < epochs; epoch++) {
    std::vector<std::pair<std::string, uint64_t>> order = objects;
    std::shuffle(order.begin(), order.end(), std::mt19937(seed + epoch));
    std::atomic<size_t> next_batch{0};
    std::vector<std::thread> workers;
    for (uint32_t t = 0; t < threads; t++) {
      workers.emplace_back([&] {
        std::vector<std::vector<std::byte>> buffers(batch, std::vector<std::byte>(largest + 1));
        for (;;) {
          const size_t first = next_batch.fetch_add(1) * batch;
          if (first >= order.size()) return;
          std::vector<cerulean::RangeRead> reads;
          for (size_t i = first; i < std::min(order.size(), first + batch); i++) {
            const auto& [name, size] = order[i];
            reads.push_back({container, name, 0, size + 1, std::span(buffers[i - first]).first(size + 1)});
          }
          for (auto& result : (*client)->BatchGet(std::move(reads))) {
            if (!result.ok()) {
              std::fprintf(stderr, "read: %s\n", result.status().ToString().c_str());
              failed = true;
              return;
            }
            samples += 1;
            bytes += *result;
          }
        }
      });
    }
    for (auto& worker : workers) worker.join();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (failed) return 1;
  std::printf("{\"samples\": %llu, \"bytes\": %llu, \"seconds\": %.6f}\n",
              static_cast<unsigned long long>(samples.load()), static_cast<unsigned long long>(bytes.load()), seconds);
  return 0;
}
