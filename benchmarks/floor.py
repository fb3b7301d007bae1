"""The floor: the minimal calls to share N images with one OU, in plain boto3, nothing else.

Batched DescribeImages (200 IDs per call), then per image one DescribeImageAttribute
and, when the OU is missing, one ModifyImageAttribute. Sequential, no validation,
no retries beyond botocore's own: what any tool sharing these images must at least do.
"""

import json
import os
import sys

import boto3


def share(image_ids, ou_arn, region="us-east-1"):
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
    for start in range(0, len(image_ids), 200):
        ec2.describe_images(Filters=[{"Name": "image-id", "Values": image_ids[start : start + 200]}])
    for image_id in image_ids:
        permissions = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")["LaunchPermissions"]
        if {"OrganizationalUnitArn": ou_arn} not in permissions:
            ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"OrganizationalUnitArn": ou_arn}]})


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    share(spec["bench_image_ids"], spec["bench_ou_arn"])
