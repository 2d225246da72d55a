"""Chaos and fault-injection tooling for the integration tests: a fault-injecting
reverse proxy (for the real Medusa, which cannot fail on demand), shared shop
setup for the three channel types, and the chaos-run driver."""
