// The meta service over real rpc and a real RocksDB: every method, errors carried with their
// codes, and malformed requests refused without harm.
#include "meta/meta_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "meta/meta_messages.h"
#include "meta/rocksdb_metadata_store.h"
#include "rpc/rpc_client.h"
#include "rpc/rpc_server.h"
#include "runtime/task_group.h"
#include "runtime/test_directory.h"
#include "runtime/test_loop.h"

namespace cerulean::meta {
namespace {

using cerulean::testing::RunOnLoop;

class MetaServiceTest : public ::testing::Test {
 protected:
  cerulean::testing::TestDirectory temporary_{"meta-service"};
  const std::string directory_ = temporary_ / "db";
};

template <typename T>
rpc::MessageBuffer Message(const T& message) {
  return rpc::EncodeMessage(message);
}

ContainerRequest Named(std::string name) {
  ContainerRequest request;
  request.name = std::move(name);
  return request;
}

TEST_F(MetaServiceTest, ContainersAndObjectsOverRpc) {
  RunOnLoop([&](Env& env) -> Task<void> {
    rpc::RpcClient storage(env);
    MetaOptions options;  // a named local: g++ 12 frees braced temporaries in coroutines twice
    options.directory = directory_;
    auto opened = co_await MetaNode::Open(env, options, storage);
    EXPECT_TRUE(opened.ok()) << opened.status();
    MetaNode& meta_node = **opened;
    Namespace& names = meta_node.names();
    rpc::ServiceRegistry registry;
    RegisterMetaService(registry, meta_node);
    rpc::RpcServer server(env, registry);
    EXPECT_TRUE(server.Listen({"127.0.0.1", 0}).ok());
    TaskGroup serving(env);
    serving.Spawn(server.Serve());
    rpc::RpcClient client(env);
    rpc::RpcChannel meta = client.Channel(server.address());

    ContainerRequest create = Named("models");
    create.record.public_read = true;
    EXPECT_TRUE((co_await meta.Call(kCreateContainerMethod, Message(create).span())).ok());
    auto again = co_await meta.Call(kCreateContainerMethod, Message(create).span());
    EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
    auto bad = co_await meta.Call(kCreateContainerMethod, Message(Named("Models!")).span());
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find("lowercase letters"), std::string::npos) << bad.status();

    auto got = co_await meta.Call(kGetContainerMethod, Message(Named("models")).span());
    EXPECT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(DecodeContainerResponse(got->message.span())->record.public_read);
    ContainerRequest tag = Named("models");
    tag.record.metadata.emplace_back("team", "ml");
    EXPECT_TRUE((co_await meta.Call(kSetContainerMetadataMethod, Message(tag).span())).ok());

    ListContainersRequest list_containers;
    auto containers = co_await meta.Call(kListContainersMethod, Message(list_containers).span());
    EXPECT_TRUE(containers.ok()) << containers.status();
    auto decoded_containers = DecodeListContainersResponse(containers->message.span());
    EXPECT_EQ(decoded_containers->containers.size(), 1u);
    EXPECT_EQ(decoded_containers->containers[0].second.metadata, tag.record.metadata);

    // Objects are committed through the namespace here (puts over rpc come with allocation).
    for (std::string name : {"a/1", "a/2", "b"}) {
      ObjectRecord record;
      record.etag = "\"" + name + "\"";
      EXPECT_TRUE((co_await names.CommitObject("models", name, record)).ok());
    }
    ObjectRequest head;
    head.container = "models";
    head.name = "b";
    auto headed = co_await meta.Call(kHeadObjectMethod, Message(head).span());
    EXPECT_TRUE(headed.ok()) << headed.status();
    EXPECT_EQ(DecodeObjectResponse(headed->message.span())->record.etag, "\"b\"");
    head.if_none_match = "\"b\"";
    EXPECT_EQ((co_await meta.Call(kHeadObjectMethod, Message(head).span())).status().code(),
              StatusCode::kFailedPrecondition);

    ListObjectsRequest list;
    list.container = "models";
    list.delimiter = "/";
    auto listed = co_await meta.Call(kListObjectsMethod, Message(list).span());
    EXPECT_TRUE(listed.ok()) << listed.status();
    auto decoded = DecodeListObjectsResponse(listed->message.span());
    EXPECT_EQ(decoded->common_prefixes, std::vector<std::string>{"a/"});
    EXPECT_EQ(decoded->objects.size(), 1u);

    ObjectRequest remove;
    remove.container = "models";
    remove.name = "b";
    EXPECT_TRUE((co_await meta.Call(kDeleteObjectMethod, Message(remove).span())).ok());
    EXPECT_EQ((co_await meta.Call(kDeleteObjectMethod, Message(remove).span())).status().code(), StatusCode::kNotFound);
    EXPECT_EQ((co_await meta.Call(kDeleteContainerMethod, Message(Named("models")).span())).status().code(),
              StatusCode::kFailedPrecondition);

    // Malformed: cut short, trailing bytes, an absurd page. Each is refused; the service goes on.
    rpc::MessageBuffer whole = Message(list);
    auto cut = co_await meta.Call(kListObjectsMethod, whole.span().first(whole.span().size() - 1));
    EXPECT_EQ(cut.status().code(), StatusCode::kInvalidArgument);
    list.max_results = 1'000'000;
    EXPECT_EQ((co_await meta.Call(kListObjectsMethod, Message(list).span())).status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_TRUE((co_await meta.Call(kGetContainerMethod, Message(Named("models")).span())).ok());

    co_await client.Close();
    co_await server.Shutdown();
    co_await serving.Join();
    co_await meta_node.Close();
    co_await storage.Close();
  });
}

TEST(MetaMessagesTest, RoundTripAndTruncation) {
  ListObjectsResponse response;
  ObjectRecord record;
  record.size = 3;
  record.pieces.push_back({.extent_id = 1, .record_offset = 4096, .length = 3, .crc32c = 9});
  response.objects.emplace_back("x", record);
  response.common_prefixes = {"p/"};
  response.truncated = true;
  response.next_start_after = "x";
  rpc::MessageBuffer bytes = rpc::EncodeMessage(response);
  auto decoded = DecodeListObjectsResponse(bytes.span());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->objects[0].second.size, record.size);
  EXPECT_TRUE(decoded->objects[0].second.pieces.empty());  // listings leave the piece lists out
  EXPECT_EQ(decoded->common_prefixes, response.common_prefixes);
  for (size_t cut = 0; cut < bytes.span().size(); cut++) {
    EXPECT_EQ(DecodeListObjectsResponse(bytes.span().first(cut)).status().code(), StatusCode::kInvalidArgument) << cut;
  }
}

// Every request that carries an object's properties carries all of them: content type,
// metadata and content headers.
TEST(MetaMessagesTest, PropertiesSurviveEveryRequestThatCarriesThem) {
  const ContentHeaders headers{.content_encoding = "gzip", .content_language = "en", .content_disposition = "inline",
                               .cache_control = "no-cache", .content_md5 = "XUFAKrxLKna5cZ2REBfFkg=="};
  const UserMetadata metadata = {{"Owner", "ci"}};
  CreateUploadRequest create;
  create.container = "c";
  create.name = "o";
  create.content_type = "text/plain";
  create.metadata = metadata;
  create.headers = headers;
  auto created = DecodeCreateUploadRequest(rpc::EncodeMessage(create).span());
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->headers, headers);
  EXPECT_EQ(created->metadata, metadata);
  CommitBlocksRequest commit;
  commit.upload.container = "c";
  commit.upload.name = "o";
  commit.blocks = {{"QQ==", 0}};
  commit.content_type = "text/plain";
  commit.metadata = metadata;
  commit.headers = headers;
  auto committed = DecodeCommitBlocksRequest(rpc::EncodeMessage(commit).span());
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(committed->headers, headers);
  EXPECT_EQ(committed->content_type, "text/plain");
  EXPECT_EQ(committed->metadata, metadata);
  SetObjectPropertiesRequest set;
  set.object.container = "c";
  set.object.name = "o";
  set.object.if_match = "\"e\"";
  set.set_content = true;
  set.headers = headers;
  set.set_metadata = true;
  set.metadata = metadata;
  auto decoded = DecodeSetObjectPropertiesRequest(rpc::EncodeMessage(set).span());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->headers, headers);
  EXPECT_EQ(decoded->metadata, metadata);
  EXPECT_TRUE(decoded->set_content && decoded->set_metadata);
  EXPECT_EQ(decoded->object.if_match, "\"e\"");
  ListObjectsResponse listing;
  ObjectRecord record;
  record.headers = headers;
  listing.objects.emplace_back("o", record);
  EXPECT_EQ(DecodeListObjectsResponse(rpc::EncodeMessage(listing).span())->objects[0].second.headers, headers);
}

}  // namespace
}  // namespace cerulean::meta
