#include "stockrelay/catalog/document.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>

namespace stockrelay::catalog {
namespace {

using json = nlohmann::json;

Error bad(const std::string& what) { return make_error(ErrorCode::rejected, "catalogue document: " + what); }

// Each getter returns an error text (empty: fine) and fills `out`.
std::string text(const json& o, const char* key, std::string& out, bool required, const std::string& path) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return required ? fmt::format("{}{} is missing", path, key) : "";
    if (!it->is_string()) return fmt::format("{}{} must be a string, not {}", path, key, it->type_name());
    out = it->get<std::string>();
    if (required && out.empty()) return fmt::format("{}{} is empty", path, key);
    return "";
}

std::string integer(const json& o, const char* key, std::int64_t& out, const std::string& path) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number_integer()) return fmt::format("{}{} must be an integer", path, key);
    out = it->get<std::int64_t>();
    return "";
}

std::string price(const json& o, std::optional<std::string>& out, const std::string& path) {
    auto it = o.find("price");
    if (it == o.end() || it->is_null()) return "";
    if (!it->is_string() || !parse_price(it->get<std::string>()))
        return fmt::format("{}price must be a decimal string such as \"12.50\" or null, not {}", path, it->dump());
    out = it->get<std::string>();
    return "";
}

std::string format_check(const json& payload) {
    if (!payload.is_object()) return fmt::format("the payload must be a JSON object, not {}", payload.type_name());
    auto f = payload.find("format");
    if (f == payload.end() || !f->is_number_integer())
        return "format is missing: this stockrelayd reads format 1 documents";
    if (f->get<std::int64_t>() != kFormat)
        return fmt::format("unknown document format {} (this stockrelayd reads format {}): upgrade stockrelayd",
                           f->dump(), kFormat);
    return "";
}

std::string currency(const json& p, std::string& out) {
    if (auto e = text(p, "currency", out, true, ""); !e.empty()) return e;
    bool ok = out.size() == 3;
    for (char& c : out) {
        ok = ok && std::isalpha(static_cast<unsigned char>(c));
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return ok ? "" : fmt::format("currency '{}' is not an ISO 4217 code", out);
}

std::string parse_options(const json& p, std::vector<Option>& out) {
    auto it = p.find("options");
    if (it == p.end() || it->is_null()) return "";
    if (!it->is_array()) return "options must be an array";
    std::set<std::string> names;
    for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& o = (*it)[i];
        const auto path = fmt::format("options[{}].", i);
        if (!o.is_object()) return path + " must be an object";
        Option opt;
        if (auto e = text(o, "name", opt.name, true, path); !e.empty()) return e;
        if (!names.insert(opt.name).second) return fmt::format("option '{}' appears twice", opt.name);
        auto v = o.find("values");
        if (v == o.end() || !v->is_array() || v->empty()) return path + "values must be a non-empty array";
        std::set<std::string> seen;
        for (const auto& x : *v) {
            if (!x.is_string() || x.get<std::string>().empty()) return path + "values must be non-empty strings";
            if (!seen.insert(x.get<std::string>()).second)
                return fmt::format("option '{}' lists the value '{}' twice", opt.name, x.get<std::string>());
            opt.values.push_back(x.get<std::string>());
        }
        out.push_back(std::move(opt));
    }
    return "";
}

std::string parse_variant(const json& v, const std::vector<Option>& options, Variant& out, const std::string& path) {
    if (!v.is_object()) return path + " must be an object";
    const auto p = path + ".";
    if (auto e = text(v, "external_id", out.external_id, true, p); !e.empty()) return e;
    if (auto e = integer(v, "product_id", out.product_id, p); !e.empty()) return e;
    if (auto e = text(v, "sku", out.sku, true, p); !e.empty()) return e + " (every published variant needs an Internal Reference)";
    std::string barcode;
    if (auto e = text(v, "barcode", barcode, false, p); !e.empty()) return e;
    if (!barcode.empty()) out.barcode = barcode;
    if (auto w = v.find("weight"); w != v.end() && !w->is_null()) {
        if (!w->is_number() || w->get<double>() < 0) return p + "weight must be a non-negative number or null";
        out.weight = w->get<double>();
    }
    if (auto e = text(v, "weight_unit", out.weight_unit, false, p); !e.empty()) return e;
    if (auto e = price(v, out.price, p); !e.empty()) return e;
    out.active = v.value("active", true);
    auto o = v.find("options");
    const std::size_t n = (o != v.end() && o->is_array()) ? o->size() : 0;
    if (o != v.end() && !o->is_null() && !o->is_array()) return p + "options must be an array";
    if (n != options.size()) {
        std::string names;
        for (const auto& opt : options) names += (names.empty() ? "" : ", ") + opt.name;
        return fmt::format("{}options: {} value(s) for {} option(s) ({}) of the document (SKU {})", p, n,
                           options.size(), names.empty() ? "none" : names, out.sku);
    }
    for (std::size_t k = 0; k < n; ++k) {
        const auto& x = (*o)[k];
        if (!x.is_string()) return fmt::format("{}options[{}] must be a string", p, k);
        const auto& vals = options[k].values;
        if (std::find(vals.begin(), vals.end(), x.get<std::string>()) == vals.end())
            return fmt::format("{}options[{}]: '{}' is not a value of option '{}' (SKU {})", p, k, x.get<std::string>(),
                               options[k].name, out.sku);
        out.options.push_back(x.get<std::string>());
    }
    return "";
}

std::string parse_variants(const json& p, const std::vector<Option>& options, std::vector<Variant>& out) {
    auto it = p.find("variants");
    if (it == p.end() || !it->is_array() || it->empty()) return "variants must be a non-empty array";
    std::set<std::string> skus, ids;
    std::set<std::vector<std::string>> combos;
    for (std::size_t i = 0; i < it->size(); ++i) {
        Variant v;
        if (auto e = parse_variant((*it)[i], options, v, fmt::format("variants[{}]", i)); !e.empty()) return e;
        if (!skus.insert(v.sku).second)
            return fmt::format("duplicate SKU '{}' in the document: each variant needs its own Internal Reference",
                               v.sku);
        if (!ids.insert(v.external_id).second) return fmt::format("duplicate variant external_id '{}'", v.external_id);
        if (v.active && !combos.insert(v.options).second)
            return fmt::format("two active variants share the option values of SKU '{}'", v.sku);
        out.push_back(std::move(v));
    }
    return "";
}

std::string parse_images(const json& p, std::vector<std::string>& out) {
    auto it = p.find("images");
    if (it == p.end() || it->is_null()) return "";
    if (!it->is_array()) return "images must be an array";
    for (std::size_t i = 0; i < it->size(); ++i) {
        std::string url;
        if (!(*it)[i].is_object()) return fmt::format("images[{}] must be an object with a url", i);
        if (auto e = text((*it)[i], "url", url, true, fmt::format("images[{}].", i)); !e.empty()) return e;
        if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0)
            return fmt::format("images[{}].url must be a public http(s) URL, not '{}'", i, url);
        out.push_back(url);
    }
    return "";
}

}  // namespace

std::optional<double> parse_price(const std::string& t) {
    std::size_t i = 0, digits = 0;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i, ++digits;
    if (digits == 0) return std::nullopt;
    if (i < t.size() && t[i] == '.') {
        std::size_t frac = 0;
        for (++i; i < t.size() && std::isdigit(static_cast<unsigned char>(t[i])); ++i) ++frac;
        if (frac == 0) return std::nullopt;
    }
    if (i != t.size() || digits > 12) return std::nullopt;
    return std::stod(t);
}

std::string document_hash(const nlohmann::json& payload) {
    const auto canonical = payload.dump();  // nlohmann's object keeps its keys sorted
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(canonical.data(), canonical.size(), md, &len, EVP_sha256(), nullptr);
    std::string out = "sha256:";
    for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
    return out;
}

std::string variant_title(const Document& doc, const Variant& v) {
    if (v.options.empty()) return doc.name;
    std::string t;
    for (const auto& o : v.options) t += (t.empty() ? "" : " / ") + o;
    return t;
}

Result<Document> parse_document(const nlohmann::json& p) {
    if (auto e = format_check(p); !e.empty()) return bad(e);
    Document d;
    std::string err;
    if (err.empty()) err = text(p, "external_id", d.external_id, true, "");
    if (err.empty()) err = integer(p, "template_id", d.template_id, "");
    if (err.empty()) err = text(p, "name", d.name, true, "");
    if (err.empty()) err = text(p, "description", d.description, false, "");
    if (err.empty()) err = text(p, "handle", d.handle, false, "");
    if (err.empty()) err = currency(p, d.currency);
    if (err.empty()) err = parse_options(p, d.options);
    if (err.empty()) err = parse_variants(p, d.options, d.variants);
    if (err.empty()) err = parse_images(p, d.images);
    if (!err.empty()) return bad(err);
    d.active = p.value("active", true);
    d.hash = document_hash(p);
    return d;
}

Result<PriceDocument> parse_prices(const nlohmann::json& p) {
    if (auto e = format_check(p); !e.empty()) return bad(e);
    PriceDocument d;
    std::string err = text(p, "external_id", d.external_id, true, "");
    if (err.empty()) err = integer(p, "template_id", d.template_id, "");
    if (err.empty()) err = currency(p, d.currency);
    auto it = p.find("variants");
    if (err.empty() && (it == p.end() || !it->is_array() || it->empty())) err = "variants must be a non-empty array";
    std::set<std::string> skus;
    for (std::size_t i = 0; err.empty() && i < it->size(); ++i) {
        const auto& v = (*it)[i];
        const auto path = fmt::format("variants[{}].", i);
        PriceVariant pv;
        if (!v.is_object()) err = path + " must be an object";
        if (err.empty()) err = text(v, "external_id", pv.external_id, true, path);
        if (err.empty()) err = integer(v, "product_id", pv.product_id, path);
        if (err.empty()) err = text(v, "sku", pv.sku, false, path);
        if (err.empty()) err = price(v, pv.price, path);
        if (err.empty() && !pv.sku.empty() && !skus.insert(pv.sku).second)
            err = fmt::format("duplicate SKU '{}' in the price payload", pv.sku);
        d.variants.push_back(std::move(pv));
    }
    if (!err.empty()) return bad(err);
    d.hash = document_hash(p);
    return d;
}

}  // namespace stockrelay::catalog
