"""The GraphQL operations the tests send to the webserver, written as the Dagster UI sends them.

`PARTITION_CONFIG_QUERY`, `LAUNCH_MUTATION` and `BACKFILL_MUTATION` follow the UI's own
`ConfigPartitionForAssetJobQuery`, `LaunchPipelineExecution` and `LaunchPartitionBackfill`
(dagster-webserver 1.13, `LaunchAssetChoosePartitionsDialog`): one day is launched as one run
of the job with the partition's tags, a range as an asset backfill.
"""

ASSET_NODES_QUERY = """
{ assetNodes {
    assetKey { path } groupName isPartitioned description kinds
    partitionDefinition { type name }
    repository { name location { name } }
    owners { __typename ... on TeamAssetOwner { team } }
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name description blocking } } }
    metadataEntries { label __typename
      ... on TableSchemaMetadataEntry { schema { columns { name type description } } }
      ... on TableColumnLineageMetadataEntry {
        lineage { columnName columnDeps { assetKey { path } columnName } } }
    }
} }
"""


PARTITION_CONFIG_QUERY = """
query ConfigPartitionForAssetJobQuery($repositoryName: String!, $repositoryLocationName: String!,
    $jobName: String!, $partitionName: String!, $assetKeys: [AssetKeyInput!]!) {
  pipelineOrError(params: {pipelineName: $jobName, repositoryName: $repositoryName,
                           repositoryLocationName: $repositoryLocationName}) {
    __typename
    ... on Pipeline { partition(partitionName: $partitionName, selectedAssetKeys: $assetKeys) {
        runConfigOrError { ... on PartitionRunConfig { yaml } }
        tagsOrError { ... on PartitionTags { results { key value } } } } }
  }
}
"""


LAUNCH_MUTATION = """
mutation LaunchPipelineExecution($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { id pipelineName } }
    ... on PipelineNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PythonError { message }
  }
}
"""


RUN_QUERY = """
query ($runId: ID!) { runOrError(runId: $runId) { __typename
  ... on Run { status pipelineName tags { key value } } } }
"""


BACKFILL_MUTATION = """
mutation LaunchPartitionBackfill($backfillParams: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $backfillParams) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PartitionKeysNotFoundError { message }
    ... on PythonError { message }
  }
}
"""


BACKFILL_QUERY = """
query ($backfillId: String!) { partitionBackfillOrError(backfillId: $backfillId) {
  __typename ... on PartitionBackfill { status numPartitions partitionNames
    runs(limit: 10) { id status tags { key value } } } } }
"""


CHECK_EXECUTIONS_QUERY = """
query ($assetKey: AssetKeyInput!, $checkName: String!) {
  assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, limit: 5) {
    runId status partition evaluation { success severity partition } } }
"""


PARTITIONS_QUERY = """
query ($assetKey: AssetKeyInput!, $partitions: [String!]) { assetNodeOrError(assetKey: $assetKey) {
  ... on AssetNode {
    partitionStats { numMaterialized numFailed numMaterializing }
    assetPartitionStatuses { ... on TimePartitionStatuses { ranges { startKey endKey status } } }
    assetMaterializations(partitions: $partitions, limit: 1) { partition runId metadataEntries {
      label __typename
      ... on IntMetadataEntry { intValue }
      ... on FloatMetadataEntry { floatValue }
      ... on MarkdownMetadataEntry { mdStr }
      ... on TableSchemaMetadataEntry { schema { columns { name type } } } } }
} } }
"""


# The run page's "View stdout / stderr" (dagster-webserver 1.13): the LogsCapturedEvent gives the
# logFileKey; the viewer reads [runId, "compute_logs", fileKey] with these two queries.
LOGS_CAPTURED_QUERY = """
query ($runId: ID!) { logsForRun(runId: $runId) { __typename
  ... on EventConnection { events { __typename ... on LogsCapturedEvent { fileKey stepKeys } } } } }
"""


CAPTURED_LOGS_QUERY = """
query CapturedLogsQuery($logKey: [String!]!, $cursor: String, $limit: Int) {
  capturedLogs(logKey: $logKey, cursor: $cursor, limit: $limit) { stdout stderr cursor }
}
"""


CAPTURED_LOGS_METADATA_QUERY = """
query CapturedLogsMetadataQuery($logKey: [String!]!) {
  capturedLogsMetadata(logKey: $logKey) { stdoutDownloadUrl stdoutLocation stderrDownloadUrl stderrLocation }
}
"""
