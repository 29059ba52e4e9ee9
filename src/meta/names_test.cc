#include "meta/names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cerulean::meta {
namespace {

void ExpectRule(const Status& status, std::string_view rule) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(rule), std::string::npos) << status;
}

TEST(NamesTest, ContainerNames) {
  for (const std::string& good : std::vector<std::string>{"abc", "my-bucket-1", "0day", std::string(63, 'a')}) {
    EXPECT_TRUE(ValidateContainerName(good).ok()) << good;
  }
  ExpectRule(ValidateContainerName("ab"), "3 to 63 characters");
  ExpectRule(ValidateContainerName(std::string(64, 'a')), "3 to 63 characters");
  ExpectRule(ValidateContainerName("My-Bucket"), "lowercase letters, digits and hyphens");
  ExpectRule(ValidateContainerName("a.b.c"), "lowercase letters, digits and hyphens");
  ExpectRule(ValidateContainerName("a_bc"), "lowercase letters, digits and hyphens");
  ExpectRule(ValidateContainerName("-abc"), "start and end with a letter or digit");
  ExpectRule(ValidateContainerName("abc-"), "start and end with a letter or digit");
  ExpectRule(ValidateContainerName("ab--c"), "two hyphens in a row");
}

TEST(NamesTest, ObjectNames) {
  for (const std::string& good : std::vector<std::string>{"a", "dir/sub/file.bin", "a b+c=d", "\xC3\xA9t\xC3\xA9", "\xF0\x9F\x98\x80", std::string(1024, 'x')}) {
    EXPECT_TRUE(ValidateObjectName(good).ok()) << good;
  }
  ExpectRule(ValidateObjectName(""), "empty");
  ExpectRule(ValidateObjectName(std::string(1025, 'x')), "at most 1024 bytes");
  ExpectRule(ValidateObjectName(std::string("a\0b", 3)), "NUL at byte 1");
  ExpectRule(ValidateObjectName("\xC3"), "not valid UTF-8 at byte 0");          // cut short
  ExpectRule(ValidateObjectName("ab\x80"), "not valid UTF-8 at byte 2");        // stray continuation
  ExpectRule(ValidateObjectName("\xC0\xAF"), "not valid UTF-8");                // overlong '/'
  ExpectRule(ValidateObjectName("\xED\xA0\x80"), "not valid UTF-8");            // a surrogate
  ExpectRule(ValidateObjectName("\xF4\x90\x80\x80"), "not valid UTF-8");        // past U+10FFFF
}

}  // namespace
}  // namespace cerulean::meta
