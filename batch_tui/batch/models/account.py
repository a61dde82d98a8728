"""Files on nodes, and account-level lists: supported images, applications, certificates."""

from __future__ import annotations

from datetime import datetime

import msgspec

from batch_tui.batch.models.common import BatchModel, ImageReference, NameValuePair


class FileProperties(BatchModel, frozen=True, kw_only=True):
    """``FileProperties`` of a file in a list.

    ``content_length`` is an int even though the live service sends it as a JSON string
    (``"13"``): the module's decoders are lenient about numbers in strings.
    """

    creation_time: datetime | None = None
    last_modified: datetime | None = None
    content_length: int = 0
    content_type: str | None = None
    file_mode: str | None = None


class NodeFile(BatchModel, frozen=True, kw_only=True):
    """``NodeFile``: an item of a task or node file list. Directories have no ``properties``.

    Names on Windows nodes use backslashes (``workitems\\job\\task\\stdout.txt``).
    """

    name: str = ""
    url: str = ""
    is_directory: bool = False
    properties: FileProperties | None = None


class FileInfo(BatchModel, frozen=True, kw_only=True):
    """A file's properties as the client reads them from the headers of a HEAD request.

    The service sends these as ``ocp-*`` headers, not JSON, so the client fills this in.
    """

    url: str = ""
    is_directory: bool = False
    content_length: int | None = None
    content_type: str | None = None
    last_modified: datetime | None = None
    creation_time: datetime | None = None
    file_mode: str | None = None


class SupportedImage(BatchModel, frozen=True, kw_only=True):
    """``ImageInformation``: an image the account's pools can use, and its node agent SKU."""

    node_agent_sku_id: str = msgspec.field(default="", name="nodeAgentSKUId")
    image_reference: ImageReference | None = None
    os_type: str = ""
    capabilities: tuple[str, ...] = ()
    batch_support_end_of_life: datetime | None = None
    verification_type: str = ""


class Application(BatchModel, frozen=True, kw_only=True):
    """``ApplicationSummary``: an application package and its versions."""

    id: str = ""
    display_name: str | None = None
    versions: tuple[str, ...] = ()


class DeleteCertificateError(BatchModel, frozen=True, kw_only=True):
    """``DeleteCertificateError``: why deleting a certificate failed."""

    code: str | None = None
    message: str | None = None
    values: tuple[NameValuePair, ...] = ()


class Certificate(BatchModel, frozen=True, kw_only=True):
    """``Certificate`` (deprecated by the service; existing accounts may still list them)."""

    thumbprint: str = ""
    thumbprint_algorithm: str = ""
    url: str | None = None
    state: str = ""
    state_transition_time: datetime | None = None
    previous_state: str | None = None
    previous_state_transition_time: datetime | None = None
    public_data: str | None = None
    delete_certificate_error: DeleteCertificateError | None = None
