"""The one adapter over moto's private internals (STYLE lesson 11): a moto upgrade is its work.

    cloudformation.py  stacks created with rollback, unsupported types named, TemplateURL reads
    cfn_models.py      the CloudFormation resource types moto lacks or drops, from
                       cfn_lambda.py, cfn_apigateway.py, cfn_s3.py and cfn_iam.py
                       (cfn_common.py: checks)
    iam_auth.py        moto's authorization point taken over for harness.iam's checks, with
                       AccessDenied in each service's protocol
    iam_roles.py       roles' and users' policies, STS credentials, AWS managed policies on demand
    iam_resources.py   bucket policies and functions' resource-based policies
    hot_reload.py      Code {S3Bucket: hot-reload, S3Key: /dir}: a local directory in place
"""
