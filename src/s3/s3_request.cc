#include "s3/s3_request.h"

#include <sstream>

#include <fmt/format.h>

namespace cerulean::s3 {

S3Error ErrorOf(const Status& status, bool bucket_level) {
  const std::string message(status.message());
  switch (status.code()) {
    case StatusCode::kNotFound:
      if (bucket_level || message.starts_with("container")) return {404, "NoSuchBucket", message};
      return {404, "NoSuchKey", message};
    case StatusCode::kAlreadyExists: return {409, "BucketAlreadyOwnedByYou", message};
    case StatusCode::kFailedPrecondition:
      if (message.find("not empty") != std::string::npos) return {409, "BucketNotEmpty", message};
      return {412, "PreconditionFailed", message};
    case StatusCode::kInvalidArgument:
      return {400, bucket_level ? "InvalidBucketName" : "InvalidArgument", message};
    case StatusCode::kOutOfRange: return {400, "EntityTooLarge", message};
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted: return {503, "ServiceUnavailable", message};
    default: return {500, "InternalError", message};
  }
}

std::string XmlText(const pugi::xml_document& document) {
  std::ostringstream out;
  document.save(out, "", pugi::format_raw, pugi::encoding_utf8);
  return out.str();
}

pugi::xml_node Root(pugi::xml_document& document, const char* name) {
  pugi::xml_node declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = document.append_child(name);
  root.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  return root;
}

void Text(pugi::xml_node parent, const char* name, std::string_view value) {
  parent.append_child(name).text().set(std::string(value).c_str());
}

Task<void> SendError(http::HttpExchange& exchange, const std::string& request_id, const std::string& resource, S3Error error) {
  pugi::xml_document document;
  pugi::xml_node declaration = document.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = document.append_child("Error");
  Text(root, "Code", error.code);
  Text(root, "Message", error.message);
  Text(root, "Resource", resource);
  Text(root, "RequestId", request_id);
  http::HttpHeaders headers = {{"Content-Type", "application/xml"}, {"x-amz-request-id", request_id}};
  const std::string body = XmlText(document);
  (void)co_await exchange.Respond(error.status, std::move(headers), body);
}

Task<void> SendXml(http::HttpExchange& exchange, const std::string& request_id, const pugi::xml_document& document) {
  http::HttpHeaders headers = {{"Content-Type", "application/xml"}, {"x-amz-request-id", request_id}};
  const std::string body = XmlText(document);
  (void)co_await exchange.Respond(200, std::move(headers), body);
}

std::string PartId(uint32_t number) { return fmt::format("{:05d}", number); }

uint32_t ParsePartNumber(std::string_view text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string_view::npos) return 0;
  const uint32_t number = static_cast<uint32_t>(std::stoul(std::string(text)));
  return number <= kPartNumberMax ? number : 0;
}

std::string BareEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

S3Error UploadErrorOf(const Status& status) {
  if (status.code() == StatusCode::kNotFound && status.message().starts_with("no upload")) {
    return S3Error(404, "NoSuchUpload", std::string(status.message()));
  }
  return ErrorOf(status, false);
}

}  // namespace cerulean::s3
