#include "meta/meta_records.h"

#include <gtest/gtest.h>

#include "meta/meta_keys.h"

namespace cerulean::meta {
namespace {

ObjectRecord SampleObject() {
  return ObjectRecord{.size = 10 + 20,
                      .etag = "\"0123456789abcdef0123456789abcdef\"",
                      .content_type = "application/octet-stream",
                      .metadata = {{"owner", "alice"}, {"purpose", "shard 7"}},
                      .created_unix_ns = 1'700'000'000'000'000'000,
                      .modified_unix_ns = 1'700'000'000'000'000'001,
                      .crc32c = 0xDEADBEEF,
                      .pieces = {{.extent_id = 5, .record_offset = 4096, .length = 10, .crc32c = 1},
                                 {.extent_id = 9, .record_offset = 8192, .length = 20, .crc32c = 2}}};
}

TEST(MetaRecordsTest, RecordsRoundTrip) {
  const ObjectRecord object = SampleObject();
  EXPECT_EQ(*DecodeObjectRecord(EncodeObjectRecord(object)), object);
  const ObjectRecord empty{.etag = "\"d41d8cd98f00b204e9800998ecf8427e\""};
  EXPECT_EQ(*DecodeObjectRecord(EncodeObjectRecord(empty)), empty);
  ObjectRecord with_headers = SampleObject();
  with_headers.headers = {.content_encoding = "gzip", .cache_control = "no-cache", .content_md5 = "1B2M2Y8AsgTpgAmY7PhCfg=="};
  EXPECT_EQ(*DecodeObjectRecord(EncodeObjectRecord(with_headers)), with_headers);
  with_headers.blocks = {{.id = "QQ==", .pieces = 2}};
  EXPECT_EQ(*DecodeObjectRecord(EncodeObjectRecord(with_headers)), with_headers);
  const UploadRecord upload{.created_unix_ns = 7, .content_type = "text/plain", .headers = {.content_language = "en"}};
  EXPECT_EQ(*DecodeUploadRecord(EncodeUploadRecord(upload)), upload);
  const ContainerRecord container{.created_unix_ns = 42, .public_read = true, .metadata = {{"team", "ml"}}};
  EXPECT_EQ(*DecodeContainerRecord(EncodeContainerRecord(container)), container);
  const ContainerRecord blobs_only{.created_unix_ns = 42, .public_read = true, .public_list = false, .metadata = {}};
  EXPECT_EQ(*DecodeContainerRecord(EncodeContainerRecord(blobs_only)), blobs_only);
}

TEST(MetaRecordsTest, DamagedValuesAreDataLossNeverAWrongObject) {
  const std::string bytes = EncodeObjectRecord(SampleObject());
  for (size_t cut = 0; cut < bytes.size(); cut++) {
    auto decoded = DecodeObjectRecord(std::string_view(bytes).substr(0, cut));
    EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss) << "cut at " << cut;
  }
  EXPECT_EQ(DecodeObjectRecord(bytes + "x").status().code(), StatusCode::kDataLoss);  // trailing bytes
  std::string wrong_size = bytes;
  wrong_size[1] ^= 1;  // the size no longer matches the pieces
  EXPECT_EQ(DecodeObjectRecord(wrong_size).status().code(), StatusCode::kDataLoss);
  std::string wrong_format = bytes;
  wrong_format[0] = 9;
  EXPECT_EQ(DecodeObjectRecord(wrong_format).status().code(), StatusCode::kDataLoss);
}

TEST(MetaRecordsTest, ExtentRecordsRoundTripAndRejectDamage) {
  ExtentRecord extent;
  extent.extent_id = 77;
  extent.replicas = {"node-a", "node-b", "node-c"};
  extent.state = ExtentState::kSealing;
  extent.sealed_length = 1 << 20;
  extent.committed_bytes = 900'000;
  extent.garbage_bytes = 12;
  const std::string bytes = EncodeExtentRecord(extent);
  EXPECT_EQ(*DecodeExtentRecord(bytes), extent);
  for (size_t cut = 0; cut < bytes.size(); cut++) {
    EXPECT_EQ(DecodeExtentRecord(std::string_view(bytes).substr(0, cut)).status().code(), StatusCode::kDataLoss);
  }
  std::string bad_state = bytes;
  bad_state[bytes.size() - 8 * 3 - 1] = 9;  // the state byte: the sealed length and two counters follow it
  EXPECT_EQ(DecodeExtentRecord(bad_state).status().code(), StatusCode::kDataLoss);
}

TEST(MetaKeysTest, ObjectKeysSortByNameWithinTheirContainer) {
  EXPECT_LT(keys::Object("bucket", "a"), keys::Object("bucket", "a/b"));
  EXPECT_LT(keys::Object("bucket", "a/b"), keys::Object("bucket", "b"));
  EXPECT_LT(keys::Object("bucket", "\x7F"), keys::Object("bucket", "\xC3\xA9"));  // UTF-8 byte order
  // Another container's objects never fall inside this one's range.
  EXPECT_GT(keys::Object("bucket-2", ""), keys::ObjectPrefixEnd("bucket", ""));
  EXPECT_LT(keys::Object("bucket", "\xFF\xFF"), keys::ObjectPrefixEnd("bucket", ""));
  EXPECT_EQ(keys::ObjectName(keys::Object("bucket", "dir/file"), "bucket"), "dir/file");
}

TEST(MetaKeysTest, PrefixEndIsTheFirstKeyPastThePrefix) {
  const std::string end = keys::ObjectPrefixEnd("b", "photos/");
  EXPECT_LT(keys::Object("b", "photos/zzz\xFF"), end);
  EXPECT_GE(keys::Object("b", "photos0"), end);  // '0' follows '/'
  EXPECT_LT(keys::Object("b", "photos/\xFF\xFF"), keys::ObjectPrefixEnd("b", "photos/\xFF"));
  EXPECT_LT(keys::Extent(1), keys::Extent(256));  // big-endian: numeric order
  EXPECT_LT(keys::Container("photos-zz"), keys::ContainerPrefixEnd("photos"));
  EXPECT_GE(keys::Container("photot"), keys::ContainerPrefixEnd("photos"));
  EXPECT_LT(keys::Container("zzz"), keys::ContainerPrefixEnd(""));  // every container
  EXPECT_LE(keys::ContainerPrefixEnd(""), keys::Object("a", "b"));   // and nothing past them
}

}  // namespace
}  // namespace cerulean::meta
