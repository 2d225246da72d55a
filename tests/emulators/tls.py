"""A throw-away certificate authority for the emulators.

Tests keep TLS verification on: the emulators serve HTTPS with a certificate for
127.0.0.1 signed by this CA, and the channel's ``ca_file`` setting points at the
CA, exactly as an operator would trust a private CA.
"""
from __future__ import annotations

import pathlib
import subprocess


def make_test_ca(directory: pathlib.Path) -> dict:
    """Create ca.pem, server.pem and server.key for 127.0.0.1/localhost in ``directory``."""
    d = pathlib.Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca_pem = d / "ca.key", d / "ca.pem"
    key, csr, pem, ext = d / "server.key", d / "server.csr", d / "server.pem", d / "server.ext"
    if not pem.exists():
        run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=stockrelay test CA", "-keyout", str(ca_key), "-out", str(ca_pem))
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", str(key), "-out", str(csr))
        ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                       "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                       "extendedKeyUsage=serverAuth\n")
        run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_pem), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(pem))
    return {"ca": str(ca_pem), "cert": str(pem), "key": str(key)}
