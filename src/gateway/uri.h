// Percent-encoding and query strings as the REST gateways (S3, Azure Blob) read and write them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace cerulean::gateway {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Every byte but A-Z a-z 0-9 - _ . ~ (and '/' if kept) as %XX, as SigV4 wants it.
std::string UriEncode(std::string_view text, bool keep_slash);
// InvalidArgument on a bad escape.
Result<std::string> UriDecode(std::string_view text);
// A query string's parameters, decoded, in order ("a" alone has an empty value). '+' stays '+':
// the clients send spaces as %20, and a literal '+' means '+'.
Result<Pairs> ParseQuery(std::string_view query);
// The value of the first pair named `name`, or null.
const std::string* Find(const Pairs& pairs, std::string_view name);

std::string Base64Encode(std::string_view bytes);
// InvalidArgument unless `text` is padded base64.
Result<std::string> Base64Decode(std::string_view text);

std::string Lower(std::string_view text);

}  // namespace cerulean::gateway
