"""The one adapter over moto's private internals (STYLE lesson 11): a moto upgrade is its work.

    cloudformation.py  stacks created with rollback, unsupported types named, TemplateURL reads
    cfn_models.py      the CloudFormation resource types moto lacks or drops, from
                       cfn_lambda.py, cfn_apigateway.py, cfn_s3.py and cfn_event_invoke.py
                       (cfn_common.py: checks)
    hot_reload.py      Code {S3Bucket: hot-reload, S3Key: /dir}: a local directory in place
    lambda_async.py    event invoke configs per qualifier, DeadLetterConfig (moto keeps neither)
    destinations.py    async records and dead letters into SQS, SNS, EventBridge and S3
"""
