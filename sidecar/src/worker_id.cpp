#include "worker_id.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace stockrelay::sidecar {
namespace {

std::string hostname() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) return "localhost";
    return host;
}

std::string read_first_line(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

// Field 22 of /proc/<pid>/stat (after the parenthesised command, which may hold spaces).
std::optional<unsigned long long> start_ticks(long pid) {
    const auto stat = read_first_line(fmt::format("/proc/{}/stat", pid));
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    for (int k = 3; k < 22 && rest >> field; ++k) {}
    unsigned long long v = 0;
    if (!(rest >> v)) return std::nullopt;
    return v;
}

std::string pid_namespace(long pid) {
    char buf[64] = {};
    const auto n = readlink(fmt::format("/proc/{}/ns/pid", pid).c_str(), buf, sizeof buf - 1);
    if (n <= 0) return "";
    const std::string link(buf, static_cast<std::size_t>(n));  // pid:[4026531836]
    const auto a = link.find('['), b = link.find(']');
    return (a == std::string::npos || b == std::string::npos || b <= a) ? "" : link.substr(a + 1, b - a - 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (auto next = s.find(sep); next != std::string::npos; next = s.find(sep, pos)) {
        out.push_back(s.substr(pos, next - pos));
        pos = next + 1;
    }
    out.push_back(s.substr(pos));
    return out;
}

template <typename T>
bool to_number(const std::string& s, T& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string Instance::id() const { return fmt::format("{}:{}:{}.{}.{}", host, pid, start, boot, pidns); }

std::optional<Instance> Instance::parse(const std::string& id) {
    const auto colon = split(id, ':');
    if (colon.size() != 3) return std::nullopt;
    const auto dot = split(colon[2], '.');
    if (dot.size() != 3 || dot[1].empty() || dot[2].empty()) return std::nullopt;
    Instance i;
    i.host = colon[0];
    i.boot = dot[1];
    i.pidns = dot[2];
    if (!to_number(colon[1], i.pid) || i.pid <= 0 || !to_number(dot[0], i.start)) return std::nullopt;
    return i;
}

std::optional<Instance> this_instance() {
    Instance i;
    i.host = hostname();
    i.pid = static_cast<long>(getpid());
    const auto start = start_ticks(i.pid);
    i.boot = read_first_line("/proc/sys/kernel/random/boot_id").substr(0, 8);
    i.pidns = pid_namespace(i.pid);
    if (!start || i.boot.size() != 8 || i.pidns.empty() || i.host.find(':') != std::string::npos)
        return std::nullopt;
    i.start = *start;
    return i;
}

std::string default_worker_id() {
    if (auto self = this_instance()) return self->id();
    return fmt::format("{}:{}", hostname(), getpid());
}

bool instance_gone(const std::string& id) {
    const auto other = Instance::parse(id);
    const auto self = this_instance();
    if (!other || !self) return false;
    if (other->host != self->host || other->boot != self->boot || other->pidns != self->pidns) return false;
    if (other->pid == self->pid && other->start == self->start) return false;
    const auto start = start_ticks(other->pid);
    return !start || *start != other->start;  // no such process, or the pid was reused
}

}  // namespace stockrelay::sidecar
