"""The SAM transform, as AWS's CloudFormation applies it: aws-sam-translator, a pure function."""

from __future__ import annotations

import copy
import logging
from typing import Any

import boto3
from samtranslator.internal.managed_policies import get_bundled_managed_policy_map
from samtranslator.model.exceptions import ExceptionWithMessage, InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from harness.templates.errors import TemplateError
from harness.templates.parse import transforms_of

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
# The translator asks its feature toggles (AWS's own dial-ups) about each API's OpenApiVersion
# and warns that the offline config has none; that is its normal state here, not news to a user.
logging.getLogger("samtranslator.feature_toggle").setLevel(logging.ERROR)


def is_sam(template: dict[str, Any]) -> bool:
    return SAM_TRANSFORM in transforms_of(template)


def sam_transform(template: dict[str, Any], parameters: dict[str, str], *, region: str,
                  account_id: str, stack_name: str = "") -> dict[str, Any]:
    """The CloudFormation template AWS would make of a SAM ``template`` (left unchanged).

    Errors become one TemplateError with AWS's wording, naming every resource and property
    the translator objected to.
    """
    others = [name for name in transforms_of(template) if name != SAM_TRANSFORM]
    if others:
        raise TemplateError(f"Transform {others[0]} is not supported by the harness "
                            f"(only {SAM_TRANSFORM} is)")
    values: dict[str, Any] = {"AWS::Region": region, "AWS::AccountId": account_id,
                              "AWS::Partition": "aws", **parameters}
    if stack_name:
        values["AWS::StackName"] = stack_name
    # The session only tells the translator its region; it never calls AWS: the managed
    # policies it needs come from the map bundled with it, not from IAM.
    session = boto3.session.Session(region_name=region)
    translator = Translator(None, Parser(), boto_session=session)
    try:
        return translator.translate(
            copy.deepcopy(template), parameter_values=values,
            get_managed_policy_map=lambda: get_bundled_managed_policy_map("aws") or {})
    except InvalidDocumentException as error:
        causes = " ".join(cause.message for cause in error.causes)
        raise TemplateError(f"Transform {SAM_TRANSFORM} failed with: {error.message} "
                            f"{causes}") from None
    except ExceptionWithMessage as error:
        raise TemplateError(f"Transform {SAM_TRANSFORM} failed with: {error.message}") from None
    finally:
        translator.metrics.publish()  # to its no-op publisher; unpublished ones warn at exit
