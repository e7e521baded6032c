"""Templates on the emulator: CloudFormation requests, the SAM transform, rollback.

    parse.py      template text (JSON, or YAML with CloudFormation's short tags) -> dict
    sam.py        the SAM transform (aws-sam-translator): SAM template -> CloudFormation template
    locations.py  a TemplateURL -> (bucket, key) in the emulator's own S3
    query.py      CloudFormation's Query protocol: form parameters in, XML out
    endpoint.py   the WSGI middleware in front of moto that serves CloudFormation's write actions
    images.py     Image functions' build Metadata (Dockerfile, DockerContext, DockerTag), for the
                  deployer to build as ``sam build`` does

moto's CloudFormation does the rest; every touch of its internals is in harness.aws_state.
"""
