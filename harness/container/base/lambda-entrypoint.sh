#!/bin/sh
# Entrypoint of the harness's stand-in Lambda base image; it follows what AWS's base images do.
#   Inside Lambda, or the harness (AWS_LAMBDA_RUNTIME_API set): run the runtime client against
#   that Runtime API.
#   Stand-alone (`docker run -p 9000:8080 IMAGE`): run it under the Runtime Interface Emulator,
#   which serves the Runtime API itself and POST /2015-03-31/functions/function/invocations on 8080.
set -eu

if [ "$#" -ne 1 ]; then
    echo "lambda-entrypoint: expected exactly one argument, the handler (module.function)" >&2
    exit 142
fi
export _HANDLER="$1"

if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
    exec /usr/local/bin/aws-lambda-rie /usr/bin/python3 /var/runtime/bootstrap.py
fi
exec /usr/bin/python3 /var/runtime/bootstrap.py
