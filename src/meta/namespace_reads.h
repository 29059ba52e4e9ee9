// Reads and checks that the namespace's operations share (namespace.cc, staged_uploads.cc).
#pragma once

#include <optional>
#include <string_view>

#include "meta/meta_records.h"
#include "meta/metadata_store.h"
#include "meta/namespace.h"

namespace cerulean::meta::detail {

// An ETag without its quotes and a weak W/ prefix, as conditions compare them.
std::string_view BareEtag(std::string_view etag);
// FailedPrecondition when `conditions` do not hold for `current` (nothing: no object).
Status CheckConditions(const std::optional<ObjectRecord>& current, const Conditions& conditions);
Result<std::optional<ObjectRecord>> ReadObject(MetadataStore& store, std::string_view container, std::string_view name);
// NotFound when the container does not exist.
Status ContainerExists(MetadataStore& store, std::string_view container);

}  // namespace cerulean::meta::detail
