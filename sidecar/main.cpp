// stockrelayd: drains the stockrelay outbox into the shops. All the work is in
// stockrelayd_lib (sidecar/src); see cli.cpp for the commands and exit codes.
#include "cli.hpp"

int main(int argc, char** argv) { return stockrelay::sidecar::cli_main(argc, argv); }
