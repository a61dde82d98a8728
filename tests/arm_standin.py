"""A small stand-in for the two Resource Manager list calls that account discovery makes."""

from __future__ import annotations

import json

import httpx

SUBSCRIPTIONS = [
    {"subscriptionId": "sub-1", "displayName": "Research", "state": "Enabled"},
    {"subscriptionId": "sub-2", "displayName": "Production", "state": "Enabled"},
    {"subscriptionId": "sub-3", "displayName": "Old", "state": "Disabled"},
    {"subscriptionId": "sub-4", "displayName": "Locked", "state": "Enabled"},
]

ACCOUNTS = {
    "sub-1": [
        {
            "id": "/subscriptions/sub-1/resourceGroups/rg-render/providers/Microsoft.Batch/batchAccounts/render",
            "name": "render",
            "location": "westeurope",
            "properties": {"accountEndpoint": "render.westeurope.batch.azure.com"},
        }
    ],
    "sub-2": [
        {
            "id": "/subscriptions/sub-2/resourceGroups/rg-prod/providers/Microsoft.Batch/batchAccounts/prodbatch",
            "name": "prodbatch",
            "location": "eastus",
            "properties": {"accountEndpoint": "prodbatch.eastus.batch.azure.com"},
        },
        {
            "id": "/subscriptions/sub-2/resourceGroups/rg-prod/providers/Microsoft.Batch/batchAccounts/archive",
            "name": "archive",
            "location": "eastus",
            "properties": {"accountEndpoint": "archive.eastus.batch.azure.com"},
        },
    ],
}


def arm_transport(requests: list[httpx.Request] | None = None) -> httpx.MockTransport:
    """Returns a transport answering the subscriptions and Batch accounts lists.

    Subscriptions come in two pages; the second Production account comes on a second page;
    "Locked" answers 403, as a subscription the user may see but not read.
    """

    def handle(request: httpx.Request) -> httpx.Response:
        if requests is not None:
            requests.append(request)
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return httpx.Response(401, json={"error": {"code": "AuthenticationFailed"}})
        path = request.url.path
        if path == "/subscriptions":
            if request.url.params.get("page") == "2":
                return httpx.Response(200, json={"value": SUBSCRIPTIONS[2:]})
            next_link = str(request.url.copy_merge_params({"page": "2"}))
            return httpx.Response(200, json={"value": SUBSCRIPTIONS[:2], "nextLink": next_link})
        sub = path.split("/")[2]
        if sub == "sub-4":
            return httpx.Response(403, json={"error": {"code": "AuthorizationFailed"}})
        accounts = ACCOUNTS.get(sub, [])
        if sub == "sub-2" and request.url.params.get("page") != "2":
            next_link = str(request.url.copy_merge_params({"page": "2"}))
            return httpx.Response(200, json={"value": accounts[:1], "nextLink": next_link})
        if sub == "sub-2":
            return httpx.Response(200, content=json.dumps({"value": accounts[1:]}).encode())
        return httpx.Response(200, json={"value": accounts})

    return httpx.MockTransport(handle)


class StaticTokenAuth(httpx.Auth):
    """Adds a fixed bearer token, standing in for `TokenCredentialAuth` with a real credential."""

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = "Bearer test-token"
        yield request
