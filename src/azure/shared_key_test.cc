// Vectors made with Debian's python3-azure (azure-storage-blob 12.15): its SharedKey policy and
// SAS generators, with the well-known development account key.
#include "azure/shared_key.h"

#include <gtest/gtest.h>

namespace cerulean::azure {
namespace {

constexpr std::string_view kAccount = "devstoreaccount1";
constexpr std::string_view kKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

std::string KeyBytes() { return *gateway::Base64Decode(kKey); }

AzureRequest PutBlockRequest() {
  AzureRequest request;
  request.method = "PUT";
  request.path = "/devstoreaccount1/data/dir/a%20b.bin";
  request.query = *gateway::ParseQuery("comp=block&blockid=QUJD%3D%3D");
  request.headers = {{"x-ms-version", "2021-12-02"},   {"x-ms-date", "Sun, 22 Nov 2026 12:00:00 GMT"},
                     {"x-ms-meta-i_", "1"},            {"x-ms-meta-i0", "2"},
                     {"x-ms-meta-a-b", "3"},           {"content-length", "5"},
                     {"content-type", "application/octet-stream"}, {"x-ms-range", "bytes=0-4"},
                     {"if-none-match", "*"},
                     {"authorization", "SharedKey devstoreaccount1:wo6g+kmpSWLlHiwlVJ0aYW4OVs7sAMOCnTOBNXp1WxA="}};
  return request;
}

TEST(SharedKeyTest, MatchesThePythonSdk) {
  const AzureRequest request = PutBlockRequest();
  auto auth = ParseSharedKey(request);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->account, kAccount);
  const std::string expected_string =
      "PUT\n\n\n5\n\napplication/octet-stream\n\n\n\n*\n\n\n"
      "x-ms-date:Sun, 22 Nov 2026 12:00:00 GMT\nx-ms-meta-a-b:3\nx-ms-meta-i_:1\nx-ms-meta-i0:2\n"
      "x-ms-range:bytes=0-4\nx-ms-version:2021-12-02\n"
      "/devstoreaccount1/devstoreaccount1/data/dir/a%20b.bin\nblockid:QUJD==\ncomp:block";
  const std::string string_to_sign = SharedKeyStringToSign(request, kAccount, HeaderOrder::kService);
  EXPECT_EQ(string_to_sign, expected_string);
  EXPECT_EQ(SignWithKey(KeyBytes(), string_to_sign), auth->signature);
  // Byte order puts i0 before i_: a different string, which a verifier tries second.
  EXPECT_NE(SharedKeyStringToSign(request, kAccount, HeaderOrder::kBytes), expected_string);
}

TEST(SharedKeyTest, ZeroContentLengthIsSignedEmptyAndParametersGroup) {
  AzureRequest request;
  request.method = "GET";
  request.path = "/devstoreaccount1/c";
  request.query = {{"restype", "container"}, {"comp", "list"}, {"Include", "metadata"}, {"include", "snapshots"}};
  request.headers = {{"content-length", "0"}, {"x-ms-version", "2021-12-02"}};
  EXPECT_EQ(SharedKeyStringToSign(request, kAccount, HeaderOrder::kService),
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-version:2021-12-02\n/devstoreaccount1/devstoreaccount1/c\n"
            "comp:list\ninclude:metadata,snapshots\nrestype:container");
}

TEST(SharedKeyTest, MalformedAuthorizationIsRefused) {
  AzureRequest request;
  EXPECT_EQ(ParseSharedKey(request).status().code(), StatusCode::kNotFound);
  request.headers = {{"authorization", "Bearer abc"}};
  EXPECT_EQ(ParseSharedKey(request).status().code(), StatusCode::kInvalidArgument);
  request.headers = {{"authorization", "SharedKey nocolon"}};
  EXPECT_EQ(ParseSharedKey(request).status().code(), StatusCode::kInvalidArgument);
  request.headers = {{"authorization", "SharedKey acct:"}};
  EXPECT_EQ(ParseSharedKey(request).status().code(), StatusCode::kInvalidArgument);
}

TEST(SasTest, ServiceSasForABlobAndAContainerMatchThePythonSdk) {
  auto blob = ParseSas(*gateway::ParseQuery(
      "st=2026-11-22T00%3A00%3A00Z&se=2026-11-23T00%3A00%3A00Z&sp=rw&spr=https%2Chttp&sv=2021-12-02&sr=b"
      "&sig=n7xeCA0HQL03bVfq3SF2Td9ahiGk1POedV97kcaCi9M%3D"));
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_FALSE(blob->account);
  EXPECT_EQ(SignWithKey(KeyBytes(), *ServiceSasStringToSign(*blob, kAccount, "data", "dir/a b.bin")), blob->signature);
  EXPECT_NE(SignWithKey(KeyBytes(), *ServiceSasStringToSign(*blob, kAccount, "data", "dir/other")), blob->signature);

  auto container = ParseSas(*gateway::ParseQuery(
      "se=2026-11-23T00%3A00%3A00Z&sp=rl&sv=2021-12-02&sr=c&sig=2W1LCsnnAxlbkhfZPHau3BkJC3Nx0ZvPHfiXFYwzb/o%3D"));
  ASSERT_TRUE(container.ok()) << container.status();
  EXPECT_EQ(SignWithKey(KeyBytes(), *ServiceSasStringToSign(*container, kAccount, "data", "any/blob")),
            container->signature);
}

TEST(SasTest, AccountSasMatchesThePythonSdk) {
  auto sas = ParseSas(*gateway::ParseQuery(
      "se=2026-11-23T00%3A00%3A00Z&sp=rwdlc&sv=2021-12-02&ss=b&srt=sco"
      "&sig=crlvJ42ViHJyaGJZov/NXjw86aJIMapYMWXAKpjs44U%3D"));
  ASSERT_TRUE(sas.ok()) << sas.status();
  EXPECT_TRUE(sas->account);
  EXPECT_EQ(SignWithKey(KeyBytes(), *AccountSasStringToSign(*sas, kAccount)), sas->signature);
}

TEST(SasTest, IncompleteOrOldTokensAreRefused) {
  EXPECT_EQ(ParseSas(*gateway::ParseQuery("sv=2021-12-02&sr=b")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseSas(*gateway::ParseQuery("sig=x&sr=b")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSas(*gateway::ParseQuery("sig=x&sv=2021-12-02")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSas(*gateway::ParseQuery("sig=x&sv=2021-12-02&ss=b")).status().code(), StatusCode::kInvalidArgument);
  auto old = ParseSas(*gateway::ParseQuery("sig=x&sv=2015-04-05&sr=b"));
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(ServiceSasStringToSign(*old, kAccount, "c", "b").status().code(), StatusCode::kInvalidArgument);
}

TEST(SasTest, IpRanges) {
  EXPECT_TRUE(IpInRange("127.0.0.1", "127.0.0.1"));
  EXPECT_TRUE(IpInRange("10.0.0.5", "10.0.0.1-10.0.0.9"));
  EXPECT_FALSE(IpInRange("10.0.1.5", "10.0.0.1-10.0.0.9"));
  EXPECT_FALSE(IpInRange("not-an-ip", "10.0.0.1"));
  EXPECT_FALSE(IpInRange("10.0.0.1", "garbage"));
}

}  // namespace
}  // namespace cerulean::azure
