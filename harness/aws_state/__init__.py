"""The one adapter over moto's private internals (STYLE lesson 11): a moto upgrade is its work.

    cloudformation.py   stacks created with rollback, unsupported types named, TemplateURL reads
    cfn_update.py       stack updates (UpdateStack, UPDATE change sets) rolled back on failure
    cfn_change_sets.py  ExecuteChangeSet: a CREATE fails as CreateStack, an UPDATE as UpdateStack
    cfn_models.py       the CloudFormation resource types moto lacks or drops, from cfn_lambda.py,
                        cfn_apigateway.py, cfn_apigatewayv2.py, cfn_event_sources.py and cfn_s3.py
                        (cfn_common.py: checks; cfn_dependents.py: what an update reaches)
    hot_reload.py       Code {S3Bucket: hot-reload, S3Key: /dir}: a local directory in place
    lambda_layers.py    a function's layers, and Lambda's limits on code and layers
"""
