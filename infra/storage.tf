data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # Bucket names are global: the account id and region make this one unique.
  bucket_name = "${local.name}-${local.account_id}-${var.aws_region}"
  ssm_path    = "/${var.project}/${var.environment}"
}

# One customer-managed key for this environment's data at rest: the bucket
# (backups and release bundles), both EBS volumes and the SSM SecureStrings
# (docs/deploy.md creates them with --key-id alias/<project>-<environment>).
# Why not SSE-S3 / AWS-managed keys: a dump holds every message and password
# hash; with a key of our own, reading one needs kms:Decrypt on this key as
# well as s3:GetObject, every use is in CloudTrail, and the instance role can
# be granted decrypt through S3 and SSM only. Cost: 1 USD a month plus
# requests, which the S3 bucket key keeps to a few.
resource "aws_kms_key" "main" {
  description             = "${local.name}: backups, release bundles, EBS volumes, SSM parameters"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.main.key_id
}

# Key policy: the account administers the key and IAM policies decide who may
# use it (the instance role below; the deploy role in docs/deploy.md).
data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:Key policy: Resource "*" is this key alone, and the only principal is this account, which delegates use of the key to IAM policies (AWS's default key policy).
  #checkov:skip=CKV_AWS_111:Key policy: Resource "*" is this key alone, and the only principal is this account, which delegates use of the key to IAM policies (AWS's default key policy).
  #checkov:skip=CKV_AWS_356:Key policy: Resource "*" is this key alone, and the only principal is this account, which delegates use of the key to IAM policies (AWS's default key policy).
  statement {
    sid       = "AccountAdministersKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_s3_bucket" "main" {
  #checkov:skip=CKV_AWS_18:No server access logs: they need a second bucket; reads and writes of this bucket are by two roles only, and CloudTrail records the KMS decrypt behind every object read.
  #checkov:skip=CKV_AWS_144:No cross-region replication: a second region doubles storage and transfer cost for a single-instance deployment; versioning keeps overwritten or deleted dumps. docs/deploy.md says how to copy dumps elsewhere.
  #checkov:skip=CKV2_AWS_62:No event notifications: nothing reacts to new objects (the host pulls releases when CD tells it to).
  bucket = local.bucket_name

  # Backups must survive `terraform destroy` unless someone empties the bucket
  # on purpose.
  force_destroy = false

  tags = { Name = local.bucket_name }
}

resource "aws_s3_bucket_public_access_block" "main" {
  bucket                  = aws_s3_bucket.main.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "main" {
  bucket = aws_s3_bucket.main.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "main" {
  bucket = aws_s3_bucket.main.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "main" {
  bucket = aws_s3_bucket.main.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    # One data key per bucket instead of one KMS call per object.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "main" {
  bucket = aws_s3_bucket.main.id

  # Nightly dumps: kept backup_retention_days; an overwritten or deleted dump
  # stays recoverable (as a noncurrent version) just as long.
  rule {
    id     = "expire-old-backups"
    status = "Enabled"

    filter {
      prefix = "backups/"
    }

    expiration {
      days = var.backup_retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.backup_retention_days
    }
  }

  # Release bundles are small and a new instance boots from the current one:
  # they do not expire; only replaced versions of an object do.
  rule {
    id     = "expire-replaced-releases"
    status = "Enabled"

    filter {
      prefix = "releases/"
    }

    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.main]
}

# For every principal: TLS 1.2 or newer only, and objects encrypted with this
# environment's key only.
data "aws_iam_policy_document" "bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.main.arn,
      "${aws_s3_bucket.main.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid     = "DenyOldTls"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.main.arn,
      "${aws_s3_bucket.main.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }

  # Objects are encrypted with this environment's key: a PutObject may leave
  # the encryption headers out (the bucket default applies: CD's uploads do)
  # but may not ask for SSE-S3 or another key. Each statement denies only
  # when its header is present (Null = false) and differs: a negated
  # operator, ...IfExists included, is true when the key is missing, which
  # denied every upload without the headers (scripts/infra-check/iam-check.sh).
  statement {
    sid       = "DenyOtherEncryption"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.main.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyOtherKmsKeys"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.main.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [aws_kms_key.main.arn]
    }

    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "main" {
  bucket = aws_s3_bucket.main.id
  policy = data.aws_iam_policy_document.bucket.json

  # A policy is refused while the public access block is being created.
  depends_on = [aws_s3_bucket_public_access_block.main]
}
