"""The seed's client-side S3 helpers, as the seed writes them: plain boto3, no endpoint argument.

They read the endpoint from AWS_ENDPOINT_URL like any boto3 code, which is all a user changes to
run them against ``harness up``.
"""

import boto3


def create_bucket(bucket_name, region):
    s3_client = boto3.client("s3", region_name=region)
    location = {"LocationConstraint": region}
    s3_client.create_bucket(Bucket=bucket_name, CreateBucketConfiguration=location)


def upload_file_to_bucket(file_obj, bucket_name, key, region):
    s3_client = boto3.client("s3", region_name=region)
    s3_client.upload_fileobj(file_obj, bucket_name, key)


def list_bucket(bucket_name):
    s3 = boto3.resource("s3")
    bucket = s3.Bucket(bucket_name)
    return [obj.key for obj in bucket.objects.all()]
