"""The one adapter over moto's private internals (STYLE lesson 11): a moto upgrade is its work.

    cloudformation.py  stacks created with rollback, unsupported types named, TemplateURL reads
    cfn_models.py      the CloudFormation resource types moto lacks or drops, from
                       cfn_lambda.py, cfn_apigateway.py and cfn_s3.py (cfn_common.py: checks)
    hot_reload.py      Code {S3Bucket: hot-reload, S3Key: /dir}: a local directory in place
    sqs_queues.py      queues as a poller reads them: long polls, batch deletes, the DLQ, and
                       the sender's X-Amzn-Trace-Id kept as the message's AWSTraceHeader
    event_source_mappings.py  mappings checked and reported as AWS does, moto's per-send
                       invoke path never taken, the triggers room told of every change
    event_patterns.py  FilterCriteria / event patterns matched by moto's matcher
    lambda_recursion.py  a function's RecursiveLoop setting (moto lacks it)
    lambda_metrics.py  AWS/Lambda metrics into moto's CloudWatch
"""
