// The pure part of Medusa's batch publishing (see medusa.hpp).
#include <cctype>

#include <fmt/format.h>

#include "stockrelay/catalog/medusa.hpp"

namespace stockrelay::catalog::medusa {

using json = nlohmann::json;

json batch_create_body(const std::vector<const Document*>& docs, const StoreContext& store) {
    json create = json::array();
    for (const auto* d : docs) create.push_back(create_body(*d, store));
    return {{"create", create}};
}

namespace {
std::map<std::string, json> index_by(const json& products, const char* key) {
    std::map<std::string, json> out;
    if (!products.is_array()) return out;
    for (const auto& p : products)
        if (p.is_object() && p.contains(key) && (*p.find(key)).is_string()) out[p[key].get<std::string>()] = p;
    return out;
}

std::string url_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}
}  // namespace

std::map<std::string, json> by_external_id(const json& products) { return index_by(products, "external_id"); }
std::map<std::string, json> by_id(const json& products) { return index_by(products, "id"); }

bool retry_items_alone(const Error& e) {
    if (e.code == ErrorCode::throttled || e.code == ErrorCode::auth || e.code == ErrorCode::config) return false;
    // A 5xx with an answer may be one product Medusa chokes on; no answer at
    // all (down, timeout) is the shop's state, shared by every item.
    return e.http_status >= 400 && e.http_status != 401 && e.http_status != 403 && e.http_status != 429;
}

std::string sku_query(const std::vector<const Document*>& docs, std::size_t& count) {
    std::string q;
    count = 0;
    for (const auto* d : docs)
        for (const auto& v : d->variants) {
            q += "&sku%5B%5D=" + url_encode(v.sku);
            ++count;
        }
    return q;
}

}  // namespace stockrelay::catalog::medusa
