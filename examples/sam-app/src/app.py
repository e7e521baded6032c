"""POST /predict {"rows": [[...], ...]} -> {"predictions": [0 or 1 per row], "threshold": T}.

Called through API Gateway (a proxy event with a JSON body) or invoked directly with the
request itself as the event.
"""

import json
import os


def handler(event, context):
    threshold = float(os.environ["THRESHOLD"])
    request = event
    if "body" in event:  # through API Gateway: the request is the body
        try:
            request = json.loads(event["body"] or "")
        except ValueError:
            return _answer(400, {"message": "the body is not JSON"})
    rows = request.get("rows") if isinstance(request, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        return _answer(400, {"message": "rows must be a list of lists of numbers"})
    try:
        predictions = [int(sum(float(x) for x in row) > threshold) for row in rows]
    except (TypeError, ValueError):
        return _answer(400, {"message": "rows must hold numbers only"})
    return _answer(200, {"predictions": predictions, "threshold": threshold})


def _answer(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body)}
