"""Processes a batch of jobs; a job whose body has "fail": true is reported as failed, so SQS
gives it back (and after three receives moves it to the dead-letter queue)."""

import json


def handler(event, context):
    failures = []
    for record in event["Records"]:
        job = json.loads(record["body"])
        if isinstance(job, dict) and job.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
