# The instance's role: run the SSM agent (Run Command for CD, Session Manager
# for shells), read its release bundles and its own parameters, write backups.
# Nothing else: it cannot list the bucket, read backups back, delete objects
# or read another environment's parameters.

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  name               = "${local.name}-instance"
  description        = "${local.name} EC2 host: SSM agent, releases, its SSM parameters, backups"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_instance_profile" "instance" {
  name = "${local.name}-instance"
  role = aws_iam_role.instance.name
}

# What the SSM agent needs for Run Command and Session Manager. This replaces
# the managed AmazonSSMManagedInstanceCore, which also grants
# ssm:GetParameter(s) on every parameter of the account: with it, the host
# could read other applications' parameters.
data "aws_iam_policy_document" "ssm_agent" {
  statement {
    sid = "RegisterAndReportThisInstance"
    actions = [
      "ssm:UpdateInstanceInformation",
      "ssm:ListInstanceAssociations",
    ]
    resources = ["arn:${local.partition}:ec2:${var.aws_region}:${local.account_id}:instance/*"]
  }

  statement {
    # These actions have no resource types in IAM: "*" is the only choice.
    sid = "AgentMessageChannels"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
      "ec2messages:AcknowledgeMessage",
      "ec2messages:DeleteMessage",
      "ec2messages:FailMessage",
      "ec2messages:GetEndpoint",
      "ec2messages:GetMessages",
      "ec2messages:SendReply",
    ]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "app" {
  statement {
    sid       = "ReadReleaseBundles"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.main.arn}/releases/*"]
  }

  statement {
    sid = "WriteBackups"
    actions = [
      "s3:PutObject",
      "s3:AbortMultipartUpload",
    ]
    resources = ["${aws_s3_bucket.main.arn}/backups/*"]
  }

  statement {
    sid = "ReadOwnParameters"
    actions = [
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:GetParametersByPath",
    ]
    resources = [
      "arn:${local.partition}:ssm:${var.aws_region}:${local.account_id}:parameter${local.ssm_path}",
      "arn:${local.partition}:ssm:${var.aws_region}:${local.account_id}:parameter${local.ssm_path}/*",
    ]
  }

  # The key, only through S3 (bundles in, dumps out) and SSM (SecureStrings).
  statement {
    sid       = "DecryptThroughS3AndSsm"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "s3.${var.aws_region}.amazonaws.com",
        "ssm.${var.aws_region}.amazonaws.com",
      ]
    }
  }

  statement {
    sid       = "EncryptBackupsThroughS3"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.aws_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "ssm_agent" {
  name   = "ssm-agent"
  role   = aws_iam_role.instance.id
  policy = data.aws_iam_policy_document.ssm_agent.json
}

resource "aws_iam_role_policy" "app" {
  name   = "app"
  role   = aws_iam_role.instance.id
  policy = data.aws_iam_policy_document.app.json
}
