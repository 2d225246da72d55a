// Whole-inventory readers of the REST channels (reconciliation, contract v3).
// They live apart from the push code: each channel hands its reader one
// authenticated GET (its auth, 429 handling and error wording included), the
// reader pages through the shop and hands each page to the sink with the
// cursor to resume after it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stockrelay/channels/channel.hpp"

namespace stockrelay::channels::readers {

// One GET of `rel` (relative to the channel's API root, query encoded). A
// failed call (transport, non-2xx, a 2xx that is not JSON) is an Error with
// the channel's wording; calls and throttle waits are added to `report`.
using Get = std::function<Result<http::Response>(const std::string& rel, ReadReport& report)>;

// WooCommerce: `GET products` page by page (id order), each variable
// product's variations before its page is handed over. Cursor {"page": n}.
std::optional<Error> read_woocommerce(const Get& get, const nlohmann::json& cursor, const InventorySink& sink,
                                      ReadReport& report);

// Medusa: `GET /admin/inventory-items` with location levels, offset paging in
// id order. Quantity = stocked - reserved (what a customer can buy, the
// number pushes set). Cursor {"offset": n}.
std::optional<Error> read_medusa(const Get& get, const std::vector<std::string>& location_keys,
                                 const nlohmann::json& cursor, const InventorySink& sink, ReadReport& report);

// The error a reader returns when the sink asked it to stop.
Error stopped_error();

}  // namespace stockrelay::channels::readers
