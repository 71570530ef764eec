"""A DKIM test key: its private key in PEM for dkimpy to sign with, and its DNS record as the
test DNS server holds it."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
)
PUBLIC_B64 = base64.b64encode(
    KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()


def txt(value: str) -> str:
    """A TXT record's text form, split into quoted strings of at most 255 bytes."""
    return " ".join(f'"{value[i : i + 200]}"' for i in range(0, len(value), 200))


KEY_RECORD = txt(f"v=DKIM1; k=rsa; p={PUBLIC_B64}")
