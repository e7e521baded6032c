"""The one adapter over moto's private internals (STYLE lesson 11): a moto upgrade is its work.

    cloudformation.py  stacks created with rollback, unsupported types named, TemplateURL reads
    cfn_models.py      the CloudFormation resource types moto lacks or drops, from
                       cfn_lambda.py, cfn_apigateway.py and cfn_s3.py (cfn_common.py: checks)
    hot_reload.py      Code {S3Bucket: hot-reload, S3Key: /dir}: a local directory in place
    s3_notifications.py  moto's S3 notifications, handed to harness.triggers.s3 as plain data
    s3_destinations.py   PutBucketNotificationConfiguration's checks (overlaps, destinations)
    sns_subscriptions.py moto's deliveries to Lambda subscriptions, after their filter policy
    function_urls.py   function URL configs in LocalStack's form, ListFunctionUrlConfigs, AWS's
                       errors and policy conditions; the lookups the URLs' data plane makes
    events_rules.py    EventBridge: PutEvents and rule deliveries to the harness, AWS's checks at
                       PutRule/PutTargets, rule changes told to the schedules; rules read as views
"""
