"""Provides the request body schemas of the Batch API, for each body the emulator accepts.

Every property, its type and whether it is required (from the spec's definitions, api
2024-07-01.20.0).

Written compactly, one definition per entry: `Name: prop:type prop!:type ...` (`!` = required,
continuation lines are indented). Types: `str`, `int`, `num`, `bool`, `dur` (ISO-8601 duration),
`dt` (ISO-8601 timestamp), `obj` (free-form object), `{str}` (string map), `[T]` (list of T),
`enum:a|b` (closed set), or another definition's name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One property of a body definition."""

    type: str
    required: bool


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
SecurityProfile: securityType:enum:trustedLaunch|confidentialVM encryptionAtHost:bool
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


def _parse(text: str) -> dict[str, dict[str, Field]]:
    schemas: dict[str, dict[str, Field]] = {}
    entries = text.replace("\n    ", " ").strip().splitlines()
    for entry in entries:
        name, _, props = entry.partition(":")
        fields: dict[str, Field] = {}
        for token in props.split():
            prop, _, type_ = token.partition(":")
            required = prop.endswith("!")
            fields[prop.rstrip("!")] = Field(type_, required)
        schemas[name.strip()] = fields
    return schemas


_ADDED_2025 = """
TaskSchedulingPolicy: jobDefaultOrder:enum:none|creationtime
PublicIPAddressConfiguration: ipFamilies:[enum:IPv4|IPv6] ipTags:[obj]
DiskEncryptionConfiguration: customerManagedKey:obj
ManagedDisk: diskEncryptionSet:obj
SecurityProfile: proxyAgentSettings:obj
"""
"""Optional properties that api-version 2025-06-01 (the 15.1 SDK's) adds to these definitions;
the emulator accepts them on every version and stores them as sent."""

SCHEMAS = _parse(_SCHEMA_TEXT)
"""Definition name -> property name -> Field."""
for _name, _fields in _parse(_ADDED_2025).items():
    SCHEMAS[_name].update(_fields)
