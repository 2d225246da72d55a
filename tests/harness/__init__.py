"""Integration-test harness: a private PostgreSQL cluster, the real stockrelayd
binary, and helpers that write outbox rows exactly as the Odoo addon does."""
