"""The model base class and the small structures that pools, nodes, jobs and tasks share."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec


class BatchModel(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True, gc=False
):
    """Base of every Batch model: immutable, camelCase on the wire, every field keyword-only.

    Subclasses inherit the configuration. ``omit_defaults`` keeps encoded snapshots as small
    as the service's own JSON and round-trips through the same decoders. ``gc=False`` is safe
    because decoded data never forms reference cycles, and it spares the garbage collector
    100,000-task pages (msgspec perf tips). Collections are tuples, so models are hashable
    unless they carry free-form JSON objects (a pool's resource tags, extension settings).
    """


class NameValuePair(BatchModel, frozen=True, kw_only=True):
    """``NameValuePair``: a detail of an error."""

    name: str = ""
    value: str | None = None


class MetadataItem(BatchModel, frozen=True, kw_only=True):
    """``MetadataItem``: user metadata on a pool, job or job schedule."""

    name: str = ""
    value: str = ""


class EnvironmentSetting(BatchModel, frozen=True, kw_only=True):
    """``EnvironmentSetting``: one environment variable of a task."""

    name: str = ""
    value: str | None = None


class IdentityReference(BatchModel, frozen=True, kw_only=True):
    """``ComputeNodeIdentityReference``: a user-assigned identity of the pool."""

    resource_id: str | None = None


class ResourceFile(BatchModel, frozen=True, kw_only=True):
    """``ResourceFile``: a file downloaded to the node before a task runs."""

    auto_storage_container_name: str | None = None
    storage_container_url: str | None = None
    http_url: str | None = None
    blob_prefix: str | None = None
    file_path: str | None = None
    file_mode: str | None = None
    identity_reference: IdentityReference | None = None


class AutoUserSpecification(BatchModel, frozen=True, kw_only=True):
    """``AutoUserSpecification``: the auto-user a task runs as."""

    scope: str | None = None
    elevation_level: str | None = None


class UserIdentity(BatchModel, frozen=True, kw_only=True):
    """``UserIdentity``: a named user account or an auto-user."""

    username: str | None = None
    auto_user: AutoUserSpecification | None = None


class ContainerRegistry(BatchModel, frozen=True, kw_only=True):
    """``ContainerRegistry``, without its password: models never hold secrets."""

    username: str | None = None
    registry_server: str | None = None
    identity_reference: IdentityReference | None = None


class ContainerBindMount(BatchModel, frozen=True, kw_only=True):
    """``ContainerHostBatchBindMountEntry``: a node path mounted into a task's container."""

    source: str | None = None
    is_read_only: bool | None = None


class TaskContainerSettings(BatchModel, frozen=True, kw_only=True):
    """``TaskContainerSettings``: the container a task runs in."""

    image_name: str = ""
    container_run_options: str | None = None
    registry: ContainerRegistry | None = None
    working_directory: str | None = None
    container_host_batch_bind_mounts: tuple[ContainerBindMount, ...] = ()


class ImageReference(BatchModel, frozen=True, kw_only=True):
    """``ImageReference``: a Marketplace, gallery or custom VM image."""

    publisher: str | None = None
    offer: str | None = None
    sku: str | None = None
    version: str | None = None
    virtual_machine_image_id: str | None = None
    exact_version: str | None = None
    shared_gallery_image_id: str | None = None
    community_gallery_image_id: str | None = None


class ApplicationPackageReference(BatchModel, frozen=True, kw_only=True):
    """``ApplicationPackageReference``: an application package deployed to nodes."""

    application_id: str = ""
    version: str | None = None


class CertificateReference(BatchModel, frozen=True, kw_only=True):
    """``CertificateReference`` (certificates are deprecated; still shown when present)."""

    thumbprint: str = ""
    thumbprint_algorithm: str = ""
    store_location: str | None = None
    store_name: str | None = None
    visibility: tuple[str, ...] = ()


class ContainerExecutionInfo(BatchModel, frozen=True, kw_only=True):
    """``TaskContainerExecutionInformation``: the container a task ran in."""

    container_id: str | None = None
    state: str | None = None
    error: str | None = None


class TaskFailureInfo(BatchModel, frozen=True, kw_only=True):
    """``TaskFailureInformation``: why a task (or start/prep/release task) failed."""

    category: str = ""
    code: str | None = None
    message: str | None = None
    details: tuple[NameValuePair, ...] = ()


class TaskConstraints(BatchModel, frozen=True, kw_only=True):
    """``TaskConstraints``. An absent ``max_wall_clock_time`` means no limit, and
    ``retention_time`` defaults to 7 days on the service; ``UNLIMITED`` marks "no limit"."""

    max_wall_clock_time: timedelta | None = None
    retention_time: timedelta | None = None
    max_task_retry_count: int | None = None


class StartTask(BatchModel, frozen=True, kw_only=True):
    """``StartTask``: the task every node of a pool runs when it joins or restarts."""

    command_line: str = ""
    container_settings: TaskContainerSettings | None = None
    resource_files: tuple[ResourceFile, ...] = ()
    environment_settings: tuple[EnvironmentSetting, ...] = ()
    user_identity: UserIdentity | None = None
    max_task_retry_count: int | None = None
    wait_for_success: bool | None = None


class StartTaskInfo(BatchModel, frozen=True, kw_only=True):
    """``StartTaskInformation``: how a node's start task ran (``state``: ``TaskRunState``)."""

    state: str = ""
    start_time: datetime | None = None
    end_time: datetime | None = None
    exit_code: int | None = None
    container_info: ContainerExecutionInfo | None = None
    failure_info: TaskFailureInfo | None = None
    retry_count: int = 0
    last_retry_time: datetime | None = None
    result: str | None = None


class HttpHeader(BatchModel, frozen=True, kw_only=True):
    """``HttpHeader``: a header sent with an output file upload."""

    name: str = ""
    value: str | None = None


class OutputFileBlobContainerDestination(BatchModel, frozen=True, kw_only=True):
    """``OutputFileBlobContainerDestination``: where output files are uploaded."""

    container_url: str = ""
    path: str | None = None
    identity_reference: IdentityReference | None = None
    upload_headers: tuple[HttpHeader, ...] = ()


class OutputFileDestination(BatchModel, frozen=True, kw_only=True):
    """``OutputFileDestination``."""

    container: OutputFileBlobContainerDestination | None = None


class OutputFileUploadOptions(BatchModel, frozen=True, kw_only=True):
    """``OutputFileUploadOptions``: ``taskSuccess``, ``taskFailure`` or ``taskCompletion``."""

    upload_condition: str = ""


class OutputFile(BatchModel, frozen=True, kw_only=True):
    """``OutputFile``: files uploaded from the node after a task runs."""

    file_pattern: str = ""
    destination: OutputFileDestination | None = None
    upload_options: OutputFileUploadOptions | None = None


class AuthenticationTokenSettings(BatchModel, frozen=True, kw_only=True):
    """``AuthenticationTokenSettings`` (deprecated by the service, still echoed)."""

    access: tuple[str, ...] = ()
