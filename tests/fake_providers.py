"""Fake SendGrid, Amazon SES, Pindo and Africa's Talking servers: real HTTP servers (stdlib, a thread
per request) on free ports.

Each checks what a real provider checks first (SendGrid: the Bearer key and the v3 payload; SES: the
SigV4 signature, recomputed with botocore from the request as received, and the v2 payload), and keeps
the accepted messages by idempotency key: a key seen before is answered with success without being
delivered again, and counted as a duplicate request. A test can make it answer 500 (`mode = "error"`),
hang past the client's timeout (`mode = "hang"`), answer slowly (`delay`), or hold requests until
`gate` of them are in flight at once.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default listen backlog (5) drops connections of a burst

    def handle_error(self, request, client_address):
        pass  # a client that went away (killed worker, timeout) is part of the tests


class FakeProvider:
    path = ""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mode = "ok"  # ok | error | hang
        self.delay = 0.0
        self.gate = 0
        self.delivered: dict[str, dict] = {}  # idempotency key -> the payload accepted
        self.duplicates = 0
        self.calls = 0  # every request that reached the server
        self.refused: list[str] = []  # why requests were refused (auth, payload)
        self.in_flight = 0
        self.max_in_flight = 0
        self._gate_reached = threading.Event()  # a latch: once `gate` requests were in flight together
        self._release = threading.Event()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        self._release.set()  # hung requests of the previous test end now
        self._release.clear()
        self._gate_reached.clear()
        with self.lock:
            self.mode, self.delay, self.gate = "ok", 0.0, 0
            self.delivered.clear()
            self.duplicates = self.calls = self.max_in_flight = 0
            self.refused.clear()

    def check(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[str, dict]:
        """(idempotency key, payload) of a valid request; raises ValueError with the reason otherwise."""
        raise NotImplementedError

    def accepted(self, key: str) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            mode, delay, gate = self.mode, self.delay, self.gate
            if gate and self.in_flight >= gate:
                self._gate_reached.set()
        try:
            if gate:
                self._gate_reached.wait(10)
            if mode == "hang":
                self._release.wait(30)  # far past any client timeout
                return 503, {}, b""
            if delay:
                time.sleep(delay)
            if mode == "error":
                return 500, {"Content-Type": "application/json"}, b'{"errors": [{"message": "internal error"}]}'
            try:
                key, payload = self.check(method, path, headers, body)
            except ValueError as error:
                with self.lock:
                    self.refused.append(str(error))
                return 401 if "auth" in str(error) else 400, {}, str(error).encode()
            with self.lock:
                if key in self.delivered:
                    self.duplicates += 1
                else:
                    self.delivered[key] = payload
            return self.accepted(key)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, extra, content = fake._handle("POST", self.path, headers, body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        return Handler


class FakeSendGrid(FakeProvider):
    path = "/v3/mail/send"

    def __init__(self, api_key: str = "SG.test-key") -> None:
        self.api_key = api_key
        super().__init__()

    def check(self, method, path, headers, body):
        if path != self.path:
            raise ValueError(f"path {path}")
        if not hmac.compare_digest(headers.get("authorization", ""), f"Bearer {self.api_key}"):
            raise ValueError("auth: wrong or missing Bearer key")
        if headers.get("content-type") != "application/json":
            raise ValueError("content type")
        payload = json.loads(body)
        (personalization,) = payload["personalizations"]
        if not personalization["to"][0]["email"] or not payload["from"]["email"] or not payload["subject"]:
            raise ValueError("to, from and subject are required")
        types = [part["type"] for part in payload["content"]]
        if types[0] != "text/plain" or set(types) - {"text/plain", "text/html"}:
            raise ValueError(f"content types {types}")
        key = headers.get("idempotency-key", "")
        if not key or payload["custom_args"]["idempotency_key"] != key:
            raise ValueError("idempotency key missing or different in header and custom_args")
        return key, payload

    def accepted(self, key):
        return 202, {"X-Message-Id": f"sg-{key[:8]}"}, b""


class FakeSes(FakeProvider):
    path = "/v2/email/outbound-emails"
    AUTHORIZATION = re.compile(
        r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
        r"/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
    )

    def __init__(self, access_key: str = "AKIATESTKEY", secret_key: str = "test-secret", region: str = "eu-west-1"):
        self.credentials = Credentials(access_key, secret_key)
        self.region = region
        super().__init__()

    def verify_signature(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        """Recompute the SigV4 signature from the request as received (only the headers it says it
        signed), with the secret key the server knows; ValueError("auth: ...") when it differs."""
        match = self.AUTHORIZATION.fullmatch(headers.get("authorization", ""))
        if not match:
            raise ValueError("auth: no SigV4 Authorization header")
        amz_date = headers.get("x-amz-date", "")
        if match["key"] != self.credentials.access_key or match["region"] != self.region or match["service"] != "ses":
            raise ValueError(f"auth: credential scope {match['key']}/{match['region']}/{match['service']}")
        signed = match["signed"].split(";")
        if not {"host", "x-amz-date", "idempotency-key"} <= set(signed) or not amz_date.startswith(match["date"]):
            raise ValueError(f"auth: signed headers {signed}, date {amz_date}")
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        age = abs((datetime.now(UTC) - signed_at).total_seconds())
        if age > 300:
            raise ValueError("auth: request too old")
        request = AWSRequest(
            method=method,
            url=f"http://{headers['host']}{path}",
            data=body,
            headers={name: headers[name] for name in signed},
        )
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(self.credentials, "ses", self.region)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        if not hmac.compare_digest(expected, match["signature"]):
            raise ValueError("auth: signature does not match")

    def check(self, method, path, headers, body):
        if path != self.path:
            raise ValueError(f"path {path}")
        self.verify_signature(method, path, headers, body)
        payload = json.loads(body)
        simple = payload["Content"]["Simple"]
        if not payload["Destination"]["ToAddresses"] or not payload["FromEmailAddress"]:
            raise ValueError("addresses")
        if simple["Subject"]["Charset"] != "UTF-8" or simple["Body"]["Text"]["Charset"] != "UTF-8":
            raise ValueError("charset")
        tags = {tag["Name"]: tag["Value"] for tag in payload["EmailTags"]}
        key = headers.get("idempotency-key", "")
        if not key or tags.get("idempotency_key") != key:
            raise ValueError("idempotency key missing or different in header and tags")
        return key, payload

    def accepted(self, key):
        body = json.dumps({"MessageId": f"ses-{uuid.uuid4()}"}).encode()
        return 200, {"Content-Type": "application/json"}, body


# --- SMS ------------------------------------------------------------------------------------------


class FakePindo(FakeProvider):
    """Pindo's POST /v1/sms/: JSON {to, text, sender} with the Bearer token; 201 with the `sms_id`. Its
    delivery reports (JSON to the organisation's webhook) are built by `report`."""

    path = "/v1/sms/"

    def __init__(self, token: str = "pindo-test-token") -> None:
        self.token = token
        self.sms_ids: dict[str, int] = {}  # idempotency key -> the sms_id answered
        super().__init__()

    def check(self, method, path, headers, body):
        if path != self.path:
            raise ValueError(f"path {path}")
        if not hmac.compare_digest(headers.get("authorization", ""), f"Bearer {self.token}"):
            raise ValueError("auth: wrong or missing Bearer token")
        if headers.get("content-type") != "application/json":
            raise ValueError("content type")
        payload = json.loads(body)
        if (
            not re.fullmatch(r"\+2507\d{8}", payload.get("to", ""))
            or not payload.get("text")
            or not payload.get("sender")
        ):
            raise ValueError("to (+250...), text and sender are required")
        return headers.get("idempotency-key") or str(uuid.uuid4()), payload

    def accepted(self, key):
        with self.lock:
            sms_id = self.sms_ids.setdefault(key, 70000 + len(self.sms_ids))
            payload = self.delivered[key]
        body = {"sms_id": sms_id, "to": payload["to"], "text": payload["text"], "status": "sent", "item_count": 1}
        return 201, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def report(self, sms_id: int | str, status: str = "delivered") -> tuple[dict[str, str], bytes]:
        """(headers, body) of Pindo's delivery report for one SMS."""
        body = {"sms_id": sms_id, "status": status, "to": "", "retries_count": 0}
        return {"content-type": "application/json"}, json.dumps(body).encode()


class FakeAfricasTalking(FakeProvider):
    """Africa's Talking's POST /version1/messaging: form (username, to, message, from), `apiKey` header,
    JSON answer SMSMessageData.Recipients[] with status "Success" and a messageId. Delivery reports and
    incoming SMS are forms posted to our callbacks (`report`, `incoming`)."""

    path = "/version1/messaging"

    def __init__(self, username: str = "servicerw", api_key: str = "at-test-key") -> None:
        self.username = username
        self.api_key = api_key
        self.message_ids: dict[str, str] = {}
        super().__init__()

    def check(self, method, path, headers, body):
        if path != self.path:
            raise ValueError(f"path {path}")
        if not hmac.compare_digest(headers.get("apikey", ""), self.api_key):
            raise ValueError("auth: wrong or missing apiKey")
        if "application/json" not in headers.get("accept", ""):
            raise ValueError("accept json")
        form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        if form.get("username") != self.username:
            raise ValueError("auth: username")
        if not form.get("to") or not form.get("message"):
            raise ValueError("to and message are required")
        return headers.get("idempotency-key") or str(uuid.uuid4()), form

    def accepted(self, key):
        with self.lock:
            message_id = self.message_ids.setdefault(key, f"ATXid_{uuid.uuid4().hex[:16]}")
            form = self.delivered[key]
        recipient = {"statusCode": 101, "number": form["to"], "status": "Success", "cost": "RWF 15.0000"}
        body = {
            "SMSMessageData": {
                "Message": "Sent to 1/1 Total Cost: RWF 15.0000",
                "Recipients": [{**recipient, "messageId": message_id}],
            }
        }
        return 201, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def report(self, message_id: str, status: str = "Success", reason: str = "") -> tuple[dict[str, str], bytes]:
        form = {"id": message_id, "status": status, "phoneNumber": "+250788123456", "networkCode": "63510"}
        if reason:
            form["failureReason"] = reason
        return {"content-type": "application/x-www-form-urlencoded"}, urlencode(form).encode()

    def incoming(self, sender: str, text: str) -> tuple[dict[str, str], bytes]:
        form = {"from": sender, "to": "12345", "text": text, "id": uuid.uuid4().hex, "date": "2026-12-02 10:00:00"}
        return {"content-type": "application/x-www-form-urlencoded"}, urlencode(form).encode()
