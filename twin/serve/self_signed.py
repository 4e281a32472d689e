"""The self-signed certificate of `twin serve --lan`: phones open WebXR AR only in a secure
context, so a server on the local network needs HTTPS, and nobody there has a certificate a
public authority signed for a private address.

It is made once and kept in a folder (scans/.twin-tls/ beside the scan folders, the key readable
by its owner only), and reused on the next start while it still names the address and the host
name and has a month of validity left: a phone that accepted it once (after comparing the
fingerprint the server prints) is not asked again.
"""
from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from twin.scanfolder import atomic_write

CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
# Apple's platforms refuse TLS server certificates valid for longer than 825 days; a year is plenty.
VALIDITY_DAYS = 365
RENEW_DAYS = 30  # a certificate with less validity left is made anew at start


@dataclass(frozen=True)
class Certificate:
    """A certificate and its key on disk, as `twin serve` uses and prints them."""

    cert: Path
    key: Path
    sha256: str  # of the DER certificate, "AB:CD:...", as browsers show it in the certificate's details
    names: tuple[str, ...]  # the addresses and host names it is valid for (subjectAltName)
    origin: str  # "made now: <why>", "kept from an earlier start", or what the caller said of a given one

    @property
    def made_now(self) -> bool:
        return self.origin.startswith("made now")


def host_names(address: str) -> tuple[str, ...]:
    """What a phone may type or resolve to reach this machine: `address`, the host name, its
    mDNS name (NAME.local) and localhost."""
    host = socket.gethostname()
    names = [address, host] + ([f"{host}.local"] if host and "." not in host else []) + ["localhost"]
    return tuple(dict.fromkeys(name for name in names if name))


def lan_certificate(folder: Path, address: str) -> Certificate:
    """The certificate kept in `folder` if it still fits `address` and this host, else a new one
    (an ECDSA P-256 key, valid for VALIDITY_DAYS)."""
    folder = Path(folder)
    names = host_names(address)
    reason = _why_not_reusable(folder, names)
    if reason is None:
        if (folder / KEY_FILE).stat().st_mode & 0o077:  # copied around with looser rights
            (folder / KEY_FILE).chmod(0o600)
        return _certificate(folder / CERT_FILE, folder / KEY_FILE, "kept from an earlier start")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _make(folder, names)
    except OSError as error:
        raise ValueError(f"cannot keep the HTTPS certificate in {folder} ({error}); make the scan folders' "
                         "parent writable, or give --tls-cert and --tls-key") from None
    return _certificate(folder / CERT_FILE, folder / KEY_FILE, f"made now: {reason}")


def _why_not_reusable(folder: Path, names: tuple[str, ...]) -> str | None:
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    if not cert_path.is_file() or not key_path.is_file():
        return f"there was none in {folder}"
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        return f"the kept one could not be read ({error})"
    if key.public_key().public_bytes(*_SPKI) != cert.public_key().public_bytes(*_SPKI):
        return f"{KEY_FILE} is not the key of {CERT_FILE}"
    left = cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    if left < datetime.timedelta(days=RENEW_DAYS):
        return "the kept one expires within a month" if left.total_seconds() > 0 else "the kept one has expired"
    missing = [name for name in names if name not in _names_of(cert)]
    if missing:
        return f"the kept one does not name {', '.join(missing)}"
    return None


_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _names_of(cert: x509.Certificate) -> list[str]:
    try:
        alternative = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return ([str(ip) for ip in alternative.get_values_for_type(x509.IPAddress)]
            + alternative.get_values_for_type(x509.DNSName))


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _make(folder: Path, names: tuple[str, ...]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    common_name = f"twin serve on {names[1] if len(names) > 1 else names[0]}"[:64]  # X.509 allows 64 characters
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))  # phones whose clock is a little behind
            .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
            .add_extension(x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    # The key first, under a temporary name made 0600 before a byte is in it; each file renamed into place whole.
    _write(folder / KEY_FILE, key_pem, 0o600)
    _write(folder / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _write(path: Path, data: bytes, mode: int) -> None:
    with atomic_write(path) as partial:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as file:
            file.write(data)


def certificate_of(cert: Path, key: Path | None, origin: str = "given") -> Certificate:
    """A certificate someone else made (e.g. signed by the workshop's own authority), for its fingerprint."""
    if key is None:
        raise ValueError(f"give the private key of {cert} too (--tls-key)")
    try:
        return _certificate(Path(cert), Path(key), origin)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the TLS certificate {cert} ({error}); give a PEM file") from None


def _certificate(cert_path: Path, key_path: Path, origin: str) -> Certificate:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return Certificate(cert=cert_path, key=key_path, sha256=fingerprint(cert.public_bytes(serialization.Encoding.DER)),
                       names=tuple(_names_of(cert)), origin=origin)


def fingerprint(der: bytes) -> str:
    """The SHA-256 fingerprint of a DER certificate as browsers show it (AB:CD:...)."""
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())
