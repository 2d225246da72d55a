// Temporary entry point until the daemon lands.
#include <cstdio>

#include "version.hpp"

int main() {
    std::printf("stockrelayd %s\n", stockrelay::sidecar::version().data());
    return 0;
}
