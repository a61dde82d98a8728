"""Signing helpers of the SharedKey tests: the documented vector's account, key and date, a request
signed by our client's signer, and the official SDK's signature of the same request."""

from __future__ import annotations

import httpx
from azure.batch._patch import BatchSharedKeyAuthPolicy
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.rest import HttpRequest

from batch_tui.batch.auth import SharedKeyAuth

ACCOUNT = "myaccount"
KEY = "ZW11bGF0b3ItdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="
DATE = "Tue, 01 Oct 2024 12:00:00 GMT"
HOST = "https://myaccount.westus.batch.azure.com"
JSON = "application/json; odata=minimalmetadata"


def signed(method: str, url: str, content: bytes | None = None, **headers: str) -> httpx.Request:
    """A request dated `DATE`, signed by our client's SharedKey signer."""
    request = httpx.Request(method, url, content=content, headers={"ocp-date": DATE, **headers})
    SharedKeyAuth(ACCOUNT, KEY).sign(request)
    return request


def sdk_authorization(method: str, url: str, content: bytes | None, headers: dict[str, str]) -> str:
    """The Authorization header the official azure-batch SDK signs for the same request."""
    policy = BatchSharedKeyAuthPolicy(AzureNamedKeyCredential(ACCOUNT, KEY))
    request = HttpRequest(method, url, content=content, headers=headers)
    policy.on_request(PipelineRequest(request, PipelineContext(None)))
    return str(request.headers["Authorization"])
