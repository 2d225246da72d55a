// event_identity(): the event key of a shop order from three fields, without
// normalizing it (the poll asks the inbox which of a page's keys it holds).
// Must agree with normalize(); test_orders_poll.py and the unit tests check it.

#include "support.hpp"
#include "stockrelay/orders.hpp"

namespace stockrelay::orders {
namespace {

using detail::optional_member;

struct Fields {
    const char* updated;
    const char* status;         // nullptr: cancelled when `cancelled_at` is set
    const char* cancelled_value;
    const char* cancelled_at;
};

std::optional<Fields> fields_of(std::string_view shop_type, const nlohmann::json& raw) {
    if (shop_type == "woocommerce") return Fields{"date_modified_gmt", "status", "cancelled", nullptr};
    if (shop_type == "medusa") return Fields{"updated_at", "status", "canceled", nullptr};
    if (shop_type != "shopify") return std::nullopt;
    const bool graphql = raw.contains("updatedAt");
    return graphql ? Fields{"updatedAt", nullptr, nullptr, "cancelledAt"}
                   : Fields{"updated_at", nullptr, nullptr, "cancelled_at"};
}

// "gid://shopify/Order/450789469?x" -> "450789469" (Shopify); other ids as they are.
std::string order_id(const nlohmann::json& raw) {
    auto id = detail::id_text(detail::member(raw, "id", ""), "id");
    if (id.rfind("gid://", 0) == 0) {
        const auto slash = id.rfind('/');
        id = id.substr(slash + 1);
        if (const auto q = id.find('?'); q != std::string::npos) id.resize(q);
    }
    return id;
}

}  // namespace

std::optional<EventIdentity> event_identity(std::string_view shop_type, const nlohmann::json& raw) {
    if (!raw.is_object()) return std::nullopt;
    const auto f = fields_of(shop_type, raw);
    if (!f) return std::nullopt;
    try {
        EventIdentity e;
        e.shop_order_id = order_id(raw);
        e.shop_updated_at = detail::utc(raw, f->updated, "");
        const bool cancelled = f->status ? detail::text(raw, f->status, "") == f->cancelled_value
                                         : optional_member(raw, f->cancelled_at) != nullptr;
        e.event_key = e.shop_order_id + "@" + e.shop_updated_at + (cancelled ? "/cancelled" : "");
        return e;
    } catch (const detail::Malformed&) {
        return std::nullopt;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

}  // namespace stockrelay::orders
