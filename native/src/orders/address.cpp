#include "address.hpp"

#include <algorithm>
#include <cctype>

#include "support.hpp"

namespace stockrelay::orders::detail {

const AddressKeys kShopifyRestAddress{"first_name", "last_name", "name", "company", "address1", "address2",
                                      "city", "zip", "province_code", "country_code", "phone"};
const AddressKeys kShopifyGraphqlAddress{"firstName", "lastName", "name", "company", "address1", "address2",
                                         "city", "zip", "provinceCode", "countryCodeV2", "phone"};
const AddressKeys kWooAddress{"first_name", "last_name", nullptr, "company", "address_1", "address_2",
                              "city", "postcode", "state", "country", "phone"};
const AddressKeys kMedusaAddress{"first_name", "last_name", nullptr, "company", "address_1", "address_2",
                                 "city", "postal_code", "province", "country_code", "phone"};

json address(const json* a, const AddressKeys& k) {
    if (!a || !a->is_object()) return nullptr;
    json name = k.name ? opt_text(*a, k.name) : json();
    if (name.is_null()) {
        auto joined = join_name(opt_text(*a, k.first_name), opt_text(*a, k.last_name));
        if (!joined.empty()) name = joined;
    }
    json country = opt_text(*a, k.country_code);
    if (country.is_string()) {
        auto c = country.get<std::string>();
        std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::toupper(ch); });
        country = c;
    }
    json out = {{"name", name},
                {"company", opt_text(*a, k.company)},
                {"street", opt_text(*a, k.street)},
                {"street2", opt_text(*a, k.street2)},
                {"city", opt_text(*a, k.city)},
                {"zip", opt_text(*a, k.zip)},
                {"state_code", opt_text(*a, k.state_code)},
                {"country_code", country},
                {"phone", opt_text(*a, k.phone)}};
    const bool any = std::any_of(out.begin(), out.end(), [](const json& v) { return !v.is_null(); });
    return any ? out : json();
}

}  // namespace stockrelay::orders::detail
