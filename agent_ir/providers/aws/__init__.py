"""The AWS adapter (IAM and STS through boto3)."""
