#!/usr/bin/python3
"""presign.py ENDPOINT BUCKET KEY: print a presigned GET URL (SigV4, path
style, one hour) for the object, made by botocore as a user would, for the
tests that read plain http(s):// URLs. Test-only; credentials are s3rver's."""
import sys

import botocore.session
from botocore.config import Config


def main():
    endpoint, bucket, key = sys.argv[1:4]
    client = botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", endpoint_url=endpoint,
        aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    print(client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600))


if __name__ == "__main__":
    main()
