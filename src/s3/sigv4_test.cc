#include "s3/sigv4.h"

#include <gtest/gtest.h>

namespace cerulean::s3 {
namespace {

constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

// The example of AWS's S3 documentation ("Signature Calculations for the Authorization
// Header"): GET /test.txt with a range.
SignedRequest ExampleGet() {
  return {.method = "GET",
          .path = "/test.txt",
          .query = {},
          .headers = {{"host", "examplebucket.s3.amazonaws.com"},
                      {"range", "bytes=0-9"},
                      {"x-amz-content-sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
                      {"x-amz-date", "20130524T000000Z"},
                      {"authorization",
                       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                       "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                       "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"}}};
}

TEST(SigV4Test, MatchesAwsDocumentedExample) {
  const SignedRequest request = ExampleGet();
  auto auth = ParseSigV4(request);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->access_key, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(auth->region, "us-east-1");
  const std::string canonical = CanonicalRequest(request, *auth);
  EXPECT_EQ(canonical,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sign(kSecret, *auth, StringToSign(*auth, canonical)), auth->signature);
}

TEST(SigV4Test, ADifferentRequestOrKeyGivesAnotherSignature) {
  SignedRequest request = ExampleGet();
  auto auth = ParseSigV4(request);
  ASSERT_TRUE(auth.ok());
  EXPECT_NE(Sign("another secret", *auth, StringToSign(*auth, CanonicalRequest(request, *auth))), auth->signature);
  request.headers[1].second = "bytes=0-10";  // an altered signed header
  EXPECT_NE(Sign(kSecret, *auth, StringToSign(*auth, CanonicalRequest(request, *auth))), auth->signature);
  request = ExampleGet();
  request.headers.emplace_back("x-unsigned", "anything");  // unsigned headers do not count
  EXPECT_EQ(Sign(kSecret, *auth, StringToSign(*auth, CanonicalRequest(request, *auth))), auth->signature);
}

TEST(SigV4Test, PresignedQueriesParseAndExcludeTheirSignature) {
  SignedRequest request{.method = "GET", .path = "/bucket/a b.txt"};
  auto query = ParseQuery(
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
      "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abc");
  ASSERT_TRUE(query.ok()) << query.status();
  request.query = *query;
  request.headers = {{"host", "localhost:9000"}};
  auto auth = ParseSigV4(request);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_TRUE(auth->presigned);
  EXPECT_EQ(auth->expires_s, 60);
  const std::string canonical = CanonicalRequest(request, *auth);
  EXPECT_EQ(canonical.find("X-Amz-Signature"), std::string::npos);
  EXPECT_NE(canonical.find("/bucket/a%20b.txt\n"), std::string::npos) << canonical;
  EXPECT_TRUE(canonical.ends_with("\nhost\nUNSIGNED-PAYLOAD"));
}

TEST(SigV4Test, MalformedInputIsRefusedWithAReason) {
  SignedRequest request{.method = "GET", .path = "/", .headers = {{"authorization", "AWS4-HMAC-SHA256 Credential=x"}}};
  EXPECT_EQ(ParseSigV4(request).status().code(), StatusCode::kInvalidArgument);
  request.headers = {{"authorization", "Basic abc"}};
  EXPECT_EQ(ParseSigV4(request).status().code(), StatusCode::kInvalidArgument);
  request.headers = {};
  EXPECT_EQ(ParseSigV4(request).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*ParseAmzDate("20130524T000000Z"), 1369353600);
  EXPECT_FALSE(ParseAmzDate("2013-05-24T00:00:00Z").ok());
}

}  // namespace
}  // namespace cerulean::s3
