"""Provides each list's filterable properties, with their types and operators.

As documented in https://learn.microsoft.com/rest/api/batchservice/odata-filters-in-batch.

Written as tables, one property a line: `path: type operator ...`.
"""

from __future__ import annotations

from batch_tui.emulator.query.filter import FilterProp

_CMP = "eq ne ge gt le lt"


def _table(text: str) -> dict[str, FilterProp]:
    table: dict[str, FilterProp] = {}
    for line in text.strip().splitlines():
        path, _, rest = line.partition(":")
        type_, *ops = rest.split()
        table[path.strip()] = FilterProp(type_, frozenset(ops))
    return table


POOL_FILTER = _table(f"""
id: string startswith {_CMP}
state: string eq ne
stateTransitionTime: datetime {_CMP}
creationTime: datetime {_CMP}
lastModified: datetime {_CMP}
allocationState: string eq ne
allocationStateTransitionTime: datetime {_CMP}
vmSize: string eq ne
enableAutoScale: bool eq ne
enableInterNodeCommunication: bool eq ne
""")
NODE_FILTER = _table(f"""
state: string eq ne
stateTransitionTime: datetime {_CMP}
lastBootTime: datetime {_CMP}
allocationTime: datetime {_CMP}
startTaskInfo/state: string eq
startTaskInfo/result: string eq ne
startTaskInfo/exitCode: int {_CMP}
startTaskInfo/startTime: datetime {_CMP}
startTaskInfo/endTime: datetime {_CMP}
""")
JOB_FILTER = _table(f"""
id: string startswith {_CMP}
state: string eq ne
stateTransitionTime: datetime {_CMP}
creationTime: datetime {_CMP}
lastModified: datetime {_CMP}
executionInfo/startTime: datetime {_CMP}
executionInfo/endTime: datetime {_CMP}
executionInfo/poolId: string startswith {_CMP}
""")
TASK_FILTER = _table(f"""
id: string startswith {_CMP}
state: string eq ne
stateTransitionTime: datetime {_CMP}
creationTime: datetime {_CMP}
lastModified: datetime {_CMP}
executionInfo/startTime: datetime {_CMP}
executionInfo/endTime: datetime {_CMP}
executionInfo/exitCode: int {_CMP}
executionInfo/retryCount: int {_CMP}
executionInfo/requeueCount: int {_CMP}
executionInfo/result: string eq ne
""")
PREP_RELEASE_FILTER = _table(f"""
poolId: string startswith {_CMP}
nodeId: string startswith {_CMP}
jobPreparationTaskExecutionInfo/state: string eq ne
jobPreparationTaskExecutionInfo/startTime: datetime {_CMP}
jobPreparationTaskExecutionInfo/endTime: datetime {_CMP}
jobPreparationTaskExecutionInfo/exitCode: int {_CMP}
jobPreparationTaskExecutionInfo/retryCount: int {_CMP}
jobReleaseTaskExecutionInfo/state: string eq ne
jobReleaseTaskExecutionInfo/startTime: datetime {_CMP}
jobReleaseTaskExecutionInfo/endTime: datetime {_CMP}
jobReleaseTaskExecutionInfo/exitCode: int {_CMP}
""")
JOB_SCHEDULE_FILTER = _table(f"""
id: string startswith {_CMP}
state: string eq ne
stateTransitionTime: datetime {_CMP}
creationTime: datetime {_CMP}
lastModified: datetime {_CMP}
executionInfo/endTime: datetime {_CMP}
schedule/doNotRunUntil: datetime {_CMP}
schedule/doNotRunAfter: datetime {_CMP}
""")
FILE_FILTER = _table("name: string startswith")
NODE_COUNTS_FILTER = _table("poolId: string eq")
SUPPORTED_IMAGES_FILTER = _table("""
osType: string eq ne
verificationType: string eq ne
nodeAgentSKUId: string eq ne
""")
USAGE_METRICS_FILTER = _table(f"""
poolId: string startswith {_CMP}
startTime: datetime {_CMP}
endTime: datetime {_CMP}
""")
