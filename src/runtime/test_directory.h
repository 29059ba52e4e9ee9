// Test support: a fresh directory under the system's temporary directory, named for the process
// and the running test, emptied of any leftover when made and removed when it goes away.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace cerulean::testing {

class TestDirectory {
 public:
  explicit TestDirectory(std::string_view purpose = "test") {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::temp_directory_path() /
             ("cerulean-" + std::string(purpose) + "-" + std::to_string(getpid()) + "-" +
              (test != nullptr ? std::string(test->test_suite_name()) + "." + test->name() : "none")))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TestDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TestDirectory(const TestDirectory&) = delete;
  TestDirectory& operator=(const TestDirectory&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace cerulean::testing
