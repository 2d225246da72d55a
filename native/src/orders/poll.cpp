// The polling fallback: orders updated after a time, oldest first, per shop.
// WooCommerce and Medusa here; Shopify in shopify_poll.cpp.
#include <fmt/format.h>

#include "poll.hpp"
#include "stockrelay/http/http.hpp"
#include "stockrelay/orders.hpp"

namespace stockrelay::orders {
namespace detail {

using nlohmann::json;

OrderPage unstored(std::string_view shop_type, const json& list, const StoredFilter& stored) {
    OrderPage out;
    std::vector<std::string> keys;
    std::vector<std::size_t> keyed;  // index in `list` of each key
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto id = event_identity(shop_type, list[i]);
        if (!id) continue;
        if (id->shop_updated_at > out.newest_updated_at) out.newest_updated_at = id->shop_updated_at;
        keys.push_back(id->event_key);
        keyed.push_back(i);
    }
    std::vector<bool> skip(list.size(), false);
    if (stored && !keys.empty()) {
        const auto held = stored(keys);
        for (std::size_t k = 0; k < keyed.size() && k < held.size(); ++k) skip[keyed[k]] = held[k];
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (skip[i]) ++out.skipped;
        else out.orders.push_back({list[i], list[i].dump()});
    }
    return out;
}

Error malformed_page(std::string_view shop, std::string_view what, const std::string& body) {
    return make_error(ErrorCode::transient,
                      fmt::format("{} order poll: the answer has no {}: {}", shop, what, http::excerpt(body, 200)));
}

}  // namespace detail

namespace {

using nlohmann::json;

constexpr int kRestPage = 100;  // WooCommerce's per_page maximum; Medusa takes the same
constexpr int kMaxPages = 200;  // per poll; the cursor resumes where this stopped

// Medusa: the fields the normalizer reads (the default set has no email).
constexpr const char* kMedusaFields =
    "id,display_id,status,email,created_at,updated_at,currency_code,payment_status,total,item_subtotal,"
    "tax_total,shipping_total,discount_total,*items,*items.tax_lines,*customer,*shipping_address,"
    "*billing_address,*shipping_methods,*shipping_methods.tax_lines";

// WooCommerce and Medusa: GET `rel_of(since, page)` until a short page.
// Keyset paging: after a full page the next asks again from its newest update
// (less a second: the filters compare strictly, to the second), because an
// order updated during the poll moves to the end of an offset-paged list and
// shifts an unread one back onto a page already read. Orders listed twice are
// skipped as stored. Plain page numbers only when a whole page shares one second.
template <class RelOf>
std::optional<Error> poll_rest(channels::Channel& ch, std::string_view shop, const char* list_key, std::string since,
                               RelOf&& rel_of, const StoredFilter& stored, const OrderPageSink& sink,
                               PollReport& rep) {
    int page = 0;
    for (int calls = 0; calls < kMaxPages; ++calls) {
        ++rep.api_calls;
        auto res = ch.rest_call("GET", rel_of(since, page), "");
        if (!res) return res.error();
        const json body = json::parse(res->body, nullptr, false);
        const json* list = list_key ? (body.is_object() && body.contains(list_key) ? &body[list_key] : nullptr) : &body;
        if (!list || !list->is_array())
            return detail::malformed_page(shop, list_key ? list_key : "list of orders", res->body);
        ++rep.pages;
        rep.orders += static_cast<long long>(list->size());
        const auto out = detail::unstored(shop, *list, stored);
        rep.skipped += out.skipped;
        if (!list->empty() && !sink(out)) return std::nullopt;
        if (static_cast<int>(list->size()) < kRestPage) return std::nullopt;
        const auto next = utc_second_plus(out.newest_updated_at, -1);
        if (next && *next > since) {
            since = *next;
            page = 0;
        } else {
            ++page;
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<Error> poll_orders(channels::Channel& ch, const std::string& since, const StoredFilter& stored,
                                 const OrderPageSink& sink, PollReport& rep) {
    if (ch.type() == "shopify") return detail::poll_shopify(ch, since, stored, sink, rep);
    if (ch.type() == "woocommerce") {
        // modified_after compares strictly, to the second, in GMT with dates_are_gmt (no offset in the value).
        return poll_rest(ch, "woocommerce", nullptr, since, [](const std::string& from, int page) {
            return fmt::format("orders?modified_after={}&dates_are_gmt=true&orderby=modified&order=asc&per_page={}&page={}",
                               http::url_encode(from.substr(0, 19)), kRestPage, page + 1);
        }, stored, sink, rep);
    }
    if (ch.type() == "medusa") {
        return poll_rest(ch, "medusa", "orders", since, [](const std::string& from, int page) {
            return fmt::format("/admin/orders?fields={}&updated_at%5B%24gt%5D={}&order=updated_at&limit={}&offset={}",
                               http::url_encode(kMedusaFields), http::url_encode(from), kRestPage, page * kRestPage);
        }, stored, sink, rep);
    }
    return make_error(ErrorCode::config, fmt::format("cannot poll orders of a {} channel", ch.type()));
}

}  // namespace stockrelay::orders
