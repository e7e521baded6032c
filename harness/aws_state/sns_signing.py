"""SNS's message envelope for SQS (non-raw), HTTP and email-json subscribers, signed with one
certificate per subscription instead of one per message.

moto's ``Subscription.get_post_data`` builds and signs a new X.509 certificate for every
message it delivers (~40 % of a Publish to a topic with an SQS subscriber, 18 ms a call here).
AWS signs with a certificate that stays the same between messages (one ``SigningCertURL``), so
the certificate is made at a subscription's first message and kept; each message is still
signed (SignatureVersion 2, SHA256withRSA) over AWS's string to sign, which, unlike moto's,
includes the Subject when there is one. ``UnsubscribeURL`` names the subscription, as AWS's does.
The PEM stays retrievable where moto serves it (the default account's SNS backend, per region).
"""

from __future__ import annotations

import base64
import threading
from datetime import timedelta
from typing import Any

_lock = threading.Lock()
_certificates: dict[int, tuple[Any, str]] = {}
"""id(private key) -> (the key, the certificate's file name); a subscription's key lives as
long as moto's cache of it."""
_installed = False


def string_to_sign(fields: dict[str, str]) -> str:
    """AWS's string to sign for a Notification: each present field's name and value, one a
    line, in this order."""
    order = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    return "".join(f"{name}\n{fields[name]}\n" for name in order if fields.get(name))


def _certificate_name(subscription: Any, key: Any) -> str:
    """The subscription's certificate file name, made (and published to moto) at first use."""
    with _lock:
        known = _certificates.get(id(key))
        if known is not None and known[0] is key:
            return known[1]
    import cryptography.x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import Name, NameAttribute
    from cryptography.x509.oid import NameOID
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.utils import utcnow
    from moto.moto_api._internal import mock_random
    from moto.sns.models import sns_backends

    issuer = Name([NameAttribute(NameOID.COUNTRY_NAME, "US"),
                   NameAttribute(NameOID.ORGANIZATION_NAME, "Amazon"),
                   NameAttribute(NameOID.COMMON_NAME, "Amazon RSA 2048 M01")])
    certificate = (cryptography.x509.CertificateBuilder()
                   .subject_name(Name([NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")]))
                   .issuer_name(issuer).public_key(key.public_key())
                   .serial_number(cryptography.x509.random_serial_number())
                   .not_valid_before(utcnow()).not_valid_after(utcnow() + timedelta(days=365))
                   .sign(key, hashes.SHA256()))
    name = f"SimpleNotificationService-{mock_random.uuid4().hex}.pem"
    region = subscription.topic.sns_backend.region_name
    sns_backends[DEFAULT_ACCOUNT_ID][region]._message_public_keys[name] = (
        certificate.public_bytes(serialization.Encoding.PEM))
    with _lock:
        _certificates[id(key)] = (key, name)
    return name


def _post_data(self: Any, message: str, message_id: str, subject: str | None,
               message_attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from moto.core.utils import iso_8601_datetime_with_milliseconds

    key = self.private_key()
    region = self.topic.sns_backend.region_name
    fields = {"Type": "Notification", "MessageId": message_id, "TopicArn": self.topic.arn,
              "Message": message, "Timestamp": iso_8601_datetime_with_milliseconds()}
    if subject:
        fields["Subject"] = subject
    signature = key.sign(string_to_sign(fields).encode(), padding.PKCS1v15(), hashes.SHA256())
    envelope: dict[str, Any] = {
        **fields, "SignatureVersion": "2",
        "Signature": base64.b64encode(signature).decode(),
        "SigningCertURL": f"https://sns.{region}.amazonaws.com/{_certificate_name(self, key)}",
        "UnsubscribeURL": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                          f"&SubscriptionArn={self.arn}"}
    if message_attributes:
        envelope["MessageAttributes"] = message_attributes
    return envelope


def install() -> None:
    """Sign moto's SNS envelopes with a kept certificate (process-wide, once)."""
    global _installed
    from moto.sns.models import Subscription

    with _lock:
        if not _installed:
            Subscription.get_post_data = _post_data  # type: ignore[method-assign]
            _installed = True


def signing_certificate(signing_cert_url: str) -> bytes | None:
    """The PEM a ``SigningCertURL`` names, as the emulator keeps it; None if unknown."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    host, _, name = signing_cert_url.removeprefix("https://").partition("/")
    region = host.split(".")[1] if host.count(".") >= 3 else "us-east-1"
    pem = sns_backends[DEFAULT_ACCOUNT_ID][region]._message_public_keys.get(name)
    return pem.encode() if isinstance(pem, str) else pem
