"""The one adapter over moto's private internals (STYLE lesson 11): a moto upgrade is its work.

    cloudformation.py   stacks created with rollback, unsupported types named, TemplateURL reads
    cfn_update.py       stack updates (UpdateStack, UPDATE change sets) rolled back on failure
    cfn_change_sets.py  ExecuteChangeSet: a CREATE fails as CreateStack, an UPDATE as UpdateStack
    cfn_models.py       the CloudFormation resource types moto lacks or drops, from cfn_lambda.py,
                        cfn_apigateway.py, cfn_apigatewayv2.py, cfn_event_sources.py, cfn_s3.py
                        and cfn_iam.py
                        (cfn_common.py: checks; cfn_dependents.py: what an update reaches)
    iam_auth.py         moto's authorization point taken over for harness.iam's checks, with
                        AccessDenied in each service's protocol
    iam_roles.py        roles' and users' policies, STS credentials, AWS managed policies on demand
    iam_resources.py    bucket policies and functions' resource-based policies
    hot_reload.py       Code {S3Bucket: hot-reload, S3Key: /dir}: a local directory in place
    lambda_layers.py    a function's layers, and Lambda's limits on code and layers
    cfn_delete.py       DeleteStack: a bucket holding objects fails it; RetainResources keeps it
    s3_listing.py       ListObjects(V2) written without moto's generic serializer, moto's bytes
    s3_notifications.py  moto's S3 notifications, handed to harness.triggers.s3 as plain data
    s3_destinations.py   PutBucketNotificationConfiguration's checks (overlaps, destinations)
    sns_subscriptions.py moto's deliveries to Lambda subscriptions, after their filter policy
    function_urls.py    function URL configs in LocalStack's form, ListFunctionUrlConfigs, AWS's
                        errors and policy conditions; the lookups the URLs' data plane makes
    events_rules.py     EventBridge: PutEvents and rule deliveries to the harness, AWS's checks at
                        PutRule/PutTargets, rule changes told to the schedules; rules read as views
    moto_dispatch.py    moto's server dispatch without a directory listing per request
    moto_invoke.py      moto's one invoke path (LambdaFunction.invoke) into the triggers room
    cloudwatch_metrics.py  the harness's metrics as a provider moto's CloudWatch reads
    cloudwatch_alarms.py   alarms as the evaluation reads and updates them; DescribeAlarmHistory
    lambda_async.py     event invoke configs per qualifier, DeadLetterConfig (moto keeps neither)
    destinations.py     async records and dead letters into SQS, SNS, EventBridge and S3
    sqs_queues.py       queues as a poller reads them: long polls, batch deletes, the DLQ, and
                        the sender's X-Amzn-Trace-Id kept as the message's AWSTraceHeader
    sqs_index.py        moto's queues on an index (sqs_message_index.py): every SQS call costs
                        the same at 10,000 messages as at 10, SQS's semantics kept
    event_source_mappings.py  mappings checked and reported as AWS does, moto's per-send
                        invoke path never taken, the triggers room told of every change
    event_patterns.py   FilterCriteria / event patterns matched by moto's matcher
    lambda_recursion.py  a function's RecursiveLoop setting (moto lacks it)
    lambda_functions.py  functions as the Invoke path reads them: one lookup, the reserved
                        concurrency, moto's errors as the harness's
    s3_objects.py       plain GetObject/HeadObject answered from moto's state, moto's answer
    s3_list_params.py   listing parameters refused as S3 refuses them (max-keys, tokens)
    sqs_calls.py        SQS Send/Receive/DeleteMessage (JSON protocol) answered from moto's
                        backend without moto's app, moto's answer byte for byte
    backends.py         backends without moto's lock (light: the invoke path imports it)
    moto_server.py      what the fast paths answer as moto's server app would (its default
                        setup, the caller's account, request ids, flask-cors's header)
"""
