"""Provides the request body schemas of the Batch API, per api-version, for each body the
emulator accepts.

Every property, its type and whether it is required. Written by hand, compactly, from the
sources (the emulator ships no spec to generate them from at run time), and held to those
sources by `tests/emulator/validation/test_schema_sources.py`: the 2024-07-01.20.0 schemas to
the spec's definitions, the 2025-06-01 ones to the models of the `azure-batch` 15.x SDK, which
is generated from that version's TypeSpec. 2025-06-01 is written as what it changes in 20.0
(`_CHANGES_2025`): its schemas are 20.0's with those changes applied. Older api-versions the
emulator answers share 20.0's shape.

One definition per entry: `Name: prop:type prop!:type -prop ...` (`!` = required, `-prop` =
removed by this version; continuation lines are indented). Types: `str`, `int`, `num`, `bool`,
`dur` (ISO-8601 duration), `dt` (ISO-8601 timestamp), `obj` (free-form object), `{str}` (string
map), `[T]` (list of T), `enum:a|b` (closed set, stored in the spelling given here),
`enum*:a|b` (closed set, stored as the client spelled it), or another definition's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Field:
    """One property of a body definition."""

    type: str
    required: bool


Schemas = Mapping[str, Mapping[str, Field]]
"""Definition name -> property name -> Field: one api-version's request bodies."""

_SCHEMA_TEXT = """
PoolAddParameter: id!:str displayName:str vmSize!:str
    virtualMachineConfiguration:VirtualMachineConfiguration resizeTimeout:dur
    targetDedicatedNodes:int targetLowPriorityNodes:int enableAutoScale:bool
    autoScaleFormula:str autoScaleEvaluationInterval:dur enableInterNodeCommunication:bool
    networkConfiguration:NetworkConfiguration startTask:StartTask
    certificateReferences:[CertificateReference]
    applicationPackageReferences:[ApplicationPackageReference] taskSlotsPerNode:int
    taskSchedulingPolicy:TaskSchedulingPolicy userAccounts:[UserAccount]
    metadata:[MetadataItem] mountConfiguration:[MountConfiguration]
    targetNodeCommunicationMode:enum:default|classic|simplified upgradePolicy:UpgradePolicy
    resourceTags:{str}
VirtualMachineConfiguration: imageReference!:ImageReference nodeAgentSKUId!:str
    windowsConfiguration:WindowsConfiguration dataDisks:[DataDisk] licenseType:str
    containerConfiguration:ContainerConfiguration
    diskEncryptionConfiguration:DiskEncryptionConfiguration
    nodePlacementConfiguration:NodePlacementConfiguration extensions:[VMExtension]
    osDisk:OSDisk securityProfile:SecurityProfile
    serviceArtifactReference:ServiceArtifactReference
ImageReference: publisher:str offer:str sku:str version:str virtualMachineImageId:str
    exactVersion:str sharedGalleryImageId:str communityGalleryImageId:str
WindowsConfiguration: enableAutomaticUpdates:bool
DataDisk: lun!:int caching:enum:none|readonly|readwrite diskSizeGB!:int
    storageAccountType:enum:standard_lrs|premium_lrs|standardssd_lrs
ContainerConfiguration: type!:enum:dockerCompatible|criCompatible containerImageNames:[str]
    containerRegistries:[ContainerRegistry]
ContainerRegistry: username:str password:str registryServer:str
    identityReference:ComputeNodeIdentityReference
ComputeNodeIdentityReference: resourceId:str
DiskEncryptionConfiguration: targets:[enum:osdisk|temporarydisk]
NodePlacementConfiguration: policy:enum:regional|zonal
VMExtension: name!:str publisher!:str type!:str typeHandlerVersion:str
    autoUpgradeMinorVersion:bool enableAutomaticUpgrade:bool settings:obj protectedSettings:obj
    provisionAfterExtensions:[str]
OSDisk: ephemeralOSDiskSettings:DiffDiskSettings caching:enum:none|readonly|readwrite
    managedDisk:ManagedDisk diskSizeGB:int writeAcceleratorEnabled:bool
DiffDiskSettings: placement:enum:CacheDisk
ManagedDisk: storageAccountType:enum:standard_lrs|premium_lrs|standardssd_lrs
    securityProfile:VMDiskSecurityProfile
VMDiskSecurityProfile: securityEncryptionType:enum:NonPersistedTPM|VMGuestStateOnly
SecurityProfile: securityType:enum*:trustedLaunch|confidentialVM encryptionAtHost:bool
    uefiSettings:UefiSettings
UefiSettings: secureBootEnabled:bool vTpmEnabled:bool
ServiceArtifactReference: id!:str
NetworkConfiguration: subnetId:str dynamicVNetAssignmentScope:enum:none|job
    endpointConfiguration:PoolEndpointConfiguration
    publicIPAddressConfiguration:PublicIPAddressConfiguration enableAcceleratedNetworking:bool
PoolEndpointConfiguration: inboundNATPools!:[InboundNATPool]
InboundNATPool: name!:str protocol!:enum:tcp|udp backendPort!:int frontendPortRangeStart!:int
    frontendPortRangeEnd!:int networkSecurityGroupRules:[NetworkSecurityGroupRule]
NetworkSecurityGroupRule: priority!:int access!:enum:allow|deny sourceAddressPrefix!:str
    sourcePortRanges:[str]
PublicIPAddressConfiguration: provision:enum:batchmanaged|usermanaged|nopublicipaddresses
    ipAddressIds:[str]
StartTask: commandLine!:str containerSettings:TaskContainerSettings
    resourceFiles:[ResourceFile] environmentSettings:[EnvironmentSetting]
    userIdentity:UserIdentity maxTaskRetryCount:int waitForSuccess:bool
TaskContainerSettings: containerRunOptions:str imageName!:str registry:ContainerRegistry
    workingDirectory:enum:taskWorkingDirectory|containerImageDefault
    containerHostBatchBindMounts:[ContainerHostBatchBindMountEntry]
ContainerHostBatchBindMountEntry:
    source:enum:Shared|Startup|VfsMounts|Task|JobPrep|Applications isReadOnly:bool
ResourceFile: autoStorageContainerName:str storageContainerUrl:str httpUrl:str blobPrefix:str
    filePath:str fileMode:str identityReference:ComputeNodeIdentityReference
EnvironmentSetting: name!:str value:str
UserIdentity: username:str autoUser:AutoUserSpecification
AutoUserSpecification: scope:enum:task|pool elevationLevel:enum:nonadmin|admin
CertificateReference: thumbprint!:str thumbprintAlgorithm!:str
    storeLocation:enum:currentuser|localmachine storeName:str
    visibility:[enum:starttask|task|remoteuser]
ApplicationPackageReference: applicationId!:str version:str
TaskSchedulingPolicy: nodeFillType!:enum:spread|pack
UserAccount: name!:str password!:str elevationLevel:enum:nonadmin|admin
    linuxUserConfiguration:LinuxUserConfiguration
    windowsUserConfiguration:WindowsUserConfiguration
LinuxUserConfiguration: uid:int gid:int sshPrivateKey:str
WindowsUserConfiguration: loginMode:enum:batch|interactive
MetadataItem: name!:str value!:str
MountConfiguration: azureBlobFileSystemConfiguration:AzureBlobFileSystemConfiguration
    nfsMountConfiguration:NFSMountConfiguration cifsMountConfiguration:CIFSMountConfiguration
    azureFileShareConfiguration:AzureFileShareConfiguration
AzureBlobFileSystemConfiguration: accountName!:str containerName!:str accountKey:str sasKey:str
    blobfuseOptions:str relativeMountPath!:str identityReference:ComputeNodeIdentityReference
NFSMountConfiguration: source!:str relativeMountPath!:str mountOptions:str
CIFSMountConfiguration: username!:str source!:str relativeMountPath!:str mountOptions:str
    password!:str
AzureFileShareConfiguration: accountName!:str azureFileUrl!:str accountKey!:str
    relativeMountPath!:str mountOptions:str
UpgradePolicy: mode!:enum:automatic|manual|rolling
    automaticOSUpgradePolicy:AutomaticOSUpgradePolicy rollingUpgradePolicy:RollingUpgradePolicy
AutomaticOSUpgradePolicy: disableAutomaticRollback:bool enableAutomaticOSUpgrade:bool
    useRollingUpgradePolicy:bool osRollingUpgradeDeferral:bool
RollingUpgradePolicy: enableCrossZoneUpgrade:bool maxBatchInstancePercent:int
    maxUnhealthyInstancePercent:int maxUnhealthyUpgradedInstancePercent:int
    pauseTimeBetweenBatches:dur prioritizeUnhealthyInstances:bool
    rollbackFailedInstancesOnPolicyBreach:bool
JobAddParameter: id!:str displayName:str priority:int maxParallelTasks:int
    allowTaskPreemption:bool constraints:JobConstraints jobManagerTask:JobManagerTask
    jobPreparationTask:JobPreparationTask jobReleaseTask:JobReleaseTask
    commonEnvironmentSettings:[EnvironmentSetting] poolInfo!:PoolInformation
    onAllTasksComplete:enum:noaction|terminatejob
    onTaskFailure:enum:noaction|performexitoptionsjobaction metadata:[MetadataItem]
    usesTaskDependencies:bool networkConfiguration:JobNetworkConfiguration
JobConstraints: maxWallClockTime:dur maxTaskRetryCount:int
JobManagerTask: id!:str displayName:str commandLine!:str
    containerSettings:TaskContainerSettings resourceFiles:[ResourceFile]
    outputFiles:[OutputFile] environmentSettings:[EnvironmentSetting]
    constraints:TaskConstraints requiredSlots:int killJobOnCompletion:bool
    userIdentity:UserIdentity runExclusive:bool
    applicationPackageReferences:[ApplicationPackageReference]
    authenticationTokenSettings:AuthenticationTokenSettings allowLowPriorityNode:bool
OutputFile: filePattern!:str destination!:OutputFileDestination
    uploadOptions!:OutputFileUploadOptions
OutputFileDestination: container:OutputFileBlobContainerDestination
OutputFileBlobContainerDestination: path:str containerUrl!:str
    identityReference:ComputeNodeIdentityReference uploadHeaders:[HttpHeader]
HttpHeader: name!:str value:str
OutputFileUploadOptions: uploadCondition!:enum:tasksuccess|taskfailure|taskcompletion
TaskConstraints: maxWallClockTime:dur retentionTime:dur maxTaskRetryCount:int
AuthenticationTokenSettings: access:[enum:job]
JobPreparationTask: id:str commandLine!:str containerSettings:TaskContainerSettings
    resourceFiles:[ResourceFile] environmentSettings:[EnvironmentSetting]
    constraints:TaskConstraints waitForSuccess:bool userIdentity:UserIdentity
    rerunOnNodeRebootAfterSuccess:bool
JobReleaseTask: id:str commandLine!:str containerSettings:TaskContainerSettings
    resourceFiles:[ResourceFile] environmentSettings:[EnvironmentSetting] maxWallClockTime:dur
    retentionTime:dur userIdentity:UserIdentity
PoolInformation: poolId:str autoPoolSpecification:AutoPoolSpecification
AutoPoolSpecification: autoPoolIdPrefix:str poolLifetimeOption!:enum:jobschedule|job
    keepAlive:bool pool:PoolSpecification
PoolSpecification: displayName:str vmSize!:str
    virtualMachineConfiguration:VirtualMachineConfiguration taskSlotsPerNode:int
    taskSchedulingPolicy:TaskSchedulingPolicy resizeTimeout:dur targetDedicatedNodes:int
    targetLowPriorityNodes:int enableAutoScale:bool autoScaleFormula:str
    autoScaleEvaluationInterval:dur enableInterNodeCommunication:bool
    networkConfiguration:NetworkConfiguration startTask:StartTask
    certificateReferences:[CertificateReference]
    applicationPackageReferences:[ApplicationPackageReference] userAccounts:[UserAccount]
    metadata:[MetadataItem] mountConfiguration:[MountConfiguration]
    targetNodeCommunicationMode:enum:default|classic|simplified upgradePolicy:UpgradePolicy
    resourceTags:{str}
JobNetworkConfiguration: subnetId!:str skipWithdrawFromVNet:bool
TaskAddParameter: id!:str displayName:str commandLine!:str
    containerSettings:TaskContainerSettings exitConditions:ExitConditions
    resourceFiles:[ResourceFile] outputFiles:[OutputFile]
    environmentSettings:[EnvironmentSetting] affinityInfo:AffinityInformation
    constraints:TaskConstraints requiredSlots:int userIdentity:UserIdentity
    multiInstanceSettings:MultiInstanceSettings dependsOn:TaskDependencies
    applicationPackageReferences:[ApplicationPackageReference]
    authenticationTokenSettings:AuthenticationTokenSettings
ExitConditions: exitCodes:[ExitCodeMapping] exitCodeRanges:[ExitCodeRangeMapping]
    preProcessingError:ExitOptions fileUploadError:ExitOptions default:ExitOptions
ExitCodeMapping: code!:int exitOptions!:ExitOptions
ExitOptions: jobAction:enum:none|disable|terminate dependencyAction:enum:satisfy|block
ExitCodeRangeMapping: start!:int end!:int exitOptions!:ExitOptions
AffinityInformation: affinityId!:str
MultiInstanceSettings: numberOfInstances:int coordinationCommandLine!:str
    commonResourceFiles:[ResourceFile]
TaskDependencies: taskIds:[str] taskIdRanges:[TaskIdRange]
TaskIdRange: start!:int end!:int
PoolPatchParameter: startTask:StartTask certificateReferences:[CertificateReference]
    applicationPackageReferences:[ApplicationPackageReference] metadata:[MetadataItem]
    targetNodeCommunicationMode:enum:default|classic|simplified displayName:str vmSize:str
    taskSlotsPerNode:int taskSchedulingPolicy:TaskSchedulingPolicy
    enableInterNodeCommunication:bool virtualMachineConfiguration:VirtualMachineConfiguration
    networkConfiguration:NetworkConfiguration userAccounts:[UserAccount]
    mountConfiguration:[MountConfiguration] upgradePolicy:UpgradePolicy resourceTags:{str}
PoolUpdatePropertiesParameter: startTask:StartTask
    certificateReferences!:[CertificateReference]
    applicationPackageReferences!:[ApplicationPackageReference] metadata!:[MetadataItem]
    targetNodeCommunicationMode:enum:default|classic|simplified
JobPatchParameter: priority:int maxParallelTasks:int allowTaskPreemption:bool
    onAllTasksComplete:enum:noaction|terminatejob constraints:JobConstraints
    poolInfo:PoolInformation networkConfiguration:JobNetworkConfiguration
    metadata:[MetadataItem]
JobUpdateParameter: priority:int maxParallelTasks:int allowTaskPreemption:bool
    constraints:JobConstraints poolInfo!:PoolInformation metadata:[MetadataItem]
    onAllTasksComplete:enum:noaction|terminatejob
TaskUpdateParameter: constraints:TaskConstraints
TaskAddCollectionParameter: value!:[TaskAddParameter]
NodeRemoveParameter: nodeList!:[str] resizeTimeout:dur
    nodeDeallocationOption:enum:requeue|terminate|taskcompletion|retaineddata
PoolResizeParameter: targetDedicatedNodes:int targetLowPriorityNodes:int resizeTimeout:dur
    nodeDeallocationOption:enum:requeue|terminate|taskcompletion|retaineddata
ComputeNodeUser: name!:str isAdmin:bool expiryTime:dt password:str sshPublicKey:str
NodeUpdateUserParameter: password:str expiryTime:dt sshPublicKey:str
UploadBatchServiceLogsConfiguration: containerUrl!:str startTime!:dt endTime:dt
    identityReference:ComputeNodeIdentityReference
JobDisableParameter: disableTasks!:enum:requeue|terminate|wait
JobTerminateParameter: terminateReason:str
NodeRebootParameter: nodeRebootOption:enum:requeue|terminate|taskcompletion|retaineddata
NodeReimageParameter: nodeReimageOption:enum:requeue|terminate|taskcompletion|retaineddata
NodeDeallocateParameter:
    nodeDeallocateOption:enum:requeue|terminate|taskcompletion|retaineddata
NodeDisableSchedulingParameter:
    nodeDisableSchedulingOption:enum:requeue|terminate|taskcompletion
PoolEnableAutoScaleParameter: autoScaleFormula:str autoScaleEvaluationInterval:dur
PoolEvaluateAutoScaleParameter: autoScaleFormula!:str
JobScheduleAddParameter: id!:str displayName:str schedule!:Schedule
    jobSpecification!:JobSpecification metadata:[MetadataItem]
Schedule: doNotRunUntil:dt doNotRunAfter:dt startWindow:dur recurrenceInterval:dur
JobSpecification: priority:int allowTaskPreemption:bool maxParallelTasks:int displayName:str
    usesTaskDependencies:bool onAllTasksComplete:enum:noaction|terminatejob
    onTaskFailure:enum:noaction|performexitoptionsjobaction
    networkConfiguration:JobNetworkConfiguration constraints:JobConstraints
    jobManagerTask:JobManagerTask jobPreparationTask:JobPreparationTask
    jobReleaseTask:JobReleaseTask commonEnvironmentSettings:[EnvironmentSetting]
    poolInfo!:PoolInformation metadata:[MetadataItem]
JobSchedulePatchParameter: schedule:Schedule jobSpecification:JobSpecification
    metadata:[MetadataItem]
JobScheduleUpdateParameter: schedule!:Schedule jobSpecification!:JobSpecification
    metadata:[MetadataItem]
"""


_CHANGES_2025 = """
PoolAddParameter: -certificateReferences -targetNodeCommunicationMode -resourceTags
PoolSpecification: -certificateReferences -targetNodeCommunicationMode -resourceTags
PoolPatchParameter: -certificateReferences -targetNodeCommunicationMode -resourceTags
PoolUpdatePropertiesParameter: -certificateReferences -targetNodeCommunicationMode
JobManagerTask: -authenticationTokenSettings
TaskAddParameter: -authenticationTokenSettings
JobScheduleUpdateParameter: schedule:Schedule
DataDisk: -storageAccountType managedDisk:ManagedDisk
ManagedDisk: diskEncryptionSet:DiskEncryptionSetParameters
DiskEncryptionSetParameters: id:str
VMDiskSecurityProfile:
    securityEncryptionType:enum:DiskWithVMGuestState|NonPersistedTPM|VMGuestStateOnly
DiskEncryptionConfiguration: customerManagedKey:DiskCustomerManagedKey
DiskCustomerManagedKey: identityReference:PoolIdentityReference keyUrl:str
    rotationToLatestKeyVersionEnabled:bool
PoolIdentityReference: resourceId:str
DiffDiskSettings: placement:enum:cachedisk
SecurityProfile: proxyAgentSettings:ProxyAgentSettings
ProxyAgentSettings: enabled:bool imds:HostEndpointSettings wireServer:HostEndpointSettings
HostEndpointSettings: inVMAccessControlProfileReferenceId:str mode:enum:Audit|Enforce
PublicIPAddressConfiguration: ipFamilies:[enum:IPv4|IPv6] ipTags:[IPTag]
IPTag: ipTagType:str tag:str
TaskSchedulingPolicy: jobDefaultOrder:enum:none|creationtime
"""
"""What 2025-06-01 changes in 20.0: certificates, resource tags, the node communication mode and
authentication token settings are gone; managed data disks, customer-managed keys, disk
encryption sets, the proxy agent, IP families and tags and job-level FIFO
(`jobDefaultOrder`) are new (the 15.1.0 SDK's changelog and models)."""

API_2024 = "2024-07-01.20.0"
API_2025 = "2025-06-01.21.0"


def _parse(text: str) -> dict[str, dict[str, Field | None]]:
    """Parses schema text; a `-prop` entry parses as None (the property is removed)."""
    schemas: dict[str, dict[str, Field | None]] = {}
    entries = text.replace("\n    ", " ").strip().splitlines()
    for entry in entries:
        name, _, props = entry.partition(":")
        fields: dict[str, Field | None] = {}
        for token in props.split():
            if token.startswith("-"):
                fields[token[1:]] = None
                continue
            prop, _, type_ = token.partition(":")
            required = prop.endswith("!")
            fields[prop.rstrip("!")] = Field(type_, required)
        schemas[name.strip()] = fields
    return schemas


def _apply(base: Schemas, changes: str) -> dict[str, dict[str, Field]]:
    out = {name: dict(fields) for name, fields in base.items()}
    for name, fields in _parse(changes).items():
        target = out.setdefault(name, {})
        for prop, field in fields.items():
            if field is None:
                del target[prop]
            else:
                target[prop] = field
    return out


def _freeze(schemas: Mapping[str, Mapping[str, Field]]) -> Schemas:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in schemas.items()})


def _merge_types(types: list[str]) -> str:
    """One type for a property the versions type differently: the union of enum values (the
    first version's spelling kept), otherwise the newest version's type."""
    if len(set(types)) == 1 or not all("enum" in t for t in types):
        return types[-1]
    head, _, values = types[0].rstrip("]").partition(":")
    choices = values.split("|")
    for other in types[1:]:
        seen = {c.lower() for c in choices}
        choices += [
            c for c in other.rstrip("]").partition(":")[2].split("|") if c.lower() not in seen
        ]
    return f"{head}:{'|'.join(choices)}" + ("]" if types[0].endswith("]") else "")


def _union(*versions: Schemas) -> Schemas:
    """What any of `versions` accepts: every property any defines, required only where every
    version that has the definition requires it."""
    out: dict[str, dict[str, Field]] = {}
    for name in dict.fromkeys(n for schemas in versions for n in schemas):
        defining = [schemas[name] for schemas in versions if name in schemas]
        merged: dict[str, Field] = {}
        for prop in dict.fromkeys(p for fields in defining for p in fields):
            fields = [f[prop] for f in defining if prop in f]
            required = len(fields) == len(defining) and all(f.required for f in fields)
            merged[prop] = Field(_merge_types([f.type for f in fields]), required)
        out[name] = merged
    return _freeze(out)


SCHEMAS_2024 = _freeze(_apply({}, _SCHEMA_TEXT))
"""api-version 2024-07-01.20.0 (and the older ones the emulator answers)."""
SCHEMAS_2025 = _freeze(_apply(SCHEMAS_2024, _CHANGES_2025))
"""api-version 2025-06-01 and 2025-06-01.21.0."""
ANY_VERSION = _union(SCHEMAS_2024, SCHEMAS_2025)
"""What any version accepts: for bodies the emulator itself sends through the checks again (an
auto pool from a job's specification, a job from its schedule's), which were checked against
their client's version when they came in."""


def version_group(version: str | None) -> str | None:
    """The api-version whose schemas `version` uses: `API_2025` for `2025-06-01` and
    `2025-06-01.21.0`, `API_2024` for the older ones, None for None (any version)."""
    if version is None:
        return None
    return API_2025 if version.startswith("2025-06-01") else API_2024


def schemas_for(version: str | None) -> Schemas:
    """Returns the request schemas of an api-version (None: what any version accepts)."""
    group = version_group(version)
    if group is None:
        return ANY_VERSION
    return SCHEMAS_2025 if group == API_2025 else SCHEMAS_2024
