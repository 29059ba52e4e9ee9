// Staged uploads on a real RocksDB: S3's rules (parts under an upload id, complete, abort, list)
// and Azure's (blocks under the blob, Latest/Committed/Uncommitted, reuse of committed blocks).
#include <gtest/gtest.h>

#include "base/md5.h"
#include "meta/meta_keys.h"
#include "meta/namespace.h"
#include "meta/rocksdb_metadata_store.h"
#include "runtime/test_directory.h"
#include "runtime/test_loop.h"

namespace cerulean::meta {
namespace {

using cerulean::testing::RunOnLoop;

// A block of `size` bytes in one piece at a distinct place, with the MD5 ETag of `content`.
StagedBlockRecord Block(uint64_t size, uint64_t offset, std::string_view content) {
  StagedBlockRecord block;
  block.size = size;
  Md5 md5;
  md5.Update(content);
  block.etag = "\"" + HexOf(md5.Finish()) + "\"";
  block.pieces.push_back(Piece{.extent_id = 1, .record_offset = offset, .length = uint32_t(size), .crc32c = uint32_t(offset)});
  return block;
}

// "u:00001 c:A l:B": each block id after its source (uncommitted, committed, latest). A string,
// because g++ 12 cannot build an initializer list of literals inside a coroutine.
std::vector<BlockChoice> Choose(std::string_view spec) {
  std::vector<BlockChoice> result;
  while (!spec.empty()) {
    const size_t space = spec.find(' ');
    const std::string_view item = spec.substr(0, space);
    const BlockSource source = item[0] == 'u' ? BlockSource::kUncommitted
                               : item[0] == 'c' ? BlockSource::kCommitted
                                                : BlockSource::kLatest;
    result.emplace_back(std::string(item.substr(2)), source);
    spec = space == std::string_view::npos ? std::string_view() : spec.substr(space + 1);
  }
  return result;
}

// The S3 ETag of an object of parts "part1" and "part2".
std::string MultipartEtag() {
  Md5 part1, part2, whole;
  part1.Update(std::string_view("part1"));
  part2.Update(std::string_view("part2"));
  whole.Update(part1.Finish());
  whole.Update(part2.Finish());
  return "\"" + HexOf(whole.Finish()) + "-2\"";
}

class StagedUploadsTest : public ::testing::Test {
 protected:
  cerulean::testing::TestDirectory temporary_{"staged"};

  template <typename Body>
  void Run(Body body) {
    RunOnLoop([&](Env& env) -> Task<void> {
      auto store = RocksDbMetadataStore::Open(env, temporary_ / "db");
      EXPECT_TRUE(store.ok()) << store.status();
      Namespace names(env, **store);
      Status created = co_await names.CreateContainer("data", ContainerRecord());
      EXPECT_TRUE(created.ok()) << created;
      co_await body(names, **store);
      co_await (*store)->Close();
    });
  }
};

TEST_F(StagedUploadsTest, S3MultipartCompleteAbortAndList) {
  Run([](Namespace& ns, MetadataStore& store) -> Task<void> {
    const UploadKey upload("data", "big", "u1");
    EXPECT_EQ((co_await ns.StageBlock(upload, "00001", Block(5, 4096, "part1"))).code(), StatusCode::kNotFound);
    UploadRecord created;
    created.content_type = "application/x-tar";
    EXPECT_TRUE((co_await ns.CreateUpload(upload, created)).ok());
    EXPECT_TRUE((co_await ns.CreateUpload(UploadKey("data", "big", "u2"), UploadRecord())).ok());
    EXPECT_TRUE((co_await ns.CreateUpload(UploadKey("data", "other", "u3"), UploadRecord())).ok());
    EXPECT_EQ((co_await ns.CreateUpload(UploadKey("nothing", "big", "u4"), UploadRecord())).code(), StatusCode::kNotFound);
    EXPECT_TRUE((co_await ns.StageBlock(upload, "00001", Block(5, 4096, "wrong"))).ok());
    EXPECT_TRUE((co_await ns.StageBlock(upload, "00001", Block(5, 8192, "part1"))).ok());  // replaces it
    EXPECT_TRUE((co_await ns.StageBlock(upload, "00002", Block(7, 12288, "part2"))).ok());
    EXPECT_TRUE((co_await ns.StageBlock(upload, "00003", Block(3, 16384, "unused"))).ok());

    auto uploads = ns.ListUploads("data", "", "", "", 2);
    EXPECT_TRUE(uploads.ok());
    EXPECT_EQ(uploads->uploads.size(), 2u);
    EXPECT_TRUE(uploads->truncated);
    EXPECT_EQ(uploads->uploads[0].upload_id, "u1");
    EXPECT_EQ(uploads->uploads[0].record.content_type, "application/x-tar");
    auto rest = ns.ListUploads("data", "", uploads->uploads[1].name, uploads->uploads[1].upload_id, 10);
    EXPECT_EQ(rest->uploads.size(), 1u);
    EXPECT_EQ(rest->uploads[0].name, "other");
    EXPECT_EQ(ns.ListUploads("data", "oth", "", "", 10)->uploads.size(), 1u);
    auto parts = ns.ListBlocks(upload);
    EXPECT_EQ(parts->uncommitted.size(), 3u);

    ObjectRecord base;
    base.content_type = "ignored: the upload's own is used";
    auto missing = co_await ns.CommitBlocks(upload, Choose("u:00001 u:00009"), base);
    EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(missing.status().message().find("00009"), std::string::npos) << missing.status();
    auto done = co_await ns.CommitBlocks(upload, Choose("u:00001 u:00002"), base);
    EXPECT_TRUE(done.ok()) << done.status();
    const ObjectRecord& object = done->first;
    EXPECT_EQ(object.size, 12u);
    EXPECT_EQ(object.pieces.size(), 2u);
    EXPECT_EQ(object.pieces[0].record_offset, 8192u);  // the replacement of part 1
    EXPECT_EQ(object.content_type, "application/x-tar");
    // S3's multipart ETag: the MD5 of the parts' binary MD5s, a dash, the part count.
    EXPECT_EQ(object.etag, MultipartEtag());
    EXPECT_EQ(ns.HeadObject("data", "big")->etag, object.etag);
    // Completing ended the upload: its record and every part, used or not, are gone.
    EXPECT_EQ(ns.ListBlocks(upload).status().code(), StatusCode::kNotFound);
    auto leftovers = store.Scan(keys::StagedBlocksOf("data", "big", "u1"),
                                keys::PrefixEnd(keys::StagedBlocksOf("data", "big", "u1")), 10);
    EXPECT_TRUE(leftovers->empty());
    EXPECT_EQ((co_await ns.CommitBlocks(upload, Choose("u:00001"), base)).status().code(),
              StatusCode::kNotFound);

    const UploadKey aborted("data", "big", "u2");
    EXPECT_TRUE((co_await ns.StageBlock(aborted, "00001", Block(1, 20480, "x"))).ok());
    EXPECT_TRUE((co_await ns.AbortUpload(aborted)).ok());
    EXPECT_EQ((co_await ns.AbortUpload(aborted)).code(), StatusCode::kNotFound);
    EXPECT_EQ(ns.HeadObject("data", "big")->size, 12u);  // the object is untouched
  });
}

TEST_F(StagedUploadsTest, AzureBlockListsReuseCommittedBlocks) {
  Run([](Namespace& ns, MetadataStore&) -> Task<void> {
    const UploadKey blob("data", "blob", "");
    EXPECT_TRUE((co_await ns.StageBlock(blob, "A", Block(10, 4096, "a"))).ok());
    EXPECT_TRUE((co_await ns.StageBlock(blob, "B", Block(20, 8192, "b"))).ok());
    EXPECT_EQ((co_await ns.StageBlock(blob, "", Block(1, 8192, "b"))).code(), StatusCode::kInvalidArgument);
    ObjectRecord base;
    base.content_type = "text/plain";
    auto first = co_await ns.CommitBlocks(blob, Choose("l:A u:B"), base);
    EXPECT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->first.size, 30u);
    EXPECT_EQ(first->first.content_type, "text/plain");

    auto listed = ns.ListBlocks(blob);
    EXPECT_TRUE(listed->uncommitted.empty());
    EXPECT_EQ(listed->committed.size(), 2u);
    if (listed->committed.size() == 2) {
      EXPECT_EQ(listed->committed[1].first, "B");
      EXPECT_EQ(listed->committed[1].second, 20u);
    }

    // Reorder, reuse A from the committed list, add a new C, and a new A staged: Latest takes the
    // staged A, Committed the old one.
    EXPECT_TRUE((co_await ns.StageBlock(blob, "C", Block(5, 12288, "c"))).ok());
    EXPECT_TRUE((co_await ns.StageBlock(blob, "A", Block(7, 16384, "a2"))).ok());
    EXPECT_EQ((co_await ns.CommitBlocks(blob, Choose("c:C"), base)).status().code(),
              StatusCode::kInvalidArgument);
    auto second = co_await ns.CommitBlocks(
        blob, Choose("u:C c:B c:A l:A"),
        base);
    EXPECT_TRUE(second.ok()) << second.status();
    const ObjectRecord& object = second->first;
    EXPECT_EQ(object.size, 5u + 20 + 10 + 7);
    std::vector<uint64_t> offsets;
    for (const Piece& piece : object.pieces) offsets.push_back(piece.record_offset);
    EXPECT_EQ(offsets, (std::vector<uint64_t>{12288, 8192, 4096, 16384}));
    EXPECT_EQ(second->second->size, 30u);  // the replaced object, for garbage accounting
    EXPECT_EQ(ns.ListBlocks(blob)->committed.size(), 4u);
    // A plain put drops the block list: nothing is committed as blocks any more.
    ObjectRecord plain;
    EXPECT_TRUE((co_await ns.CommitObject("data", "blob", plain)).ok());
    EXPECT_TRUE(ns.ListBlocks(blob)->committed.empty());
  });
}

TEST_F(StagedUploadsTest, DeletingTheContainerDropsItsUploads) {
  Run([](Namespace& ns, MetadataStore&) -> Task<void> {
    EXPECT_TRUE((co_await ns.CreateUpload(UploadKey("data", "big", "u1"), UploadRecord())).ok());
    EXPECT_TRUE((co_await ns.StageBlock(UploadKey("data", "big", "u1"), "00001", Block(5, 4096, "p"))).ok());
    EXPECT_TRUE((co_await ns.StageBlock(UploadKey("data", "blob", ""), "QQ==", Block(5, 8192, "b"))).ok());
    EXPECT_TRUE((co_await ns.DeleteContainer("data")).ok());
    EXPECT_TRUE((co_await ns.CreateContainer("data", ContainerRecord())).ok());
    EXPECT_TRUE(ns.ListUploads("data", "", "", "", 10)->uploads.empty());
    EXPECT_TRUE(ns.ListBlocks(UploadKey("data", "blob", ""))->uncommitted.empty());
  });
}

TEST(StagedRecordsTest, ObjectsWithBlocksRoundTripAndRejectBadCoverage) {
  ObjectRecord record;
  record.size = 3;
  record.pieces = {{.extent_id = 1, .record_offset = 0, .length = 1}, {.extent_id = 1, .record_offset = 4096, .length = 2}};
  record.blocks = {{.id = "x", .pieces = 1}, {.id = "y", .pieces = 1}};
  EXPECT_EQ(*DecodeObjectRecord(EncodeObjectRecord(record)), record);
  record.blocks[1].pieces = 2;  // covers three pieces of two
  EXPECT_EQ(DecodeObjectRecord(EncodeObjectRecord(record)).status().code(), StatusCode::kDataLoss);
  StagedBlockRecord block = Block(4, 8192, "abcd");
  EXPECT_EQ(*DecodeStagedBlockRecord(EncodeStagedBlockRecord(block)), block);
  UploadRecord upload;
  upload.content_type = "a/b";
  upload.metadata.emplace_back("k", "v");
  EXPECT_EQ(*DecodeUploadRecord(EncodeUploadRecord(upload)), upload);
}

}  // namespace
}  // namespace cerulean::meta
